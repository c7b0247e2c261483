#pragma once

// LiaisonApi: the hub's own JSON API beside TAXII, under /liaison/v1/ (application/json; errors
// are TAXII error bodies through status_mapping). Every endpoint requires authentication (the
// Router authenticates before it calls Handle); only GET (and HEAD, except for the event stream)
// is defined, other methods get 405 with an Allow header. A trailing '/' is optional.
//
//   GET /liaison/v1/events           Server-Sent Events (text/event-stream) of new objects,
//                                    receipts and feedback the caller may see. Each event:
//                                      id: <HubEvent::seq>\nevent: <kind>\ndata: <json>\n\n
//                                    object data: {"collection","id","type","spec_version",
//                                    "version","date_added","tlp"}; receipt: {"object","version",
//                                    "partner","state","attempts","delivered_at","error"};
//                                    feedback: {"about","feedback_id","feedback_version","from",
//                                    "outcome","note","count","received"}. Versions and times are
//                                    STIX timestamps; delivered_at is null until delivered.
//                                    Resumable: Last-Event-ID header (or ?last_event_id=) replays
//                                    everything after it (an id beyond the newest event starts at
//                                    the newest); without it the stream starts at the current end.
//                                    Heartbeat comment ": keepalive" after
//                                    LiaisonApiOptions::heartbeat without output.
//                                    Visibility: object events need read access to their
//                                    collection (policy::GetCollectionAccess) and must pass the
//                                    collection's ReadFilter (SharingHooks::ForReader, the filter
//                                    TAXII reads use; one per collection per stream, renewed with
//                                    the access decision every access_refresh). Receipts and
//                                    feedback only to admins and publishers of this hub (not to
//                                    partner accounts). The stream ends when the store fails (the
//                                    client reconnects with Last-Event-ID).
//   GET /liaison/v1/receipts?object=ID&partner=ID&state=queued|delivered|failed&after=SEQ&limit=N
//                                    {"receipts":[{"seq","collection","object","version",
//                                    "partner","partner_name","state","attempts","queued",
//                                    "delivered_at","error"}],"more":bool}. limit 1..10000
//                                    (default 1000); page on with after=<last seq>. Admins and
//                                    publishers only (403).
//   GET /liaison/v1/feedback?object=ID
//                                    {"feedback":[{"about","feedback_id","feedback_version",
//                                    "from","from_name","outcome","note","count","received"}]}
//                                    (every record when object is absent). Admins, publishers.
//   GET /liaison/v1/identity         this hub's identity file (federation/hub_identity.h);
//                                    404 when the hub has none.
//
// Errors of Handle: kInvalidArgument (400: unknown or repeated query parameter, bad number,
// state or Last-Event-ID), kPermissionDenied (403), kNotFound (404: unknown path),
// kUnauthenticated (401: anonymous principal), store errors (kUnavailable, kFailedPrecondition,
// ...). A 405 is a Response, not an error.
//
//   LiaisonApi api(store, &sharing, events_changed, LiaisonApiOptions{});
//   Router router(authenticator, service, store, &api);
//
// Thread-safe: Handle may be called concurrently. The event stream it returns is used by one
// connection at a time (http::Server polls it from that connection's strand).

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/notifier.h"
#include "common/status.h"
#include "http/handler.h"
#include "policy/principal.h"
#include "storage/store.h"
#include "taxii/service.h"
#include "taxii/sharing_hooks.h"

namespace liaison::http {

inline constexpr char kEventStreamMediaType[] = "text/event-stream";

struct LiaisonApiOptions {
  std::chrono::milliseconds heartbeat{15000};
  std::string identity_file_json;  // served by /liaison/v1/identity
  size_t event_page_size = 256;    // events read from the store per ListEvents call
  // How long an event stream keeps a collection's access decision and ReadFilter before it asks
  // again (grants and partner settings may change while a stream is open).
  std::chrono::milliseconds access_refresh{60000};
};

class LiaisonApi {
 public:
  // `sharing` may be null in unit tests (object events then need only collection read access).
  // All references must outlive the api and every stream it returned.
  LiaisonApi(storage::Store& store, taxii::SharingHooks* sharing, Notifier& events_changed,
             LiaisonApiOptions options = {});

  // True when `path` (as received, without the query) is /liaison/v1 or below it.
  static bool OwnsPath(std::string_view path);

  // `path` as received (without the query); `query` percent-decoded; `last_event_id` the
  // Last-Event-ID header's value ("" when absent).
  Result<taxii::Response> Handle(const std::string& method, const std::string& path,
                                 const std::vector<std::pair<std::string, std::string>>& query,
                                 const std::string& last_event_id,
                                 const policy::Principal& principal);

 private:
  using Query = std::vector<std::pair<std::string, std::string>>;
  Result<taxii::Response> Events(const Query& query, const std::string& last_event_id,
                                 const policy::Principal& principal);
  Result<taxii::Response> Receipts(const Query& query, const policy::Principal& principal);
  Result<taxii::Response> Feedback(const Query& query, const policy::Principal& principal);
  Result<taxii::Response> Identity() const;

  storage::Store& store_;
  taxii::SharingHooks* const sharing_;
  Notifier& events_changed_;
  const LiaisonApiOptions options_;
};

}  // namespace liaison::http

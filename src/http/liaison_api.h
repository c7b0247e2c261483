#pragma once

// LiaisonApi: the hub's own JSON API beside TAXII, under /liaison/v1/ (application/json; errors
// are TAXII error bodies through status_mapping). Every endpoint requires authentication.
//
//   GET /liaison/v1/events           Server-Sent Events (text/event-stream) of new objects,
//                                    receipts and feedback the caller may see. Each event:
//                                      id: <HubEvent::seq>\nevent: <kind>\ndata: <json>\n\n
//                                    object data: {"collection","id","type","version",
//                                    "date_added","tlp"}; receipt: {"object","version","partner",
//                                    "state","delivered_at","error"}; feedback: the record.
//                                    Resumable: Last-Event-ID header (or ?last_event_id=) replays
//                                    everything after it; without it the stream starts at the
//                                    current end. Heartbeat comment every 15 s.
//                                    Visibility: object events through the same ReadFilter as
//                                    TAXII reads (collection read access + policy); receipts and
//                                    feedback only to admins and publishers of this hub.
//   GET /liaison/v1/receipts?object=ID&partner=ID&state=queued|delivered|failed&after=SEQ&limit=N
//                                    {"receipts":[{"seq","object","version","partner",
//                                    "partner_name","state","attempts","queued","delivered_at",
//                                    "error"}],"more":bool}   admins and publishers only (403).
//   GET /liaison/v1/feedback?object=ID
//                                    {"feedback":[{"about","feedback_id","from","from_name",
//                                    "outcome","note","count","received"}]}  admins, publishers.
//   GET /liaison/v1/identity         this hub's identity file (federation/hub_identity.h).
//
// Thread-safe.

#include <string>

#include "common/notifier.h"
#include "common/status.h"
#include "http/handler.h"
#include "storage/store.h"
#include "taxii/service.h"
#include "taxii/sharing_hooks.h"

namespace liaison::http {

struct LiaisonApiOptions {
  std::chrono::milliseconds heartbeat{15000};
  std::string identity_file_json;  // served by /liaison/v1/identity
};

class LiaisonApi {
 public:
  // `sharing` may be null in unit tests (object events then visible to every reader).
  LiaisonApi(storage::Store& store, taxii::SharingHooks* sharing, Notifier& events_changed,
             LiaisonApiOptions options);

  static bool OwnsPath(std::string_view path);  // starts with /liaison/v1/

  // `query` percent-decoded; `last_event_id` the header's value ("" when absent).
  Result<taxii::Response> Handle(const std::string& method, const std::string& path,
                                 const std::vector<std::pair<std::string, std::string>>& query,
                                 const std::string& last_event_id,
                                 const policy::Principal& principal);

 private:
  storage::Store& store_;
  taxii::SharingHooks* sharing_;
  Notifier& events_changed_;
  const LiaisonApiOptions options_;
};

}  // namespace liaison::http

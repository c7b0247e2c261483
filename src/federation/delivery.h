#pragma once

// Delivery: the pushers and pullers of a running hub.
//
// Pusher (one thread per partner with queued rows, started on demand): claims due outbox rows in
// seq order (Store::ClaimOutbox, leased so a crash or a second node cannot double-send), loads the
// object versions, sends them as one TAXII envelope of wire forms (federation::WireForm) to the
// partner's inbox (POST {url}collections/{inbox}/objects/, Bearer token), and reads the status
// resource: successes -> MarkOutboxDelivered (receipt "delivered" with time); per-object failures
// -> MarkOutboxFailed(permanent) with the partner's message; transport errors, 5xx, 429 ->
// MarkOutboxFailed(transient) with exponential backoff and full jitter (min_backoff doubling to
// max_backoff). 401/403 are transient too (a token can be fixed) but logged as errors. A batch the
// partner refuses as a whole with 400 is retried one object per POST; one refused with 413 (too
// large) is retried in halves, and the pusher keeps half that envelope's size as the partner's
// bound: later batches hold as many objects as fit in it (at most batch_size), and after such a
// refusal, or when the pusher starts, one batch must go through before several fly at once. A
// single object refused either way is a permanent failure. Each delivery and failure is audited
// (one "deliver" / "delivery-failed" record per receipt commit listing the objects). Receipts of
// batches that need no retry are committed by a second thread per partner while the next batch is
// already on its way (the rows stay leased until then, so nothing is sent twice), batches within 50
// ms of each other in one transaction; a batch with rows to retry is recorded before the next
// claim, so later rows never overtake it (order per object). With a backlog (a full batch), up to
// max_in_flight batches are on their way at once, each on its own connection (a sliding window: the
// next one goes as each is answered), never two naming the same object
// (BatchesThatMayTravelTogether), and the batches after them are claimed and prepared meanwhile;
// should one need a retry, everything in the air lands first and everything claimed behind it is
// held back with it (same backoff). Rows claimed but not sent when the pusher stops or the partner
// is disabled are released (due at once, attempts + 1). Woken at once by `outbox_changed` (and
// after Stop()); otherwise polls every poll_interval (rows whose backoff expired, partners added
// later or added by another process such as the CLI). The connection to each partner is kept alive.
//
// Puller (one thread per pull channel): GET {url}collections/{remote}/objects/?added_after=cursor
// &match[version]=all (paged with `next`), validates each object (stix::ParseObject; invalid ones
// are audited "reject" and skipped), hands the page to Sharing::PrepareAdd with the partner's
// principal (role kPartner, user Partner::user, method "pull"), stores it (Store::AddObjects, then
// Sharing::Committed), and persists the cursor (X-TAXII-Date-Added-Last) after each stored page; a
// failed page is fetched again after a backoff. Every pull_interval, or at once after a page that
// said more. Channels removed (or partners deleted) stop their threads within poll_interval.
//
// Thread-safe. Stop() is idempotent and joins every thread (an in-flight request finishes or times
// out within request_timeout).

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/notifier.h"
#include "common/status.h"
#include "federation/hub_identity.h"
#include "federation/sharing.h"
#include "storage/store.h"

namespace liaison::federation {

struct DeliveryOptions {
  // Outbox rows per POST. 1000 rather than 500: a partner's commit then changes fewer pages of
  // its index on object ids per object (a backlog drained at 12.5-13.1k objects/s against
  // 11.5-12.5k, federation_benchmark --latency 0 --throughput 0). An envelope of 1000 typical
  // objects is 1-2 MB, far under the 100 MB default max_content_length; a partner that refuses a
  // batch as too large (413) gets smaller ones from then on (see above).
  size_t batch_size = 1000;
  // POSTs on their way to one partner at once during a backlog (batches naming the same object
  // never travel together, so the order per object holds); 1 sends one batch at a time.
  size_t max_in_flight = 3;
  std::chrono::milliseconds min_backoff{200};
  std::chrono::milliseconds max_backoff{60000};
  std::chrono::milliseconds lease{30000};
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds pull_interval{2000};
  std::chrono::milliseconds request_timeout{30000};
  std::string ca_file;                // extra trust anchors for partners' TLS ("" = system store)
  bool insecure_skip_verify = false;  // tests only
};

class Delivery {
 public:
  static Result<std::unique_ptr<Delivery>> Start(storage::Store& store, const HubIdentity& self,
                                                 Sharing& sharing, Clock& clock,
                                                 Notifier& outbox_changed, Notifier& events_changed,
                                                 DeliveryOptions options = {});
  virtual ~Delivery() = default;
  virtual void Stop() = 0;
};

// How many leading batches of `batches` (each given as the object ids of its rows, in claim order)
// may be on their way at once: the longest prefix in which no object id appears in two batches,
// so the partner may commit them in any order and each object's versions still arrive in order.
// 0 for no batches, else at least 1. (Used by the pusher; exposed for its tests.)
size_t BatchesThatMayTravelTogether(const std::vector<std::vector<std::string_view>>& batches);

}  // namespace liaison::federation

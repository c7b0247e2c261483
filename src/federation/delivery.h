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
// max_backoff). 401/403 are transient too (a token can be fixed) but logged as errors. Each
// delivery and failure is audited. Woken at once by `outbox_changed`; otherwise polls every
// poll_interval (rows whose backoff expired, partners added later).
//
// Puller (one thread per pull channel): GET {url}collections/{remote}/objects/?added_after=cursor
// (paged with `next`), hands each page to Sharing::PrepareAdd as the partner principal would be
// handled, stores it, and persists the cursor (X-TAXII-Date-Added-Last) after each page. Every
// pull_interval, or sooner after a page that said more.
//
// Thread-safe. Stop() is idempotent and joins every thread (an in-flight request finishes or times
// out within request_timeout).

#include <chrono>
#include <memory>

#include "common/clock.h"
#include "common/notifier.h"
#include "common/status.h"
#include "federation/hub_identity.h"
#include "federation/sharing.h"
#include "storage/store.h"

namespace liaison::federation {

struct DeliveryOptions {
  size_t batch_size = 500;  // outbox rows per POST
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

}  // namespace liaison::federation

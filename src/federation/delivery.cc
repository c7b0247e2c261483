#include "federation/delivery.h"

#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <system_error>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/json_writer.h"
#include "common/log.h"
#include "federation/taxii_client.h"
#include "policy/principal.h"
#include "stix/object.h"
#include "stix/timestamp.h"
#include "storage/store_util.h"

namespace liaison::federation {
namespace {

using storage::Channel;
using storage::ChannelMode;
using storage::OutboxRow;
using storage::Partner;

constexpr size_t kPullPageSize = 1000;
// A partner that refuses a batch as a whole (400) gets single objects until one goes through, so
// one bad object cannot hold the others back. (A 413 halves the batch instead: see SendPrepared.)
constexpr size_t kSingleObjectBatch = 1;

// What the Notifier callback touches. Shared, because Notifier::Notify may still run a callback it
// copied just before Unsubscribe, after the Delivery is gone.
struct WakeState {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t generation = 0;  // bumped by outbox_changed
  bool stopping = false;
};

struct Worker {
  std::thread thread;
  std::atomic<bool> stop{false};
  std::atomic<bool> finished{false};
};

// The partner's cached connection: rebuilt when its URL or token changes.
struct PartnerLink {
  std::string url;
  std::string sealed_token;
  std::unique_ptr<TaxiiClient> client;
};

int64_t ToMicros(std::chrono::milliseconds ms) { return static_cast<int64_t>(ms.count()) * 1000; }

std::string TopLevelId(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) return "";
  std::string_view id;
  if (doc["id"].get_string().get(id) != simdjson::SUCCESS) return "";
  return std::string(id);
}

bool SameVersion(const StatusDetailInfo& detail, int64_t version) {
  Result<stix::Timestamp> ts = stix::ParseTimestamp(detail.version);
  return ts.ok() && ts->micros == version;
}

// Outcome of one outbox row after a POST.
enum class RowOutcome { kDelivered, kPermanent, kTransient };

struct Item {
  OutboxRow row;
  std::string wire_id;  // the id the partner sees (the wrapper's id for sealed objects)
  std::string wire;     // empty when the row failed before sending
  RowOutcome outcome = RowOutcome::kTransient;
  std::string error;
};

class ThreadedDelivery final : public Delivery {
 public:
  ThreadedDelivery(storage::Store& store, const HubIdentity& self, Sharing& sharing, Clock& clock,
                   Notifier& outbox_changed, Notifier& events_changed, DeliveryOptions options)
      : store_(store),
        self_(self),
        sharing_(sharing),
        clock_(clock),
        outbox_changed_(outbox_changed),
        events_changed_(events_changed),
        options_(std::move(options)),
        wake_(std::make_shared<WakeState>()) {
    if (options_.batch_size == 0) options_.batch_size = 1;
    if (options_.min_backoff.count() <= 0) options_.min_backoff = std::chrono::milliseconds(1);
    if (options_.max_backoff < options_.min_backoff) options_.max_backoff = options_.min_backoff;
    if (options_.poll_interval.count() <= 0) options_.poll_interval = std::chrono::milliseconds(1);
    if (options_.pull_interval.count() <= 0) options_.pull_interval = std::chrono::milliseconds(1);
  }

  ~ThreadedDelivery() override { Stop(); }

  void Begin() {
    std::shared_ptr<WakeState> wake = wake_;
    subscription_ = outbox_changed_.Subscribe([wake] {
      {
        std::lock_guard<std::mutex> lock(wake->mu);
        ++wake->generation;
      }
      wake->cv.notify_all();
    });
    supervisor_ = std::thread([this] { Supervise(); });
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(wake_->mu);
      if (wake_->stopping) return;
      wake_->stopping = true;
    }
    wake_->cv.notify_all();
    outbox_changed_.Unsubscribe(subscription_);
    if (supervisor_.joinable()) supervisor_.join();
    // The supervisor has exited: the worker maps are ours now.
    for (auto& [id, worker] : pushers_) {
      if (worker->thread.joinable()) worker->thread.join();
    }
    for (auto& [id, worker] : pullers_) {
      if (worker->thread.joinable()) worker->thread.join();
    }
    pushers_.clear();
    pullers_.clear();
  }

 private:
  bool Stopping(const Worker* worker) {
    std::lock_guard<std::mutex> lock(wake_->mu);
    return wake_->stopping || (worker && worker->stop.load());
  }

  uint64_t Generation() {
    std::lock_guard<std::mutex> lock(wake_->mu);
    return wake_->generation;
  }

  // Waits for `timeout`, for Stop, for the worker's stop, or (with `seen`) for outbox_changed to
  // move past *seen. False when the caller must stop.
  bool Sleep(const Worker* worker, std::chrono::milliseconds timeout, const uint64_t* seen) {
    std::unique_lock<std::mutex> lock(wake_->mu);
    auto done = [&] {
      return wake_->stopping || (worker && worker->stop.load()) ||
             (seen && wake_->generation != *seen);
    };
    wake_->cv.wait_for(lock, timeout, done);
    return !(wake_->stopping || (worker && worker->stop.load()));
  }

  // Full jitter (AWS architecture blog, "Exponential Backoff and Jitter"): a uniform delay in
  // [0, min(max_backoff, min_backoff * 2^attempts)], so many hubs retrying one partner spread out.
  int64_t BackoffMicros(int32_t attempts, std::mt19937_64& rng) const {
    const int64_t max = ToMicros(options_.max_backoff);
    int64_t cap = ToMicros(options_.min_backoff);
    for (int32_t i = 0; i < attempts && cap < max; ++i) cap *= 2;
    cap = std::min(cap, max);
    std::uniform_int_distribution<int64_t> dist(0, cap);
    return dist(rng);
  }

  // ------------------------------------------------------------------------------------------
  // Supervisor: one pusher per partner (known, or with queued rows), one puller per pull channel.

  void Supervise() {
    while (!Stopping(nullptr)) {
      Refresh();
      Sleep(nullptr, options_.poll_interval, nullptr);
    }
  }

  void Refresh() {
    std::set<std::string> partner_ids;
    Result<std::vector<Partner>> partners = store_.ListPartners();
    if (partners.ok()) {
      for (const Partner& p : *partners) partner_ids.insert(p.id);
    } else {
      LOG_WARN("delivery: cannot list partners: {}", partners.status().ToString());
    }
    Result<std::vector<std::string>> queued = store_.PartnersWithQueuedOutbox();
    if (queued.ok()) {
      partner_ids.insert(queued->begin(), queued->end());
    } else if (partners.ok()) {
      LOG_WARN("delivery: cannot list queued partners: {}", queued.status().ToString());
    }
    for (auto it = pushers_.begin(); it != pushers_.end();) {
      if (it->second->finished.load()) {
        it->second->thread.join();
        it = pushers_.erase(it);
      } else {
        ++it;
      }
    }
    for (const std::string& id : partner_ids) {
      if (pushers_.count(id)) continue;
      auto worker = std::make_unique<Worker>();
      Worker* w = worker.get();
      w->thread = std::thread([this, id, w] {
        Push(id, *w);
        w->finished = true;
      });
      pushers_.emplace(id, std::move(worker));
    }

    Result<std::vector<Channel>> channels = store_.ListChannels("");
    if (!channels.ok()) {
      if (partners.ok()) {
        LOG_WARN("delivery: cannot list channels: {}", channels.status().ToString());
      }
      return;
    }
    std::map<std::string, Channel> pull;
    for (const Channel& c : *channels) {
      if (c.mode == ChannelMode::kPull) pull.emplace(c.id, c);
    }
    for (auto it = pullers_.begin(); it != pullers_.end();) {
      if (!pull.count(it->first) || it->second->finished.load()) {
        {
          std::lock_guard<std::mutex> lock(wake_->mu);
          it->second->stop = true;
        }
        wake_->cv.notify_all();
        it->second->thread.join();
        it = pullers_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& [id, channel] : pull) {
      if (pullers_.count(id)) continue;
      auto worker = std::make_unique<Worker>();
      Worker* w = worker.get();
      w->thread = std::thread([this, c = channel, w] {
        Pull(c, *w);
        w->finished = true;
      });
      pullers_.emplace(id, std::move(worker));
    }
  }

  // The client for `partner`, built once and reused (keep-alive) while its URL and token stay.
  Result<TaxiiClient*> Connect(const Partner& partner, PartnerLink& link) {
    if (link.client && link.url == partner.url && link.sealed_token == partner.token) {
      return link.client.get();
    }
    link.client.reset();
    if (partner.token.empty()) {
      return FailedPreconditionError("no credential for partner " + partner.id +
                                     ": set the token it issued with `liaison partner set-token`");
    }
    Result<std::string> token = self_.keys.UnsealSecret(partner.token);
    if (!token.ok()) {
      return token.status().WithContext("cannot unseal the token of partner " + partner.id);
    }
    TaxiiClientOptions client_options;
    client_options.credentials = Credentials::Bearer(*std::move(token));
    client_options.insecure = options_.insecure_skip_verify;
    client_options.ca_file = options_.ca_file;
    client_options.request_timeout = options_.request_timeout;
    client_options.connect_timeout =
        std::min(options_.request_timeout, client_options.connect_timeout);
    Result<std::unique_ptr<TaxiiClient>> client = TaxiiClient::Create(partner.url, client_options);
    if (!client.ok()) return client.status().WithContext("partner " + partner.id);
    link.client = *std::move(client);
    link.url = partner.url;
    link.sealed_token = partner.token;
    return link.client.get();
  }

  // ------------------------------------------------------------------------------------------
  // Pusher

  // Records the receipts of batches that need no retry on its own thread, so the pusher sends the
  // next batch (and a new object reaches the partner) without waiting for the receipts' commit.
  // Rows stay leased until recorded, and ClaimOutbox skips leased rows, so nothing is sent twice.
  // Batches that arrive within kCoalesce of each other are recorded together (one receipts
  // transaction and one audit record for all of them): each commit waits for the disk, and one
  // per single-object push would hold the store's write lock for longer than the publishes that
  // follow can wait.
  class Recorder {
   public:
    explicit Recorder(ThreadedDelivery& delivery)
        : delivery_(delivery), thread_([this] { Run(); }) {}
    ~Recorder() {
      {
        std::lock_guard<std::mutex> lock(mu_);
        done_ = true;
      }
      cv_.notify_all();
      thread_.join();
    }
    // Blocks while kMaxQueued batches wait (back-pressure on a slow store).
    void Enqueue(Partner partner, std::vector<Item> items) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return queue_.size() < kMaxQueued; });
      queued_rows_ += items.size();
      queue_.push_back({std::move(partner), std::move(items)});
      cv_.notify_all();
    }
    // Returns once every queued batch is recorded (recorded at once, without coalescing).
    void Drain() {
      std::unique_lock<std::mutex> lock(mu_);
      ++draining_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
      --draining_;
    }

   private:
    static constexpr size_t kMaxQueued = 8;
    static constexpr size_t kFlushBatches = 4;
    static constexpr size_t kFlushRows = 2000;
    static constexpr std::chrono::milliseconds kCoalesce{50};
    void Run() {
      std::mt19937_64 unused_rng(0);
      int64_t unused_retry_at = 0;
      std::unique_lock<std::mutex> lock(mu_);
      for (;;) {
        cv_.wait(lock, [&] { return done_ || !queue_.empty(); });
        if (queue_.empty()) return;  // done_ and drained
        cv_.wait_for(lock, kCoalesce, [&] {
          return done_ || draining_ > 0 || queue_.size() >= kFlushBatches ||
                 queued_rows_ >= kFlushRows;
        });
        // One pusher's batches: the same partner (its newest record is used for the log lines).
        Partner partner = std::move(queue_.back().first);
        std::vector<Item> items = std::move(queue_.front().second);
        for (size_t i = 1; i < queue_.size(); ++i) {
          for (Item& item : queue_[i].second) items.push_back(std::move(item));
        }
        queue_.clear();
        queued_rows_ = 0;
        busy_ = true;
        cv_.notify_all();
        lock.unlock();
        delivery_.Record(partner, items, unused_rng, unused_retry_at);
        lock.lock();
        busy_ = false;
        cv_.notify_all();
      }
    }

    ThreadedDelivery& delivery_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::pair<Partner, std::vector<Item>>> queue_;  // guarded by mu_
    size_t queued_rows_ = 0;                                   // guarded by mu_
    int draining_ = 0;                                         // guarded by mu_
    bool busy_ = false;                                        // guarded by mu_
    bool done_ = false;                                        // guarded by mu_
    std::thread thread_;
  };

  // A claimed batch, loaded and serialized, not yet sent.
  struct Batch {
    std::vector<Item> items;
    std::string envelope;
    size_t sending = 0;  // items with a wire form in the envelope
  };

  // Claims up to `count` batches of the partner's next due rows (in seq order, `limit` rows each)
  // and prepares them; empty when nothing is due.
  Result<std::deque<Batch>> ClaimBatches(const std::string& partner_id, size_t limit,
                                         size_t count) {
    ASSIGN_OR_RETURN(std::vector<OutboxRow> rows,
                     store_.ClaimOutbox(partner_id, limit * count, clock_.NowMicros(),
                                        ToMicros(options_.lease)));
    std::deque<Batch> out;
    for (size_t begin = 0; begin < rows.size(); begin += limit) {
      const size_t end = std::min(rows.size(), begin + limit);
      std::vector<OutboxRow> part(std::make_move_iterator(rows.begin() + begin),
                                  std::make_move_iterator(rows.begin() + end));
      out.push_back(PrepareBatch(std::move(part)));
    }
    return out;
  }

  // ClaimBatches on another thread (an exception there becomes the result's error).
  std::future<Result<std::deque<Batch>>> ClaimBatchesAhead(const std::string& partner_id,
                                                           size_t limit, size_t count) {
    try {
      return std::async(std::launch::async,
                        [this, partner_id, limit, count]() -> Result<std::deque<Batch>> {
                          try {
                            return ClaimBatches(partner_id, limit, count);
                          } catch (const std::exception& e) {
                            return InternalError(std::string("claiming ahead: ") + e.what());
                          }
                        });
    } catch (const std::system_error&) {
      return {};  // no thread to be had: the next batch is claimed after this one
    }
  }

  // Gives up the lease of prepared rows that will not be sent (the pusher stops, or the partner
  // was disabled), so they go again at once rather than when the lease expires.
  void Release(const std::string& partner_id, std::deque<Batch>& batches, const std::string& why) {
    std::vector<int64_t> seqs;
    for (const Batch& batch : batches) {
      for (const Item& item : batch.items) seqs.push_back(item.row.seq);
    }
    batches.clear();
    if (seqs.empty()) return;
    const int64_t now = clock_.NowMicros();
    Status s = store_.MarkOutboxFailed(seqs, why, /*permanent=*/false, now, now);
    if (!s.ok()) LOG_WARN("delivery: releasing rows of {}: {}", partner_id, s.ToString());
  }

  // Holds prepared batches back behind rows that go again later (same backoff): their items
  // become transient failures appended to `items`, so no later row overtakes an earlier one.
  static void HoldBack(std::deque<Batch>& batches, std::vector<Item>& items) {
    for (Batch& batch : batches) {
      for (Item& item : batch.items) {
        if (item.outcome != RowOutcome::kPermanent) {
          item.outcome = RowOutcome::kTransient;
          if (item.error.empty()) item.error = "held back behind rows that go again later";
        }
        items.push_back(std::move(item));
      }
    }
    batches.clear();
  }

  // A batch on its way to the partner: its POST runs on its own thread and connection.
  struct Flight {
    std::future<std::pair<std::vector<Item>, size_t>> done;  // outcomes, batch limit after it
    std::vector<std::string> ids;                            // the objects it names
    size_t link = 0;
  };

  void Push(const std::string& partner_id, Worker& worker) {
    std::mt19937_64 rng(std::random_device{}());
    // A sliding window: during a backlog up to max_in_flight batches are on their way at once,
    // each on its own connection, and as each is answered the next goes, so the partner always
    // has a batch to parse and verify while another one commits. Batches naming the same object
    // never travel together (order per object).
    const size_t in_flight = std::max<size_t>(1, options_.max_in_flight);
    std::vector<PartnerLink> links(in_flight);
    Recorder recorder(*this);
    size_t batch_limit = options_.batch_size;
    // The largest envelope the partner is known to take, learned from its 413 answers (its
    // max_content_length, TAXII 2.1 section 4.2.1); SIZE_MAX until it refuses one. Shared with
    // the batches in flight.
    std::atomic<size_t> max_envelope_bytes{SIZE_MAX};
    // Whether a batch of the current size has gone through since the pusher started or the
    // partner last refused one as too large: until then batches go one at a time, so a window of
    // them is not refused all at once.
    std::atomic<bool> size_proven{false};
    int64_t retry_at = 0;        // clock micros of the earliest backoff expiry we set
    std::deque<Batch> ready;     // claimed and prepared, not yet sent
    std::deque<Flight> flights;  // on their way, oldest first
    std::future<Result<std::deque<Batch>>> claiming;  // the batches after them, being prepared

    auto collect_claim = [&](bool wait) {
      if (!claiming.valid()) return;
      if (!wait && claiming.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
      Result<std::deque<Batch>> following = claiming.get();
      if (!following.ok()) {
        LOG_WARN("delivery: claiming rows for {}: {}", partner_id, following.status().ToString());
        return;
      }
      for (Batch& b : *following) ready.push_back(std::move(b));
    };
    // Waits for the oldest flight; returns its outcomes.
    auto land = [&]() -> std::vector<Item> {
      Flight flight = std::move(flights.front());
      flights.pop_front();
      auto [items, limit] = flight.done.get();
      // A refusal lowers the limit at once; a larger one comes back when nothing else flies.
      if (limit < batch_limit || flights.empty()) batch_limit = limit;
      return std::move(items);
    };
    // Records outcomes: at once when rows go again later (so no later claim overtakes them;
    // everything in the air lands first and everything claimed behind is held back with them),
    // else on the recorder's thread.
    auto finish = [&](const Partner& partner, std::vector<Item> items) {
      const bool retry = std::any_of(items.begin(), items.end(), [](const Item& i) {
        return i.outcome == RowOutcome::kTransient;
      });
      if (!retry) {
        recorder.Enqueue(partner, std::move(items));
        return;
      }
      while (!flights.empty()) {
        for (Item& item : land()) items.push_back(std::move(item));
      }
      collect_claim(/*wait=*/true);
      HoldBack(ready, items);
      recorder.Drain();
      Record(partner, items, rng, retry_at);
    };
    auto land_all = [&](const Partner& partner) {
      while (!flights.empty()) finish(partner, land());
    };
    std::optional<Partner> last_partner;

    while (!Stopping(&worker)) {
      const uint64_t seen = Generation();
      Result<Partner> partner = store_.GetPartner(partner_id);
      if (!partner.ok() || partner->disabled) {
        if (last_partner) land_all(*last_partner);
        collect_claim(/*wait=*/true);
        if (!partner.ok()) {
          if (partner.status().code() == StatusCode::kNotFound) {
            Release(partner_id, ready, "not sent: the partner was removed");
            return;  // removed with its rows
          }
          LOG_WARN("delivery: partner {}: {}", partner_id, partner.status().ToString());
        } else {
          Release(partner_id, ready, "not sent: the partner was disabled");
          for (PartnerLink& l : links) l.client.reset();
        }
        Sleep(&worker, options_.poll_interval, nullptr);
        continue;
      }
      last_partner = *partner;

      if (ready.empty() && flights.empty()) {
        collect_claim(/*wait=*/true);
        if (ready.empty()) {
          const int64_t now = clock_.NowMicros();
          Result<std::deque<Batch>> claimed = ClaimBatches(partner_id, batch_limit, 1);
          if (!claimed.ok()) {
            LOG_WARN("delivery: claiming rows for {}: {}", partner_id, claimed.status().ToString());
            Sleep(&worker, options_.poll_interval, nullptr);
            continue;
          }
          if (claimed->empty()) {
            // Nothing due: wake on the next commit, when our own backoff expires, or at the poll.
            std::chrono::milliseconds wait = options_.poll_interval;
            if (retry_at > now) {
              wait = std::min(wait, std::chrono::milliseconds((retry_at - now) / 1000 + 1));
            }
            Sleep(&worker, wait, &seen);
            continue;
          }
          ready = *std::move(claimed);
        }
      }

      // A full batch means a backlog. Outside one (a single new object, say) the batch goes on
      // this thread, alone, as soon as it is claimed.
      const bool backlog = !ready.empty() && ready.front().items.size() >= batch_limit &&
                           batch_limit > kSingleObjectBatch;
      if (flights.empty() && !ready.empty() && (!backlog || in_flight == 1 || !size_proven)) {
        Batch batch = std::move(ready.front());
        ready.pop_front();
        if (backlog && ready.empty() && !claiming.valid()) {
          claiming = ClaimBatchesAhead(partner_id, batch_limit, 1);
        }
        std::vector<Item> items = SendPrepared(*partner, links[0], std::move(batch), batch_limit,
                                               max_envelope_bytes, size_proven);
        collect_claim(/*wait=*/false);
        finish(*partner, std::move(items));
        continue;
      }

      // Top up the window: the next ready batches go while they name nothing in the air.
      while (flights.size() < in_flight && !ready.empty()) {
        const Batch& next = ready.front();
        if (!flights.empty() &&
            (next.items.size() < batch_limit || batch_limit <= kSingleObjectBatch)) {
          break;  // the end of the backlog goes once the window has landed
        }
        std::vector<std::vector<std::string_view>> names(1);
        for (const Flight& f : flights) names[0].insert(names[0].end(), f.ids.begin(), f.ids.end());
        names.emplace_back();
        for (const Item& item : next.items) names[1].push_back(item.row.object_id);
        if (BatchesThatMayTravelTogether(names) < names.size()) {
          break;  // it waits until the batch naming the same object has been answered
        }
        Flight flight;
        // A connection no batch in the air uses (there are as many as the window holds).
        while (std::any_of(flights.begin(), flights.end(),
                           [&](const Flight& f) { return f.link == flight.link; })) {
          ++flight.link;
        }
        for (const Item& item : next.items) flight.ids.push_back(item.row.object_id);
        try {
          flight.done = std::async(
              std::launch::async,
              [this, p = *partner, link = &links[flight.link], b = std::move(ready.front()),
               limit = batch_limit, cap = &max_envelope_bytes, proven = &size_proven]() mutable {
                try {
                  std::vector<Item> items =
                      SendPrepared(p, *link, std::move(b), limit, *cap, *proven);
                  return std::make_pair(std::move(items), limit);
                } catch (const std::exception& e) {
                  // Nothing recorded: the rows stay leased and go again when the lease ends
                  // (the partner keeps one copy of what it already has).
                  LOG_ERROR("delivery to {}: sending a batch failed: {}", p.id, e.what());
                  return std::make_pair(std::vector<Item>(), limit);
                }
              });
        } catch (const std::system_error&) {
          break;  // no thread to be had: it goes when one of the others has landed
        }
        ready.pop_front();
        flights.push_back(std::move(flight));
      }
      // The batches after the window are claimed and prepared while it flies.
      if (ready.size() < in_flight && !claiming.valid()) {
        claiming = ClaimBatchesAhead(partner_id, batch_limit, in_flight);
      }
      if (flights.empty()) {
        // Nothing could go (no thread): try again shortly.
        Sleep(&worker, std::chrono::milliseconds(10), nullptr);
        continue;
      }
      std::vector<Item> items = land();
      collect_claim(/*wait=*/false);
      finish(*partner, std::move(items));
    }
    if (last_partner) land_all(*last_partner);
    collect_claim(/*wait=*/true);
    Release(partner_id, ready, "not sent: delivery stopped");
  }

  // Loads the rows' objects and builds the envelope of their wire forms. Rows that cannot be sent
  // get their outcome here (kPermanent, or kTransient with an error).
  Batch PrepareBatch(std::vector<OutboxRow> rows) {
    Batch batch;
    std::vector<Item>& items = batch.items;
    items.reserve(rows.size());
    for (OutboxRow& row : rows) {
      Item item;
      item.row = std::move(row);
      items.push_back(std::move(item));
    }

    // Load each version and its wire form (signed, or the sealed wrapper as stored).
    std::map<std::pair<std::string, int64_t>, storage::StoredObject> loaded = LoadObjects(items);
    std::string& envelope = batch.envelope;
    envelope = "{\"objects\":[";
    size_t& sending = batch.sending;
    for (Item& item : items) {
      auto found = loaded.find({item.row.object_id, item.row.version});
      Result<storage::StoredObject> object =
          found != loaded.end() && found->second.date_added == item.row.date_added
              ? Result<storage::StoredObject>(std::move(found->second))
              : store_.GetObjectVersion(item.row.collection_id, item.row.object_id,
                                        item.row.version);
      if (!object.ok()) {
        if (object.status().code() == StatusCode::kNotFound) {
          item.outcome = RowOutcome::kPermanent;
          item.error = "the object version is no longer stored here (deleted before delivery)";
        } else {
          item.error = "reading the object: " + object.status().ToString();
        }
        continue;
      }
      Result<std::string> wire = WireForm(*object, self_);
      if (!wire.ok()) {
        item.outcome = RowOutcome::kPermanent;
        item.error = "preparing the object for the partner: " + wire.status().message();
        continue;
      }
      item.wire = *std::move(wire);
      item.wire_id = object->label.sealed ? TopLevelId(item.wire) : item.row.object_id;
      if (item.wire_id.empty()) item.wire_id = item.row.object_id;
      if (sending++) envelope += ',';
      envelope += item.wire;
    }
    envelope += "]}";

    return batch;
  }

  // POSTs a prepared batch and returns each row's outcome (not yet recorded). Sets batch_limit
  // for the batches after it: single objects after a 400 for the whole batch (to find the object
  // at fault), half as many after a 413 (too large: max_envelope_bytes then remembers half its
  // size), else as many as fit in max_envelope_bytes at this batch's bytes per object, at most
  // batch_size. size_proven: false after a 413, true after a batch that went through whole.
  std::vector<Item> SendPrepared(const Partner& partner, PartnerLink& link, Batch batch,
                                 size_t& batch_limit, std::atomic<size_t>& max_envelope_bytes,
                                 std::atomic<bool>& size_proven) {
    std::vector<Item>& items = batch.items;
    const std::string& envelope = batch.envelope;
    const size_t sending = batch.sending;
    if (sending > 0) {
      Status sent = Send(partner, link, envelope, items);
      if (!sent.ok()) {
        const StatusCode code = sent.code();
        const bool refused_as_whole =
            code == StatusCode::kInvalidArgument || code == StatusCode::kResourceExhausted;
        if (refused_as_whole && sending == 1) {
          // One object alone is refused: it will never go through as it is.
          for (Item& item : items) {
            if (!item.wire.empty()) {
              item.outcome = RowOutcome::kPermanent;
              item.error = "refused by the partner: " + sent.message();
            }
          }
        } else {
          if (code == StatusCode::kResourceExhausted) {
            const size_t half = std::max<size_t>(1, envelope.size() / 2);
            size_t known = max_envelope_bytes.load();
            while (half < known && !max_envelope_bytes.compare_exchange_weak(known, half)) {
            }
            batch_limit = std::max<size_t>(1, sending / 2);
            size_proven = false;
            LOG_WARN(
                "delivery to {} ({}): a batch of {} objects ({} bytes) is too large for the "
                "partner; envelopes of at most {} bytes from now on",
                partner.name, partner.id, sending, envelope.size(), max_envelope_bytes.load());
          } else if (refused_as_whole) {
            batch_limit = kSingleObjectBatch;
          }
          if (code == StatusCode::kUnauthenticated || code == StatusCode::kPermissionDenied ||
              code == StatusCode::kFailedPrecondition) {
            LOG_ERROR("delivery to {} ({}): {}", partner.name, partner.id, sent.message());
          } else {
            LOG_WARN("delivery to {} ({}): {}", partner.name, partner.id, sent.message());
          }
          for (Item& item : items) {
            if (!item.wire.empty()) {
              item.outcome = RowOutcome::kTransient;
              item.error = sent.message();
            }
          }
        }
      } else {
        bool all_delivered = std::all_of(items.begin(), items.end(), [](const Item& i) {
          return i.wire.empty() || i.outcome == RowOutcome::kDelivered;
        });
        if (all_delivered) {
          size_proven = true;
          const size_t cap = max_envelope_bytes.load();
          const size_t bytes_per_object = std::max<size_t>(1, envelope.size() / sending);
          batch_limit = cap == SIZE_MAX
                            ? options_.batch_size
                            : std::clamp<size_t>(cap / bytes_per_object, 1, options_.batch_size);
        }
      }
    }
    return std::move(batch.items);
  }

  // The rows' object versions, by (id, version). Rows queued by consecutive publishes sit next to
  // each other in the collection's date_added order, so each collection's rows are first read as
  // one range of at most twice their number (a sequential read of the table, half the cost of a
  // probe per row); what the range misses (rows far apart) is probed exactly, per
  // kMaxQueryValues rows. Rows missing from the result (a failed read) are looked up one by one
  // by the caller.
  std::map<std::pair<std::string, int64_t>, storage::StoredObject> LoadObjects(
      const std::vector<Item>& items) {
    std::map<std::pair<std::string, int64_t>, storage::StoredObject> out;
    std::map<std::string, std::vector<const OutboxRow*>> by_collection;
    for (const Item& item : items) by_collection[item.row.collection_id].push_back(&item.row);
    for (auto& [collection, rows] : by_collection) {
      std::set<std::pair<std::string_view, int64_t>> wanted;
      int64_t first = std::numeric_limits<int64_t>::max(), last = 0;
      for (const OutboxRow* row : rows) {
        wanted.emplace(row->object_id, row->version);
        first = std::min(first, row->date_added);
        last = std::max(last, row->date_added);
      }
      if (first > std::numeric_limits<int64_t>::min() && first <= last) {
        storage::ObjectQuery query;
        query.collection_id = collection;
        query.added_after = first - 1;
        query.version_selectors = {storage::VersionSelector::kAll};
        query.limit = 2 * rows.size() + 16;
        Result<storage::ObjectPage> page = store_.QueryObjects(query);
        if (page.ok()) {
          for (storage::StoredObject& object : page->objects) {
            if (object.date_added > last) break;
            if (!wanted.count({object.id, object.version})) continue;
            std::pair<std::string, int64_t> key{object.id, object.version};
            out.emplace(std::move(key), std::move(object));
          }
        }
      }
      std::vector<storage::ObjectVersionKey> missing;
      for (const OutboxRow* row : rows) {
        if (!out.count({row->object_id, row->version})) {
          missing.push_back({row->object_id, row->version});
        }
      }
      for (size_t begin = 0; begin < missing.size(); begin += storage::kMaxQueryValues) {
        const size_t end = std::min(missing.size(), begin + storage::kMaxQueryValues);
        std::vector<storage::ObjectVersionKey> chunk(missing.begin() + begin,
                                                     missing.begin() + end);
        Result<std::vector<storage::StoredObject>> found =
            store_.GetObjectVersions(collection, chunk, /*metadata_only=*/false);
        if (!found.ok()) continue;
        for (storage::StoredObject& object : *found) {
          std::pair<std::string, int64_t> key{object.id, object.version};
          out.emplace(std::move(key), std::move(object));
        }
      }
    }
    return out;
  }

  // POSTs the envelope; on an answer, sets each sent item's outcome from the status resource.
  Status Send(const Partner& partner, PartnerLink& link, const std::string& envelope,
              std::vector<Item>& items) {
    ASSIGN_OR_RETURN(TaxiiClient * client, Connect(partner, link));
    // TAXII 2.1 section 5.5: POST {api-root}/collections/{id}/objects/ answers 202 with a status
    // resource listing each object as a success, failure or pending.
    ASSIGN_OR_RETURN(StatusInfo status, client->AddObjects(partner.url, partner.inbox, envelope));
    std::vector<bool> used_success(status.successes.size()), used_failure(status.failures.size()),
        used_pending(status.pendings.size());
    // Matches on (id, version) first, then on id alone (objects without a version get the
    // partner's date_added as version), each detail used once.
    auto find = [](const std::vector<StatusDetailInfo>& details, std::vector<bool>& used,
                   const Item& item, bool exact) -> const StatusDetailInfo* {
      for (size_t i = 0; i < details.size(); ++i) {
        if (used[i]) continue;
        const StatusDetailInfo& d = details[i];
        if (d.id != item.wire_id && d.id != item.row.object_id) continue;
        if (exact && !SameVersion(d, item.row.version)) continue;
        used[i] = true;
        return &d;
      }
      return nullptr;
    };
    for (bool exact : {true, false}) {
      for (Item& item : items) {
        if (item.wire.empty() || item.outcome == RowOutcome::kDelivered || !item.error.empty()) {
          continue;
        }
        if (find(status.successes, used_success, item, exact)) {
          item.outcome = RowOutcome::kDelivered;
        } else if (const StatusDetailInfo* f = find(status.failures, used_failure, item, exact)) {
          item.outcome = RowOutcome::kPermanent;
          item.error = f->message.empty() ? "refused by the partner" : f->message;
        } else if (find(status.pendings, used_pending, item, exact)) {
          // Re-sent later: the receiving side is idempotent on (id, version).
          item.outcome = RowOutcome::kTransient;
          item.error = "still pending at the partner (status " + status.id + ")";
        }
      }
    }
    for (Item& item : items) {
      if (!item.wire.empty() && item.outcome == RowOutcome::kTransient && item.error.empty()) {
        item.error = "the partner's status resource " + status.id + " does not mention the object";
      }
    }
    return Status::Ok();
  }

  // Receipts (MarkOutbox*), audit, and a wake-up for event streams.
  void Record(const Partner& partner, const std::vector<Item>& items, std::mt19937_64& rng,
              int64_t& retry_at) {
    const int64_t now = clock_.NowMicros();
    std::vector<int64_t> delivered;
    std::map<std::string, std::vector<int64_t>> permanent, transient;
    int32_t attempts = 0;
    for (const Item& item : items) {
      switch (item.outcome) {
        case RowOutcome::kDelivered:
          delivered.push_back(item.row.seq);
          break;
        case RowOutcome::kPermanent:
          permanent[item.error].push_back(item.row.seq);
          break;
        case RowOutcome::kTransient:
          transient[item.error].push_back(item.row.seq);
          attempts = std::max(attempts, item.row.attempts);
          break;
      }
    }
    bool wrote = false;
    if (!delivered.empty()) {
      Status s = store_.MarkOutboxDelivered(delivered, now);
      if (!s.ok()) {
        // The lease expires and the rows go again; the partner ignores what it already has.
        LOG_ERROR("delivery: recording receipts for {}: {}", partner.id, s.ToString());
      }
      wrote = true;
    }
    for (const auto& [error, seqs] : permanent) {
      Status s = store_.MarkOutboxFailed(seqs, error, /*permanent=*/true, 0, now);
      if (!s.ok()) LOG_ERROR("delivery: recording failures for {}: {}", partner.id, s.ToString());
      wrote = true;
    }
    if (!transient.empty()) {
      const int64_t next_attempt = now + BackoffMicros(attempts, rng);
      retry_at = next_attempt;
      for (const auto& [error, seqs] : transient) {
        Status s = store_.MarkOutboxFailed(seqs, error, /*permanent=*/false, next_attempt, now);
        if (!s.ok()) LOG_ERROR("delivery: recording retries for {}: {}", partner.id, s.ToString());
      }
      wrote = true;
    }

    std::vector<storage::AuditRecord> audit;
    if (!delivered.empty()) {
      audit.push_back(AuditFor("deliver", partner, items, RowOutcome::kDelivered));
    }
    if (!permanent.empty()) {
      audit.push_back(AuditFor("delivery-failed", partner, items, RowOutcome::kPermanent));
    }
    if (!transient.empty()) {
      audit.push_back(AuditFor("delivery-failed", partner, items, RowOutcome::kTransient));
    }
    if (!audit.empty()) {
      Result<std::vector<storage::AuditRecord>> appended = store_.AppendAudit(audit, now);
      if (!appended.ok()) {
        LOG_ERROR("delivery: audit for {}: {}", partner.id, appended.status().ToString());
      }
    }
    if (wrote) events_changed_.Notify();
  }

  // One audit record per outcome and batch: {"partner","objects":[{"id","version","seq"
  // [,"error"]}],"permanent":bool}.
  storage::AuditRecord AuditFor(const std::string& kind, const Partner& partner,
                                const std::vector<Item>& items, RowOutcome outcome) {
    JsonWriter w;
    w.BeginObject();
    w.Key("partner");
    w.String(partner.id);
    if (outcome != RowOutcome::kDelivered) {
      w.Key("permanent");
      w.Bool(outcome == RowOutcome::kPermanent);
    }
    w.Key("objects");
    w.BeginArray();
    std::string subject;
    for (const Item& item : items) {
      if (item.outcome != outcome) continue;
      if (subject.empty()) subject = item.row.object_id;
      w.BeginObject();
      w.Key("id");
      w.String(item.row.object_id);
      w.Key("version");
      w.String(stix::FormatTimestamp(stix::Timestamp{item.row.version}, 6));
      w.Key("seq");
      w.Int(item.row.seq);
      if (outcome != RowOutcome::kDelivered) {
        w.Key("error");
        w.String(item.error);
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    storage::AuditRecord record;
    record.kind = kind;
    record.actor = "hub";
    record.subject = subject;
    record.detail = std::move(w).Take();
    return record;
  }

  // ------------------------------------------------------------------------------------------
  // Puller

  Result<storage::Collection> FindCollection(const std::string& id) {
    ASSIGN_OR_RETURN(std::vector<storage::ApiRoot> roots, store_.ListApiRoots());
    for (const storage::ApiRoot& root : roots) {
      Result<storage::Collection> c = store_.GetCollection(root.name, id);
      if (c.ok()) return c;
      if (c.status().code() != StatusCode::kNotFound) return c.status();
    }
    return NotFoundError("collection " + id + " does not exist");
  }

  void Pull(const Channel& channel, Worker& worker) {
    std::mt19937_64 rng(std::random_device{}());
    PartnerLink link;
    std::string cursor = channel.cursor;  // persisted after each page
    std::string request_after;            // added_after of the request a `next` continues
    std::string next;
    int32_t failures = 0;
    std::optional<storage::Collection> collection;
    auto back_off = [&](const Status& error) {
      ++failures;
      LOG_WARN("pull channel {} from {}: {}", channel.id, channel.partner, error.ToString());
      const int64_t delay = std::max<int64_t>(BackoffMicros(failures - 1, rng), 1000);
      return Sleep(&worker, std::chrono::milliseconds(delay / 1000), nullptr);
    };
    while (!Stopping(&worker)) {
      Result<Partner> partner = store_.GetPartner(channel.partner);
      if (!partner.ok()) {
        if (partner.status().code() == StatusCode::kNotFound) return;
        if (!back_off(partner.status())) return;
        continue;
      }
      if (partner->disabled) {
        link.client.reset();
        if (!Sleep(&worker, options_.pull_interval, nullptr)) return;
        continue;
      }
      if (!collection) {
        Result<storage::Collection> c = FindCollection(channel.collection_id);
        if (!c.ok()) {
          if (!back_off(c.status())) return;
          continue;
        }
        collection = *std::move(c);
      }
      Result<TaxiiClient*> client = Connect(*partner, link);
      if (!client.ok()) {
        if (!back_off(client.status())) return;
        continue;
      }
      GetObjectsOptions query;
      query.added_after = next.empty() ? cursor : request_after;
      query.next = next;
      query.limit = kPullPageSize;
      // Every version, so the local copy keeps the object's history as the partner has it.
      query.filters.emplace_back("match[version]", "all");
      Result<ObjectsPage> page =
          (*client)->GetObjects(partner->url, channel.remote_collection, query);
      if (!page.ok()) {
        if (!next.empty()) next.clear();  // a stale `next` starts over from the cursor
        if (!back_off(page.status())) return;
        continue;
      }
      Status ingested = Ingest(*partner, *collection, page->objects);
      if (!ingested.ok()) {
        if (!back_off(ingested)) return;
        continue;
      }
      failures = 0;
      if (!page->date_added_last.empty() && page->date_added_last != cursor) {
        cursor = page->date_added_last;
        Status saved = store_.SetChannelCursor(channel.id, cursor);
        if (!saved.ok()) {
          if (saved.code() == StatusCode::kNotFound) return;  // the channel was removed
          LOG_WARN("pull channel {}: saving the cursor: {}", channel.id, saved.ToString());
        }
      }
      if (page->more) {
        if (!page->next.empty()) {
          if (next.empty()) request_after = query.added_after;
          next = page->next;
        } else {
          next.clear();
        }
        continue;
      }
      next.clear();
      if (!Sleep(&worker, options_.pull_interval, nullptr)) return;
    }
  }

  // Validates a page, lets Sharing judge it as if the partner had pushed it, stores what passes.
  Status Ingest(const Partner& partner, const storage::Collection& collection,
                const std::vector<std::string>& objects) {
    if (objects.empty()) return Status::Ok();
    std::vector<stix::ObjectInfo> infos;
    std::vector<storage::AuditRecord> rejects;
    infos.reserve(objects.size());
    for (const std::string& json : objects) {
      Result<stix::ObjectInfo> info = stix::ParseObject(json);
      if (info.ok()) {
        infos.push_back(*std::move(info));
        continue;
      }
      JsonWriter w;
      w.BeginObject();
      w.Key("partner");
      w.String(partner.id);
      w.Key("collection");
      w.String(collection.id);
      w.Key("error");
      w.String(info.status().message());
      w.EndObject();
      storage::AuditRecord record;
      record.kind = "reject";
      record.actor = "partner:" + partner.id;
      record.subject = TopLevelId(json);
      record.detail = std::move(w).Take();
      rejects.push_back(std::move(record));
      LOG_WARN("pull from {}: object refused: {}", partner.id, info.status().message());
    }
    policy::Principal principal;
    principal.user = partner.user;
    principal.role = storage::Role::kPartner;
    principal.authenticated = true;
    principal.method = "pull";
    principal.partner = partner.id;
    ASSIGN_OR_RETURN(taxii::PreparedAdd prepared,
                     sharing_.PrepareAdd(principal, collection, std::move(infos)));
    storage::AddObjectsRequest request;
    request.collection_id = collection.id;
    request.objects = std::move(prepared.objects);
    request.audit = std::move(prepared.audit);
    for (storage::AuditRecord& r : rejects) request.audit.push_back(std::move(r));
    if (request.objects.empty() && request.audit.empty()) return Status::Ok();
    ASSIGN_OR_RETURN(storage::AddObjectsResult result,
                     store_.AddObjects(request, clock_.NowMicros()));
    sharing_.Committed(collection, result);
    return Status::Ok();
  }

  // Constant after construction.
  storage::Store& store_;
  const HubIdentity& self_;
  Sharing& sharing_;
  Clock& clock_;
  Notifier& outbox_changed_;
  Notifier& events_changed_;
  DeliveryOptions options_;
  const std::shared_ptr<WakeState> wake_;
  uint64_t subscription_ = 0;
  std::thread supervisor_;

  // Touched only by the supervisor thread, then by Stop after joining it.
  std::map<std::string, std::unique_ptr<Worker>> pushers_;
  std::map<std::string, std::unique_ptr<Worker>> pullers_;
};

}  // namespace

Result<std::unique_ptr<Delivery>> Delivery::Start(storage::Store& store, const HubIdentity& self,
                                                  Sharing& sharing, Clock& clock,
                                                  Notifier& outbox_changed,
                                                  Notifier& events_changed,
                                                  DeliveryOptions options) {
  if (options.lease.count() <= 0) return InvalidArgumentError("delivery lease must be positive");
  if (options.request_timeout.count() <= 0) {
    return InvalidArgumentError("delivery request timeout must be positive");
  }
  auto delivery = std::make_unique<ThreadedDelivery>(store, self, sharing, clock, outbox_changed,
                                                     events_changed, std::move(options));
  delivery->Begin();
  return std::unique_ptr<Delivery>(std::move(delivery));
}

size_t BatchesThatMayTravelTogether(const std::vector<std::vector<std::string_view>>& batches) {
  std::unordered_set<std::string_view> on_the_way;
  size_t n = 0;
  for (const std::vector<std::string_view>& ids : batches) {
    if (std::any_of(ids.begin(), ids.end(),
                    [&](std::string_view id) { return on_the_way.count(id) > 0; })) {
      break;
    }
    on_the_way.insert(ids.begin(), ids.end());
    ++n;
  }
  return n;
}

}  // namespace liaison::federation

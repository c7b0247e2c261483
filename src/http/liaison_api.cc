#include "http/liaison_api.h"

#include <charconv>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include <boost/json.hpp>

#include "common/json_writer.h"
#include "common/log.h"
#include "common/thread_annotations.h"
#include "policy/collection_access.h"
#include "policy/tlp.h"
#include "stix/timestamp.h"

namespace liaison::http {
namespace {

namespace json = boost::json;

constexpr std::string_view kPrefix = "/liaison/v1";
constexpr char kJsonMediaType[] = "application/json";
constexpr size_t kDefaultReceiptsLimit = 1000;
constexpr size_t kMaxReceiptsLimit = 10000;
// Full pages of events a single Poll reads when none of them is visible to the reader, before it
// hands the thread back (and asks to be polled again at once): a reader who sees little of a busy
// hub must not hold a server thread for long.
constexpr int kMaxPagesPerPoll = 16;

using Query = std::vector<std::pair<std::string, std::string>>;

// The path below /liaison/v1 without a trailing '/': "/events", "" for the prefix itself.
std::string_view Endpoint(std::string_view path) {
  path.remove_prefix(kPrefix.size());
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return path;
}

bool MayReadDeliveries(const policy::Principal& principal) {
  return principal.authenticated &&
         (principal.role == storage::Role::kAdmin || principal.role == storage::Role::kPublisher);
}

// The parameters of `query`, each at most once and each one of `allowed`.
Result<std::map<std::string, std::string>> Parameters(
    const Query& query, std::initializer_list<std::string_view> allowed) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : query) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return InvalidArgumentError("unknown query parameter '" + key + "'" +
                                  (list.empty() ? "" : " (allowed: " + list + ")"));
    }
    if (!out.emplace(key, value).second) {
      return InvalidArgumentError("query parameter '" + key + "' given more than once");
    }
  }
  return out;
}

Result<int64_t> ParseNonNegative(std::string_view name, std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 0) {
    return InvalidArgumentError(std::string(name) + " must be a non-negative integer, not '" +
                                std::string(text.substr(0, 64)) + "'");
  }
  return value;
}

// A version as STIX timestamp text: milliseconds when whole, else microseconds (as status
// resources write them).
std::string VersionText(int64_t micros) {
  return stix::FormatTimestamp(stix::Timestamp{micros}, micros % 1000 == 0 ? 3 : 6);
}

// A point in time as TAXII writes date_added: microsecond precision.
std::string TimeText(int64_t micros) { return stix::FormatTimestamp(stix::Timestamp{micros}, 6); }

std::string_view TlpText(int32_t tlp) {
  if (tlp < static_cast<int32_t>(policy::Tlp::kClear) ||
      tlp > static_cast<int32_t>(policy::Tlp::kRed)) {
    return "unknown";
  }
  return policy::TlpName(static_cast<policy::Tlp>(tlp));
}

// The event data the store wrote (storage/store_util.h), parsed leniently: a field that is missing
// or of another type reads as empty/0. nullopt when the text is not a JSON object.
std::optional<json::object> ParseData(const std::string& data) {
  try {
    boost::system::error_code ec;
    json::value value = json::parse(data, ec);
    if (ec || !value.is_object()) return std::nullopt;
    return std::move(value.as_object());
  } catch (const std::exception&) {  // allocation failure
    return std::nullopt;
  }
}

std::string StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return "";
  return std::string(v->as_string());
}

int64_t IntField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v->as_uint64());
  }
  return 0;
}

void WriteFeedback(JsonWriter& w, const storage::FeedbackRecord& record,
                   const std::string* from_name) {
  w.BeginObject();
  w.Key("about");
  w.String(record.about_id);
  w.Key("feedback_id");
  w.String(record.feedback_id);
  w.Key("feedback_version");
  w.String(VersionText(record.feedback_version));
  w.Key("from");
  w.String(record.from);
  if (from_name != nullptr) {
    w.Key("from_name");
    w.String(*from_name);
  }
  w.Key("outcome");
  w.String(record.outcome);
  w.Key("note");
  w.String(record.note);
  w.Key("count");
  w.Int(record.count);
  w.Key("received");
  w.String(TimeText(record.received));
  w.EndObject();
}

taxii::Response JsonResponse(std::string body) {
  taxii::Response r;
  r.content_type = kJsonMediaType;
  r.body = std::move(body);
  return r;
}

taxii::Response MethodNotAllowed(std::string_view allow) {
  taxii::Response r;
  r.status = 405;
  r.body = R"({"title":"Method Not Allowed","description":"use )" + std::string(allow) +
           R"(","http_status":"405"})";
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

// The wake callback of a stream, shared with the Notifier subscription so that a notification
// racing with the stream's destruction finds an empty slot instead of a dead stream.
class WakeSlot {
 public:
  void Set(std::function<void()> wake) {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = std::move(wake);
  }
  // Runs the callback under the lock: Set() (also the stream's destructor) waits for a call in
  // progress, so no call starts after Set(nullptr) returned.
  void Call() {
    std::lock_guard<std::mutex> lock(mu_);
    if (wake_) wake_();
  }

 private:
  std::mutex mu_;
  std::function<void()> wake_ GUARDED_BY(mu_);
};

// GET /liaison/v1/events: reads Store::ListEvents after the last event it considered, shows what
// the principal may see. Poll runs on one connection's strand at a time; the members below are
// touched only there (SetWake and the Notifier go through the thread-safe WakeSlot).
class EventStream final : public taxii::ResponseStream, public StreamHeartbeat {
 public:
  EventStream(storage::Store& store, taxii::SharingHooks* sharing, Notifier& notifier,
              policy::Principal principal, int64_t after_seq, const LiaisonApiOptions& options)
      : store_(store),
        sharing_(sharing),
        notifier_(notifier),
        principal_(std::move(principal)),
        heartbeat_(options.heartbeat),
        page_size_(std::max<size_t>(1, options.event_page_size)),
        access_refresh_(options.access_refresh),
        last_seq_(after_seq),
        slot_(std::make_shared<WakeSlot>()) {
    subscription_ = notifier_.Subscribe([slot = slot_] { slot->Call(); });
  }

  ~EventStream() override {
    notifier_.Unsubscribe(subscription_);
    slot_->Set(nullptr);
  }

  bool Poll(std::string& out) override {
    for (int page = 0; page < kMaxPagesPerPoll; ++page) {
      Result<std::vector<storage::HubEvent>> events = store_.ListEvents(last_seq_, page_size_);
      if (!events.ok()) return Fail(events.status(), out);
      for (const storage::HubEvent& event : *events) {
        Result<bool> visible = Visible(event);
        // Stop before an event whose visibility is unknown: the client resumes from the last id
        // it received and this event is judged again then.
        if (!visible.ok()) return Fail(visible.status(), out);
        last_seq_ = event.seq;
        if (*visible) Append(event, out);
      }
      if (events->size() < page_size_) return true;
      if (!out.empty()) return true;  // the server writes it and polls again at once
    }
    slot_->Call();  // only hidden events so far, and more to read: poll again without waiting
    return true;
  }

  void SetWake(std::function<void()> wake) override { slot_->Set(std::move(wake)); }

  std::chrono::milliseconds heartbeat() const override { return heartbeat_; }

 private:
  // What this stream decided about one collection, until `expires`.
  struct CollectionView {
    bool can_read = false;
    std::unique_ptr<taxii::ReadFilter> filter;  // null: collection access decides alone
    std::chrono::steady_clock::time_point expires;
  };

  bool Fail(const Status& status, std::string& out) {
    LOG_WARN("event stream of {} ends after event {}: {}", principal_.user, last_seq_,
             status.ToString());
    out += ": the event store failed; reconnect with Last-Event-ID to resume\n\n";
    return false;
  }

  Result<bool> Visible(const storage::HubEvent& event) {
    if (event.kind == "object") return ObjectVisible(event);
    if (event.kind == "receipt" || event.kind == "feedback") return MayReadDeliveries(principal_);
    return false;  // a kind this version does not know how to show
  }

  Result<bool> ObjectVisible(const storage::HubEvent& event) {
    ASSIGN_OR_RETURN(CollectionView * view, ViewOf(event.collection_id));
    if (!view->can_read) return false;
    if (view->filter == nullptr) return true;
    storage::StoredObject object;
    object.id = event.object_id;
    object.type = event.object_id.substr(0, event.object_id.find("--"));
    object.version = event.version;
    object.label = event.label;
    return view->filter->Visible(object);
  }

  Result<CollectionView*> ViewOf(const std::string& collection_id) {
    const auto now = std::chrono::steady_clock::now();
    auto it = views_.find(collection_id);
    if (it != views_.end() && now < it->second.expires) return &it->second;

    CollectionView view;
    view.expires = now + access_refresh_;
    Result<policy::CollectionAccess> access =
        policy::GetCollectionAccess(store_, principal_, collection_id);
    if (!access.ok() && access.status().code() != StatusCode::kNotFound) return access.status();
    view.can_read = access.ok() && access->can_read;
    if (view.can_read && sharing_ != nullptr) {
      ASSIGN_OR_RETURN(std::optional<storage::Collection> collection,
                       FindCollection(collection_id));
      if (collection) {
        view.filter = sharing_->ForReader(principal_, *collection);
      }
      // A collection deleted since (or a filter the hooks could not make) shows nothing.
      if (view.filter == nullptr) view.can_read = false;
    }
    auto [pos, inserted] = views_.insert_or_assign(collection_id, std::move(view));
    return &pos->second;
  }

  // Events name collections by id only; ids are unique across API roots (storage/store.h).
  Result<std::optional<storage::Collection>> FindCollection(const std::string& id) {
    ASSIGN_OR_RETURN(std::vector<storage::ApiRoot> roots, store_.ListApiRoots());
    for (const storage::ApiRoot& root : roots) {
      Result<std::vector<storage::Collection>> collections = store_.ListCollections(root.name);
      if (!collections.ok()) {
        if (collections.status().code() == StatusCode::kNotFound) continue;  // deleted meanwhile
        return collections.status();
      }
      for (storage::Collection& c : *collections) {
        if (c.id == id) return std::optional<storage::Collection>(std::move(c));
      }
    }
    return std::optional<storage::Collection>();
  }

  static void Append(const storage::HubEvent& event, std::string& out) {
    JsonWriter w;
    std::optional<json::object> data = ParseData(event.data);
    const json::object empty;
    const json::object& d = data ? *data : empty;
    if (event.kind == "object") {
      w.BeginObject();
      std::string type = StringField(d, "type");
      if (type.empty()) type = event.object_id.substr(0, event.object_id.find("--"));
      const int64_t date_added = d.contains("date_added") ? IntField(d, "date_added") : event.time;
      w.Key("collection");
      w.String(event.collection_id);
      w.Key("id");
      w.String(event.object_id);
      w.Key("type");
      w.String(type);
      w.Key("spec_version");
      w.String(StringField(d, "spec_version"));
      w.Key("version");
      w.String(VersionText(event.version));
      w.Key("date_added");
      w.String(TimeText(date_added));
      w.Key("tlp");
      w.String(TlpText(event.label.tlp));
      w.EndObject();
    } else if (event.kind == "receipt") {
      w.BeginObject();
      w.Key("object");
      w.String(event.object_id);
      w.Key("version");
      w.String(VersionText(event.version));
      w.Key("partner");
      w.String(StringField(d, "partner"));
      w.Key("state");
      w.String(StringField(d, "state"));
      w.Key("attempts");
      w.Int(IntField(d, "attempts"));
      w.Key("delivered_at");
      if (const int64_t at = IntField(d, "delivered_at"); at > 0) {
        w.String(TimeText(at));
      } else {
        w.Null();
      }
      w.Key("error");
      w.String(StringField(d, "error"));
      w.EndObject();
    } else {  // feedback
      storage::FeedbackRecord record;
      record.about_id = StringField(d, "about_id");
      if (record.about_id.empty()) record.about_id = event.object_id;
      record.feedback_id = StringField(d, "feedback_id");
      record.feedback_version =
          d.contains("feedback_version") ? IntField(d, "feedback_version") : event.version;
      record.from = StringField(d, "from");
      record.outcome = StringField(d, "outcome");
      record.note = StringField(d, "note");
      record.count = IntField(d, "count");
      record.received = d.contains("received") ? IntField(d, "received") : event.time;
      WriteFeedback(w, record, nullptr);
    }
    // The writer escapes every control character, so the JSON is one line, as an SSE data field
    // must be (WHATWG HTML, "Server-sent events", section 9.2.6).
    out += "id: ";
    out += std::to_string(event.seq);
    out += "\nevent: ";
    out += event.kind;
    out += "\ndata: ";
    out += std::move(w).Take();
    out += "\n\n";
  }

  storage::Store& store_;
  taxii::SharingHooks* const sharing_;
  Notifier& notifier_;
  const policy::Principal principal_;
  const std::chrono::milliseconds heartbeat_;
  const size_t page_size_;
  const std::chrono::milliseconds access_refresh_;
  uint64_t subscription_ = 0;

  int64_t last_seq_;
  std::map<std::string, CollectionView> views_;

  const std::shared_ptr<WakeSlot> slot_;
};

}  // namespace

LiaisonApi::LiaisonApi(storage::Store& store, taxii::SharingHooks* sharing,
                       Notifier& events_changed, LiaisonApiOptions options)
    : store_(store),
      sharing_(sharing),
      events_changed_(events_changed),
      options_(std::move(options)) {}

bool LiaisonApi::OwnsPath(std::string_view path) {
  if (path.substr(0, kPrefix.size()) != kPrefix) return false;
  return path.size() == kPrefix.size() || path[kPrefix.size()] == '/';
}

Result<taxii::Response> LiaisonApi::Handle(const std::string& method, const std::string& path,
                                           const Query& query, const std::string& last_event_id,
                                           const policy::Principal& principal) {
  if (!OwnsPath(path)) return NotFoundError("no such resource");
  if (!principal.authenticated) return UnauthenticatedError("authentication required");
  const std::string_view endpoint = Endpoint(path);
  if (endpoint == "/events") {
    if (method != "GET") return MethodNotAllowed("GET");
    return Events(query, last_event_id, principal);
  }
  const bool known = endpoint == "/receipts" || endpoint == "/feedback" || endpoint == "/identity";
  if (!known) return NotFoundError("no such resource");
  if (method != "GET" && method != "HEAD") return MethodNotAllowed("GET, HEAD");
  if (endpoint == "/receipts") return Receipts(query, principal);
  if (endpoint == "/feedback") return Feedback(query, principal);
  RETURN_IF_ERROR(Parameters(query, {}).status());
  return Identity();
}

Result<taxii::Response> LiaisonApi::Events(const Query& query, const std::string& last_event_id,
                                           const policy::Principal& principal) {
  ASSIGN_OR_RETURN(auto params, Parameters(query, {"last_event_id"}));
  std::string resume = last_event_id;
  if (resume.empty()) {
    if (auto it = params.find("last_event_id"); it != params.end()) resume = it->second;
  }
  ASSIGN_OR_RETURN(int64_t newest, store_.LastEventSeq());
  int64_t after = newest;
  if (!resume.empty()) {
    ASSIGN_OR_RETURN(int64_t id, ParseNonNegative("Last-Event-ID", resume));
    // An id from the future (another hub's, or from before a restore) would hide events until
    // the sequence caught up with it: start at the newest event instead.
    after = std::min(id, newest);
  }
  taxii::Response response;
  response.content_type = kEventStreamMediaType;
  // Tell buffering reverse proxies (nginx) to pass events through as they come.
  response.headers.emplace_back("X-Accel-Buffering", "no");
  response.stream =
      std::make_shared<EventStream>(store_, sharing_, events_changed_, principal, after, options_);
  return response;
}

Result<taxii::Response> LiaisonApi::Receipts(const Query& query,
                                             const policy::Principal& principal) {
  if (!MayReadDeliveries(principal)) {
    return PermissionDeniedError("delivery receipts are shown to admins and publishers only");
  }
  ASSIGN_OR_RETURN(auto params,
                   Parameters(query, {"object", "partner", "state", "after", "limit"}));
  storage::OutboxQuery q;
  size_t limit = kDefaultReceiptsLimit;
  for (const auto& [key, value] : params) {
    if (key == "object") {
      q.object_id = value;
    } else if (key == "partner") {
      q.partner = value;
    } else if (key == "state") {
      if (value == "queued") {
        q.state = storage::OutboxState::kQueued;
      } else if (value == "delivered") {
        q.state = storage::OutboxState::kDelivered;
      } else if (value == "failed") {
        q.state = storage::OutboxState::kFailed;
      } else {
        return InvalidArgumentError("state must be queued, delivered or failed, not '" +
                                    value.substr(0, 64) + "'");
      }
    } else if (key == "after") {
      ASSIGN_OR_RETURN(q.after_seq, ParseNonNegative("after", value));
    } else if (key == "limit") {
      ASSIGN_OR_RETURN(int64_t n, ParseNonNegative("limit", value));
      if (n < 1 || n > static_cast<int64_t>(kMaxReceiptsLimit)) {
        return InvalidArgumentError("limit must be between 1 and " +
                                    std::to_string(kMaxReceiptsLimit));
      }
      limit = static_cast<size_t>(n);
    }
  }
  q.limit = limit + 1;  // one more tells whether there is more
  ASSIGN_OR_RETURN(std::vector<storage::OutboxRow> rows, store_.ListOutbox(q));
  ASSIGN_OR_RETURN(std::vector<storage::Partner> partners, store_.ListPartners());
  std::map<std::string, std::string> names;
  for (const storage::Partner& p : partners) names.emplace(p.id, p.name);

  const bool more = rows.size() > limit;
  if (more) rows.resize(limit);
  JsonWriter w;
  w.BeginObject();
  w.Key("receipts");
  w.BeginArray();
  for (const storage::OutboxRow& row : rows) {
    w.BeginObject();
    w.Key("seq");
    w.Int(row.seq);
    w.Key("collection");
    w.String(row.collection_id);
    w.Key("object");
    w.String(row.object_id);
    w.Key("version");
    w.String(VersionText(row.version));
    w.Key("partner");
    w.String(row.partner);
    w.Key("partner_name");
    auto name = names.find(row.partner);
    w.String(name == names.end() ? "" : name->second);
    w.Key("state");
    w.String(storage::OutboxStateName(row.state));
    w.Key("attempts");
    w.Int(row.attempts);
    w.Key("queued");
    w.String(TimeText(row.created));
    w.Key("delivered_at");
    if (row.state == storage::OutboxState::kDelivered) {
      w.String(TimeText(row.delivered_at));
    } else {
      w.Null();
    }
    w.Key("error");
    w.String(row.error);
    w.EndObject();
  }
  w.EndArray();
  w.Key("more");
  w.Bool(more);
  w.EndObject();
  return JsonResponse(std::move(w).Take());
}

Result<taxii::Response> LiaisonApi::Feedback(const Query& query,
                                             const policy::Principal& principal) {
  if (!MayReadDeliveries(principal)) {
    return PermissionDeniedError("feedback is shown to admins and publishers only");
  }
  ASSIGN_OR_RETURN(auto params, Parameters(query, {"object"}));
  const std::string about = params.count("object") ? params["object"] : "";
  ASSIGN_OR_RETURN(std::vector<storage::FeedbackRecord> records, store_.ListFeedback(about));
  ASSIGN_OR_RETURN(std::vector<storage::Partner> partners, store_.ListPartners());
  std::map<std::string, std::string> names;
  for (const storage::Partner& p : partners) names.emplace(p.id, p.name);

  JsonWriter w;
  w.BeginObject();
  w.Key("feedback");
  w.BeginArray();
  const std::string unknown;
  for (const storage::FeedbackRecord& record : records) {
    auto name = names.find(record.from);
    WriteFeedback(w, record, name == names.end() ? &unknown : &name->second);
  }
  w.EndArray();
  w.EndObject();
  return JsonResponse(std::move(w).Take());
}

Result<taxii::Response> LiaisonApi::Identity() const {
  if (options_.identity_file_json.empty()) {
    return NotFoundError("this hub has no identity yet (liaison init creates it)");
  }
  return JsonResponse(options_.identity_file_json);
}

}  // namespace liaison::http

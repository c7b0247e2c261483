#include "federation/sharing.h"

#include <algorithm>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "common/json_writer.h"
#include "common/log.h"
#include "crypto/signature.h"
#include "policy/sharing.h"
#include "policy/tlp.h"
#include "stix/timestamp.h"
#include "storage/hub_settings.h"
#include "storage/store_util.h"
#include "taxii/indicator_pattern.h"

namespace liaison::federation {
namespace {

using policy::Tlp;

// The version text of an object version (what status resources and wrappers carry): three
// fractional digits when that loses nothing, else six (as the store formats versions).
std::string VersionText(int64_t micros) {
  return stix::FormatTimestamp(stix::Timestamp{micros}, micros % 1000 == 0 ? 3 : 6);
}

std::string VersionTextOf(const stix::ObjectInfo& info) {
  std::optional<stix::Timestamp> v = info.version();
  return v ? VersionText(v->micros) : std::string();
}

// The objects whose references make them feedback to the referenced object's originator.
bool IsFeedbackType(std::string_view type) {
  return type == "sighting" || type == "opinion" || type == "note";
}

std::string DefaultOutcome(std::string_view type) {
  if (type == "sighting") return "seen";
  if (type == "opinion") return "opinion";
  return "note";
}

bool NamedRecipientLevel(Tlp tlp) { return tlp == Tlp::kAmberStrict || tlp == Tlp::kRed; }

Tlp LabelLevel(const storage::ObjectLabel& label) {
  // Anything outside the enum counts as the most restrictive level (as policy/sharing.h does).
  if (label.tlp < 0 || label.tlp > static_cast<int32_t>(Tlp::kRed)) return Tlp::kRed;
  return static_cast<Tlp>(label.tlp);
}

bool IsSystemFailure(const Status& s) {
  switch (s.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kInternal:
    case StatusCode::kDataLoss:
    case StatusCode::kResourceExhausted:
    case StatusCode::kDeadlineExceeded:
      return true;
    default:
      return false;
  }
}

// One object that passed the sharing checks, before outbox and feedback are decided.
struct Admitted {
  storage::NewObject object;
  stix::ObjectInfo info;  // the plaintext object's facts (the inner object of a sealed wrapper)
  bool sign = false;      // queued to a partner: this hub's signature is computed at publish
};

// The cryptographic part of admitting a partner's object (signature check, opening a sealed
// wrapper): pure computation on the object alone, so a request's objects are checked in parallel.
struct Opened {
  crypto::VerifiedObject verified;
  bool sealed = false;
  std::optional<stix::ObjectInfo> inner;  // sealed: the object the wrapper holds
};

// Objects per request below which the per-object crypto runs on the calling thread.
constexpr size_t kParallelMinObjects = 16;

// Runs body(i) for every i in [0, n): on the calling thread for small n, else split in contiguous
// chunks over up to hardware_concurrency threads (the caller's included). `body` must not throw
// and must touch only its own index's state.
template <typename Body>
void ParallelFor(size_t n, Body&& body) {
  // Read once: glibc reads /sys/devices/system/cpu/online on every call (a file opened per
  // request otherwise).
  static const size_t kCores = std::max<size_t>(1, std::thread::hardware_concurrency());
  size_t threads = kCores;
  threads = std::min<size_t>({threads, 8, n / (kParallelMinObjects / 2) + 1});
  if (n < kParallelMinObjects || threads <= 1) {
    for (size_t i = 0; i < n; ++i) body(i);
    return;
  }
  const size_t chunk = (n + threads - 1) / threads;
  std::vector<std::thread> helpers;
  helpers.reserve(threads - 1);
  for (size_t t = 1; t < threads; ++t) {
    const size_t begin = t * chunk, end = std::min(n, begin + chunk);
    if (begin >= end) break;
    try {
      helpers.emplace_back([&body, begin, end] {
        for (size_t i = begin; i < end; ++i) body(i);
      });
    } catch (const std::system_error&) {
      // No thread to be had: this chunk runs here.
      for (size_t i = begin; i < end; ++i) body(i);
    }
  }
  for (size_t i = 0; i < std::min(n, chunk); ++i) body(i);
  for (std::thread& h : helpers) h.join();
}

// What PrepareAdd reads once per request: partners, this collection's push channels, the default
// level. Read afresh for every request: the CLI changes partners and channels in the database
// while the hub runs.
struct Context {
  std::map<std::string, storage::Partner> partners;  // by id
  std::vector<storage::Channel> push_channels;       // on the collection, to enabled partners
  std::optional<Tlp> default_tlp;                    // loaded on first use
};

std::string Detail(std::initializer_list<std::pair<std::string_view, std::string_view>> fields,
                   std::optional<int32_t> tlp = std::nullopt) {
  JsonWriter w;
  w.BeginObject();
  for (const auto& [k, v] : fields) {
    w.Key(k);
    w.String(v);
  }
  if (tlp) {
    w.Key("tlp");
    w.String(policy::TlpName(static_cast<Tlp>(*tlp)));
  }
  w.EndObject();
  return std::move(w).Take();
}

// ---------------------------------------------------------------------------------------------
// Reads

class SharingReadFilter final : public taxii::ReadFilter {
 public:
  SharingReadFilter(storage::Store& store, const HubIdentity& self, Clock& clock,
                    policy::Audience audience, std::string reader, std::string collection_id,
                    bool see_nothing)
      : store_(store),
        self_(self),
        clock_(clock),
        audience_(std::move(audience)),
        reader_(std::move(reader)),
        collection_id_(std::move(collection_id)),
        see_nothing_(see_nothing) {}

  bool Visible(const storage::StoredObject& object) override {
    if (see_nothing_) return false;
    return policy::Disclose(object.label, audience_, self_.id).allowed;
  }

  Result<std::string> Present(const storage::StoredObject& object) override {
    if (audience_.kind == policy::Audience::Kind::kPartner) return WireForm(object, self_);
    const bool red = LabelLevel(object.label) == Tlp::kRed;
    std::string plaintext;
    if (object.label.sealed) {
      Result<std::string> opened = crypto::OpenSealedObject(object.json, self_.id, self_.keys);
      if (!opened.ok()) {
        return DataLossError("sealed object " + object.id +
                             " cannot be opened with this hub's key: " + opened.status().message());
      }
      // The box holds the origin-signed object; this hub's people get the object itself.
      Result<crypto::VerifiedObject> verified = crypto::VerifyObject(*opened);
      if (!verified.ok()) {
        return DataLossError(
            "sealed object " + object.id +
            " holds an object whose signature does not verify: " + verified.status().message());
      }
      plaintext = std::move(verified->json);
    } else {
      plaintext = object.json;
    }
    if (red || object.label.sealed) {
      // Every read of TLP:RED content is audited; a read that cannot be audited is refused.
      storage::AuditRecord record;
      record.kind = "read-red";
      record.actor = reader_.empty() ? "-" : reader_;
      record.subject = object.id;
      record.detail =
          Detail({{"collection", collection_id_}, {"version", VersionText(object.version)}});
      Result<std::vector<storage::AuditRecord>> appended =
          store_.AppendAudit({record}, clock_.NowMicros());
      if (!appended.ok()) return appended.status();
    }
    return plaintext;
  }

 private:
  storage::Store& store_;
  const HubIdentity& self_;
  Clock& clock_;
  const policy::Audience audience_;
  const std::string reader_;
  const std::string collection_id_;
  const bool see_nothing_;
};

}  // namespace

Result<std::string> WireForm(const storage::StoredObject& object, const HubIdentity& self) {
  if (object.json.empty()) {
    return InvalidArgumentError("object " + object.id + " was read without its bytes");
  }
  if (object.label.sealed) return object.json;  // the wrapper travels as stored
  // The origin's block kept with the object: a received object's, or this hub's own computed at
  // publish time for objects queued to partners (so a push costs no signing).
  if (!object.label.signature.empty()) {
    return crypto::AttachSignature(object.json, object.label.signature);
  }
  if (object.label.origin.empty() || object.label.origin == self.id) {
    return crypto::SignObject(object.json, self.id, self.keys);
  }
  return FailedPreconditionError("object " + object.id + " from " + object.label.origin +
                                 " has no origin signature kept; it cannot be sent on");
}

Sharing::Sharing(storage::Store& store, const HubIdentity& self, Clock& clock,
                 Notifier& outbox_changed, Notifier& events_changed)
    : store_(store),
      self_(self),
      clock_(clock),
      outbox_changed_(outbox_changed),
      events_changed_(events_changed) {}

namespace {

// The steps of one PrepareAdd: a class so the per-request state is in one place.
class Preparer {
 public:
  Preparer(storage::Store& store, const HubIdentity& self, const policy::Principal& principal,
           const storage::Collection& collection)
      : store_(store), self_(self), principal_(principal), collection_(collection) {}

  Result<taxii::PreparedAdd> Run(std::vector<stix::ObjectInfo> objects) {
    RETURN_IF_ERROR(LoadContext());
    const bool inbound = principal_.is_partner();
    if (inbound) {
      auto it = ctx_.partners.find(principal_.partner);
      if (principal_.partner.empty() || it == ctx_.partners.end()) {
        return PermissionDeniedError("account '" + principal_.user +
                                     "' is not linked to a known partner");
      }
      if (it->second.disabled) {
        return PermissionDeniedError("partner " + it->second.id + " is disabled");
      }
      sender_ = &it->second;
    }

    // A partner's objects: signatures checked (and sealed wrappers opened) on several threads,
    // the dominant cost of a large push; everything that reads the store or the context stays on
    // this thread, in order.
    std::vector<Result<Opened>> opened;
    if (inbound) {
      opened.assign(objects.size(), Result<Opened>(InternalError("object not checked")));
      ParallelFor(objects.size(), [&](size_t i) { opened[i] = OpenGuarded(objects[i]); });
    }

    std::vector<Admitted> admitted;
    admitted.reserve(objects.size());
    for (size_t i = 0; i < objects.size(); ++i) {
      stix::ObjectInfo& info = objects[i];
      const std::string id = info.id;
      const std::string version = VersionTextOf(info);
      Result<Admitted> a =
          inbound ? FromPartner(std::move(info), std::move(opened[i])) : FromLocal(std::move(info));
      if (!a.ok()) {
        // The store or the machine failing is not the object's fault: the request fails.
        if (IsSystemFailure(a.status())) return a.status();
        Refuse(id, version, a.status().message());
        continue;
      }
      admitted.push_back(std::move(a).value());
    }
    RETURN_IF_ERROR(LookupReferences(admitted));

    for (Admitted& a : admitted) Route(a);
    // This hub's signature of its own objects queued to partners, computed once here rather than
    // on every push to every partner; on several threads for a large publish.
    ParallelFor(admitted.size(), [&](size_t i) { Sign(admitted[i]); });

    // The object's audit records go with it: the store writes them only when the version is
    // new, so a replay of a version already held records nothing.
    for (Admitted& a : admitted) {
      storage::AuditRecord record;
      record.kind = inbound ? "receive" : "publish";
      record.actor = Actor();
      record.subject = a.object.id;
      record.detail = Detail({{"collection", collection_.id},
                              {"version", a.object.version ? VersionText(*a.object.version) : ""},
                              {"origin", a.object.label.origin}},
                             a.object.label.tlp);
      // First, before the feedback records Route added.
      a.object.audit.insert(a.object.audit.begin(), std::move(record));
      out_.objects.push_back(std::move(a.object));
    }
    return std::move(out_);
  }

 private:
  std::string Actor() const {
    if (sender_ != nullptr) return "partner:" + sender_->id;
    return principal_.user.empty() ? "-" : principal_.user;
  }

  Status LoadContext() {
    ASSIGN_OR_RETURN(std::vector<storage::Partner> partners, store_.ListPartners());
    for (storage::Partner& p : partners) ctx_.partners.emplace(p.id, std::move(p));
    ASSIGN_OR_RETURN(std::vector<storage::Channel> channels, store_.ListChannels(""));
    for (storage::Channel& c : channels) {
      if (c.mode != storage::ChannelMode::kPush || c.collection_id != collection_.id) continue;
      auto it = ctx_.partners.find(c.partner);
      if (it == ctx_.partners.end() || it->second.disabled) continue;
      ctx_.push_channels.push_back(std::move(c));
    }
    return Status::Ok();
  }

  // The level of an object: the most restrictive TLP marking, else the hub's default.
  Result<Tlp> LevelOf(const stix::ObjectInfo& info) {
    if (std::optional<Tlp> marked = policy::TlpOfMarkings(info.object_marking_refs)) return *marked;
    if (!ctx_.default_tlp) {
      ASSIGN_OR_RETURN(std::optional<std::string> setting,
                       store_.GetSetting(storage::kDefaultTlpSetting));
      if (!setting || setting->empty()) {
        ctx_.default_tlp = Tlp::kAmber;
      } else {
        Result<Tlp> parsed = policy::ParseTlp(*setting);
        if (!parsed.ok()) {
          return FailedPreconditionError(std::string("the hub setting ") +
                                         storage::kDefaultTlpSetting + " holds '" + *setting +
                                         "', which is not a TLP level; unmarked objects cannot "
                                         "be labelled until an operator fixes it");
        }
        ctx_.default_tlp = *parsed;
      }
    }
    return *ctx_.default_tlp;
  }

  const storage::Partner* PartnerOf(const std::string& id) const {
    auto it = ctx_.partners.find(id);
    return it == ctx_.partners.end() ? nullptr : &it->second;
  }

  static storage::NewObject NewObjectOf(const stix::ObjectInfo& info) {
    storage::NewObject o;
    o.id = info.id;
    o.type = info.type;
    // STIX 2.1 section 3.2: objects are 2.1 unless they say otherwise.
    o.spec_version = info.spec_version.empty() ? "2.1" : info.spec_version;
    if (std::optional<stix::Timestamp> v = info.version()) o.version = v->micros;
    return o;
  }

  // Publish by this hub's own people.
  Result<Admitted> FromLocal(stix::ObjectInfo info) {
    if (info.type == crypto::kSealedType) {
      return InvalidArgumentError(std::string(crypto::kSealedType) +
                                  " objects are made by the hub; publish the object itself with "
                                  "a TLP:RED marking");
    }
    if (info.has_signature) {
      return InvalidArgumentError(std::string(crypto::kSignatureProperty) +
                                  " is added by the hub that originates an object; publish the "
                                  "object without it");
    }
    Admitted a;
    a.object = NewObjectOf(info);
    ASSIGN_OR_RETURN(Tlp tlp, LevelOf(info));
    storage::ObjectLabel& label = a.object.label;
    label.tlp = static_cast<int32_t>(tlp);
    label.origin = self_.id;
    label.recipients = info.recipients;
    if (NamedRecipientLevel(tlp)) {
      for (const std::string& r : info.recipients) {
        if (r == self_.id) continue;
        if (PartnerOf(r) == nullptr) {
          return InvalidArgumentError("x_liaison_recipients names " + r +
                                      " which is not a partner");
        }
      }
    }
    if (tlp == Tlp::kRed) {
      // Sealed per version: the wrapper's id and the box check both need the object's version.
      if (!info.version()) {
        return InvalidArgumentError(
            "TLP:RED objects are sealed per version and need a created or modified timestamp");
      }
      ASSIGN_OR_RETURN(std::string signed_json,
                       crypto::SignObject(info.json, self_.id, self_.keys));
      std::map<std::string, std::string> box_keys;
      box_keys[self_.id] = self_.keys.box_public_b64();
      for (const std::string& r : info.recipients) {
        if (const storage::Partner* p = PartnerOf(r)) box_keys[r] = p->box_key;
      }
      Result<std::string> wrapper =
          crypto::SealObject(signed_json, info.id, info.type, VersionTextOf(info),
                             info.object_marking_refs, info.recipients, box_keys);
      if (!wrapper.ok()) {
        return FailedPreconditionError("TLP:RED object could not be sealed: " +
                                       wrapper.status().message());
      }
      a.object.json = std::move(wrapper).value();
      label.sealed = true;
    } else {
      a.object.json = info.json;
    }
    a.info = std::move(info);
    a.info.json.clear();  // not needed any more
    return a;
  }

  // Open() that reports an exception as the object's failure (it runs on helper threads).
  Result<Opened> OpenGuarded(const stix::ObjectInfo& info) const {
    try {
      return Open(info);
    } catch (const std::bad_alloc&) {
      return ResourceExhaustedError("out of memory while checking an object's signature");
    } catch (const std::exception& e) {
      return InternalError(std::string("unexpected failure checking an object's signature: ") +
                           e.what());
    }
  }

  // The checks of a partner's object that need nothing but the object and this hub's keys: the
  // origin's signature, and for a sealed wrapper, opening it and matching it to what it holds.
  // Thread-safe (reads self_ only).
  Result<Opened> Open(const stix::ObjectInfo& info) const {
    Opened out;
    if (info.type == crypto::kSealedType) {
      out.sealed = true;
      ASSIGN_OR_RETURN(crypto::SealedWrapper wrapper, crypto::ParseSealedWrapper(info.json));
      if (wrapper.boxes.find(self_.id) == wrapper.boxes.end()) {
        return PermissionDeniedError("sealed object " + wrapper.sealed_ref +
                                     " is not sealed to this hub (" + self_.id + ")");
      }
      ASSIGN_OR_RETURN(std::string plaintext,
                       crypto::OpenSealedObject(info.json, self_.id, self_.keys));
      Result<stix::ObjectInfo> inner = stix::ParseObject(plaintext);
      if (!inner.ok()) {
        return InvalidArgumentError("sealed object " + wrapper.sealed_ref +
                                    " is not a valid STIX object: " + inner.status().message());
      }
      if (inner->id != wrapper.sealed_ref || inner->type != wrapper.sealed_type ||
          VersionTextOf(*inner).empty()) {
        return PermissionDeniedError("sealed wrapper " + wrapper.id +
                                     " does not match the object it holds");
      }
      // The wrapper's own markings and recipients are outside the signature: they must say what
      // the signed object says.
      if (wrapper.marking_refs != inner->object_marking_refs ||
          wrapper.recipients != inner->recipients) {
        return PermissionDeniedError("sealed wrapper " + wrapper.id +
                                     " carries markings or recipients that differ from the "
                                     "signed object's");
      }
      if (Status pattern = taxii::CheckIndicatorPattern(*inner); !pattern.ok()) return pattern;
      ASSIGN_OR_RETURN(out.verified, crypto::VerifyObject(plaintext));
      out.inner = std::move(inner).value();
    } else {
      if (!info.has_signature) {
        return PermissionDeniedError(
            std::string("object is not signed (") + crypto::kSignatureProperty +
            " missing): partners must send objects signed by their origin");
      }
      ASSIGN_OR_RETURN(out.verified, crypto::VerifyObject(info.json));
    }
    return out;
  }

  // An object pushed (or pulled) from partner sender_: signed, sealed when RED, accepted by policy.
  // `opened` is Open(info).
  Result<Admitted> FromPartner(stix::ObjectInfo info, Result<Opened> opened) {
    Admitted a;
    if (!opened.ok()) return opened.status();
    Opened checked = *std::move(opened);
    const crypto::VerifiedObject& verified = checked.verified;
    const bool sealed = checked.sealed;
    std::string stored_json;
    if (sealed) {
      stored_json = std::move(info.json);
      info = std::move(*checked.inner);
    } else {
      stored_json = std::move(checked.verified.json);
    }

    const std::string& origin = verified.signature.hub;
    if (origin == self_.id) {
      return PermissionDeniedError("object originated at this hub (" + origin +
                                   "); it is not taken back");
    }
    if (const storage::Partner* known = PartnerOf(origin)) {
      if (verified.signature.key != known->sign_key) {
        return PermissionDeniedError("signature by " + origin + " does not match its trusted key");
      }
    }
    a.object = NewObjectOf(info);
    ASSIGN_OR_RETURN(Tlp tlp, LevelOf(info));
    storage::ObjectLabel& label = a.object.label;
    label.tlp = static_cast<int32_t>(tlp);
    label.origin = origin;
    label.received_from = sender_->id;
    label.recipients = info.recipients;
    label.sealed = sealed;
    label.signature = crypto::SignatureBlockJson(verified.signature);
    if (tlp == Tlp::kRed && !sealed) {
      return PermissionDeniedError("TLP:RED objects must arrive sealed");
    }
    policy::Decision accept = policy::Accept(label, sender_->id, self_.id);
    if (!accept.allowed) return PermissionDeniedError(accept.reason);
    a.object.json = std::move(stored_json);
    a.info = std::move(info);
    a.info.json.clear();
    return a;
  }

  // The labels of every object some feedback object refers to.
  Status LookupReferences(const std::vector<Admitted>& admitted) {
    std::set<std::string> wanted;
    for (const Admitted& a : admitted) {
      if (!IsFeedbackType(a.info.type)) continue;
      for (const std::string& ref : a.info.refs) wanted.insert(ref);
    }
    std::vector<std::string> batch;
    auto flush = [&]() -> Status {
      if (batch.empty()) return Status::Ok();
      ASSIGN_OR_RETURN(std::vector<storage::StoredObject> found, store_.LookupObjects(batch));
      for (storage::StoredObject& o : found) referenced_.emplace(o.id, std::move(o.label));
      batch.clear();
      return Status::Ok();
    };
    for (const std::string& id : wanted) {
      batch.push_back(id);
      if (batch.size() == storage::kMaxQueryValues) RETURN_IF_ERROR(flush());
    }
    return flush();
  }

  // Outbox rows (push channels, and the reverse channel of feedback) and feedback records.
  void Route(Admitted& a) {
    storage::NewObject& o = a.object;
    std::set<std::string> queued;
    for (const storage::Channel& c : ctx_.push_channels) {
      if (queued.count(c.partner)) continue;
      policy::Audience to;
      to.kind = policy::Audience::Kind::kPartner;
      to.organization = c.partner;
      to.channel_max = static_cast<Tlp>(std::clamp<int32_t>(c.max_tlp, 0, 4));
      if (policy::Disclose(o.label, to, self_.id).allowed) queued.insert(c.partner);
    }
    if (IsFeedbackType(a.info.type)) {
      std::set<std::string> abouts;
      for (const std::string& ref : a.info.refs) {
        if (!abouts.insert(ref).second) continue;
        auto it = referenced_.find(ref);
        if (it == referenced_.end()) continue;
        const storage::ObjectLabel& about = it->second;
        if (about.origin.empty() || about.origin == self_.id) {
          // Feedback about an object this hub originated: recorded for its publisher.
          storage::FeedbackRecord record;
          record.about_id = ref;
          record.from = o.label.origin;
          record.outcome = a.info.feedback_outcome.empty() ? DefaultOutcome(a.info.type)
                                                           : a.info.feedback_outcome;
          // The note of sealed feedback stays sealed: the record holds no plaintext of it.
          if (!o.label.sealed) record.note = a.info.feedback_note;
          record.count = a.info.sighting_count;
          o.feedback.push_back(std::move(record));
          storage::AuditRecord audit;
          audit.kind = "feedback";
          audit.actor = Actor();
          audit.subject = ref;
          audit.detail = Detail({{"feedback", o.id},
                                 {"from", o.label.origin},
                                 {"outcome", o.feedback.back().outcome}});
          o.audit.push_back(std::move(audit));
          continue;
        }
        // Feedback about another hub's object goes back to that origin when it is a partner
        // (the reverse channel, whatever the push channels say) and the policy lets it go there.
        const storage::Partner* origin = PartnerOf(about.origin);
        if (origin == nullptr || origin->disabled || queued.count(origin->id)) continue;
        policy::Audience to;
        to.kind = policy::Audience::Kind::kPartner;
        to.organization = origin->id;
        to.channel_max = Tlp::kRed;
        if (policy::Disclose(o.label, to, self_.id).allowed) queued.insert(origin->id);
      }
    }
    o.outbox_partners.assign(queued.begin(), queued.end());
    a.sign = !queued.empty() && sender_ == nullptr && !o.label.sealed && o.label.signature.empty();
  }

  // Signs an object Route marked. Should the object not be signable (it is valid STIX, so it is
  // I-JSON in practice), or signing fail, the label keeps no signature and WireForm signs (or
  // reports why not) at push. Thread-safe for distinct objects (reads self_ only).
  void Sign(Admitted& a) const {
    if (!a.sign) return;
    try {
      Result<crypto::SignatureBlock> block =
          crypto::ComputeSignature(a.object.json, self_.id, self_.keys);
      if (block.ok()) a.object.label.signature = crypto::SignatureBlockJson(*block);
    } catch (const std::exception&) {
      // As above: WireForm signs at push.
    }
  }

  void Refuse(const std::string& id, const std::string& version, const std::string& message) {
    storage::StatusDetail failure;
    failure.id = id;
    failure.version = version;
    failure.message = message;
    out_.failures.push_back(std::move(failure));
    storage::AuditRecord record;
    record.kind = "reject";
    record.actor = Actor();
    record.subject = id;
    record.detail =
        Detail({{"collection", collection_.id}, {"version", version}, {"reason", message}});
    out_.audit.push_back(std::move(record));
  }

  storage::Store& store_;
  const HubIdentity& self_;
  const policy::Principal& principal_;
  const storage::Collection& collection_;
  Context ctx_;
  const storage::Partner* sender_ = nullptr;  // inbound: the partner sending (in ctx_.partners)
  std::map<std::string, storage::ObjectLabel> referenced_;  // by id
  taxii::PreparedAdd out_;
};

}  // namespace

Result<taxii::PreparedAdd> Sharing::PrepareAdd(const policy::Principal& principal,
                                               const storage::Collection& collection,
                                               std::vector<stix::ObjectInfo> objects) {
  try {
    return Preparer(store_, self_, principal, collection).Run(std::move(objects));
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError("out of memory while applying the sharing policy");
  } catch (const std::exception& e) {
    return InternalError(std::string("unexpected failure applying the sharing policy: ") +
                         e.what());
  }
}

void Sharing::Committed(const storage::Collection& /*collection*/,
                        const storage::AddObjectsResult& result) {
  if (result.added == 0) return;  // duplicates only: nothing was written but audit entries
  // Every new version writes an "object" event; outbox rows come only with new versions, so
  // waking the pushers after every commit that added something is a superset of "rows were
  // queued" (a pusher with nothing due goes back to sleep after one store read).
  events_changed_.Notify();
  outbox_changed_.Notify();
}

std::unique_ptr<taxii::ReadFilter> Sharing::ForReader(const policy::Principal& principal,
                                                      const storage::Collection& collection) {
  policy::Audience audience;
  bool see_nothing = false;
  if (!principal.authenticated) {
    audience.kind = policy::Audience::Kind::kPublic;
  } else if (principal.is_partner()) {
    audience.kind = policy::Audience::Kind::kPartner;
    audience.organization = principal.partner;
    // What a partner may read from a collection is what its push channels on it carry (a
    // partner pulls what we would push): the highest max_tlp among them; no channel: CLEAR only.
    audience.channel_max = Tlp::kClear;
    Result<storage::Partner> partner = store_.GetPartner(principal.partner);
    Result<std::vector<storage::Channel>> channels = store_.ListChannels(principal.partner);
    if (principal.partner.empty() || !partner.ok() || partner->disabled || !channels.ok()) {
      // Unknown, disabled, or the store cannot say: fail closed.
      if (!partner.ok() && partner.status().code() != StatusCode::kNotFound) {
        LOG_ERROR("sharing: cannot look up partner {}: {}", principal.partner,
                  partner.status().ToString());
      } else if (!channels.ok()) {
        LOG_ERROR("sharing: cannot list channels of partner {}: {}", principal.partner,
                  channels.status().ToString());
      }
      see_nothing = true;
    } else {
      for (const storage::Channel& c : *channels) {
        if (c.mode != storage::ChannelMode::kPush || c.collection_id != collection.id) continue;
        Tlp max = static_cast<Tlp>(std::clamp<int32_t>(c.max_tlp, 0, 4));
        if (max > audience.channel_max) audience.channel_max = max;
      }
    }
  } else {
    audience.kind = policy::Audience::Kind::kLocal;
  }
  return std::make_unique<SharingReadFilter>(store_, self_, clock_, std::move(audience),
                                             principal.user, collection.id, see_nothing);
}

}  // namespace liaison::federation

#include "pattern/index.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <unordered_map>

#include "pattern/cidr_set.h"
#include "pattern/hyperscan_database.h"
#include "pattern/ip_address.h"
#include "pattern/parser.h"
#include "pattern/typed_key.h"
#include "pattern/typed_key_table.h"

namespace liaison::pattern {
namespace {

constexpr uint32_t kNil = 0xffffffffu;

uint64_t NextIndexUid() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}
constexpr size_t kMaxProbes = 0xffff;
// Numbers at or beyond 2^53 in magnitude are not indexed: there, int/float mixing in the evaluator
// (which compares as doubles) could make distinct integers equal.
constexpr double kExactNumberLimit = 9007199254740992.0;

// ---- Anchors ---------------------------------------------------------------------------------

enum class AnchorKind { kKey, kCidrSubset, kCidrSuperset, kRegex, kType };

struct Anchor {
  AnchorKind kind = AnchorKind::kType;
  const ObjectPath* path = nullptr;  // points into the pattern being added
  std::string key;                   // kKey: encoded typed value (without the probe prefix)
  CidrBlock block;                   // kCidr*
  std::string regex;                 // kRegex
};

using AnchorSet = std::vector<Anchor>;

int AnchorCost(const AnchorSet& set) {
  int cost = 0;
  for (const Anchor& a : set) {
    switch (a.kind) {
      case AnchorKind::kKey:
        cost += 1;
        break;
      case AnchorKind::kCidrSubset:
      case AnchorKind::kCidrSuperset:
        cost += 2;
        break;
      case AnchorKind::kRegex:
        cost += 4;
        break;
      case AnchorKind::kType:
        cost += 1000;
        break;
    }
  }
  return cost;
}

bool KeyForConstant(const Constant& c, std::string* out) {
  switch (c.kind) {
    case Constant::Kind::kString:
      AppendStringKey(c.string_value, out);
      return true;
    case Constant::Kind::kInt:
      if (std::fabs(static_cast<double>(c.int_value)) >= kExactNumberLimit) return false;
      AppendIntegerKey(c.int_value, out);
      return true;
    case Constant::Kind::kFloat:
      if (!std::isfinite(c.float_value) || std::fabs(c.float_value) >= kExactNumberLimit) {
        return false;
      }
      return AppendFloatKey(c.float_value, out);
    case Constant::Kind::kBool:
      AppendBoolKey(c.bool_value, out);
      return true;
    default:
      // Timestamps compare as instants and h''/b'' as decoded bytes (evaluator.h): no string key.
      return false;
  }
}

bool KeyForValue(const Value& v, std::string* out) {
  switch (v.type()) {
    case Value::Type::kString:
      AppendStringKey(v.as_string(), out);
      return true;
    case Value::Type::kInt:
      AppendIntegerKey(v.as_int(), out);
      return true;
    case Value::Type::kDouble:
      return AppendFloatKey(v.as_double(), out);
    case Value::Type::kBool:
      AppendBoolKey(v.as_bool(), out);
      return true;
    default:
      return false;
  }
}

// Properties ending in _bin/_hex may be matched as decoded bytes by LIKE/MATCHES (regex.h
// SearchBytes), so their text is no prefilter subject.
bool IsBinaryPath(const ObjectPath& path) {
  for (auto it = path.steps.rbegin(); it != path.steps.rend(); ++it) {
    if (it->kind != PathStep::Kind::kKey) continue;
    const std::string& k = it->key;
    return k.size() >= 4 &&
           (k.compare(k.size() - 4, 4, "_bin") == 0 || k.compare(k.size() - 4, 4, "_hex") == 0);
  }
  return false;
}

AnchorSet TypeAnchor(const Comparison& c) {
  Anchor a;
  a.kind = AnchorKind::kType;
  a.path = &c.path;
  return {std::move(a)};
}

AnchorSet AnchorComparison(const Comparison& c) {
  if (c.negated) return TypeAnchor(c);
  switch (c.op) {
    case ComparisonOp::kEqual: {
      Anchor a;
      a.kind = AnchorKind::kKey;
      a.path = &c.path;
      if (!KeyForConstant(c.value, &a.key)) return TypeAnchor(c);
      return {std::move(a)};
    }
    case ComparisonOp::kIn: {
      AnchorSet set;
      for (const Constant& member : c.set) {
        Anchor a;
        a.kind = AnchorKind::kKey;
        a.path = &c.path;
        if (!KeyForConstant(member, &a.key)) return TypeAnchor(c);
        set.push_back(std::move(a));
      }
      return set;  // `IN ()` never holds: no anchor at all
    }
    case ComparisonOp::kLike:
    case ComparisonOp::kMatches: {
      if (c.value.kind != Constant::Kind::kString || IsBinaryPath(c.path)) return TypeAnchor(c);
      Anchor a;
      a.kind = AnchorKind::kRegex;
      a.path = &c.path;
      if (c.op == ComparisonOp::kLike) {
        bool ok = false;
        a.regex = LikeToRegex(c.value.string_value, &ok);
        if (!ok) return TypeAnchor(c);
      } else {
        a.regex = c.value.string_value;
      }
      return {std::move(a)};
    }
    case ComparisonOp::kIsSubset:
    case ComparisonOp::kIsSuperset: {
      if (c.value.kind != Constant::Kind::kString) return TypeAnchor(c);
      std::optional<IpPrefix> prefix = ParseIpPrefix(c.value.string_value);
      if (!prefix) return TypeAnchor(c);
      Anchor a;
      a.kind =
          c.op == ComparisonOp::kIsSubset ? AnchorKind::kCidrSubset : AnchorKind::kCidrSuperset;
      a.path = &c.path;
      a.block = ToCidrBlock(*prefix);
      return {std::move(a)};
    }
    default:
      return TypeAnchor(c);
  }
}

// A set of anchors at least one of which fires whenever `e` holds for an observation.
AnchorSet AnchorExpression(const ComparisonExpression& e) {
  switch (e.kind) {
    case ComparisonExpression::Kind::kComparison:
      return AnchorComparison(e.comparison);
    case ComparisonExpression::Kind::kAnd: {
      // Every operand must hold, so any one operand's anchors will do: take the cheapest.
      AnchorSet best;
      int best_cost = -1;
      for (const ComparisonExpression& child : e.children) {
        AnchorSet set = AnchorExpression(child);
        int cost = AnchorCost(set);
        if (best_cost < 0 || cost < best_cost) {
          best = std::move(set);
          best_cost = cost;
        }
      }
      return best;
    }
    case ComparisonExpression::Kind::kOr: {
      AnchorSet all;
      for (const ComparisonExpression& child : e.children) {
        AnchorSet set = AnchorExpression(child);
        for (Anchor& a : set) all.push_back(std::move(a));
      }
      return all;
    }
  }
  return {};
}

void CollectLeaves(const ObservationExpression& e, std::vector<const ComparisonExpression*>* out) {
  if (e.kind == ObservationExpression::Kind::kObservation) {
    out->push_back(&e.comparison);
    return;
  }
  for (const ObservationExpression& child : e.children) CollectLeaves(child, out);
}

// Every binding holds a single observation: `[...]` and OR of those, qualified by anything but
// REPEATS.
bool IsStateless(const ObservationExpression& e) {
  for (const Qualifier& q : e.qualifiers) {
    if (q.kind == Qualifier::Kind::kRepeats) return false;
  }
  if (e.kind == ObservationExpression::Kind::kObservation) return true;
  if (e.kind != ObservationExpression::Kind::kOr) return false;
  return std::all_of(e.children.begin(), e.children.end(), IsStateless);
}

bool HasQualifiers(const ObservationExpression& e) {
  if (!e.qualifiers.empty()) return true;
  return std::any_of(e.children.begin(), e.children.end(), HasQualifiers);
}

// True when a key hit on any comparison of `e` proves `e`: an OR tree of positive `=`/`IN`
// comparisons with indexable constants, all on one object type.
bool IsExactLeaf(const ComparisonExpression& e, const std::string** type) {
  switch (e.kind) {
    case ComparisonExpression::Kind::kComparison: {
      const Comparison& c = e.comparison;
      if (c.negated) return false;
      if (c.op != ComparisonOp::kEqual && c.op != ComparisonOp::kIn) return false;
      if (*type != nullptr && **type != c.path.object_type) return false;
      *type = &c.path.object_type;
      std::string scratch;
      if (c.op == ComparisonOp::kEqual) return KeyForConstant(c.value, &scratch);
      for (const Constant& m : c.set) {
        if (!KeyForConstant(m, &scratch)) return false;
      }
      return true;
    }
    case ComparisonExpression::Kind::kOr:
      for (const ComparisonExpression& child : e.children) {
        if (!IsExactLeaf(child, type)) return false;
      }
      return true;
    case ComparisonExpression::Kind::kAnd:
      return false;
  }
  return false;
}

// The WITHIN bound that every binding of the root satisfies, or -1.
int64_t RootHorizon(const ObservationExpression& root) {
  int64_t horizon = -1;
  for (const Qualifier& q : root.qualifiers) {
    if (q.kind == Qualifier::Kind::kWithin) {
      horizon = horizon < 0 ? q.within_us : std::min(horizon, q.within_us);
    } else if (q.kind == Qualifier::Kind::kRepeats) {
      horizon =
          -1;  // REPEATS unites several bindings: an earlier WITHIN bounds each, not the union
    }
  }
  return horizon;
}

// "indicator--<lower-case RFC 4122 UUID>" -> 16 bytes.
bool ParseIndicatorUuid(std::string_view id, std::array<uint8_t, 16>* out) {
  constexpr std::string_view kPrefix = "indicator--";
  if (id.size() != kPrefix.size() + 36 || id.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view u = id.substr(kPrefix.size());
  size_t byte = 0;
  for (size_t i = 0; i < u.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (u[i] != '-') return false;
      ++i;
      continue;
    }
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = hex(u[i]), lo = hex(u[i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[byte++] = static_cast<uint8_t>(hi * 16 + lo);
    i += 2;
  }
  return byte == 16;
}

std::string FormatIndicatorUuid(const std::array<uint8_t, 16>& b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "indicator--";
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0xf];
  }
  return out;
}

std::string IdKey(std::string_view id) {
  std::array<uint8_t, 16> uuid;
  std::string key;
  if (ParseIndicatorUuid(id, &uuid)) {
    key.push_back('\x01');
    key.append(reinterpret_cast<const char*>(uuid.data()), uuid.size());
  } else {
    key.push_back('\x00');
    key.append(id);
  }
  return key;
}

ObservationRef RefOf(const Observation& o, uint64_t sequence) {
  return ObservationRef{o.id, o.first_observed_us, o.last_observed_us, o.number_observed, sequence};
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace

// ---- State -----------------------------------------------------------------------------------

struct Index::State {
  struct PostingNode {
    uint32_t slot;
    uint32_t next;
  };

  struct RegexEntry {
    uint32_t slot = kNil;  // kNil once its indicator is swept
    std::string regex;
    bool always = false;  // refused by Hyperscan
  };

  struct RegexGroup {
    std::vector<RegexEntry> entries;
    size_t compiled_count = 0;     // entries [0, compiled_count) went into `db` (hs id = index)
    std::vector<uint32_t> always;  // indices of entries with always = true
    std::unique_ptr<HyperscanDatabase> db;
  };

  // One (object type, path) that some anchor reads.
  struct Probe {
    ObjectPath path;
    // When every step of `path` is a key (the common case), the steps in the form the fast walk
    // in CollectCandidates uses: the key, and whether the value found is a _ref to dereference
    // before the next step (as the evaluator's ResolvePath does, STIX 2.1 section 9.3).
    bool keys_only = false;
    std::vector<std::pair<std::string, bool>> key_steps;
    uint32_t key_anchors = 0;  // key anchors registered (including dead ones until a sweep)
    CidrSet subset;
    CidrSet superset;
    std::unique_ptr<RegexGroup> regex;
  };

  struct TypeEntry {
    std::vector<uint32_t> probes;      // into probes
    std::vector<uint32_t> type_slots;  // indicators anchored by the presence of this type
  };

  // What a pattern needs besides its anchors: the AST for confirmation and, when it spans several
  // observations, its window.
  struct Compiled {
    Pattern pattern;
    std::vector<const ComparisonExpression*> leaves;
    bool stateful = false;
    int64_t horizon_us = -1;
    // Window state, guarded by State::window_mu.
    std::vector<Observation> window;
    std::vector<uint64_t> window_sequence;
    int64_t max_first_seen = std::numeric_limits<int64_t>::min();
  };

  enum class SlotState : uint8_t { kFree, kLive, kDead };

  struct Slot {
    std::array<uint8_t, 16> uuid{};
    int64_t valid_from = kNoStart;
    int64_t valid_until = kNoEnd;
    uint32_t compiled = kNil;  // into compiled; kNil for exact patterns
    SlotState state = SlotState::kFree;
    bool exact = false;
    bool stateful = false;
    bool uuid_id = false;
  };

  explicit State(IndexOptions o) : options(std::move(o)) {
    if (options.max_window_observations == 0) options.max_window_observations = 1;
  }

  // ---- Helpers (callers hold mu as noted) ----

  std::string SlotId(uint32_t s) const {  // shared
    const Slot& slot = slots[s];
    if (slot.uuid_id) return FormatIndicatorUuid(slot.uuid);
    auto it = other_ids.find(s);
    return it == other_ids.end() ? std::string() : it->second;
  }

  // exclusive
  Result<uint32_t> ProbeFor(const ObjectPath& path) {
    std::string name = Print(path);
    bool inserted = false;
    ASSIGN_OR_RETURN(uint32_t * id, path_ids.FindOrInsert(name, kNil, &inserted));
    if (!inserted) return *id;
    if (probes.size() >= kMaxProbes) {
      path_ids.Erase(name);
      return ResourceExhaustedError("the index holds too many distinct object paths (65535)");
    }
    *id = static_cast<uint32_t>(probes.size());
    auto probe = std::make_unique<Probe>();
    probe->path = path;
    probe->keys_only = true;
    for (size_t i = 0; i < path.steps.size(); ++i) {
      const PathStep& step = path.steps[i];
      if (step.kind != PathStep::Kind::kKey) {
        probe->keys_only = false;
        probe->key_steps.clear();
        break;
      }
      bool deref = i + 1 < path.steps.size() && step.key.size() >= 4 &&
                   step.key.compare(step.key.size() - 4, 4, "_ref") == 0;
      probe->key_steps.emplace_back(step.key, deref);
    }
    probes.push_back(std::move(probe));
    TypeEntry& te = TypeFor(path.object_type);
    te.probes.push_back(*id);
    return *id;
  }

  TypeEntry& TypeFor(const std::string& type) {
    auto it = types.find(type);
    if (it == types.end()) {
      it = types.emplace(type, TypeEntry{}).first;
      type_list.emplace_back(it->first, &it->second);
    }
    return it->second;
  }

  // Few object types are in use (tens), so a linear scan comparing sizes first beats hashing.
  const TypeEntry* FindType(std::string_view type) const {
    if (type_list.size() > 32) {
      auto it = types.find(type);
      return it == types.end() ? nullptr : &it->second;
    }
    for (const auto& [name, entry] : type_list) {
      if (name.size() == type.size() && std::memcmp(name.data(), type.data(), type.size()) == 0) {
        return entry;
      }
    }
    return nullptr;
  }

  static void AppendProbePrefix(uint32_t probe, std::string* key) {
    key->push_back(static_cast<char>(probe >> 8));
    key->push_back(static_cast<char>(probe & 0xff));
  }

  // exclusive
  Status Register(uint32_t slot, const AnchorSet& anchors) {
    for (const Anchor& a : anchors) {
      if (a.kind == AnchorKind::kType) {
        TypeFor(a.path->object_type).type_slots.push_back(slot);
        ++type_anchor_count;
        continue;
      }
      ASSIGN_OR_RETURN(uint32_t probe_id, ProbeFor(*a.path));
      Probe& probe = *probes[probe_id];
      switch (a.kind) {
        case AnchorKind::kKey: {
          std::string key;
          key.reserve(2 + a.key.size());
          AppendProbePrefix(probe_id, &key);
          key += a.key;
          ASSIGN_OR_RETURN(uint32_t * head, keys.FindOrInsert(key, kNil));
          uint32_t node;
          if (free_posting != kNil) {
            node = free_posting;
            free_posting = postings[node].next;
            postings[node] = PostingNode{slot, *head};
          } else {
            node = static_cast<uint32_t>(postings.size());
            postings.push_back(PostingNode{slot, *head});
          }
          *head = node;
          ++probe.key_anchors;
          break;
        }
        case AnchorKind::kCidrSubset:
          probe.subset.Add(a.block, slot);
          break;
        case AnchorKind::kCidrSuperset:
          probe.superset.Add(a.block, slot);
          break;
        case AnchorKind::kRegex:
          if (!probe.regex) probe.regex = std::make_unique<RegexGroup>();
          probe.regex->entries.push_back(RegexEntry{slot, a.regex, false});
          break;
        case AnchorKind::kType:
          break;
      }
    }
    return Status::Ok();
  }

  // exclusive
  void KillSlot(uint32_t s) {
    Slot& slot = slots[s];
    if (slot.state != SlotState::kLive) return;
    slot.state = SlotState::kDead;
    if (slot.compiled != kNil) {
      compiled[slot.compiled].reset();
      free_compiled.push_back(slot.compiled);
      slot.compiled = kNil;
    } else {
      --exact_count;
    }
    if (slot.stateful) --stateful_count;
    other_ids.erase(s);
    --live_count;
    dead_slots.push_back(s);
  }

  // exclusive. Drops every reference to dead slots, then recycles them. O(index size); run when
  // dead slots reach a quarter of the live ones, so amortised O(1) per removal.
  void Sweep() {
    auto dead = [this](uint32_t s) { return s != kNil && slots[s].state == SlotState::kDead; };
    keys.RemoveIf([&](std::string_view, uint32_t& head) {
      uint32_t* link = &head;
      while (*link != kNil) {
        uint32_t node = *link;
        if (dead(postings[node].slot)) {
          *link = postings[node].next;
          postings[node].next = free_posting;
          free_posting = node;
        } else {
          link = &postings[node].next;
        }
      }
      return head == kNil;
    });
    for (auto& probe : probes) {
      probe->subset.RemoveIf(dead);
      probe->superset.RemoveIf(dead);
      if (probe->regex) {
        for (RegexEntry& e : probe->regex->entries) {
          if (dead(e.slot)) e.slot = kNil;
        }
      }
    }
    for (auto& [type, te] : types) {
      size_t before = te.type_slots.size();
      te.type_slots.erase(std::remove_if(te.type_slots.begin(), te.type_slots.end(), dead),
                          te.type_slots.end());
      type_anchor_count -= before - te.type_slots.size();
    }
    for (uint32_t s : dead_slots) {
      slots[s] = Slot{};
      free_slots.push_back(s);
    }
    dead_slots.clear();
  }

  void MaybeSweep() {
    if (dead_slots.size() >= 1024 && dead_slots.size() * 4 >= live_count) Sweep();
  }

  // ---- id -> slot ----
  // An open-addressing table of slot numbers. Keys are read back from the slots (the UUID bytes,
  // or other_ids), so an id is stored once: 4-8 bytes per indicator here.

  std::string SlotIdKey(uint32_t s) const {
    const Slot& slot = slots[s];
    std::string key;
    if (slot.uuid_id) {
      key.push_back('\x01');
      key.append(reinterpret_cast<const char*>(slot.uuid.data()), slot.uuid.size());
    } else {
      key.push_back('\x00');
      if (auto it = other_ids.find(s); it != other_ids.end()) key += it->second;
    }
    return key;
  }

  bool SlotHasIdKey(uint32_t s, std::string_view key) const {
    const Slot& slot = slots[s];
    if (key.empty()) return false;
    if (key[0] == '\x01') {
      return slot.uuid_id && key.size() == 17 &&
             std::memcmp(key.data() + 1, slot.uuid.data(), 16) == 0;
    }
    if (slot.uuid_id) return false;
    auto it = other_ids.find(s);
    return it != other_ids.end() && key.substr(1) == it->second;
  }

  static constexpr uint32_t kIdEmpty = 0xffffffffu;
  static constexpr uint32_t kIdTombstone = 0xfffffffeu;

  size_t IdFind(std::string_view key) const {  // position in id_slots, or npos
    if (id_slots.empty()) return std::string::npos;
    size_t mask = id_slots.size() - 1;
    for (size_t i = HashBytes(key) & mask;; i = (i + 1) & mask) {
      uint32_t v = id_slots[i];
      if (v == kIdEmpty) return std::string::npos;
      if (v != kIdTombstone && SlotHasIdKey(v, key)) return i;
    }
  }

  void IdRehash(size_t capacity) {
    std::vector<uint32_t> old(capacity, kIdEmpty);
    old.swap(id_slots);
    size_t mask = capacity - 1;
    for (uint32_t v : old) {
      if (v >= kIdTombstone) continue;
      size_t i = HashBytes(SlotIdKey(v)) & mask;
      while (id_slots[i] != kIdEmpty) i = (i + 1) & mask;
      id_slots[i] = v;
    }
    id_used = id_live;
  }

  // Precondition: `key` is absent and slots[slot] already answers to it.
  void IdInsert(std::string_view key, uint32_t slot) {
    if (id_slots.empty() || (id_used + 1) * 4 > id_slots.size() * 3) {
      size_t capacity = 16;
      while ((id_live + 1) * 2 > capacity) capacity *= 2;
      IdRehash(capacity);
    }
    size_t mask = id_slots.size() - 1;
    size_t i = HashBytes(key) & mask;
    while (id_slots[i] != kIdEmpty && id_slots[i] != kIdTombstone) i = (i + 1) & mask;
    if (id_slots[i] == kIdEmpty) ++id_used;
    id_slots[i] = slot;
    ++id_live;
  }

  // exclusive
  bool RemoveLocked(std::string_view id) {
    std::string key = IdKey(id);
    size_t pos = IdFind(key);
    if (pos == std::string::npos) return false;
    uint32_t slot = id_slots[pos];
    id_slots[pos] = kIdTombstone;
    --id_live;
    KillSlot(slot);
    return true;
  }

  // The one value a keys-only path reaches from `object`, or nullptr: what ResolvePath finds for
  // such a path, without its generic walk (member lookups compare sizes before bytes).
  static const Value* WalkKeys(const Probe& probe, const Observation& obs,
                               const ObservedObject& object) {
    const Value* v = &object.value;
    for (const auto& [key, deref] : probe.key_steps) {
      if (!v->is_map()) return nullptr;
      const Value::Map& m = v->as_map();
      const Value* child = nullptr;
      if (m.size() <= 16) {
        for (const Value::Member& member : m) {
          if (member.first.size() == key.size() &&
              std::memcmp(member.first.data(), key.data(), key.size()) == 0) {
            child = &member.second;
            break;
          }
        }
      } else {
        child = v->Find(key);
      }
      if (child == nullptr) return nullptr;
      if (deref) {
        if (!child->is_string()) return nullptr;
        const ObservedObject* target = obs.FindObject(child->as_string());
        if (target == nullptr) return nullptr;
        child = &target->value;
      }
      v = child;
    }
    return v;
  }

  // Candidate collection for one observation (shared lock held).
  void CollectCandidates(const Observation& obs, std::vector<uint32_t>* candidates,
                         std::unique_ptr<HyperscanScratch>* scratch);

  // Scratch for the calling thread: a thread-local one when this index owns the thread's cache,
  // else one from the pool (returned in *pooled, to be released by the caller). An index claims
  // the cache when it is unused, or when its owner has not used it during the last 64 claims
  // (e.g. it was destroyed), so a thread serving two indexes keeps one fast and one pooled.
  HyperscanScratch* ThreadScratch(std::unique_ptr<HyperscanScratch>* pooled) {  // shared
    struct Cached {
      uint64_t owner = 0;  // State::uid, 0: unused
      uint64_t epoch = 0;
      uint32_t misses = 0;  // claims by other indexes since the owner last used it
      std::unique_ptr<HyperscanScratch> scratch;
    };
    thread_local Cached cached;
    uint64_t epoch = db_epoch.load(std::memory_order_relaxed);
    if (cached.owner != uid && cached.owner != 0 && ++cached.misses >= 64) cached.owner = 0;
    if (cached.owner == 0 || (cached.owner == uid && !cached.scratch)) {
      cached.owner = uid;
      cached.epoch = epoch - 1;  // prepare below (a scratch only grows: the old one will do)
      if (!cached.scratch) cached.scratch = std::make_unique<HyperscanScratch>();
    }
    if (cached.owner == uid) {
      if (cached.epoch != epoch) {
        // Databases were installed since: grow the scratch for every database now in use.
        for (const auto& probe : probes) {
          if (probe->regex && probe->regex->db) {
            if (!cached.scratch->Prepare(*probe->regex->db).ok()) {
              cached.scratch.reset();
              return nullptr;
            }
          }
        }
        cached.epoch = epoch;
      }
      cached.misses = 0;
      return cached.scratch.get();
    }
    *pooled = AcquireScratch();
    return pooled->get();
  }

  std::unique_ptr<HyperscanScratch> AcquireScratch() {  // shared
    {
      std::lock_guard<std::mutex> lock(scratch_mu);
      if (!scratch_pool.empty()) {
        auto s = std::move(scratch_pool.back());
        scratch_pool.pop_back();
        return s;
      }
    }
    auto s = std::make_unique<HyperscanScratch>();
    for (const auto& probe : probes) {
      if (probe->regex && probe->regex->db) {
        if (!s->Prepare(*probe->regex->db).ok()) return nullptr;
      }
    }
    return s;
  }

  void ReleaseScratch(std::unique_ptr<HyperscanScratch> s) {
    if (!s) return;
    std::lock_guard<std::mutex> lock(scratch_mu);
    scratch_pool.push_back(std::move(s));
  }

  // Constant after construction.
  IndexOptions options;

  mutable std::shared_mutex mu;
  // Guarded by mu.
  TypedKeyTable keys;  // probe prefix + typed value -> posting list head
  std::vector<PostingNode> postings;
  uint32_t free_posting = kNil;
  TypedKeyTable path_ids;  // printed path -> probe index
  std::vector<std::unique_ptr<Probe>> probes;
  std::unordered_map<std::string, TypeEntry, StringHash, std::equal_to<>> types;
  std::vector<std::pair<std::string_view, TypeEntry*>> type_list;  // same entries, in add order
  std::vector<uint32_t> id_slots;                                  // id -> slot table (see IdFind)
  size_t id_used = 0;                                              // entries plus tombstones
  size_t id_live = 0;
  std::vector<Slot> slots;
  std::vector<uint32_t> free_slots;
  std::vector<uint32_t> dead_slots;
  std::unordered_map<uint32_t, std::string> other_ids;  // ids not of the indicator--uuid form
  std::vector<std::unique_ptr<Compiled>> compiled;
  std::vector<uint32_t> free_compiled;
  size_t live_count = 0;
  size_t exact_count = 0;
  size_t stateful_count = 0;
  size_t type_anchor_count = 0;

  std::mutex scratch_mu;
  std::vector<std::unique_ptr<HyperscanScratch>> scratch_pool;  // guarded by scratch_mu

  mutable std::mutex window_mu;  // guards Compiled::window* of every compiled pattern

  std::mutex rebuild_mu;  // serialises RebuildRegexDatabases

  std::atomic<uint64_t> sequence{0};
  // Identifies this index to the thread-local scratch caches (never 0, never reused).
  const uint64_t uid = NextIndexUid();
  // Bumped whenever a Hyperscan database is installed (under the exclusive lock).
  std::atomic<uint64_t> db_epoch{1};
  std::atomic<uint64_t> confirmations{0};
  std::atomic<uint64_t> evaluation_errors{0};
};

void Index::State::CollectCandidates(const Observation& obs, std::vector<uint32_t>* candidates,
                                     std::unique_ptr<HyperscanScratch>* scratch) {
  // Equality keys are built and hashed while walking the observation, their Bloom filter blocks
  // prefetched, and probed only once every object has been walked, so that the (mostly cold)
  // filter reads of one observation overlap each other and the rest of the walk. The order in
  // which candidates are appended does not matter (Match sorts and deduplicates them).
  struct PendingKey {
    uint32_t offset;
    uint32_t size;
    uint64_t hash;
  };
  thread_local std::vector<const Value*> values;
  thread_local std::string key_bytes;
  thread_local std::vector<PendingKey> pending;
  key_bytes.clear();
  pending.clear();
  HyperscanScratch* scan_scratch = nullptr;
  // Start loading every object's members at once rather than one object at a time.
  for (const ObservedObject& object : obs.objects) {
    if (!object.value.is_map()) continue;
    const Value::Map& m = object.value.as_map();
    const char* first = reinterpret_cast<const char*>(m.data());
    const char* last = first + std::min<size_t>(m.size(), 8) * sizeof(Value::Member);
    for (const char* line = first; line < last; line += 64) __builtin_prefetch(line);
  }
  for (const ObservedObject& object : obs.objects) {
    const TypeEntry* found = FindType(object.type);
    if (found == nullptr) continue;
    const TypeEntry& te = *found;
    candidates->insert(candidates->end(), te.type_slots.begin(), te.type_slots.end());
    for (uint32_t probe_id : te.probes) {
      const Probe& probe = *probes[probe_id];
      values.clear();
      if (probe.keys_only) {
        if (const Value* v = WalkKeys(probe, obs, object)) values.push_back(v);
      } else {
        ResolvePath(probe.path, obs, object, &values);
      }
      if (values.empty()) continue;
      bool any_string = false;
      for (const Value* v : values) {
        // The observed value as an IPv4 address when its key says it is one (a canonical dotted
        // quad), which spares the CIDR lookup a second parse.
        bool have_v4 = false;
        uint32_t v4 = 0;
        if (probe.key_anchors > 0) {
          size_t offset = key_bytes.size();
          AppendProbePrefix(probe_id, &key_bytes);
          if (KeyForValue(*v, &key_bytes)) {
            std::string_view key(key_bytes.data() + offset, key_bytes.size() - offset);
            uint64_t hash = TypedKeyTable::Hash(key);
            keys.Prefetch(hash);
            pending.push_back(
                PendingKey{static_cast<uint32_t>(offset), static_cast<uint32_t>(key.size()), hash});
            if (key.size() == 7 &&
                static_cast<uint8_t>(key[2]) == static_cast<uint8_t>(KeyKind::kIpv4)) {
              have_v4 = true;
              for (size_t k = 3; k < 7; ++k) v4 = (v4 << 8) | static_cast<uint8_t>(key[k]);
            }
          } else {
            key_bytes.resize(offset);
          }
        }
        if (!v->is_string()) continue;
        any_string = true;
        const std::string& text = v->as_string();
        if (!probe.subset.empty() || !probe.superset.empty()) {
          std::optional<CidrBlock> block;
          if (have_v4) {
            // ParseIpPrefix reads a canonical dotted quad as the same full-length address.
            block = CidrBlock{false, Ip128{0, v4}, 32};
          } else if (std::optional<IpPrefix> p = ParseIpPrefix(text)) {
            block = ToCidrBlock(*p);
          }
          if (block) {
            auto add = [candidates](uint32_t s) { candidates->push_back(s); };
            if (!probe.subset.empty()) probe.subset.ForEachContaining(*block, add);
            if (!probe.superset.empty()) probe.superset.ForEachContainedIn(*block, add);
          }
        }
        if (probe.regex && probe.regex->db) {
          const RegexGroup& group = *probe.regex;
          bool scanned = false;
          if (IsValidUtf8(text)) {
            if (scan_scratch == nullptr) scan_scratch = ThreadScratch(scratch);
            if (scan_scratch != nullptr) {
              Status st = group.db->Scan(text, *scan_scratch, [&](unsigned id) {
                if (id < group.entries.size()) candidates->push_back(group.entries[id].slot);
              });
              scanned = st.ok();
            }
          }
          if (!scanned) {
            // Not scannable (invalid UTF-8, or Hyperscan failed): every compiled entry is a
            // candidate, and the evaluator decides.
            for (size_t i = 0; i < group.compiled_count; ++i) {
              candidates->push_back(group.entries[i].slot);
            }
          }
        }
      }
      if (any_string && probe.regex) {
        // Anchors not (or not yet) in a database: candidates whenever the path holds a string.
        const RegexGroup& group = *probe.regex;
        for (uint32_t i : group.always) candidates->push_back(group.entries[i].slot);
        for (size_t i = group.compiled_count; i < group.entries.size(); ++i) {
          candidates->push_back(group.entries[i].slot);
        }
      }
    }
  }
  // Keys that pass the Bloom filter (present, or a false positive): fetch their slots together.
  size_t maybe = 0;
  for (const PendingKey& k : pending) {
    if (keys.MayContain(k.hash)) {
      keys.PrefetchSlot(k.hash);
      pending[maybe++] = k;
    }
  }
  pending.resize(maybe);
  for (const PendingKey& k : pending) {
    std::string_view key(key_bytes.data() + k.offset, k.size);
    if (const uint32_t* head = keys.Find(key, k.hash)) {
      for (uint32_t node = *head; node != kNil; node = postings[node].next) {
        candidates->push_back(postings[node].slot);
      }
    }
  }
}

// ---- Index -----------------------------------------------------------------------------------

Index::Index(IndexOptions options) : state_(std::make_unique<State>(std::move(options))) {}
Index::~Index() = default;

Status Index::Add(std::string_view indicator_id, Pattern pattern, int64_t valid_from_us,
                  int64_t valid_until_us) {
  if (indicator_id.empty()) return InvalidArgumentError("indicator id is empty");
  if (valid_until_us <= valid_from_us) {
    return InvalidArgumentError("indicator '" + std::string(indicator_id) +
                                "': valid_until is not after valid_from");
  }
  State& st = *state_;
  // Analyse outside the lock.
  auto compiled = std::make_unique<State::Compiled>();
  compiled->pattern = std::move(pattern);
  const ObservationExpression& root = compiled->pattern.root;
  CollectLeaves(root, &compiled->leaves);
  bool stateless = IsStateless(root);
  bool exact = stateless && !HasQualifiers(root);
  for (const ComparisonExpression* leaf : compiled->leaves) {
    const std::string* type = nullptr;
    if (!exact) break;
    exact = IsExactLeaf(*leaf, &type);
  }
  compiled->stateful = !stateless;
  compiled->horizon_us = RootHorizon(root);
  AnchorSet anchors;
  for (const ComparisonExpression* leaf : compiled->leaves) {
    AnchorSet set = AnchorExpression(*leaf);
    for (Anchor& a : set) anchors.push_back(std::move(a));
  }

  std::unique_lock<std::shared_mutex> lock(st.mu);
  st.RemoveLocked(indicator_id);
  uint32_t slot;
  if (!st.free_slots.empty()) {
    slot = st.free_slots.back();
    st.free_slots.pop_back();
  } else {
    slot = static_cast<uint32_t>(st.slots.size());
    st.slots.emplace_back();
  }
  State::Slot& s = st.slots[slot];
  s = State::Slot{};
  s.valid_from = valid_from_us;
  s.valid_until = valid_until_us;
  s.exact = exact;
  s.stateful = !stateless;
  s.uuid_id = ParseIndicatorUuid(indicator_id, &s.uuid);
  if (!s.uuid_id) st.other_ids[slot] = std::string(indicator_id);
  s.state = State::SlotState::kLive;
  ++st.live_count;
  if (exact) {
    ++st.exact_count;
  } else {
    uint32_t c;
    if (!st.free_compiled.empty()) {
      c = st.free_compiled.back();
      st.free_compiled.pop_back();
    } else {
      c = static_cast<uint32_t>(st.compiled.size());
      st.compiled.emplace_back();
    }
    s.compiled = c;
    if (compiled->stateful) ++st.stateful_count;
  }
  Status registered = st.Register(slot, anchors);
  if (!registered.ok()) {
    // Anchors registered so far point at a dead slot; the next sweep drops them.
    st.KillSlot(slot);
    return registered;
  }
  if (!exact) st.compiled[s.compiled] = std::move(compiled);
  st.IdInsert(IdKey(indicator_id), slot);
  return Status::Ok();
}

bool Index::Remove(std::string_view indicator_id) {
  State& st = *state_;
  std::unique_lock<std::shared_mutex> lock(st.mu);
  bool removed = st.RemoveLocked(indicator_id);
  st.MaybeSweep();
  return removed;
}

size_t Index::RemoveExpired(int64_t now_us) {
  State& st = *state_;
  std::unique_lock<std::shared_mutex> lock(st.mu);
  std::vector<uint32_t> expired;
  for (uint32_t s = 0; s < st.slots.size(); ++s) {
    if (st.slots[s].state == State::SlotState::kLive && st.slots[s].valid_until <= now_us) {
      expired.push_back(s);
    }
  }
  for (uint32_t s : expired) {
    std::string id = st.SlotId(s);
    st.RemoveLocked(id);
  }
  st.MaybeSweep();
  return expired.size();
}

Status Index::RebuildRegexDatabases() {
  State& st = *state_;
  std::lock_guard<std::mutex> rebuild_lock(st.rebuild_mu);
  struct Job {
    uint32_t probe_id;
    size_t snapshot_size;        // entries.size() when copied
    std::vector<size_t> source;  // new entry i <- old entry source[i]
    std::vector<HyperscanExpression> expressions;
    CompileOutput output;
  };
  std::vector<Job> jobs;
  {
    std::shared_lock<std::shared_mutex> lock(st.mu);
    for (uint32_t p = 0; p < st.probes.size(); ++p) {
      const State::RegexGroup* group = st.probes[p]->regex.get();
      if (group == nullptr) continue;
      bool has_pending = group->entries.size() > group->compiled_count;
      size_t dead = 0;
      for (const State::RegexEntry& e : group->entries) dead += e.slot == kNil;
      if (!has_pending && dead * 2 <= group->entries.size()) continue;
      Job job;
      job.probe_id = p;
      job.snapshot_size = group->entries.size();
      for (size_t i = 0; i < group->entries.size(); ++i) {
        const State::RegexEntry& e = group->entries[i];
        if (e.slot == kNil) continue;
        job.expressions.push_back(
            HyperscanExpression{e.regex, static_cast<unsigned>(job.source.size()), false});
        job.source.push_back(i);
      }
      jobs.push_back(std::move(job));
    }
  }
  // Compile with no lock held: matching continues meanwhile.
  for (Job& job : jobs) {
    if (job.expressions.empty()) continue;
    ASSIGN_OR_RETURN(job.output, HyperscanDatabase::Compile(job.expressions));
  }
  std::unique_lock<std::shared_mutex> lock(st.mu);
  for (Job& job : jobs) {
    State::RegexGroup& old_group = *st.probes[job.probe_id]->regex;
    auto group = std::make_unique<State::RegexGroup>();
    std::vector<bool> rejected(job.source.size(), false);
    for (unsigned id : job.output.rejected) rejected[id] = true;
    for (size_t i = 0; i < job.source.size(); ++i) {
      State::RegexEntry e = std::move(old_group.entries[job.source[i]]);  // slot is current
      e.always = rejected[i];
      if (e.always) group->always.push_back(static_cast<uint32_t>(group->entries.size()));
      group->entries.push_back(std::move(e));
    }
    group->compiled_count = group->entries.size();
    // Entries added while compiling stay pending.
    for (size_t i = job.snapshot_size; i < old_group.entries.size(); ++i) {
      group->entries.push_back(std::move(old_group.entries[i]));
    }
    group->db = std::move(job.output.database);
    if (group->db) {
      // Thread-local scratches (AcquireScratch) notice this and prepare for the new database.
      st.db_epoch.fetch_add(1, std::memory_order_relaxed);
      std::lock_guard<std::mutex> scratch_lock(st.scratch_mu);
      for (auto& scratch : st.scratch_pool) RETURN_IF_ERROR(scratch->Prepare(*group->db));
    }
    st.probes[job.probe_id]->regex = std::move(group);
  }
  return Status::Ok();
}

size_t Index::Match(const Observation& observation, std::vector<IndexHit>* hits) {
  State& st = *state_;
  uint64_t sequence = st.sequence.fetch_add(1, std::memory_order_relaxed);
  thread_local std::vector<uint32_t> candidates;
  candidates.clear();
  size_t before = hits->size();
  std::shared_lock<std::shared_mutex> lock(st.mu);
  std::unique_ptr<HyperscanScratch> scratch;
  st.CollectCandidates(observation, &candidates, &scratch);
  st.ReleaseScratch(std::move(scratch));
  if (candidates.empty()) return 0;
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  for (uint32_t s : candidates) {
    if (s == kNil) continue;
    const State::Slot& slot = st.slots[s];
    if (slot.state != State::SlotState::kLive) continue;
    if (observation.last_observed_us < slot.valid_from ||
        observation.first_observed_us >= slot.valid_until) {
      continue;
    }
    if (slot.exact) {
      hits->push_back(IndexHit{st.SlotId(s), {RefOf(observation, sequence)}});
      continue;
    }
    State::Compiled& c = *st.compiled[slot.compiled];
    if (!c.stateful) {
      st.confirmations.fetch_add(1, std::memory_order_relaxed);
      Result<MatchResult> r = pattern::Match(
          c.pattern, std::span<const Observation>(&observation, 1), st.options.match_options);
      if (!r.ok()) {
        st.evaluation_errors.fetch_add(1, std::memory_order_relaxed);
      } else if (r->matched) {
        hits->push_back(IndexHit{st.SlotId(s), {RefOf(observation, sequence)}});
      }
      continue;
    }
    // Stateful: admit the observation when it satisfies one of the pattern's [...].
    bool relevant = false;
    for (const ComparisonExpression* leaf : c.leaves) {
      if (EvaluateComparisonExpression(*leaf, observation)) {
        relevant = true;
        break;
      }
    }
    if (!relevant) continue;
    std::lock_guard<std::mutex> window_lock(st.window_mu);
    c.max_first_seen = std::max(c.max_first_seen, observation.first_observed_us);
    if (c.horizon_us >= 0 && st.options.evict_outside_within) {
      size_t keep = 0;
      for (size_t i = 0; i < c.window.size(); ++i) {
        // WITHIN holds when max(first_observed) - min(last_observed) <= n (evaluator.cc); a later
        // observation has first_observed >= max_first_seen, so this one can no longer join it.
        if (c.window[i].last_observed_us < c.max_first_seen - c.horizon_us) continue;
        if (keep != i) {
          c.window[keep] = std::move(c.window[i]);
          c.window_sequence[keep] = c.window_sequence[i];
        }
        ++keep;
      }
      c.window.resize(keep);
      c.window_sequence.resize(keep);
    }
    while (c.window.size() >= st.options.max_window_observations) {
      c.window.erase(c.window.begin());
      c.window_sequence.erase(c.window_sequence.begin());
    }
    c.window.push_back(observation);
    c.window_sequence.push_back(sequence);
    st.confirmations.fetch_add(1, std::memory_order_relaxed);
    Result<MatchResult> r = pattern::Match(c.pattern, c.window, st.options.match_options);
    if (!r.ok()) {
      st.evaluation_errors.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (!r->matched) continue;
    IndexHit hit;
    hit.indicator_id = st.SlotId(s);
    std::vector<size_t> indices = r->observation_indices;
    std::sort(indices.begin(), indices.end());
    indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
    for (size_t i : indices) {
      if (i < c.window.size()) hit.observations.push_back(RefOf(c.window[i], c.window_sequence[i]));
    }
    // Consume the binding's observations.
    for (auto it = indices.rbegin(); it != indices.rend(); ++it) {
      if (*it >= c.window.size()) continue;
      c.window.erase(c.window.begin() + static_cast<std::ptrdiff_t>(*it));
      c.window_sequence.erase(c.window_sequence.begin() + static_cast<std::ptrdiff_t>(*it));
    }
    hits->push_back(std::move(hit));
  }
  return hits->size() - before;
}

bool Index::Contains(std::string_view indicator_id) const {
  std::shared_lock<std::shared_mutex> lock(state_->mu);
  return state_->IdFind(IdKey(indicator_id)) != std::string::npos;
}

size_t Index::size() const {
  std::shared_lock<std::shared_mutex> lock(state_->mu);
  return state_->live_count;
}

IndexStats Index::Stats() const {
  const State& st = *state_;
  IndexStats out;
  std::shared_lock<std::shared_mutex> lock(st.mu);
  out.indicators = st.live_count;
  out.exact_indicators = st.exact_count;
  out.stateful_indicators = st.stateful_count;
  out.equality_keys = st.keys.size();
  out.type_anchors = st.type_anchor_count;
  for (const auto& probe : st.probes) {
    out.cidr_anchors += probe->subset.size() + probe->superset.size();
    if (!probe->regex) continue;
    const State::RegexGroup& g = *probe->regex;
    for (size_t i = 0; i < g.entries.size(); ++i) {
      if (g.entries[i].slot == kNil ||
          st.slots[g.entries[i].slot].state != State::SlotState::kLive) {
        continue;
      }
      if (i >= g.compiled_count) {
        ++out.regex_pending;
      } else if (g.entries[i].always) {
        ++out.regex_always;
      } else {
        ++out.regex_compiled;
      }
    }
  }
  {
    std::lock_guard<std::mutex> window_lock(st.window_mu);
    for (const auto& c : st.compiled) {
      if (c) out.window_observations += c->window.size();
    }
  }
  out.index_bytes =
      st.keys.MemoryBytes() + st.postings.capacity() * sizeof(State::PostingNode) +
      st.path_ids.MemoryBytes() + st.id_slots.capacity() * sizeof(uint32_t) +
      st.slots.capacity() * sizeof(State::Slot) +
      st.compiled.capacity() * sizeof(std::unique_ptr<State::Compiled>) +
      (st.free_slots.capacity() + st.dead_slots.capacity() + st.free_compiled.capacity()) *
          sizeof(uint32_t);
  out.observations = st.sequence.load(std::memory_order_relaxed);
  out.confirmations = st.confirmations.load(std::memory_order_relaxed);
  out.evaluation_errors = st.evaluation_errors.load(std::memory_order_relaxed);
  return out;
}

}  // namespace liaison::pattern

#include "pattern/evaluator.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>

#include "pattern/binary.h"
#include "pattern/ip_address.h"
#include "pattern/regex.h"
#include "stix/timestamp.h"

namespace liaison::pattern {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// ---------------------------------------------------------------------------------------------
// Values against constants

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// Compares an int64 with a double exactly enough for patterns (both finite).
int CmpIntDouble(int64_t a, double b) {
  const double da = static_cast<double>(a);
  if (da != b) return da < b ? -1 : 1;
  // Equal as doubles: the double is integral and within int64's range only if exactly a.
  if (b >= 9.2233720368547758e18) return -1;
  if (b < -9.2233720368547758e18) return 1;
  return Cmp(a, static_cast<int64_t>(b));
}

// A string property's bytes, for comparison with a binary constant. STIX 2.1 section 9.6: a
// property named *_hex holds hex, *_bin base64; any other string compares by its code points when
// all are below U+0100 (Latin-1), and not at all otherwise. Choice: an h'..' constant compared
// with a plain string that is itself all hex (e.g. a hash) compares with the decoded hex.
std::optional<std::string> BytesOf(const std::string& s, std::string_view key,
                                   Constant::Kind constant_kind) {
  if (EndsWith(key, "_hex")) return HexDecode(s);
  if (EndsWith(key, "_bin")) return Base64Decode(s);
  if (constant_kind == Constant::Kind::kHex) {
    if (std::optional<std::string> h = HexDecode(s)) return h;
  }
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < s.size()) {
      out.push_back(static_cast<char>(((c & 0x1F) << 6) | (s[i + 1] & 0x3F)));
      ++i;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// Cheap test before parsing: could `s` be an IP address or CIDR block?
bool MayBeIp(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
              c == ':' || c == '.' || c == '/';
    if (!ok) return false;
  }
  return true;
}

// Orders `value` against `constant`: <0, 0, >0, or nullopt when the two cannot be compared.
std::optional<int> Order(const Value& value, const Constant& constant, std::string_view key) {
  switch (constant.kind) {
    case Constant::Kind::kString: {
      if (!value.is_string()) return std::nullopt;
      int c = Cmp<std::string_view>(value.as_string(), constant.string_value);
      // Choice: an address `value` equals the same address written as a full-length block
      // ('198.51.100.1' = '198.51.100.1/32', as the spec's own examples write them), and IPv6
      // addresses compare in any of their text forms.
      if (c != 0 && key == "value" && MayBeIp(value.as_string()) &&
          MayBeIp(constant.string_value)) {
        std::optional<IpPrefix> a = ParseIpPrefix(value.as_string());
        if (a) {
          std::optional<IpPrefix> b = ParseIpPrefix(constant.string_value);
          if (b && *a == *b) return 0;
        }
      }
      return c;
    }
    case Constant::Kind::kInt:
      if (value.is_int()) return Cmp(value.as_int(), constant.int_value);
      if (value.is_double()) return -CmpIntDouble(constant.int_value, value.as_double());
      return std::nullopt;
    case Constant::Kind::kFloat:
      if (value.is_int()) return CmpIntDouble(value.as_int(), constant.float_value);
      if (value.is_double()) return Cmp(value.as_double(), constant.float_value);
      return std::nullopt;
    case Constant::Kind::kBool:
      if (!value.is_bool()) return std::nullopt;
      return Cmp(value.as_bool(), constant.bool_value);
    case Constant::Kind::kTimestamp: {
      if (!value.is_string()) return std::nullopt;
      Result<stix::Timestamp> ts = stix::ParseTimestamp(value.as_string());
      if (!ts.ok()) return std::nullopt;
      return Cmp(ts->micros, constant.timestamp_us);
    }
    case Constant::Kind::kHex:
    case Constant::Kind::kBinary: {
      if (!value.is_string()) return std::nullopt;
      std::optional<std::string> bytes = BytesOf(value.as_string(), key, constant.kind);
      if (!bytes) return std::nullopt;
      // Unsigned byte order.
      return Cmp<std::string_view>(*bytes, constant.string_value);
    }
  }
  return std::nullopt;
}

// SQL LIKE over code points: % any run (possibly empty), _ exactly one code point; everything
// else literal and case-sensitive (STIX 2.1 section 9.6). Iterative with single backtrack point,
// so linear-ish and never recursive.
size_t CodePointLength(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80             ? 1
             : (c & 0xE0) == 0xC0 ? 2
             : (c & 0xF0) == 0xE0 ? 3
             : (c & 0xF8) == 0xF0 ? 4
                                  : 1;
  return std::min(n, s.size() - i);
}

bool LikeMatch(std::string_view text, std::string_view pattern) {
  size_t t = 0, p = 0;
  size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star_p = ++p;
      star_t = t;
      continue;
    }
    if (p < pattern.size() && pattern[p] == '_') {
      t += CodePointLength(text, t);
      p += 1;
      continue;
    }
    if (p < pattern.size()) {
      size_t n = CodePointLength(pattern, p);
      if (text.compare(t, n, pattern.substr(p, n)) == 0) {
        t += n;
        p += n;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    // Backtrack: let the last % swallow one more code point.
    star_t += CodePointLength(text, star_t);
    t = star_t;
    p = star_p;
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

std::string_view LastKey(const ObjectPath& path) {
  for (auto it = path.steps.rbegin(); it != path.steps.rend(); ++it) {
    if (it->kind == PathStep::Kind::kKey) return it->key;
  }
  return {};
}

// The operator without NOT; nullopt when the value's type does not fit the operator or constant
// (then the comparison is false whether negated or not).
std::optional<bool> Apply(const Comparison& c, const Value& value) {
  const std::string_view key = LastKey(c.path);
  switch (c.op) {
    case ComparisonOp::kEqual:
    case ComparisonOp::kNotEqual: {
      std::optional<int> o = Order(value, c.value, key);
      if (!o) return std::nullopt;
      return (*o == 0) == (c.op == ComparisonOp::kEqual);
    }
    case ComparisonOp::kLess:
    case ComparisonOp::kLessEqual:
    case ComparisonOp::kGreater:
    case ComparisonOp::kGreaterEqual: {
      if (c.value.kind == Constant::Kind::kBool) return std::nullopt;
      std::optional<int> o = Order(value, c.value, key);
      if (!o) return std::nullopt;
      switch (c.op) {
        case ComparisonOp::kLess:
          return *o < 0;
        case ComparisonOp::kLessEqual:
          return *o <= 0;
        case ComparisonOp::kGreater:
          return *o > 0;
        default:
          return *o >= 0;
      }
    }
    case ComparisonOp::kIn: {
      if (c.set.empty()) return false;
      bool comparable = false;
      for (const Constant& member : c.set) {
        std::optional<int> o = Order(value, member, key);
        if (!o) continue;
        comparable = true;
        if (*o == 0) return true;
      }
      if (!comparable) return std::nullopt;
      return false;
    }
    case ComparisonOp::kLike:
      if (!value.is_string()) return std::nullopt;
      return LikeMatch(value.as_string(), c.value.string_value);
    case ComparisonOp::kMatches: {
      if (!value.is_string() || c.regex == nullptr) return std::nullopt;
      if (EndsWith(key, "_bin") || EndsWith(key, "_hex")) {
        // Binary properties: the expression runs over the decoded bytes.
        std::optional<std::string> bytes =
            EndsWith(key, "_bin") ? Base64Decode(value.as_string()) : HexDecode(value.as_string());
        if (!bytes) return std::nullopt;
        return c.regex->SearchBytes(*bytes);
      }
      return c.regex->Search(value.as_string());
    }
    case ComparisonOp::kIsSubset:
    case ComparisonOp::kIsSuperset: {
      if (!value.is_string()) return std::nullopt;
      std::optional<IpPrefix> v = ParseIpPrefix(value.as_string());
      std::optional<IpPrefix> k = ParseIpPrefix(c.value.string_value);
      if (!v || !k || v->v6 != k->v6) return std::nullopt;
      return c.op == ComparisonOp::kIsSubset ? IsSubset(*v, *k) : IsSubset(*k, *v);
    }
    case ComparisonOp::kExists:
      return true;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Paths

// Visits every value `path` reaches from `v` (at `step`), stopping as soon as `visit` returns
// true; returns whether it did. No allocation: the index confirms candidates through this.
template <typename Visit>
bool Walk(const ObjectPath& path, size_t step, const Value* v, bool deref_elements,
          const Observation& obs, Visit& visit) {
  if (step == path.steps.size()) return visit(*v);
  const PathStep& s = path.steps[step];
  const bool more = step + 1 < path.steps.size();
  auto deref = [&](const Value* target) -> const Value* {
    if (!target->is_string()) return nullptr;
    const ObservedObject* o = obs.FindObject(target->as_string());
    return o ? &o->value : nullptr;
  };
  switch (s.kind) {
    case PathStep::Kind::kKey: {
      const Value* child = v->Find(s.key);
      if (child == nullptr) return false;
      // STIX 2.1 section 9.3: a *_ref property followed by more steps is dereferenced to the
      // object it names (in the same observation); the path continues inside that object.
      if (more && EndsWith(s.key, "_ref")) {
        child = deref(child);
        if (child == nullptr) return false;
      }
      return Walk(path, step + 1, child, EndsWith(s.key, "_refs"), obs, visit);
    }
    case PathStep::Kind::kIndex:
    case PathStep::Kind::kAnyIndex: {
      if (!v->is_list()) return false;
      const Value::List& list = v->as_list();
      auto element_walk = [&](const Value* element) {
        // An element of a *_refs list followed by more steps names an object: dereference it.
        if (deref_elements && more) {
          element = deref(element);
          if (element == nullptr) return false;
        }
        return Walk(path, step + 1, element, false, obs, visit);
      };
      if (s.kind == PathStep::Kind::kAnyIndex) {
        for (const Value& element : list) {
          if (element_walk(&element)) return true;
        }
        return false;
      }
      // Choice: negative indices count from the end ([-1] is the last element).
      int64_t n = static_cast<int64_t>(list.size());
      int64_t i = s.index < 0 ? n + s.index : s.index;
      if (i >= 0 && i < n) return element_walk(&list[static_cast<size_t>(i)]);
      return false;
    }
  }
  return false;
}

// True when `path` reaches at least one value from `root` for which `pred` holds.
template <typename Pred>
bool AnyValue(const ObjectPath& path, const Observation& obs, const ObservedObject& root,
              Pred pred) {
  if (path.steps.empty()) return false;
  return Walk(path, 0, &root.value, false, obs, pred);
}

// ---------------------------------------------------------------------------------------------
// Comparison expressions over one observation

void CollectTypes(const ComparisonExpression& e, std::vector<std::string_view>* types) {
  if (e.kind == ComparisonExpression::Kind::kComparison) {
    std::string_view t = e.comparison.path.object_type;
    if (std::find(types->begin(), types->end(), t) == types->end()) types->push_back(t);
    return;
  }
  for (const auto& c : e.children) CollectTypes(c, types);
}

// True when all comparisons of `e` name one object type (stored in *type).
bool SingleType(const ComparisonExpression& e, std::string_view* type) {
  if (e.kind == ComparisonExpression::Kind::kComparison) {
    std::string_view t = e.comparison.path.object_type;
    if (type->empty()) *type = t;
    return *type == t;
  }
  for (const auto& c : e.children) {
    if (!SingleType(c, type)) return false;
  }
  return true;
}

// Evaluates `e` with `object` as the one object of its (single) type.
bool EvalOnObject(const ComparisonExpression& e, const Observation& obs,
                  const ObservedObject& object) {
  switch (e.kind) {
    case ComparisonExpression::Kind::kComparison:
      return EvaluateComparison(e.comparison, obs, object);
    case ComparisonExpression::Kind::kAnd:
      for (const auto& c : e.children) {
        if (!EvalOnObject(c, obs, object)) return false;
      }
      return true;
    case ComparisonExpression::Kind::kOr:
      for (const auto& c : e.children) {
        if (EvalOnObject(c, obs, object)) return true;
      }
      return false;
  }
  return false;
}

using Assignment = std::vector<std::pair<std::string_view, const ObservedObject*>>;

bool EvalAssigned(const ComparisonExpression& e, const Observation& obs, const Assignment& a) {
  switch (e.kind) {
    case ComparisonExpression::Kind::kComparison: {
      for (const auto& [type, object] : a) {
        if (type == e.comparison.path.object_type) {
          return object != nullptr && EvaluateComparison(e.comparison, obs, *object);
        }
      }
      return false;
    }
    case ComparisonExpression::Kind::kAnd:
      for (const auto& c : e.children) {
        if (!EvalAssigned(c, obs, a)) return false;
      }
      return true;
    case ComparisonExpression::Kind::kOr:
      for (const auto& c : e.children) {
        if (EvalAssigned(c, obs, a)) return true;
      }
      return false;
  }
  return false;
}

// Bounds the enumeration of object assignments in one observation (a product over types).
constexpr size_t kMaxAssignments = 1'000'000;

// True when some assignment of one object per type in `types` makes all of `exprs` true.
bool ExistsAssignment(const std::vector<const ComparisonExpression*>& exprs,
                      const std::vector<std::string_view>& types, const Observation& obs,
                      Assignment* a, size_t* budget) {
  if (a->size() == types.size()) {
    if (*budget == 0) return false;
    --*budget;
    for (const ComparisonExpression* e : exprs) {
      if (!EvalAssigned(*e, obs, *a)) return false;
    }
    return true;
  }
  std::string_view type = types[a->size()];
  for (const ObservedObject& o : obs.objects) {
    if (o.type != type) continue;
    a->emplace_back(type, &o);
    bool ok = ExistsAssignment(exprs, types, obs, a, budget);
    a->pop_back();
    if (ok) return true;
    if (*budget == 0) return false;
  }
  // No object of this type: its comparisons are false, but an OR may not need them
  // ([(file:name = 'a' OR ipv4-addr:value = 'x') AND file:size = 1] holds without any address).
  a->emplace_back(type, nullptr);
  bool ok = ExistsAssignment(exprs, types, obs, a, budget);
  a->pop_back();
  return ok;
}

bool Exists(const ComparisonExpression& e, const Observation& obs, size_t* budget) {
  switch (e.kind) {
    case ComparisonExpression::Kind::kComparison:
      for (const ObservedObject& o : obs.objects) {
        if (o.type == e.comparison.path.object_type && EvaluateComparison(e.comparison, obs, o)) {
          return true;
        }
      }
      return false;
    case ComparisonExpression::Kind::kOr:
      for (const auto& c : e.children) {
        if (Exists(c, obs, budget)) return true;
      }
      return false;
    case ComparisonExpression::Kind::kAnd: {
      // Fast path: every comparison names the same type (the common case) -> one object must
      // satisfy the whole expression.
      if (std::string_view type; SingleType(e, &type)) {
        for (const ObservedObject& o : obs.objects) {
          if (o.type == type && EvalOnObject(e, obs, o)) return true;
        }
        return false;
      }
      // Group the conjuncts whose object types connect (they must share objects); independent
      // groups are decided separately, which keeps the common cases linear.
      const size_t n = e.children.size();
      std::vector<std::vector<std::string_view>> types(n);
      for (size_t i = 0; i < n; ++i) CollectTypes(e.children[i], &types[i]);
      std::vector<size_t> group(n);
      for (size_t i = 0; i < n; ++i) group[i] = i;
      auto find = [&](size_t x) {
        while (group[x] != x) x = group[x] = group[group[x]];
        return x;
      };
      for (size_t i = 0; i < n; ++i) {
        for (size_t j = i + 1; j < n; ++j) {
          bool shared = false;
          for (std::string_view t : types[i]) {
            if (std::find(types[j].begin(), types[j].end(), t) != types[j].end()) shared = true;
          }
          if (shared) group[find(j)] = find(i);
        }
      }
      std::vector<bool> done(n, false);
      for (size_t i = 0; i < n; ++i) {
        if (done[i]) continue;
        std::vector<const ComparisonExpression*> members;
        std::vector<std::string_view> group_types;
        for (size_t j = i; j < n; ++j) {
          if (find(j) != find(i)) continue;
          done[j] = true;
          members.push_back(&e.children[j]);
          for (std::string_view t : types[j]) {
            if (std::find(group_types.begin(), group_types.end(), t) == group_types.end()) {
              group_types.push_back(t);
            }
          }
        }
        bool ok;
        if (members.size() == 1 && members[0]->kind != ComparisonExpression::Kind::kAnd) {
          ok = Exists(*members[0], obs, budget);
        } else {
          Assignment a;
          ok = ExistsAssignment(members, group_types, obs, &a, budget);
        }
        if (!ok) return false;
      }
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Observation expressions: bindings

// A binding: which observations (with multiplicity, since an observed-data with
// number_observed = k stands for k occurrences) satisfy an expression. Sorted by index.
struct Binding {
  std::vector<std::pair<uint32_t, int64_t>> counts;  // (observation index, occurrences)
  friend bool operator<(const Binding& a, const Binding& b) { return a.counts < b.counts; }
  friend bool operator==(const Binding& a, const Binding& b) { return a.counts == b.counts; }
};

class BindingSearch {
 public:
  BindingSearch(std::span<const Observation> obs, const MatchOptions& options)
      : obs_(obs), options_(options) {}

  bool truncated() const { return truncated_; }

  static constexpr int64_t kNoWindow = -1;

  std::vector<Binding> Eval(const ObservationExpression& e) {
    std::vector<Binding> result;
    switch (e.kind) {
      case ObservationExpression::Kind::kObservation: {
        for (size_t i = 0; i < obs_.size(); ++i) {
          if (!Step()) break;
          size_t budget = kMaxAssignments;
          if (Exists(e.comparison, obs_[i], &budget)) {
            if (!Room(result)) break;
            result.push_back(Binding{{{static_cast<uint32_t>(i), 1}}});
          }
        }
        break;
      }
      case ObservationExpression::Kind::kOr:
        for (const auto& c : e.children) {
          std::vector<Binding> part = Eval(c);
          for (auto& b : part) {
            if (!Room(result)) break;
            result.push_back(std::move(b));
          }
        }
        Normalize(&result);
        break;
      case ObservationExpression::Kind::kAnd:
      case ObservationExpression::Kind::kFollowedBy: {
        // A WITHIN right after this node is applied while joining: the window test is monotone
        // (a larger binding only spreads wider), so partial joins outside it are dropped early.
        const int64_t window =
            !e.qualifiers.empty() && e.qualifiers[0].kind == Qualifier::Kind::kWithin
                ? e.qualifiers[0].within_us
                : kNoWindow;
        const bool ordered = e.kind == ObservationExpression::Kind::kFollowedBy;
        result = Eval(e.children[0]);
        for (size_t i = 1; i < e.children.size() && !result.empty(); ++i) {
          result = Join(result, Eval(e.children[i]), ordered, window);
        }
        break;
      }
    }
    for (size_t i = 0; i < e.qualifiers.size(); ++i) {
      const Qualifier& q = e.qualifiers[i];
      if (q.kind == Qualifier::Kind::kRepeats) {
        const int64_t window =
            i + 1 < e.qualifiers.size() && e.qualifiers[i + 1].kind == Qualifier::Kind::kWithin
                ? e.qualifiers[i + 1].within_us
                : kNoWindow;
        result = Repeat(result, q.repeats, window);
      } else {
        result = Qualify(std::move(result), q);
      }
    }
    return result;
  }

 private:
  bool Step(size_t n = 1) {
    if (steps_ + n > options_.max_steps) {
      truncated_ = true;
      steps_ = options_.max_steps;
      return false;
    }
    steps_ += n;
    return true;
  }
  bool Room(const std::vector<Binding>& v) {
    if (v.size() >= options_.max_bindings) {
      truncated_ = true;
      return false;
    }
    return true;
  }
  static void Normalize(std::vector<Binding>* v) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }

  // The union of a and b, or nullopt when together they use an observation more often than it was
  // observed (the two sides must be matched by different observations).
  std::optional<Binding> Union(const Binding& a, const Binding& b) const {
    Binding out;
    out.counts.reserve(a.counts.size() + b.counts.size());
    size_t i = 0, j = 0;
    while (i < a.counts.size() || j < b.counts.size()) {
      if (j == b.counts.size() || (i < a.counts.size() && a.counts[i].first < b.counts[j].first)) {
        out.counts.push_back(a.counts[i++]);
      } else if (i == a.counts.size() || b.counts[j].first < a.counts[i].first) {
        out.counts.push_back(b.counts[j++]);
      } else {
        int64_t sum = a.counts[i].second + b.counts[j].second;
        if (sum > obs_[a.counts[i].first].number_observed) return std::nullopt;
        out.counts.emplace_back(a.counts[i].first, sum);
        ++i;
        ++j;
      }
    }
    return out;
  }

  int64_t MaxFirst(const Binding& b) const {
    int64_t m = std::numeric_limits<int64_t>::min();
    for (const auto& [i, n] : b.counts) m = std::max(m, obs_[i].first_observed_us);
    return m;
  }
  int64_t MinLast(const Binding& b) const {
    int64_t m = std::numeric_limits<int64_t>::max();
    for (const auto& [i, n] : b.counts) m = std::min(m, obs_[i].last_observed_us);
    return m;
  }

  // AND (ordered = false) or FOLLOWEDBY (ordered = true) of two binding lists. FOLLOWEDBY, as the
  // reference matcher: some choice of instants within each observation's [first, last] puts all
  // of the right side at or after all of the left side, i.e. max(first of left) <= min(last of
  // right).
  bool Fits(const Binding& b, int64_t window) const {
    return window == kNoWindow || MaxFirst(b) - MinLast(b) <= window;
  }

  std::vector<Binding> Join(const std::vector<Binding>& left, std::vector<Binding> right,
                            bool ordered, int64_t window) {
    std::vector<Binding> out;
    if (right.empty()) return out;
    std::vector<int64_t> right_min_last;
    if (ordered) {
      std::sort(right.begin(), right.end(),
                [&](const Binding& a, const Binding& b) { return MinLast(a) < MinLast(b); });
      right_min_last.reserve(right.size());
      for (const Binding& b : right) right_min_last.push_back(MinLast(b));
    }
    for (const Binding& l : left) {
      size_t start = 0;
      if (ordered) {
        const int64_t max_first = MaxFirst(l);
        start = static_cast<size_t>(
            std::lower_bound(right_min_last.begin(), right_min_last.end(), max_first) -
            right_min_last.begin());
      }
      for (size_t k = start; k < right.size(); ++k) {
        if (!Step()) return Finish(std::move(out));
        std::optional<Binding> u = Union(l, right[k]);
        if (!u || !Fits(*u, window)) continue;
        if (!Room(out)) return Finish(std::move(out));
        out.push_back(std::move(*u));
      }
    }
    return Finish(std::move(out));
  }

  static std::vector<Binding> Finish(std::vector<Binding> v) {
    Normalize(&v);
    return v;
  }

  std::vector<Binding> Qualify(std::vector<Binding> in, const Qualifier& q) {
    std::vector<Binding> out;
    switch (q.kind) {
      case Qualifier::Kind::kWithin:
        // STIX 2.1 section 9.7.2, as the reference matcher reads it: some window of the given
        // length touches every observation's [first_observed, last_observed] interval, i.e.
        // max(first_observed) - min(last_observed) <= duration.
        for (auto& b : in) {
          if (MaxFirst(b) - MinLast(b) <= q.within_us) out.push_back(std::move(b));
        }
        return out;
      case Qualifier::Kind::kStartStop: {
        // STIX 2.1 section 9.7.3: observed between START (inclusive) and STOP (exclusive): each
        // observation's interval must reach into [start, stop).
        const int64_t start = q.start.timestamp_us, stop = q.stop.timestamp_us;
        if (start >= stop) return out;
        for (auto& b : in) {
          bool inside = true;
          for (const auto& [i, n] : b.counts) {
            const Observation& o = obs_[i];
            if (!(o.first_observed_us < stop && o.last_observed_us >= start)) inside = false;
          }
          if (inside) out.push_back(std::move(b));
        }
        return out;
      }
      case Qualifier::Kind::kRepeats:
        return Repeat(in, q.repeats, kNoWindow);
    }
    return out;
  }

  // REPEATS n TIMES (STIX 2.1 section 9.7.1): n bindings of the inner expression that do not share
  // occurrences, united. Bindings may be reused when the observations' number_observed allows
  // (one observed-data seen 5 times satisfies [x] REPEATS 5 TIMES). Depth-first over the sorted
  // bindings with multiplicities, bounded by the step budget.
  std::vector<Binding> Repeat(const std::vector<Binding>& in, int64_t n, int64_t window) {
    std::vector<Binding> out;
    if (n == 1) return in;
    Binding acc;
    RepeatFrom(in, 0, n, window, &acc, &out);
    return Finish(std::move(out));
  }

  // The most times `b` can be added to `acc`.
  int64_t MaxTimes(const Binding& acc, const Binding& b, int64_t want) const {
    int64_t times = want;
    size_t i = 0;
    for (const auto& [idx, cnt] : b.counts) {
      while (i < acc.counts.size() && acc.counts[i].first < idx) ++i;
      int64_t used = i < acc.counts.size() && acc.counts[i].first == idx ? acc.counts[i].second : 0;
      times = std::min(times, (obs_[idx].number_observed - used) / cnt);
      if (times <= 0) return 0;
    }
    return times;
  }

  static Binding Scaled(const Binding& b, int64_t times) {
    Binding out = b;
    for (auto& [idx, cnt] : out.counts) cnt *= times;
    return out;
  }

  void RepeatFrom(const std::vector<Binding>& in, size_t from, int64_t remaining, int64_t window,
                  Binding* acc, std::vector<Binding>* out) {
    if (remaining == 0) {
      if (Room(*out)) out->push_back(*acc);
      return;
    }
    for (size_t k = from; k < in.size(); ++k) {
      if (!Step() || out->size() >= options_.max_bindings) return;
      int64_t max_times = MaxTimes(*acc, in[k], remaining);
      // Larger multiplicities first: one observed-data seen many times completes quickly.
      for (int64_t t = max_times; t >= 1; --t) {
        if (!Step()) return;
        std::optional<Binding> u = Union(*acc, Scaled(in[k], t));
        if (!u || !Fits(*u, window)) continue;
        Binding saved = std::move(*acc);
        *acc = std::move(*u);
        RepeatFrom(in, k + 1, remaining - t, window, acc, out);
        *acc = std::move(saved);
        if (truncated_) return;
        // Fewer copies of this binding only help when other bindings can fill the rest.
        if (k + 1 >= in.size()) break;
      }
    }
  }

  std::span<const Observation> obs_;
  const MatchOptions& options_;
  size_t steps_ = 0;
  bool truncated_ = false;
};

std::vector<size_t> Indices(const Binding& b) {
  std::vector<size_t> out;
  out.reserve(b.counts.size());
  for (const auto& [i, n] : b.counts) out.push_back(i);
  return out;
}

}  // namespace

void ResolvePath(const ObjectPath& path, const Observation& observation, const ObservedObject& root,
                 std::vector<const Value*>* out) {
  AnyValue(path, observation, root, [out](const Value& v) {
    out->push_back(&v);
    return false;  // keep going: every value
  });
}

bool CompareValue(const Comparison& comparison, const Value& value) {
  if (comparison.op == ComparisonOp::kExists) return !comparison.negated;
  std::optional<bool> r = Apply(comparison, value);
  if (!r) return false;
  return comparison.negated ? !*r : *r;
}

bool EvaluateComparison(const Comparison& comparison, const Observation& observation,
                        const ObservedObject& root) {
  if (root.type != comparison.path.object_type) return false;
  if (comparison.op == ComparisonOp::kExists) {
    bool any = AnyValue(comparison.path, observation, root, [](const Value&) { return true; });
    return comparison.negated ? !any : any;
  }
  return AnyValue(comparison.path, observation, root,
                  [&comparison](const Value& v) { return CompareValue(comparison, v); });
}

bool EvaluateComparisonExpression(const ComparisonExpression& expr,
                                  const Observation& observation) {
  size_t budget = kMaxAssignments;
  return Exists(expr, observation, &budget);
}

Result<std::vector<std::vector<size_t>>> FindBindings(const ObservationExpression& expr,
                                                      std::span<const Observation> observations,
                                                      const MatchOptions& options) {
  BindingSearch search(observations, options);
  std::vector<Binding> bindings = search.Eval(expr);
  if (search.truncated()) {
    return ResourceExhaustedError("pattern evaluation exceeded its bounds (" +
                                  std::to_string(options.max_steps) + " steps or " +
                                  std::to_string(options.max_bindings) + " bindings)");
  }
  std::vector<std::vector<size_t>> out;
  out.reserve(bindings.size());
  for (const Binding& b : bindings) out.push_back(Indices(b));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<MatchResult> MatchObservationExpression(const ObservationExpression& expr,
                                               std::span<const Observation> observations,
                                               const MatchOptions& options) {
  BindingSearch search(observations, options);
  std::vector<Binding> bindings = search.Eval(expr);
  MatchResult result;
  if (bindings.empty()) {
    // Every binding found is genuine, so a truncated search that found one is still a match; only
    // an empty truncated search is inconclusive.
    if (search.truncated()) {
      return ResourceExhaustedError(
          "pattern evaluation exceeded its bounds (" + std::to_string(options.max_steps) +
          " steps or " + std::to_string(options.max_bindings) + " bindings) without a match");
    }
    return result;
  }
  result.matched = true;
  std::vector<std::vector<size_t>> all;
  all.reserve(bindings.size());
  for (const Binding& b : bindings) all.push_back(Indices(b));
  result.observation_indices = *std::min_element(all.begin(), all.end());
  return result;
}

Result<MatchResult> Match(const Pattern& pattern, std::span<const Observation> observations,
                          const MatchOptions& options) {
  return MatchObservationExpression(pattern.root, observations, options);
}

}  // namespace liaison::pattern

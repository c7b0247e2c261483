// Differential test of the pattern index: on thousands of generated patterns and a generated
// stream of observations (fixed seed), Index::Match reports exactly what evaluating every pattern
// on its own with the evaluator (pattern::Match) reports, under the streaming rules documented in
// index.h (single-observation patterns per observation; multi-observation patterns over a window
// of the observations that satisfy one of their [...], consumed on a hit).

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

#include "pattern/evaluator.h"
#include "pattern/index.h"
#include "pattern/parser.h"

namespace liaison::pattern {
namespace {

constexpr int64_t kBase = 1600000000LL * 1000000;  // 2020-09-13T12:26:40Z
constexpr int64_t kSecond = 1000000;

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  size_t Uniform(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Uniform(v.size())];
  }

  static std::string Quote(const std::string& s) { return "'" + s + "'"; }

  std::string Comparison(const std::string& type) {
    static const std::vector<std::string> v4 = {"10.0.0.1", "10.0.0.2", "10.0.0.5", "10.0.0.9",
                                                "192.168.1.1"};
    static const std::vector<std::string> v6 = {"2001:db8::1", "2001:db8::2", "2001:db9::1"};
    static const std::vector<std::string> domains = {"a.example", "b.example", "evil.example",
                                                     "x.evil.example", "c.example"};
    static const std::vector<std::string> names = {"a.exe", "b.dll", "c.txt", "evil.exe"};
    static const std::vector<std::string> md5 = {"d41d8cd98f00b204e9800998ecf8427e",
                                                 "0cc175b9c0f1b6a831c399e269772661",
                                                 "92eb5ffee6ae2fec3ad71c777531578f"};
    static const std::vector<std::string> urls = {"http://a.example/x", "https://evil.example/",
                                                  "http://b.example/evil"};
    static const std::vector<std::string> users = {"alice", "bob", "root"};
    if (type == "ipv4-addr") {
      switch (Uniform(9)) {
        case 0:
        case 1:
          return "ipv4-addr:value = " + Quote(Pick(v4));
        case 2:
          return "ipv4-addr:value IN (" + Quote(Pick(v4)) + ", " + Quote(Pick(v4)) + ")";
        case 3:
          return "ipv4-addr:value ISSUBSET " +
                 Quote(Pick(std::vector<std::string>{"10.0.0.0/29", "10.0.0.0/8", "10.0.0.4/30",
                                                     "192.168.0.0/16", "0.0.0.0/0"}));
        case 4:
          return "ipv4-addr:value ISSUPERSET " + Quote(Pick(v4));
        case 5:
          return "ipv4-addr:value LIKE '10.0.0.%'";
        case 6:
          return "ipv4-addr:value MATCHES '^10[.]0[.]0[.][1-3]$'";
        case 7:
          return "ipv4-addr:value != " + Quote(Pick(v4));
        default:
          return "ipv4-addr:value NOT = " + Quote(Pick(v4));
      }
    }
    if (type == "ipv6-addr") {
      switch (Uniform(3)) {
        case 0:
          return "ipv6-addr:value = " + Quote(Pick(v6));
        case 1:
          return "ipv6-addr:value ISSUBSET '2001:db8::/32'";
        default:
          return "ipv6-addr:value ISSUPERSET '2001:db8::2'";
      }
    }
    if (type == "domain-name") {
      switch (Uniform(7)) {
        case 0:
        case 1:
          return "domain-name:value = " + Quote(Pick(domains));
        case 2:
          return "domain-name:value IN (" + Quote(Pick(domains)) + ", " + Quote(Pick(domains)) +
                 ")";
        case 3:
          return "domain-name:value LIKE '%.evil.example'";
        case 4:
          return "domain-name:value MATCHES 'evil'";
        case 5:
          return "domain-name:value NOT LIKE '_.example'";
        default:
          return "domain-name:value LIKE '_.example'";
      }
    }
    if (type == "file") {
      switch (Uniform(10)) {
        case 0:
          return "file:name = " + Quote(Pick(names));
        case 1:
          return "file:hashes.MD5 = " + Quote(Pick(md5));
        case 2:
          return "file:hashes.'SHA-256' = 'aa00aa00aa00aa00'";
        case 3:
          return "file:size = " + Pick(std::vector<std::string>{"1", "2", "100", "2.0", "2.5"});
        case 4:
          return "file:size > 50";
        case 5:
          return "file:size IN (1, 100)";
        case 6:
          return "EXISTS file:hashes.MD5";
        case 7:
          return "file:name MATCHES '[.]exe$'";
        case 8:
          return "file:name LIKE 'evil%'";
        default:
          return "file:hashes.MD5 = h'd41d8cd98f00b204e9800998ecf8427e'";
      }
    }
    if (type == "network-traffic") {
      switch (Uniform(6)) {
        case 0:
          return "network-traffic:src_ref.value = " + Quote(Pick(v4));
        case 1:
          return "network-traffic:src_ref.value ISSUBSET '10.0.0.0/30'";
        case 2:
          return "network-traffic:dst_port = " + Pick(std::vector<std::string>{"80", "443"});
        case 3:
          return "network-traffic:dst_port IN (80, 8080)";
        case 4:
          return "network-traffic:protocols[*] = 'tcp'";
        default:
          return "network-traffic:protocols[0] = 'udp'";
      }
    }
    if (type == "url") {
      switch (Uniform(4)) {
        case 0:
          return "url:value = " + Quote(Pick(urls));
        case 1:
          return "url:value LIKE 'http://%'";
        case 2:
          return "url:value MATCHES '^https?://[a-z]+[.]example/'";
        default:
          return "url:value MATCHES '(a|b)[.]example/(x|evil)?$'";
      }
    }
    if (type == "user-account") {
      switch (Uniform(3)) {
        case 0:
          return "user-account:user_id = " + Quote(Pick(users));
        case 1:
          return "user-account:account_login LIKE 'r%'";
        default:
          return "user-account:is_privileged = true";
      }
    }
    // x-custom
    switch (Uniform(3)) {
      case 0:
        return "x-custom:flag = " + Pick(std::vector<std::string>{"true", "false"});
      case 1:
        return "x-custom:tags[*] = 'red'";
      default:
        return "x-custom:score = 0.5";
    }
  }

  std::string Type() {
    static const std::vector<std::string> types = {"ipv4-addr",    "ipv6-addr",       "domain-name",
                                                   "file",         "network-traffic", "url",
                                                   "user-account", "x-custom"};
    return Pick(types);
  }

  std::string ComparisonExpression() {
    std::string type = Type();
    size_t n = 1 + (Chance(0.4) ? Uniform(3) : 0);
    std::string out = Comparison(type);
    for (size_t i = 1; i < n; ++i) {
      std::string t = Chance(0.8) ? type : Type();
      out += Chance(0.5) ? " AND " : " OR ";
      out += Comparison(t);
    }
    return "[" + out + "]";
  }

  std::string Qualifier() {
    switch (Uniform(3)) {
      case 0:
        return " WITHIN " + std::to_string(5 + Uniform(100)) + " SECONDS";
      case 1:
        return " START t'2020-09-13T12:26:40Z' STOP t'2020-09-13T13:00:00Z'";
      default:
        return " START t'2020-09-13T12:40:00Z' STOP t'2020-09-14T00:00:00Z'";
    }
  }

  std::string Pattern() {
    if (Chance(0.35)) {
      // The common shape: one equality IOC.
      return "[" + Comparison(Pick(std::vector<std::string>{"ipv4-addr", "domain-name"})) + "]";
    }
    if (Chance(0.6)) {
      std::string p = ComparisonExpression();
      if (Chance(0.2)) p += Qualifier();
      return p;
    }
    std::string a = ComparisonExpression(), b = ComparisonExpression();
    switch (Uniform(6)) {
      case 0:
        return a + " AND " + b;
      case 1:
        return a + " OR " + b;
      case 2:
        return a + " FOLLOWEDBY " + b;
      case 3:
        return a + " REPEATS 2 TIMES";
      case 4:
        return "(" + a + " FOLLOWEDBY " + b + ") WITHIN " + std::to_string(10 + Uniform(60)) +
               " SECONDS";
      default:
        return "(" + a + " OR " + b + ") REPEATS 2 TIMES";
    }
  }

  Observation MakeObservation(size_t i) {
    Observation o;
    o.id = "observed-data--" + std::to_string(i);
    o.first_observed_us = kBase + static_cast<int64_t>(i) * 7 * kSecond;
    o.last_observed_us = o.first_observed_us + static_cast<int64_t>(Uniform(20)) * kSecond;
    o.number_observed = Chance(0.1) ? 2 : 1;
    size_t n = 1 + Uniform(3);
    std::vector<ObservedObject> objects;
    for (size_t k = 0; k < n; ++k) {
      std::string type = Type();
      Value::Map m;
      m.emplace_back("type", Value(type.c_str()));
      auto v4 = [&] {
        return Pick(std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.5",
                                             "10.0.0.9", "192.168.1.1", "172.16.0.1",
                                             "10.0.0.0/30"});
      };
      if (type == "ipv4-addr") {
        m.emplace_back("value", Value(v4()));
      } else if (type == "ipv6-addr") {
        m.emplace_back("value",
                       Value(Pick(std::vector<std::string>{"2001:db8::1", "2001:db8::2",
                                                           "2001:db9::1", "2001:db8::/64"})));
      } else if (type == "domain-name") {
        m.emplace_back(
            "value",
            Value(Pick(std::vector<std::string>{"a.example", "b.example", "evil.example",
                                                "x.evil.example", "zz.example", "ab.example"})));
      } else if (type == "file") {
        if (Chance(0.8)) {
          m.emplace_back("name", Value(Pick(std::vector<std::string>{"a.exe", "b.dll", "c.txt",
                                                                     "evil.exe", "evil.txt"})));
        }
        if (Chance(0.7)) {
          Value::Map hashes;
          hashes.emplace_back(
              "MD5", Value(Pick(std::vector<std::string>{
                         "d41d8cd98f00b204e9800998ecf8427e", "0cc175b9c0f1b6a831c399e269772661",
                         "D41D8CD98F00B204E9800998ECF8427E", "nothex"})));
          if (Chance(0.3)) hashes.emplace_back("SHA-256", Value("aa00aa00aa00aa00"));
          m.emplace_back("hashes", Value::FromMembers(std::move(hashes)));
        }
        if (Chance(0.8)) {
          switch (Uniform(4)) {
            case 0:
              m.emplace_back("size", Value(int64_t{2}));
              break;
            case 1:
              m.emplace_back("size", Value(2.5));
              break;
            case 2:
              m.emplace_back("size", Value(int64_t{100}));
              break;
            default:
              m.emplace_back("size", Value("100"));
              break;
          }
        }
      } else if (type == "network-traffic") {
        // src_ref names an ipv4-addr object added to this observation.
        std::string ref_key = "r" + std::to_string(k);
        Value::Map addr;
        addr.emplace_back("type", Value("ipv4-addr"));
        addr.emplace_back("value", Value(v4()));
        objects.push_back(
            ObservedObject{ref_key, "ipv4-addr", Value::FromMembers(std::move(addr))});
        m.emplace_back("src_ref", Value(ref_key));
        m.emplace_back("dst_port",
                       Chance(0.8) ? Value(int64_t(Chance(0.5) ? 80 : 443)) : Value(80.0));
        Value::List protocols;
        if (Chance(0.5)) protocols.emplace_back("udp");
        protocols.emplace_back("tcp");
        m.emplace_back("protocols", Value(std::move(protocols)));
      } else if (type == "url") {
        m.emplace_back("value",
                       Value(Pick(std::vector<std::string>{
                           "http://a.example/x", "https://evil.example/", "http://b.example/evil",
                           "ftp://c.example/", "https://a.example/\xc3\xa9"})));
      } else if (type == "user-account") {
        m.emplace_back("user_id", Value(Pick(std::vector<std::string>{"alice", "bob", "root"})));
        m.emplace_back("account_login", Value(Pick(std::vector<std::string>{"root", "rx", "a"})));
        if (Chance(0.5)) m.emplace_back("is_privileged", Value(Chance(0.5)));
      } else {
        m.emplace_back("flag", Value(Chance(0.5)));
        Value::List tags;
        tags.emplace_back(Chance(0.5) ? "red" : "blue");
        m.emplace_back("tags", Value(std::move(tags)));
        m.emplace_back("score", Chance(0.5) ? Value(0.5) : Value(int64_t{1}));
      }
      objects.push_back(ObservedObject{std::to_string(k), type, Value::FromMembers(std::move(m))});
    }
    std::sort(objects.begin(), objects.end(),
              [](const ObservedObject& a, const ObservedObject& b) { return a.key < b.key; });
    o.objects = std::move(objects);
    return o;
  }

 private:
  std::mt19937_64 rng_;
};

// The reference: every pattern evaluated on its own.
struct Reference {
  struct Entry {
    Pattern pattern;
    int64_t valid_from;
    int64_t valid_until;
    bool stateful;
    std::vector<const ComparisonExpression*> leaves;
    std::vector<Observation> window;
    std::vector<uint64_t> window_sequence;
  };
  std::map<std::string, Entry> entries;

  static void Leaves(const ObservationExpression& e,
                     std::vector<const ComparisonExpression*>* out) {
    if (e.kind == ObservationExpression::Kind::kObservation) {
      out->push_back(&e.comparison);
      return;
    }
    for (const auto& c : e.children) Leaves(c, out);
  }
  static bool Stateless(const ObservationExpression& e) {
    for (const auto& q : e.qualifiers) {
      if (q.kind == Qualifier::Kind::kRepeats) return false;
    }
    if (e.kind == ObservationExpression::Kind::kObservation) return true;
    if (e.kind != ObservationExpression::Kind::kOr) return false;
    for (const auto& c : e.children) {
      if (!Stateless(c)) return false;
    }
    return true;
  }

  void Add(const std::string& id, const Pattern& p, int64_t from, int64_t until) {
    Entry& e = entries[id];
    e = Entry{p, from, until, !Stateless(p.root), {}, {}, {}};
    Leaves(e.pattern.root, &e.leaves);
  }

  // indicator id -> observation sequences
  std::map<std::string, std::vector<uint64_t>> Match(const Observation& o, uint64_t sequence,
                                                     size_t window_cap) {
    std::map<std::string, std::vector<uint64_t>> out;
    for (auto& [id, e] : entries) {
      if (o.last_observed_us < e.valid_from || o.first_observed_us >= e.valid_until) continue;
      if (!e.stateful) {
        Result<MatchResult> r = pattern::Match(e.pattern, std::span<const Observation>(&o, 1));
        EXPECT_TRUE(r.ok());
        if (r.ok() && r->matched) out[id] = {sequence};
        continue;
      }
      bool relevant = false;
      for (const auto* leaf : e.leaves) relevant |= EvaluateComparisonExpression(*leaf, o);
      if (!relevant) continue;
      while (e.window.size() >= window_cap) {
        e.window.erase(e.window.begin());
        e.window_sequence.erase(e.window_sequence.begin());
      }
      e.window.push_back(o);
      e.window_sequence.push_back(sequence);
      Result<MatchResult> r = pattern::Match(e.pattern, e.window);
      EXPECT_TRUE(r.ok());
      if (!r.ok() || !r->matched) continue;
      std::vector<uint64_t> seqs;
      for (size_t i : r->observation_indices) seqs.push_back(e.window_sequence[i]);
      // The binding always includes the new observation (the window alone never matches).
      EXPECT_EQ(seqs.back(), sequence) << id;
      for (auto it = r->observation_indices.rbegin(); it != r->observation_indices.rend(); ++it) {
        e.window.erase(e.window.begin() + static_cast<std::ptrdiff_t>(*it));
        e.window_sequence.erase(e.window_sequence.begin() + static_cast<std::ptrdiff_t>(*it));
      }
      out[id] = seqs;
    }
    return out;
  }
};

std::string Dump(const Value& v) {
  switch (v.type()) {
    case Value::Type::kNull:
      return "null";
    case Value::Type::kBool:
      return v.as_bool() ? "true" : "false";
    case Value::Type::kInt:
      return std::to_string(v.as_int());
    case Value::Type::kDouble:
      return std::to_string(v.as_double());
    case Value::Type::kString:
      return "'" + v.as_string() + "'";
    case Value::Type::kList: {
      std::string out = "[";
      for (const Value& e : v.as_list()) out += Dump(e) + ",";
      return out + "]";
    }
    case Value::Type::kMap: {
      std::string out = "{";
      for (const auto& [k, e] : v.as_map()) out += k + ":" + Dump(e) + ",";
      return out + "}";
    }
  }
  return "";
}

std::string Dump(const Observation& o) {
  std::string out = o.id + " n=" + std::to_string(o.number_observed) + " ";
  for (const ObservedObject& so : o.objects) out += so.key + "=" + Dump(so.value) + " ";
  return out;
}

std::string IdFor(size_t i) {
  // Mix both id forms: the compact indicator--uuid form and arbitrary strings.
  if (i % 3 == 0) return "custom-indicator-" + std::to_string(i);
  char buf[64];
  std::snprintf(buf, sizeof buf, "indicator--%08zx-0000-4000-8000-%012zx", i, i * 7919);
  return buf;
}

void RunDifferential(uint64_t seed, size_t patterns, size_t observations) {
  Generator gen(seed);
  IndexOptions options;
  options.max_window_observations = 1000;  // no count eviction: the reference keeps everything
  Index index(options);
  Reference ref;
  std::vector<std::pair<std::string, Pattern>> added;
  size_t counted_stateful = 0;
  for (size_t i = 0; i < patterns; ++i) {
    std::string text = gen.Pattern();
    Result<Pattern> p = Parse(text);
    ASSERT_TRUE(p.ok()) << text << ": " << p.status().ToString();
    int64_t from = Index::kNoStart, until = Index::kNoEnd;
    if (gen.Chance(0.1))
      from = kBase + static_cast<int64_t>(gen.Uniform(observations)) * 7 * kSecond;
    if (gen.Chance(0.1)) {
      until = (from == Index::kNoStart ? kBase : from) +
              static_cast<int64_t>(1 + gen.Uniform(observations)) * 7 * kSecond;
    }
    std::string id = IdFor(i);
    ASSERT_TRUE(index.Add(id, *p, from, until).ok()) << text;
    ref.Add(id, *p, from, until);
    counted_stateful += !Reference::Stateless(p->root);
    added.emplace_back(id, std::move(*p));
  }
  // Compile half of the regular expressions now; the rest stay pending until later.
  ASSERT_TRUE(index.RebuildRegexDatabases().ok());
  IndexStats stats = index.Stats();
  EXPECT_EQ(stats.indicators, patterns);
  EXPECT_EQ(stats.stateful_indicators, counted_stateful);
  EXPECT_GT(stats.exact_indicators, patterns / 5);
  EXPECT_GT(stats.regex_compiled, 0u);

  size_t total_hits = 0;
  for (size_t i = 0; i < observations; ++i) {
    Observation o = gen.MakeObservation(i);
    if (i == observations / 3) {
      // Churn: remove some indicators, re-add others under new ids (pending regexes again).
      for (size_t k = 0; k < added.size(); k += 17) {
        EXPECT_TRUE(index.Remove(added[k].first));
        ref.entries.erase(added[k].first);
      }
      for (size_t k = 5; k < added.size(); k += 23) {
        std::string id = added[k].first + "-again";
        ASSERT_TRUE(index.Add(id, added[k].second).ok());
        ref.Add(id, added[k].second, Index::kNoStart, Index::kNoEnd);
      }
    }
    if (i == 2 * observations / 3) ASSERT_TRUE(index.RebuildRegexDatabases().ok());
    std::vector<IndexHit> hits;
    index.Match(o, &hits);
    std::map<std::string, std::vector<uint64_t>> got;
    for (const IndexHit& h : hits) {
      std::vector<uint64_t> seqs;
      for (const ObservationRef& r : h.observations) seqs.push_back(r.sequence);
      EXPECT_TRUE(got.emplace(h.indicator_id, seqs).second) << "duplicate hit " << h.indicator_id;
    }
    std::map<std::string, std::vector<uint64_t>> want = ref.Match(o, i, 1000);
    total_hits += want.size();
    if (got != want) {
      for (const auto& [id, s] : want) {
        if (!got.count(id)) ADD_FAILURE() << "missed " << id << " at observation " << i;
      }
      for (const auto& [id, s] : got) {
        if (!want.count(id)) {
          ADD_FAILURE() << "extra " << id << " at observation " << i;
        } else if (want[id] != s) {
          ADD_FAILURE() << "different binding for " << id << " at observation " << i;
        }
      }
      for (const auto& [id, seqs] : want) {
        if (got.count(id) && got[id] == seqs) continue;
        ADD_FAILURE() << id << ": " << Print(ref.entries[id].pattern) << " want "
                      << ::testing::PrintToString(seqs) << " got "
                      << ::testing::PrintToString(got[id]);
      }
      for (const auto& [id, seqs] : got) {
        if (!want.count(id)) ADD_FAILURE() << id << ": " << Print(ref.entries[id].pattern);
      }
      FAIL() << "index and evaluator disagree at observation " << i << ": " << Dump(o);
    }
  }
  // The generator must produce a meaningful number of hits for the comparison to mean anything.
  EXPECT_GT(total_hits, observations);
}

TEST(IndexDifferential, AgreesWithEvaluatorSeed1) { RunDifferential(1, 3000, 400); }
TEST(IndexDifferential, AgreesWithEvaluatorSeed2) { RunDifferential(20260, 2000, 300); }

}  // namespace
}  // namespace liaison::pattern

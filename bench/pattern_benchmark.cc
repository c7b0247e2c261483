// Load benchmark of the pattern index (issue 3, "Benchmark"): builds an index of equality
// indicators (IPv4, IPv6, domain, URL, file hashes, e-mail, user account), LIKE/MATCHES patterns
// and compound patterns with qualifiers, then streams observations through Index::Match on one
// thread, and prints build time, memory per indicator and observations matched per second.
//
//   pattern_benchmark                                   # the full run: 1M / 10k / 1k, 10M obs
//   pattern_benchmark --indicators 10000 --regex 100 --compound 10 --observations 100000
//
// Flags: --indicators N --regex N --compound N --observations N --pool N (distinct observations
// cycled through) --hit-rate F (fraction of observations carrying an indicator's value) --seed N.
// Exit status 0 unless a flag is malformed or the index fails; a "nothing lost" check verifies
// that every observation planted with an equality indicator's value produced a hit.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "pattern/index.h"
#include "pattern/observation.h"
#include "pattern/parser.h"

namespace {

using liaison::pattern::Index;
using liaison::pattern::IndexHit;
using liaison::pattern::IndexStats;
using liaison::pattern::Observation;
using liaison::pattern::ObservedObject;
using liaison::pattern::Parse;
using liaison::pattern::Pattern;
using liaison::pattern::Value;

struct Flags {
  size_t indicators = 1'000'000;
  size_t regex = 10'000;
  size_t compound = 1'000;
  size_t observations = 10'000'000;
  size_t pool = 200'000;
  double hit_rate = 0.005;
  uint64_t seed = 42;
};

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return false;
    const char* v = argv[++i];
    char* end = nullptr;
    if (a == "--hit-rate") {
      f->hit_rate = std::strtod(v, &end);
    } else {
      unsigned long long n = std::strtoull(v, &end, 10);
      if (a == "--indicators")
        f->indicators = n;
      else if (a == "--regex")
        f->regex = n;
      else if (a == "--compound")
        f->compound = n;
      else if (a == "--observations")
        f->observations = n;
      else if (a == "--pool")
        f->pool = n;
      else if (a == "--seed")
        f->seed = n;
      else
        return false;
    }
    if (end == v || *end != '\0') return false;
  }
  return f->pool > 0;
}

// Resident set size in bytes (/proc/self/statm), 0 if unavailable.
size_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  if (!(statm >> pages >> resident)) return 0;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// CPU time of this thread: the machine is shared, so "per core" is observations per CPU second.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Deterministic value families: value(kind, i) is the i-th distinct value of that kind. Indicators
// use i in [0, n); background observations use i >= 1e9 so they never collide by accident.
enum Kind { kIpv4, kIpv6, kDomain, kUrl, kMd5, kSha1, kSha256, kEmail, kUser, kKinds };

std::string Hex(uint64_t x, size_t digits) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  uint64_t state = x * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
  while (out.size() < digits) {
    state ^= state >> 31;
    state *= 0xbf58476d1ce4e5b9ULL;
    state ^= state >> 29;
    for (int k = 0; k < 16 && out.size() < digits; ++k) out += kHex[(state >> (4 * k)) & 0xf];
  }
  return out;
}

std::string ValueOf(Kind kind, uint64_t i) {
  switch (kind) {
    case kIpv4: {
      uint32_t a = static_cast<uint32_t>(i * 2654435761u) ^ 0x0b000000u;
      return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xff) + "." +
             std::to_string((a >> 8) & 0xff) + "." + std::to_string(a & 0xff);
    }
    case kIpv6:
      return "2001:db8:" + Hex(i, 4).substr(0, 3) + "1:" + Hex(i + 7, 4) + "::" + Hex(i + 13, 3) +
             "f";
    case kDomain:
      return "h" + Hex(i, 10) + ".example.com";
    case kUrl:
      return "http://h" + Hex(i, 8) + ".example.net/p/" + Hex(i + 1, 6) + ".php";
    case kMd5:
      return Hex(i, 32);
    case kSha1:
      return Hex(i + 1, 40);
    case kSha256:
      return Hex(i + 2, 64);
    case kEmail:
      return "u" + Hex(i, 8) + "@mail.example";
    case kUser:
      return "acct" + Hex(i, 8);
    default:
      return "";
  }
}

// Kind mix of the equality indicators (percent): IPv4 25, IPv6 10, domain 20, URL 15, hashes 20
// (MD5 8, SHA-1 4, SHA-256 8), e-mail 5, user account 5.
Kind KindFor(uint64_t r) {
  uint64_t p = r % 100;
  if (p < 25) return kIpv4;
  if (p < 35) return kIpv6;
  if (p < 55) return kDomain;
  if (p < 70) return kUrl;
  if (p < 78) return kMd5;
  if (p < 82) return kSha1;
  if (p < 90) return kSha256;
  if (p < 95) return kEmail;
  return kUser;
}

std::string EqualityPattern(Kind kind, const std::string& v) {
  switch (kind) {
    case kIpv4:
      return "[ipv4-addr:value = '" + v + "']";
    case kIpv6:
      return "[ipv6-addr:value = '" + v + "']";
    case kDomain:
      return "[domain-name:value = '" + v + "']";
    case kUrl:
      return "[url:value = '" + v + "']";
    case kMd5:
      return "[file:hashes.MD5 = '" + v + "']";
    case kSha1:
      return "[file:hashes.'SHA-1' = '" + v + "']";
    case kSha256:
      return "[file:hashes.'SHA-256' = '" + v + "']";
    case kEmail:
      return "[email-addr:value = '" + v + "']";
    default:
      return "[user-account:account_login = '" + v + "']";
  }
}

Value Map(std::vector<std::pair<std::string, Value>> members) {
  return Value::FromMembers(std::move(members));
}

// One SCO holding `v` as its kind's property, keyed `key` in the observation.
void AddObject(Kind kind, const std::string& v, const std::string& key,
               std::vector<ObservedObject>* out) {
  switch (kind) {
    case kIpv4:
      out->push_back({key, "ipv4-addr", Map({{"type", Value("ipv4-addr")}, {"value", Value(v)}})});
      return;
    case kIpv6:
      out->push_back({key, "ipv6-addr", Map({{"type", Value("ipv6-addr")}, {"value", Value(v)}})});
      return;
    case kDomain:
      out->push_back(
          {key, "domain-name", Map({{"type", Value("domain-name")}, {"value", Value(v)}})});
      return;
    case kUrl:
      out->push_back({key, "url", Map({{"type", Value("url")}, {"value", Value(v)}})});
      return;
    case kMd5:
    case kSha1:
    case kSha256: {
      const char* name = kind == kMd5 ? "MD5" : kind == kSha1 ? "SHA-1" : "SHA-256";
      out->push_back({key, "file",
                      Map({{"type", Value("file")},
                           {"name", Value("f" + v.substr(0, 6) + ".exe")},
                           {"size", Value(static_cast<int64_t>(v.size() * 1000))},
                           {"hashes", Map({{name, Value(v)}})}})});
      return;
    }
    case kEmail:
      out->push_back(
          {key, "email-addr", Map({{"type", Value("email-addr")}, {"value", Value(v)}})});
      return;
    default:
      out->push_back({key, "user-account",
                      Map({{"type", Value("user-account")}, {"account_login", Value(v)}})});
      return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) {
    std::fprintf(stderr,
                 "usage: pattern_benchmark [--indicators N] [--regex N] [--compound N] "
                 "[--observations N] [--pool N] [--hit-rate F] [--seed N]\n");
    return 2;
  }
  std::mt19937_64 rng(flags.seed);
  const int64_t t0 = 1'700'000'000LL * 1'000'000;

  Index index;
  // Equality indicators: one per value, kinds mixed.
  std::vector<Kind> indicator_kind(flags.indicators);
  size_t rss_before = RssBytes();
  double parse_seconds = 0, add_seconds = 0, add_cpu_seconds = 0;
  char id[64];
  auto add = [&](const std::string& text, size_t n) -> bool {
    auto a = std::chrono::steady_clock::now();
    liaison::Result<Pattern> p = Parse(text);
    auto b = std::chrono::steady_clock::now();
    if (!p.ok()) {
      std::fprintf(stderr, "parse failed: %s: %s\n", text.c_str(), p.status().ToString().c_str());
      return false;
    }
    std::snprintf(id, sizeof id, "indicator--%08zx-%04zx-4000-8000-%012zx", n & 0xffffffff,
                  (n >> 32) & 0xffff, n * 2654435761u % 1000000000000ULL);
    double cpu = ThreadCpuSeconds();
    liaison::Status s = index.Add(id, std::move(*p));
    add_cpu_seconds += ThreadCpuSeconds() - cpu;
    auto c = std::chrono::steady_clock::now();
    parse_seconds += Seconds(a, b);
    add_seconds += Seconds(b, c);
    if (!s.ok()) {
      std::fprintf(stderr, "add failed: %s\n", s.ToString().c_str());
      return false;
    }
    return true;
  };
  for (size_t i = 0; i < flags.indicators; ++i) {
    indicator_kind[i] = KindFor(rng());
    if (!add(EqualityPattern(indicator_kind[i], ValueOf(indicator_kind[i], i)), i)) return 1;
  }
  size_t rss_after_equality = RssBytes();
  IndexStats eq_stats = index.Stats();

  // LIKE / MATCHES: suffix, prefix and infix shapes on domains, URLs, file names and e-mail.
  for (size_t i = 0; i < flags.regex; ++i) {
    std::string tag = "z" + Hex(i, 6);
    std::string text;
    switch (i % 6) {
      case 0:
        text = "[domain-name:value LIKE '%." + tag + ".example.org']";
        break;
      case 1:
        text = "[url:value LIKE 'http://" + tag + ".example.org/%']";
        break;
      case 2:
        text = "[url:value MATCHES '^https?://[a-z0-9.]*" + tag + "[.]example[.]org/']";
        break;
      case 3:
        text = "[file:name MATCHES '^" + tag + "_[a-z]+[.](exe|dll)$']";
        break;
      case 4:
        text = "[email-addr:value LIKE '%@" + tag + ".example.org']";
        break;
      default:
        text = "[domain-name:value MATCHES '(^|[.])" + tag + "[.]example[.]org$']";
        break;
    }
    if (!add(text, flags.indicators + i)) return 1;
  }
  // Compound patterns with qualifiers over values of their own.
  for (size_t i = 0; i < flags.compound; ++i) {
    std::string a = ValueOf(kIpv4, 2'000'000'000ULL + i),
                d = ValueOf(kDomain, 2'000'000'000ULL + i), h = ValueOf(kMd5, 2'000'000'000ULL + i);
    std::string text;
    switch (i % 4) {
      case 0:
        text = "[ipv4-addr:value = '" + a + "'] FOLLOWEDBY [domain-name:value = '" + d +
               "'] WITHIN 300 SECONDS";
        break;
      case 1:
        text = "[file:hashes.MD5 = '" + h + "'] REPEATS 3 TIMES WITHIN 3600 SECONDS";
        break;
      case 2:
        text = "([network-traffic:dst_ref.value = '" + a +
               "' AND network-traffic:dst_port = 443]"
               " AND [domain-name:value = '" +
               d + "']) WITHIN 600 SECONDS";
        break;
      default:
        text = "[ipv4-addr:value ISSUBSET '" + a + "/30' AND ipv4-addr:value != '" + a +
               "'] START t'2023-01-01T00:00:00Z' STOP t'2024-01-01T00:00:00Z'";
        break;
    }
    if (!add(text, flags.indicators + flags.regex + i)) return 1;
  }
  auto compile_start = std::chrono::steady_clock::now();
  liaison::Status rebuilt = index.RebuildRegexDatabases();
  double compile_seconds = Seconds(compile_start, std::chrono::steady_clock::now());
  if (!rebuilt.ok()) {
    std::fprintf(stderr, "regex compile failed: %s\n", rebuilt.ToString().c_str());
    return 1;
  }
  IndexStats stats = index.Stats();

  // The observation pool: mostly background traffic; `hit_rate` of them carry an indicator value
  // (equality, regex-matching, or compound parts).
  std::vector<Observation> pool(flags.pool);
  std::vector<uint8_t> planted(flags.pool, 0);  // 1: carries an equality indicator's value
  uint64_t background = 1'000'000'000ULL;
  for (size_t i = 0; i < flags.pool; ++i) {
    Observation& o = pool[i];
    o.id = "observed-data--" + Hex(i, 8) + "-0000-4000-8000-" + Hex(i + 3, 12);
    o.first_observed_us = t0 + static_cast<int64_t>(i) * 1'000'000;
    o.last_observed_us = o.first_observed_us + 1'000'000;
    size_t objects = 1 + rng() % 3;
    bool hit = std::uniform_real_distribution<double>(0, 1)(rng) < flags.hit_rate;
    for (size_t k = 0; k < objects; ++k) {
      std::string key = std::to_string(k);
      if (k == 0 && hit) {
        uint64_t r = rng() % 100;
        if (r < 90 && flags.indicators > 0) {
          size_t n = rng() % flags.indicators;
          AddObject(indicator_kind[n], ValueOf(indicator_kind[n], n), key, &o.objects);
          planted[i] = 1;
        } else if (r < 96 && flags.regex > 0) {
          std::string tag = "z" + Hex(rng() % flags.regex, 6);
          AddObject(kDomain, "www." + tag + ".example.org", key, &o.objects);
        } else if (flags.compound > 0) {
          size_t c = rng() % flags.compound;
          AddObject(c % 2 ? kMd5 : kIpv4, ValueOf(c % 2 ? kMd5 : kIpv4, 2'000'000'000ULL + c), key,
                    &o.objects);
        }
        continue;
      }
      Kind kind = KindFor(rng());
      if (kind == kIpv4 && rng() % 2 == 0) {
        // network-traffic to an address, with the address object referenced.
        std::string ref = "r" + key;
        AddObject(kIpv4, ValueOf(kIpv4, background++), ref, &o.objects);
        o.objects.push_back({key, "network-traffic",
                             Map({{"type", Value("network-traffic")},
                                  {"dst_ref", Value(ref)},
                                  {"dst_port", Value(int64_t{443})},
                                  {"protocols", Value(Value::List{Value("tcp")})}})});
      } else {
        AddObject(kind, ValueOf(kind, background++), key, &o.objects);
      }
    }
    std::sort(o.objects.begin(), o.objects.end(),
              [](const ObservedObject& a, const ObservedObject& b) { return a.key < b.key; });
  }

  // Stream on this thread.
  std::vector<IndexHit> hits;
  uint64_t total_hits = 0, planted_seen = 0, planted_hit = 0;
  auto stream_start = std::chrono::steady_clock::now();
  double cpu_start = ThreadCpuSeconds();
  for (size_t i = 0; i < flags.observations; ++i) {
    size_t p = i % flags.pool;
    hits.clear();
    size_t n = index.Match(pool[p], &hits);
    total_hits += n;
    if (planted[p]) {
      ++planted_seen;
      planted_hit += n > 0;
    }
  }
  double stream_seconds = Seconds(stream_start, std::chrono::steady_clock::now());
  double stream_cpu = ThreadCpuSeconds() - cpu_start;
  IndexStats after = index.Stats();

  size_t eq_delta = rss_after_equality > rss_before ? rss_after_equality - rss_before : 0;
  std::printf("pattern index benchmark (seed %" PRIu64 ")\n", flags.seed);
  std::printf(
      "  indicators: %zu equality, %zu LIKE/MATCHES, %zu compound (exact %zu, stateful %zu)\n",
      flags.indicators, flags.regex, flags.compound, stats.exact_indicators,
      stats.stateful_indicators);
  std::printf(
      "  build: parse %.2f s, index add %.2f s wall / %.2f s CPU (%.0f adds per CPU-second), "
      "Hyperscan compile %.2f s\n",
      parse_seconds, add_seconds, add_cpu_seconds,
      add_cpu_seconds > 0 ? static_cast<double>(stats.indicators) / add_cpu_seconds : 0.0,
      compile_seconds);
  std::printf("  regex anchors: %zu compiled, %zu always-candidate, %zu pending\n",
              stats.regex_compiled, stats.regex_always, stats.regex_pending);
  if (flags.indicators > 0) {
    std::printf(
        "  memory per equality indicator: %.1f bytes (RSS delta), %.1f bytes (index "
        "structures counted)\n",
        static_cast<double>(eq_delta) / static_cast<double>(flags.indicators),
        static_cast<double>(eq_stats.index_bytes) / static_cast<double>(flags.indicators));
  }
  std::printf(
      "  stream: %zu observations (pool %zu) in %.2f s wall, %.2f s CPU = %.0f "
      "observations/s per CPU-second on one core (%.0f/s wall)\n",
      flags.observations, flags.pool, stream_seconds, stream_cpu,
      stream_cpu > 0 ? static_cast<double>(flags.observations) / stream_cpu : 0.0,
      stream_seconds > 0 ? static_cast<double>(flags.observations) / stream_seconds : 0.0);
  std::printf("  hits: %" PRIu64 " (%.3f%% of observations), confirmations %" PRIu64
              ", evaluation errors %" PRIu64 ", window observations %zu\n",
              total_hits,
              flags.observations ? 100.0 * static_cast<double>(total_hits) /
                                       static_cast<double>(flags.observations)
                                 : 0.0,
              after.confirmations, after.evaluation_errors, after.window_observations);
  std::printf("  nothing lost: %" PRIu64 " of %" PRIu64 " planted equality observations hit\n",
              planted_hit, planted_seen);
  return planted_hit == planted_seen ? 0 : 1;
}

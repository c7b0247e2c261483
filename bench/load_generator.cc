// load_generator: end-to-end load test of a TAXII 2.1 server (a Liaison hub or any other).
//
//   load_generator --url http://127.0.0.1:8080/api/ --collection ID --user U --password P
//                  [-n 100000] [-b 1000] [-c 4] [--page-size 1000] [--id-sample 1000]
//                  [--token lsk_...] [--seed S] [--json FILE]
//                  [--hub-pid PID]... [--db-pid PID]... [--read-clients R]
//
// --url may be given several times: the URLs of several nodes of one hub (same API root path, one
// database). Client t of the ingest, concurrent-read and match[id] phases then uses URL t mod the
// number of URLs (round-robin clients, as behind a load balancer); single-client reads go to the
// first.
//
// Phases, each timed:
//  1. ingest: N generated STIX 2.1 indicators (~500 bytes each, unique ids) POSTed in envelopes of
//     B objects by C concurrent keep-alive connections; every POST must answer 202 with a status
//     listing all of its objects as successes.
//  2. read: the whole collection paged with limit + next by one client (the nothing-lost check:
//     every posted id must come back exactly once), then by C concurrent clients.
//  3. filtered reads: match[type]=indicator paged through (all ours must come back),
//     match[type]=malware (none of ours may come back), and match[id] for a sample of ids.
// Prints objects/s, p50/p99 latencies, and the page latency at the start vs the end of the
// collection (paging cost must not grow with the collection). Exit status 0 when nothing was
// lost, 1 when verification failed, 2 on usage errors.
//
// Where the CPU goes (same machine only): per phase, the CPU seconds of the hub processes
// (--hub-pid, repeatable: every node), of the database (--db-pid, repeatable: the process and its
// children, e.g. a PostgreSQL postmaster and its backends), of the load generator itself, and how
// busy the whole machine was (/proc/stat). When the machine is busy throughout, throughput is
// bounded by CPU per object, not by the number of nodes.
//
// A benchmark tool, not a hub module: it links Boost.Beast and simdjson directly.

#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <sys/resource.h>

#include "proc_cpu.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr char kTaxiiMediaType[] = "application/taxii+json;version=2.1";

// ---------------------------------------------------------------------------------------------
// Options

struct Options {
  std::string url;                      // the first --url
  std::vector<std::string> extra_urls;  // further --url: other nodes of the same hub
  std::string collection;
  std::string user;
  std::string password;
  std::string token;
  size_t count = 100000;
  size_t batch = 1000;
  size_t clients = 4;
  size_t page_size = 1000;
  size_t id_sample = 1000;
  uint64_t seed = 0;  // 0: random
  std::string json_path;
  bool skip_concurrent_read = false;
  std::vector<long> hub_pids;  // report these processes' CPU time per phase (/proc/PID/stat)
  std::vector<long> db_pids;   // the same, each with its children (a postmaster's backends)
  size_t read_clients = 0;     // clients of the concurrent read phase; 0: -c
};

void PrintUsage() {
  std::cerr << "usage: load_generator --url http://HOST:PORT/API_ROOT/ [--collection ID]\n"
               "                      (--user U --password P | --token KEY)\n"
               "                      [-n N] [-b B] [-c C] [--page-size L] [--id-sample S]\n"
               "                      [--seed S] [--json FILE] [--no-concurrent-read]\n"
               "                      [--hub-pid PID]... [--db-pid PID]... [--read-clients R]\n"
               "  -n N            objects to post (default 100000)\n"
               "  -b B            objects per envelope (default 1000)\n"
               "  -c C            concurrent clients (default 4)\n"
               "  --page-size L   limit for paginated reads (default 1000)\n"
               "  --id-sample S   ids fetched with match[id] (default 1000)\n"
               "  --collection    collection id; default: the one with alias 'default'\n"
               "  --url URL       repeat for several nodes of one hub: clients round-robin\n"
               "  --json FILE     also write the figures as JSON\n"
               "  --hub-pid PID   report the hub's CPU seconds per phase (same machine only;\n"
               "                  repeat for every node)\n"
               "  --db-pid PID    report this process's and its children's CPU seconds per\n"
               "                  phase (a PostgreSQL postmaster: its backends)\n"
               "  --read-clients R  clients of the concurrent read phase (default: -c)\n";
}

std::optional<Options> ParseOptions(int argc, char** argv) {
  Options o;
  auto need = [&](int& i) -> const char* {
    if (i + 1 >= argc) {
      std::cerr << "load_generator: " << argv[i] << " needs a value\n";
      return nullptr;
    }
    return argv[++i];
  };
  auto number = [](const char* s, size_t& out) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(s, &end, 10);
    if (end == s || *end != '\0' || v == 0) return false;
    out = static_cast<size_t>(v);
    return true;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const char* v = nullptr;
    if (a == "-h" || a == "--help") {
      PrintUsage();
      std::exit(0);
    } else if (a == "--no-concurrent-read") {
      o.skip_concurrent_read = true;
      continue;
    }
    if (!(v = need(i))) return std::nullopt;
    bool ok = true;
    if (a == "--url") {
      if (o.url.empty()) {
        o.url = v;
      } else {
        o.extra_urls.push_back(v);
      }
    } else if (a == "--collection") {
      o.collection = v;
    } else if (a == "--user") {
      o.user = v;
    } else if (a == "--password") {
      o.password = v;
    } else if (a == "--token") {
      o.token = v;
    } else if (a == "-n") {
      ok = number(v, o.count);
    } else if (a == "-b") {
      ok = number(v, o.batch);
    } else if (a == "-c") {
      ok = number(v, o.clients);
    } else if (a == "--page-size") {
      ok = number(v, o.page_size);
    } else if (a == "--id-sample") {
      ok = number(v, o.id_sample);
    } else if (a == "--seed") {
      size_t s = 0;
      ok = number(v, s);
      o.seed = s;
    } else if (a == "--json") {
      o.json_path = v;
    } else if (a == "--hub-pid" || a == "--db-pid") {
      size_t pid = 0;
      ok = number(v, pid);
      (a == "--hub-pid" ? o.hub_pids : o.db_pids).push_back(static_cast<long>(pid));
    } else if (a == "--read-clients") {
      ok = number(v, o.read_clients);
    } else {
      std::cerr << "load_generator: unknown option " << a << "\n";
      return std::nullopt;
    }
    if (!ok) {
      std::cerr << "load_generator: " << a << " needs a positive integer, got '" << v << "'\n";
      return std::nullopt;
    }
  }
  if (o.url.empty() || (o.token.empty() && o.user.empty())) {
    PrintUsage();
    return std::nullopt;
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

std::string Base64(std::string_view in) {
  static constexpr char kTable[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kTable[n >> 18];
    out += kTable[(n >> 12) & 63];
    out += kTable[(n >> 6) & 63];
    out += kTable[n & 63];
  }
  if (i < in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) n |= uint8_t(in[i + 1]) << 8;
    out += kTable[n >> 18];
    out += kTable[(n >> 12) & 63];
    out += i + 1 < in.size() ? kTable[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

struct Url {
  std::string host;
  std::string port;
  std::string path;  // the API root path, ending in '/'
};

std::optional<Url> ParseUrl(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) {
    std::cerr << "load_generator: only http:// URLs are supported: " << url << "\n";
    return std::nullopt;
  }
  std::string rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  Url u;
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (u.path.back() != '/') u.path += '/';
  size_t colon = authority.rfind(':');
  if (colon == std::string::npos) {
    u.host = authority;
    u.port = "80";
  } else {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
  }
  if (u.host.empty() || u.port.empty()) return std::nullopt;
  return u;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t idx = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

using liaison::bench::ProcessCpuSeconds;

double Millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// CPU seconds of one process, and whether it does background work (PostgreSQL's autovacuum,
// checkpointer, writers, launchers) rather than serve clients' queries.
struct ProcCpu {
  double cpu = 0;
  bool background = false;
};
using CpuByPid = std::unordered_map<long, ProcCpu>;

bool IsBackgroundProcess(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* word : {"autovacuum", "checkpointer", "writer", "launcher", "archiver",
                           "startup", "logger", "stats"}) {
    if (cmd.find(word) != std::string::npos) return true;
  }
  return false;
}

// CPU seconds of every process whose parent is one of `parents` (one level: a postmaster's
// backends and background workers), by pid.
CpuByPid ChildrenCpuSeconds(const std::vector<long>& parents) {
  CpuByPid out;
  if (parents.empty()) return out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size()) continue;
    std::istringstream fields(stat.substr(paren + 2));
    std::string state;
    long ppid = 0;
    if (!(fields >> state >> ppid)) continue;
    if (std::find(parents.begin(), parents.end(), ppid) == parents.end()) continue;
    long pid = std::strtol(name.c_str(), nullptr, 10);
    double cpu = ProcessCpuSeconds(pid);
    if (cpu >= 0) out[pid] = ProcCpu{cpu, IsBackgroundProcess(pid)};
  }
  return out;
}

// Busy and total CPU seconds of the whole machine so far (/proc/stat), and the number of CPUs.
struct MachineCpu {
  double busy = 0, total = 0;
  int cpus = 0;
};

MachineCpu ReadMachineCpu() {
  MachineCpu m;
  std::ifstream in("/proc/stat");
  std::string line;
  long ticks = sysconf(_SC_CLK_TCK);
  while (std::getline(in, line)) {
    if (line.rfind("cpu ", 0) == 0) {
      std::istringstream fields(line.substr(4));
      unsigned long long v = 0, total = 0, idle = 0;
      for (int i = 0; fields >> v; ++i) {
        if (i >= 8) break;  // guest time is already counted in user time
        total += v;
        if (i == 3 || i == 4) idle += v;  // idle, iowait
      }
      if (ticks > 0) {
        m.total = static_cast<double>(total) / static_cast<double>(ticks);
        m.busy = static_cast<double>(total - idle) / static_cast<double>(ticks);
      }
    } else if (line.rfind("cpu", 0) == 0) {
      ++m.cpus;
    }
  }
  return m;
}

double SelfCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Where the CPU went during one phase. -1: not measured.
struct PhaseCpu {
  double wall_s = 0;
  double hub_s = -1, db_s = -1, lg_s = 0;
  double db_background_s = -1;  // of db_s: autovacuum, checkpointer, writers (not queries)
  double machine_busy = -1;     // fraction of all CPUs
  int cpus = 0;
};

// Samples at the start of a phase; Finish() at its end.
class CpuMeter {
 public:
  explicit CpuMeter(const Options& o) : o_(o) { Sample(hub_, db_, machine_, self_); }

  PhaseCpu Finish() {
    PhaseCpu out;
    out.wall_s = Seconds(Clock::now() - start_);
    CpuByPid hub, db;
    MachineCpu machine;
    double self = 0;
    Sample(hub, db, machine, self);
    out.lg_s = self - self_;
    if (!o_.hub_pids.empty()) out.hub_s = Delta(hub_, hub, false);
    if (!o_.db_pids.empty()) {
      out.db_s = Delta(db_, db, false);
      out.db_background_s = Delta(db_, db, true);
    }
    if (machine.total > machine_.total) {
      out.machine_busy = (machine.busy - machine_.busy) / (machine.total - machine_.total);
      out.cpus = machine.cpus;
    }
    return out;
  }

 private:
  void Sample(CpuByPid& hub, CpuByPid& db, MachineCpu& machine, double& self) {
    for (long pid : o_.hub_pids) {
      if (double c = ProcessCpuSeconds(pid); c >= 0) hub[pid] = ProcCpu{c, false};
    }
    db = ChildrenCpuSeconds(o_.db_pids);
    for (long pid : o_.db_pids) {  // the postmaster itself counts as background
      if (double c = ProcessCpuSeconds(pid); c >= 0) db[pid] = ProcCpu{c, true};
    }
    machine = ReadMachineCpu();
    self = SelfCpuSeconds();
  }

  // Processes that appeared during the phase count from zero; those that ended are lost.
  // `background_only`: only the background processes.
  static double Delta(const CpuByPid& before, const CpuByPid& after, bool background_only) {
    double sum = 0;
    for (const auto& [pid, p] : after) {
      if (background_only && !p.background) continue;
      auto it = before.find(pid);
      sum += std::max(0.0, p.cpu - (it == before.end() ? 0.0 : it->second.cpu));
    }
    return sum;
  }

  const Options& o_;
  Clock::time_point start_ = Clock::now();
  CpuByPid hub_, db_;
  MachineCpu machine_;
  double self_ = 0;
};

void PrintCpu(const PhaseCpu& c, size_t objects) {
  const double n = static_cast<double>(std::max<size_t>(objects, 1));
  std::printf("  cpu:");
  if (c.hub_s >= 0) std::printf(" hub %.2f s (%.1f us/object),", c.hub_s, c.hub_s * 1e6 / n);
  if (c.db_s >= 0) {
    std::printf(" database %.2f s (%.1f us/object; %.2f s of it background: autovacuum, writers),",
                c.db_s, c.db_s * 1e6 / n, c.db_background_s);
  }
  std::printf(" load generator %.2f s (%.1f us/object)", c.lg_s, c.lg_s * 1e6 / n);
  if (c.machine_busy >= 0) {
    std::printf("; machine %.0f%% busy (%d CPUs x %.2f s)", c.machine_busy * 100, c.cpus, c.wall_s);
  }
  std::printf("\n");
}

std::string JsonCpu(const PhaseCpu& c) {
  std::ostringstream s;
  s.precision(6);
  s << "{\"wall_s\":" << c.wall_s << ",\"hub_cpu_s\":" << c.hub_s << ",\"db_cpu_s\":" << c.db_s
    << ",\"db_background_cpu_s\":" << c.db_background_s << ",\"load_generator_cpu_s\":" << c.lg_s
    << ",\"machine_busy\":" << c.machine_busy << ",\"cpus\":" << c.cpus << "}";
  return s.str();
}

std::string StixNow() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Generated indicators

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed), now_(StixNow()) {}

  std::string NextUuid() {
    uint64_t hi = rng_(), lo = rng_();
    hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
    lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                  static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                  static_cast<unsigned>(lo >> 48),
                  static_cast<unsigned long long>(lo & 0xffffffffffffULL));
    return buf;
  }

  // A realistic STIX 2.1 indicator (about 500 bytes, minified).
  std::string Indicator(size_t n, std::string* id_out) {
    std::string id = "indicator--" + NextUuid();
    *id_out = id;
    unsigned ip = static_cast<unsigned>(rng_());
    char ipbuf[32];
    std::snprintf(ipbuf, sizeof ipbuf, "%u.%u.%u.%u", 1 + (ip >> 24) % 223, (ip >> 16) & 255,
                  (ip >> 8) & 255, 1 + (ip & 255) % 254);
    std::string s;
    s.reserve(640);
    s += R"({"type":"indicator","spec_version":"2.1","id":")";
    s += id;
    s += R"(","created_by_ref":"identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":")";
    s += now_;
    s += R"(","modified":")";
    s += now_;
    s += R"(","name":"C2 endpoint )";
    s += ipbuf;
    s += R"(","description":"C2 traffic from sample )";
    s += std::to_string(n);
    s += R"(.","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = ')";
    s += ipbuf;
    s += R"('] OR [domain-name:value = 'c2-)";
    s += std::to_string(n);
    s += R"(.example.net']","pattern_type":"stix","valid_from":")";
    s += now_;
    s += R"(","labels":["c2"],"confidence":75})";
    return s;
  }

 private:
  std::mt19937_64 rng_;
  std::string now_;
};

// ---------------------------------------------------------------------------------------------
// A synchronous keep-alive HTTP/1.1 client (one per thread)

struct HttpResult {
  int status = 0;
  std::string body;
  std::string date_added_first;
  std::string date_added_last;
};

class HttpClient {
 public:
  HttpClient(const Url& url, std::string authorization)
      : url_(url), authorization_(std::move(authorization)), stream_(ioc_) {}

  // Sends one request, reconnecting once if the kept-alive connection was closed.
  // Throws beast::system_error on network errors.
  HttpResult Request(http::verb method, const std::string& target, const std::string* body) {
    for (int attempt = 0;; ++attempt) {
      try {
        if (!connected_) Connect();
        return Exchange(method, target, body);
      } catch (const beast::system_error&) {
        connected_ = false;
        beast::error_code ignored;
        stream_.socket().close(ignored);
        if (attempt >= 2) throw;
      }
    }
  }

 private:
  void Connect() {
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(url_.host, url_.port);
    stream_.connect(results);
    stream_.socket().set_option(tcp::no_delay(true));
    connected_ = true;
  }

  HttpResult Exchange(http::verb method, const std::string& target, const std::string* body) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, url_.host + ":" + url_.port);
    req.set(http::field::accept, kTaxiiMediaType);
    req.set(http::field::authorization, authorization_);
    req.set(http::field::user_agent, "liaison-load-generator");
    req.keep_alive(true);
    if (body != nullptr) {
      req.set(http::field::content_type, kTaxiiMediaType);
      req.body() = *body;
    }
    req.prepare_payload();
    stream_.expires_after(std::chrono::seconds(300));
    http::write(stream_, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    parser.header_limit(1 << 20);
    http::read(stream_, buffer_, parser);
    auto& res = parser.get();
    HttpResult out;
    out.status = static_cast<int>(res.result_int());
    if (auto it = res.find("X-TAXII-Date-Added-First"); it != res.end()) {
      out.date_added_first = std::string(it->value());
    }
    if (auto it = res.find("X-TAXII-Date-Added-Last"); it != res.end()) {
      out.date_added_last = std::string(it->value());
    }
    if (!res.keep_alive()) {
      connected_ = false;
      beast::error_code ignored;
      stream_.socket().close(ignored);
    }
    out.body = std::move(res.body());
    return out;
  }

  Url url_;
  std::string authorization_;
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

// ---------------------------------------------------------------------------------------------
// The run

struct Page {
  std::vector<std::string> ids;
  bool more = false;
  std::string next;
};

// Parses a TAXII envelope: the ids of its objects, more, next. Returns false on bad JSON.
bool ParseEnvelope(simdjson::dom::parser& parser, const std::string& body, Page* page,
                   std::string* error) {
  simdjson::dom::element doc;
  auto err = parser.parse(body).get(doc);
  if (err) {
    *error = simdjson::error_message(err);
    return false;
  }
  page->ids.clear();
  page->more = false;
  page->next.clear();
  simdjson::dom::array objects;
  if (!doc["objects"].get_array().get(objects)) {
    for (simdjson::dom::element o : objects) {
      std::string_view id;
      if (!o["id"].get_string().get(id)) page->ids.emplace_back(id);
    }
  }
  bool more = false;
  if (!doc["more"].get_bool().get(more)) page->more = more;
  std::string_view next;
  if (!doc["next"].get_string().get(next)) page->next = std::string(next);
  return true;
}

struct Latencies {
  std::mutex mu;
  std::vector<double> ms;
  void Add(double v) {
    std::lock_guard<std::mutex> lock(mu);
    ms.push_back(v);
  }
};

struct ReadPass {
  size_t objects = 0;
  size_t pages = 0;
  double seconds = 0;
  std::vector<double> page_ms;                       // in page order
  std::unordered_map<std::string, uint32_t> counts;  // only when counting
  bool ok = true;
  std::string error;
};

// Pages through `base_query` (e.g. "" or "match[type]=indicator&") with limit/next.
ReadPass PageThrough(const Url& url, const std::string& auth, const std::string& objects_path,
                     const std::string& base_query, size_t page_size, bool count_ids) {
  ReadPass pass;
  HttpClient client(url, auth);
  simdjson::dom::parser parser;
  Page page;
  std::string next;
  auto start = Clock::now();
  for (;;) {
    std::string target = objects_path + "?" + base_query + "limit=" + std::to_string(page_size);
    if (!next.empty()) target += "&next=" + UrlEncode(next);
    auto t0 = Clock::now();
    HttpResult r;
    try {
      r = client.Request(http::verb::get, target, nullptr);
    } catch (const std::exception& e) {
      pass.ok = false;
      pass.error = std::string("GET failed: ") + e.what();
      break;
    }
    if (r.status != 200) {
      pass.ok = false;
      pass.error =
          "GET " + target + " answered " + std::to_string(r.status) + ": " + r.body.substr(0, 300);
      break;
    }
    std::string error;
    if (!ParseEnvelope(parser, r.body, &page, &error)) {
      pass.ok = false;
      pass.error = "bad envelope: " + error;
      break;
    }
    pass.page_ms.push_back(Millis(Clock::now() - t0));
    pass.pages++;
    pass.objects += page.ids.size();
    if (count_ids) {
      for (auto& id : page.ids) pass.counts[id]++;
    }
    if (!page.more) break;
    if (page.next.empty()) {
      pass.ok = false;
      pass.error = "more=true without next";
      break;
    }
    next = page.next;
  }
  pass.seconds = Seconds(Clock::now() - start);
  return pass;
}

struct Figures {
  double ingest_objects_per_s = 0;
  double ingest_seconds = 0;
  double ingest_hub_cpu_s = -1, read_hub_cpu_s = -1;  // -1: not measured
  double post_p50_ms = 0, post_p99_ms = 0;
  double read_objects_per_s = 0;
  double read_seconds = 0;
  double page_p50_ms = 0, page_p99_ms = 0;
  double concurrent_read_objects_per_s = 0;
  double page_start_p50_ms = 0, page_end_p50_ms = 0;
  double type_filter_objects_per_s = 0;
  double id_get_p50_ms = 0, id_get_p99_ms = 0;
  size_t posted = 0, read_back = 0, missing = 0, duplicated = 0, foreign = 0;
  size_t read_clients = 0;  // of the concurrent read phase
  // Where the CPU went, per phase; objects: how many the phase moved.
  std::vector<std::tuple<std::string, PhaseCpu, size_t>> cpu;
  bool ok = true;
};

std::string JsonFigures(const Options& o, const Figures& f) {
  std::ostringstream s;
  s.precision(6);
  s << "{\"n\":" << o.count << ",\"batch\":" << o.batch << ",\"clients\":" << o.clients
    << ",\"page_size\":" << o.page_size << ",\"ingest_objects_per_s\":" << f.ingest_objects_per_s
    << ",\"post_p50_ms\":" << f.post_p50_ms << ",\"post_p99_ms\":" << f.post_p99_ms
    << ",\"read_objects_per_s\":" << f.read_objects_per_s << ",\"page_p50_ms\":" << f.page_p50_ms
    << ",\"page_p99_ms\":" << f.page_p99_ms
    << ",\"concurrent_read_objects_per_s\":" << f.concurrent_read_objects_per_s
    << ",\"page_start_p50_ms\":" << f.page_start_p50_ms
    << ",\"page_end_p50_ms\":" << f.page_end_p50_ms
    << ",\"type_filter_objects_per_s\":" << f.type_filter_objects_per_s
    << ",\"id_get_p50_ms\":" << f.id_get_p50_ms << ",\"id_get_p99_ms\":" << f.id_get_p99_ms
    << ",\"posted\":" << f.posted << ",\"read_back\":" << f.read_back
    << ",\"missing\":" << f.missing << ",\"duplicated\":" << f.duplicated
    << ",\"ingest_hub_cpu_s\":" << f.ingest_hub_cpu_s << ",\"read_hub_cpu_s\":" << f.read_hub_cpu_s
    << ",\"read_clients\":" << f.read_clients << ",\"nodes\":" << 1 + o.extra_urls.size()
    << ",\"cpu\":{";
  bool first = true;
  for (const auto& [phase, cpu, objects] : f.cpu) {
    if (!first) s << ",";
    first = false;
    s << "\"" << phase << "\":" << JsonCpu(cpu);
  }
  s << "},\"ok\":" << (f.ok ? "true" : "false") << "}";
  return s.str();
}

// Finds the collection with alias "default" (or the first writable one).
std::optional<std::string> DiscoverCollection(const Url& url, const std::string& auth) {
  HttpClient client(url, auth);
  HttpResult r;
  try {
    r = client.Request(http::verb::get, url.path + "collections/", nullptr);
  } catch (const std::exception& e) {
    std::cerr << "load_generator: cannot reach " << url.host << ":" << url.port << ": " << e.what()
              << "\n";
    return std::nullopt;
  }
  if (r.status != 200) {
    std::cerr << "load_generator: GET collections/ answered " << r.status << ": " << r.body << "\n";
    return std::nullopt;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array cols;
  if (parser.parse(r.body).get(doc) || doc["collections"].get_array().get(cols)) {
    std::cerr << "load_generator: bad collections response\n";
    return std::nullopt;
  }
  std::optional<std::string> writable;
  for (simdjson::dom::element c : cols) {
    std::string_view id, alias;
    bool can_write = false;
    if (c["id"].get_string().get(id)) continue;
    if (!c["alias"].get_string().get(alias) && alias == "default") return std::string(id);
    if (!c["can_write"].get_bool().get(can_write) && can_write && !writable) {
      writable = std::string(id);
    }
  }
  if (!writable) std::cerr << "load_generator: no writable collection\n";
  return writable;
}

int Run(const Options& o) {
  auto url = ParseUrl(o.url);
  if (!url) return 2;
  // Every node: clients round-robin over them.
  std::vector<Url> nodes{*url};
  for (const std::string& extra : o.extra_urls) {
    auto u = ParseUrl(extra);
    if (!u) return 2;
    if (u->path != url->path) {
      std::cerr << "load_generator: every --url must name the same API root path\n";
      return 2;
    }
    nodes.push_back(*u);
  }
  if (nodes.size() > 1) std::printf("nodes: %zu (clients round-robin)\n", nodes.size());
  std::string auth =
      o.token.empty() ? "Basic " + Base64(o.user + ":" + o.password) : "Bearer " + o.token;
  std::string collection = o.collection;
  if (collection.empty()) {
    auto found = DiscoverCollection(*url, auth);
    if (!found) return 2;
    collection = *found;
  }
  const std::string objects_path = url->path + "collections/" + collection + "/objects/";
  uint64_t seed = o.seed ? o.seed : std::random_device{}() * 0x9e3779b97f4a7c15ULL + 1;

  // Generate everything up front so generation cost stays out of the timings.
  std::vector<std::string> bodies;
  std::vector<std::string> ids;
  ids.reserve(o.count);
  {
    Generator gen(seed);
    size_t batches = (o.count + o.batch - 1) / o.batch;
    bodies.reserve(batches);
    size_t bytes = 0;
    for (size_t b = 0; b < batches; ++b) {
      std::string body = "{\"objects\":[";
      size_t end = std::min(o.count, (b + 1) * o.batch);
      for (size_t i = b * o.batch; i < end; ++i) {
        if (i != b * o.batch) body += ',';
        std::string id;
        body += gen.Indicator(i, &id);
        ids.push_back(std::move(id));
      }
      body += "]}";
      bytes += body.size();
      bodies.push_back(std::move(body));
    }
    std::printf("generated %zu indicators (%.0f bytes each on average) in %zu envelopes\n", o.count,
                static_cast<double>(bytes) / static_cast<double>(o.count), batches);
  }

  Figures f;
  f.posted = o.count;

  // ---- 1. ingest
  {
    std::atomic<size_t> next_batch{0};
    std::atomic<bool> failed{false};
    Latencies lat;
    std::mutex err_mu;
    std::string first_error;
    CpuMeter meter(o);
    auto start = Clock::now();
    std::vector<std::thread> threads;
    for (size_t t = 0; t < o.clients; ++t) {
      threads.emplace_back([&, t] {
        HttpClient client(nodes[t % nodes.size()], auth);
        simdjson::dom::parser parser;
        for (;;) {
          size_t b = next_batch.fetch_add(1);
          if (b >= bodies.size() || failed) return;
          size_t expected = std::min(o.batch, o.count - b * o.batch);
          auto t0 = Clock::now();
          std::string error;
          try {
            HttpResult r = client.Request(http::verb::post, objects_path, &bodies[b]);
            lat.Add(Millis(Clock::now() - t0));
            simdjson::dom::element doc;
            int64_t successes = -1;
            std::string_view status;
            if (r.status != 202) {
              error = "POST answered " + std::to_string(r.status) + ": " + r.body.substr(0, 300);
            } else if (parser.parse(r.body).get(doc) ||
                       doc["success_count"].get_int64().get(successes) ||
                       doc["status"].get_string().get(status)) {
              error = "POST answered a bad status resource: " + r.body.substr(0, 300);
            } else if (status != "complete" || successes != static_cast<int64_t>(expected)) {
              error = "POST status " + std::string(status) + " with " + std::to_string(successes) +
                      " of " + std::to_string(expected) + " successes: " + r.body.substr(0, 300);
            }
          } catch (const std::exception& e) {
            error = std::string("POST failed: ") + e.what();
          }
          if (!error.empty()) {
            std::lock_guard<std::mutex> lock(err_mu);
            if (first_error.empty()) first_error = error;
            failed = true;
            return;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    if (failed) {
      std::fprintf(stderr, "load_generator: ingest failed: %s\n", first_error.c_str());
      return 1;
    }
    f.ingest_seconds = Seconds(Clock::now() - start);
    PhaseCpu cpu = meter.Finish();
    f.cpu.emplace_back("ingest", cpu, o.count);
    f.ingest_hub_cpu_s = cpu.hub_s;
    f.ingest_objects_per_s = static_cast<double>(o.count) / f.ingest_seconds;
    f.post_p50_ms = Percentile(lat.ms, 50);
    f.post_p99_ms = Percentile(lat.ms, 99);
    std::printf(
        "ingest: %zu objects in %.2f s = %.0f objects/s (%zu POSTs of %zu, %zu clients); "
        "POST latency p50 %.1f ms, p99 %.1f ms\n",
        o.count, f.ingest_seconds, f.ingest_objects_per_s, bodies.size(), o.batch, o.clients,
        f.post_p50_ms, f.post_p99_ms);
    if (f.ingest_hub_cpu_s > 0) {
      std::printf("  hub CPU: %.2f s = %.0f objects per hub-CPU-second (%.1f us per object)\n",
                  f.ingest_hub_cpu_s, static_cast<double>(o.count) / f.ingest_hub_cpu_s,
                  f.ingest_hub_cpu_s * 1e6 / static_cast<double>(o.count));
    }
    PrintCpu(cpu, o.count);
  }
  bodies.clear();
  bodies.shrink_to_fit();

  // ---- 2. paginated read, one client, with the nothing-lost check
  {
    CpuMeter meter(o);
    ReadPass pass = PageThrough(*url, auth, objects_path, "", o.page_size, true);
    PhaseCpu cpu = meter.Finish();
    f.cpu.emplace_back("read", cpu, pass.objects);
    f.read_hub_cpu_s = cpu.hub_s;
    if (!pass.ok) {
      std::fprintf(stderr, "load_generator: read failed: %s\n", pass.error.c_str());
      return 1;
    }
    f.read_seconds = pass.seconds;
    f.read_objects_per_s = static_cast<double>(pass.objects) / pass.seconds;
    f.page_p50_ms = Percentile(pass.page_ms, 50);
    f.page_p99_ms = Percentile(pass.page_ms, 99);
    size_t k = std::max<size_t>(1, std::min<size_t>(10, pass.page_ms.size() / 4));
    std::vector<double> head(pass.page_ms.begin(), pass.page_ms.begin() + k);
    std::vector<double> tail(pass.page_ms.end() - k, pass.page_ms.end());
    f.page_start_p50_ms = Percentile(head, 50);
    f.page_end_p50_ms = Percentile(tail, 50);
    std::unordered_set<std::string> mine(ids.begin(), ids.end());
    for (auto& [id, n] : pass.counts) {
      if (!mine.count(id)) {
        f.foreign += n;
        continue;
      }
      f.read_back++;
      if (n > 1) f.duplicated++;
    }
    f.missing = o.count - f.read_back;
    std::printf(
        "read (1 client, limit %zu): %zu objects in %zu pages, %.2f s = %.0f objects/s; page "
        "GET p50 %.1f ms, p99 %.1f ms\n",
        o.page_size, pass.objects, pass.pages, pass.seconds, f.read_objects_per_s, f.page_p50_ms,
        f.page_p99_ms);
    if (f.read_hub_cpu_s > 0) {
      std::printf("  hub CPU: %.2f s = %.0f objects per hub-CPU-second\n", f.read_hub_cpu_s,
                  static_cast<double>(pass.objects) / f.read_hub_cpu_s);
    }
    PrintCpu(cpu, pass.objects);
    std::printf("page latency: first %zu pages p50 %.1f ms, last %zu pages p50 %.1f ms\n", k,
                f.page_start_p50_ms, k, f.page_end_p50_ms);
    if (f.foreign)
      std::printf("  (%zu objects in the collection were not posted by this run)\n", f.foreign);
  }

  // ---- 2b. the same read by C concurrent clients
  const size_t read_clients = o.read_clients > 0 ? o.read_clients : o.clients;
  if (!o.skip_concurrent_read && read_clients > 1) {
    std::vector<ReadPass> passes(read_clients);
    CpuMeter meter(o);
    auto start = Clock::now();
    std::vector<std::thread> threads;
    for (size_t t = 0; t < read_clients; ++t) {
      threads.emplace_back([&, t] {
        passes[t] =
            PageThrough(nodes[t % nodes.size()], auth, objects_path, "", o.page_size, false);
      });
    }
    for (auto& t : threads) t.join();
    double secs = Seconds(Clock::now() - start);
    PhaseCpu cpu = meter.Finish();
    size_t total = 0;
    std::vector<double> all_ms;
    for (auto& p : passes) {
      if (!p.ok) {
        std::fprintf(stderr, "load_generator: concurrent read failed: %s\n", p.error.c_str());
        return 1;
      }
      total += p.objects;
      all_ms.insert(all_ms.end(), p.page_ms.begin(), p.page_ms.end());
    }
    f.concurrent_read_objects_per_s = static_cast<double>(total) / secs;
    f.read_clients = read_clients;
    f.cpu.emplace_back("concurrent_read", cpu, total);
    std::printf(
        "read (%zu clients, limit %zu): %zu objects in %.2f s = %.0f objects/s; page GET p50 "
        "%.1f ms, p99 %.1f ms\n",
        read_clients, o.page_size, total, secs, f.concurrent_read_objects_per_s,
        Percentile(all_ms, 50), Percentile(all_ms, 99));
    PrintCpu(cpu, total);
  }

  // ---- 3. filtered reads
  {
    CpuMeter meter(o);
    ReadPass pass =
        PageThrough(*url, auth, objects_path, "match[type]=indicator&", o.page_size, true);
    PhaseCpu cpu = meter.Finish();
    f.cpu.emplace_back("type_read", cpu, pass.objects);
    if (!pass.ok) {
      std::fprintf(stderr, "load_generator: match[type] read failed: %s\n", pass.error.c_str());
      return 1;
    }
    size_t found = 0;
    for (auto& id : ids) found += pass.counts.count(id);
    f.type_filter_objects_per_s = static_cast<double>(pass.objects) / pass.seconds;
    std::printf("match[type]=indicator: %zu objects in %.2f s = %.0f objects/s; %zu of %zu ours\n",
                pass.objects, pass.seconds, f.type_filter_objects_per_s, found, o.count);
    PrintCpu(cpu, pass.objects);
    if (found != o.count) {
      std::fprintf(stderr, "load_generator: match[type]=indicator missed %zu objects\n",
                   o.count - found);
      f.ok = false;
    }
    ReadPass none =
        PageThrough(*url, auth, objects_path, "match[type]=malware&", o.page_size, true);
    size_t wrong = 0;
    for (auto& id : ids) wrong += none.counts.count(id);
    if (!none.ok || wrong) {
      std::fprintf(stderr, "load_generator: match[type]=malware returned %zu indicators %s\n",
                   wrong, none.error.c_str());
      f.ok = false;
    }
  }
  {
    size_t sample = std::min(o.id_sample, ids.size());
    std::mt19937_64 rng(seed ^ 0x5555);
    std::vector<std::string> chosen;
    std::sample(ids.begin(), ids.end(), std::back_inserter(chosen), sample, rng);
    std::atomic<size_t> next{0};
    std::atomic<size_t> bad{0};
    Latencies lat;
    std::mutex err_mu;
    std::string first_error;
    std::vector<std::thread> threads;
    CpuMeter meter(o);
    auto start = Clock::now();
    for (size_t t = 0; t < o.clients; ++t) {
      threads.emplace_back([&, t] {
        HttpClient client(nodes[t % nodes.size()], auth);
        simdjson::dom::parser parser;
        Page page;
        for (size_t i; (i = next.fetch_add(1)) < chosen.size();) {
          auto t0 = Clock::now();
          std::string error;
          try {
            HttpResult r =
                client.Request(http::verb::get, objects_path + "?match[id]=" + chosen[i], nullptr);
            lat.Add(Millis(Clock::now() - t0));
            if (r.status != 200 || !ParseEnvelope(parser, r.body, &page, &error) ||
                page.ids.size() != 1 || page.ids[0] != chosen[i]) {
              error = "match[id]=" + chosen[i] + " answered " + std::to_string(r.status) + ": " +
                      r.body.substr(0, 200);
            }
          } catch (const std::exception& e) {
            error = e.what();
          }
          if (!error.empty()) {
            bad++;
            std::lock_guard<std::mutex> lock(err_mu);
            if (first_error.empty()) first_error = error;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    double secs = Seconds(Clock::now() - start);
    PhaseCpu cpu = meter.Finish();
    f.cpu.emplace_back("id_get", cpu, chosen.size());
    f.id_get_p50_ms = Percentile(lat.ms, 50);
    f.id_get_p99_ms = Percentile(lat.ms, 99);
    std::printf("match[id]: %zu GETs in %.2f s = %.0f GETs/s; p50 %.1f ms, p99 %.1f ms\n",
                chosen.size(), secs, static_cast<double>(chosen.size()) / secs, f.id_get_p50_ms,
                f.id_get_p99_ms);
    PrintCpu(cpu, chosen.size());  // per GET
    if (bad) {
      std::fprintf(stderr, "load_generator: %zu match[id] GETs wrong, e.g. %s\n", bad.load(),
                   first_error.c_str());
      f.ok = false;
    }
  }

  if (f.missing || f.duplicated) f.ok = false;
  std::printf("verify: posted %zu, read back %zu exactly once, missing %zu, duplicated %zu -> %s\n",
              f.posted, f.read_back - f.duplicated, f.missing, f.duplicated,
              f.ok ? "OK" : "FAILED");
  std::string json = JsonFigures(o, f);
  std::printf("RESULT %s\n", json.c_str());
  if (!o.json_path.empty()) {
    std::ofstream out(o.json_path);
    out << json << "\n";
    if (!out) std::fprintf(stderr, "load_generator: cannot write %s\n", o.json_path.c_str());
  }
  return f.ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  auto options = ParseOptions(argc, argv);
  if (!options) return 2;
  try {
    return Run(*options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "load_generator: %s\n", e.what());
    return 1;
  }
}

// federation_benchmark: hub-to-hub replication on loopback (issue 4, "Benchmark").
//
//   federation_benchmark [--liaison PATH] [--latency N] [--throughput N] [--backlog N] [-b B]
//                        [--json FILE]
//
// Starts two hubs (the liaison binary as child processes, fresh data directories in a temporary
// directory, ports picked by the kernel), makes them partners exactly as an operator would with
// the CLI (identity export, partner add on both sides, token exchange, a push channel from A's
// default collection to B), then measures:
//  (a) latency: N single-object publishes to A (one at a time, keep-alive connection), each timed
//      from the start of the POST until B announces the object on its event stream
//      (GET /liaison/v1/events, Server-Sent Events); p50/p90/p99/max, and the p50 of the publish
//      alone (until A answers);
//  (b) throughput: N objects published to A in envelopes of B objects, timed from the first POST
//      until B has announced every one of them; objects/s, plus A's own ingest rate;
//  (c) backlog: B is stopped, N objects are published to A, B is started again on the same
//      address and A is restarted (so its pusher resumes its persisted outbox at once rather than
//      after a random retry backoff); the replication of the backlog is timed from the first
//      object's arrival at B to the last one's (the wait before it is reported apart).
// Each phase also reports each hub's CPU time per object (/proc/PID/stat), which the machine's
// other load disturbs far less than the wall-clock rates.
// Both phases check that nothing was lost or duplicated (every id announced exactly once).
// Goals (issue 4): p50 < 5 ms, p99 < 50 ms, >= 10,000 objects/s. Exit status 0 when the run
// completed and nothing was lost (goals are reported, not enforced), 1 otherwise, 2 on usage
// errors.
//
// A benchmark tool, not a hub module: it links Boost.Beast and simdjson directly.

#include <fcntl.h>
#include <signal.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "proc_cpu.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr char kTaxiiMediaType[] = "application/taxii+json;version=2.1";
constexpr char kTlpGreen[] = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";

struct Options {
  std::string liaison;
  size_t latency_count = 10000;
  size_t throughput_count = 100000;
  size_t backlog_count = 100000;
  size_t batch = 1000;
  std::string json_path;
  double timeout_seconds = 120;  // for any single wait (a delivery, a phase's tail)
};

// Hub processes started by this run: stopped on failure too, so none outlives the benchmark.
std::vector<pid_t> g_hub_pids;

[[noreturn]] void Fail(const std::string& message) {
  std::cerr << "federation_benchmark: " << message << "\n";
  for (pid_t pid : g_hub_pids) {
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
  }
  std::exit(1);
}

void PrintUsage() {
  std::cerr << "usage: federation_benchmark [--liaison PATH] [--latency N] [--throughput N]\n"
               "                            [--backlog N]\n"
               "                            [-b B] [--json FILE] [--timeout SECONDS]\n"
               "  --liaison PATH  the liaison binary (default: $LIAISON_BIN, else\n"
               "                  ../src/cli/liaison next to this binary's directory)\n"
               "  --latency N     single-object publishes timed to visibility at B (10000;\n"
               "                  0 skips the phase)\n"
               "  --throughput N  objects replicated in big envelopes (100000; 0 skips)\n"
               "  --backlog N     objects published while B is down, then timed to B (100000;\n"
               "                  0 skips)\n"
               "  -b B            objects per envelope in the throughput and backlog phases\n"
               "                  (1000)\n"
               "  --json FILE     also write the figures as JSON\n";
}

std::optional<Options> ParseOptions(int argc, char** argv) {
  Options o;
  if (const char* env = std::getenv("LIAISON_BIN")) o.liaison = env;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      PrintUsage();
      std::exit(0);
    }
    if (i + 1 >= argc) {
      std::cerr << "federation_benchmark: " << a << " needs a value\n";
      return std::nullopt;
    }
    std::string v = argv[++i];
    auto count = [&](size_t& out, bool allow_zero) {
      char* end = nullptr;
      unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || (!allow_zero && n == 0)) {
        std::cerr << "federation_benchmark: " << a << " needs a number, got '" << v << "'\n";
        return false;
      }
      out = static_cast<size_t>(n);
      return true;
    };
    bool ok = true;
    if (a == "--liaison") {
      o.liaison = v;
    } else if (a == "--latency") {
      ok = count(o.latency_count, true);
    } else if (a == "--throughput") {
      ok = count(o.throughput_count, true);
    } else if (a == "--backlog") {
      ok = count(o.backlog_count, true);
    } else if (a == "-b") {
      ok = count(o.batch, false);
    } else if (a == "--json") {
      o.json_path = v;
    } else if (a == "--timeout") {
      size_t s = 0;
      ok = count(s, false);
      o.timeout_seconds = static_cast<double>(s);
    } else {
      std::cerr << "federation_benchmark: unknown option " << a << "\n";
      return std::nullopt;
    }
    if (!ok) return std::nullopt;
  }
  if (o.liaison.empty()) {
    // build/bench/federation_benchmark -> build/src/cli/liaison
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
      self[n] = '\0';
      std::string dir(self);
      dir = dir.substr(0, dir.rfind('/'));
      o.liaison = dir.substr(0, dir.rfind('/')) + "/src/cli/liaison";
    }
  }
  if (o.liaison.empty() || access(o.liaison.c_str(), X_OK) != 0) {
    std::cerr << "federation_benchmark: no liaison binary at '" << o.liaison
              << "' (use --liaison or LIAISON_BIN)\n";
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

// Random version-4 UUIDs for object ids (std::mt19937_64 seeded once; uniqueness is all we need).
class UuidGenerator {
 public:
  UuidGenerator() : rng_(std::random_device{}()) {}
  std::string Next() {
    uint64_t hi = rng_(), lo = rng_();
    hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
    lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                  static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                  static_cast<unsigned>(lo >> 48),
                  static_cast<unsigned long long>(lo & 0xffffffffffffULL));
    return buf;
  }

 private:
  std::mt19937_64 rng_;
};

// A GREEN indicator (so only the channel decides), ~450 bytes.
std::string IndicatorJson(const std::string& id, size_t n) {
  char pattern[64];
  std::snprintf(pattern, sizeof(pattern), "[ipv4-addr:value = '10.%zu.%zu.%zu']", (n >> 16) & 255,
                (n >> 8) & 255, n & 255);
  return std::string("{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"") + id +
         "\",\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\","
         "\"name\":\"federation benchmark indicator " +
         std::to_string(n) + "\",\"indicator_types\":[\"malicious-activity\"],\"pattern\":\"" +
         pattern +
         "\",\"pattern_type\":\"stix\",\"valid_from\":\"2026-01-01T00:00:00.000Z\","
         "\"object_marking_refs\":[\"" +
         kTlpGreen + "\"]}";
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t idx = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

// ---------------------------------------------------------------------------------------------
// Child processes

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a command to completion, feeding `input` on stdin; never throws.
CommandResult Run(const std::vector<std::string>& args, const std::string& input = "") {
  int in_pipe[2], out_pipe[2];
  if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0) Fail("pipe: " + std::string(strerror(errno)));
  pid_t pid = fork();
  if (pid < 0) Fail("fork: " + std::string(strerror(errno)));
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(out_pipe[1], 2);
    close(in_pipe[0]);
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(out_pipe[1]);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  // Inputs are a line or two: they fit the pipe buffer, so writing first cannot deadlock.
  if (!input.empty() && write(in_pipe[1], input.data(), input.size()) < 0) {
    // The child may have exited early; its output says why.
  }
  close(in_pipe[1]);
  CommandResult result;
  char buf[4096];
  ssize_t n;
  while ((n = read(out_pipe[0], buf, sizeof(buf))) > 0) result.output.append(buf, n);
  close(out_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

CommandResult RunOrDie(const std::vector<std::string>& args, const std::string& input = "") {
  CommandResult r = Run(args, input);
  if (r.exit_code != 0) {
    std::string line;
    for (const std::string& a : args) line += a + " ";
    Fail(line + "exited " + std::to_string(r.exit_code) + ":\n" + r.output);
  }
  return r;
}

std::string Capture(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(pattern)) || m.size() < 2) {
    Fail("expected /" + pattern + "/ in:\n" + text);
  }
  return m[1].str();
}

// ---------------------------------------------------------------------------------------------
// HTTP

class HttpClient {
 public:
  explicit HttpClient(int port) : port_(port), socket_(io_) {}

  // One request on the keep-alive connection (reconnects once when the server closed it).
  http::response<http::string_body> Request(http::verb method, const std::string& target,
                                            const std::string& auth, std::string body = "",
                                            const char* accept = kTaxiiMediaType) {
    for (int attempt = 0;; ++attempt) {
      try {
        if (!socket_.is_open()) {
          socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
          socket_.set_option(tcp::no_delay(true));
        }
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::accept, accept);
        if (!auth.empty()) req.set(http::field::authorization, auth);
        if (!body.empty()) {
          req.set(http::field::content_type, kTaxiiMediaType);
          req.body() = body;
        }
        req.keep_alive(true);
        req.prepare_payload();
        http::write(socket_, req);
        http::response_parser<http::string_body> parser;
        parser.body_limit(std::numeric_limits<std::uint64_t>::max());
        http::read(socket_, buffer_, parser);
        http::response<http::string_body> res = parser.release();
        if (!res.keep_alive()) {
          beast::error_code ignored;
          socket_.close(ignored);
        }
        return res;
      } catch (const beast::system_error& e) {
        beast::error_code ignored;
        socket_.close(ignored);
        buffer_.clear();
        if (attempt > 0) Fail("HTTP " + target + ": " + e.what());
      }
    }
  }

 private:
  int port_;
  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

// Reads GET /liaison/v1/events on its own thread and records when each object event arrives.
class EventWatcher {
 public:
  EventWatcher(int port, std::string auth) : port_(port), auth_(std::move(auth)), socket_(io_) {}
  ~EventWatcher() { Stop(); }

  // Resumes after `last_event_id` when given (the stream's Last-Event-ID).
  void Start(const std::string& last_event_id = "") {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    socket_.set_option(tcp::no_delay(true));
    http::request<http::empty_body> req{http::verb::get, "/liaison/v1/events", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::accept, "text/event-stream");
    req.set(http::field::authorization, auth_);
    if (!last_event_id.empty()) req.set("Last-Event-ID", last_event_id);
    http::write(socket_, req);
    parser_.body_limit(std::numeric_limits<std::uint64_t>::max());
    http::read_header(socket_, buffer_, parser_);
    if (parser_.get().result() != http::status::ok) {
      Fail("event stream answered " + std::to_string(parser_.get().result_int()));
    }
    // The parser keeps a reference to the callback: it is a member, so it outlives the parser.
    body_callback_ = [this](std::uint64_t, beast::string_view body, beast::error_code&) {
      Feed(std::string_view(body.data(), body.size()));
      return body.size();
    };
    parser_.on_chunk_body(body_callback_);
    thread_ = std::thread([this] {
      beast::error_code ec;
      while (!parser_.is_done() && !stopping_) {
        http::read_some(socket_, buffer_, parser_, ec);
        if (ec) break;
      }
      std::lock_guard<std::mutex> lock(mu_);
      ended_ = true;
      cv_.notify_all();
    });
  }

  void Stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    thread_.join();
    socket_.close(ignored);
  }

  // Waits until `id` has been announced; returns the arrival time (nullopt on timeout or when the
  // stream ended).
  std::optional<SteadyClock::time_point> WaitFor(const std::string& id, double timeout_seconds) {
    std::unique_lock<std::mutex> lock(mu_);
    auto deadline = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                             std::chrono::duration<double>(timeout_seconds));
    cv_.wait_until(lock, deadline, [&] { return arrived_.count(id) > 0 || ended_; });
    auto it = arrived_.find(id);
    if (it == arrived_.end()) return std::nullopt;
    return it->second;
  }

  // Waits until every id of `ids` has been announced; returns the last arrival (nullopt on
  // timeout).
  std::optional<SteadyClock::time_point> WaitForAll(const std::vector<std::string>& ids,
                                                    double timeout_seconds) {
    std::optional<SteadyClock::time_point> last;
    for (const std::string& id : ids) {
      std::optional<SteadyClock::time_point> t = WaitFor(id, timeout_seconds);
      if (!t) return std::nullopt;
      if (!last || *t > *last) last = t;
    }
    return last;
  }

  size_t duplicates() {
    std::lock_guard<std::mutex> lock(mu_);
    return duplicates_;
  }

  std::string last_event_id() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_event_id_;
  }

  // Arrival time of the earliest of `ids` (nullopt when none arrived).
  std::optional<SteadyClock::time_point> FirstOf(const std::vector<std::string>& ids) {
    std::lock_guard<std::mutex> lock(mu_);
    std::optional<SteadyClock::time_point> first;
    for (const std::string& id : ids) {
      auto it = arrived_.find(id);
      if (it != arrived_.end() && (!first || it->second < *first)) first = it->second;
    }
    return first;
  }

 private:
  // SSE framing: lines; an event ends at a blank line; only "event: object" data matters here.
  void Feed(std::string_view bytes) {
    pending_.append(bytes.data(), bytes.size());
    size_t start = 0;
    for (;;) {
      size_t nl = pending_.find('\n', start);
      if (nl == std::string::npos) break;
      std::string_view line(pending_.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      start = nl + 1;
      if (line.empty()) {
        if (event_ == "object") Record(data_);
        event_.clear();
        data_.clear();
      } else if (line.rfind("id:", 0) == 0) {
        std::lock_guard<std::mutex> lock(mu_);
        last_event_id_ = Trim(line.substr(3));
      } else if (line.rfind("event:", 0) == 0) {
        event_ = Trim(line.substr(6));
      } else if (line.rfind("data:", 0) == 0) {
        data_ += Trim(line.substr(5));
      }
    }
    pending_.erase(0, start);
  }

  static std::string Trim(std::string_view v) {
    if (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    return std::string(v);
  }

  void Record(const std::string& data) {
    // data: {"collection":"...","id":"<object id>",...}; "collection" cannot contain "id":"
    static constexpr std::string_view kKey = "\"id\":\"";
    size_t at = data.find(kKey);
    if (at == std::string::npos) return;
    at += kKey.size();
    size_t end = data.find('"', at);
    if (end == std::string::npos) return;
    auto now = SteadyClock::now();
    std::lock_guard<std::mutex> lock(mu_);
    if (!arrived_.emplace(data.substr(at, end - at), now).second) ++duplicates_;
    cv_.notify_all();
  }

  int port_;
  std::string auth_;
  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  http::response_parser<http::empty_body> parser_;
  std::function<std::size_t(std::uint64_t, beast::string_view, beast::error_code&)> body_callback_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::string pending_, event_, data_;  // reader thread only

  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, SteadyClock::time_point> arrived_;  // guarded by mu_
  size_t duplicates_ = 0;                                             // guarded by mu_
  bool ended_ = false;                                                // guarded by mu_
  std::string last_event_id_;                                         // guarded by mu_
};

// ---------------------------------------------------------------------------------------------
// Hubs

struct Hub {
  std::string name, data_dir, identity_file;
  std::string admin_password, pub_password;
  pid_t pid = -1;
  int port = 0;
  std::string identity_id, inbox, default_collection;

  std::string AdminAuth() const { return "Basic " + Base64("admin:" + admin_password); }
  std::string PubAuth() const { return "Basic " + Base64("pub:" + pub_password); }
  std::string ApiUrl() const { return "http://127.0.0.1:" + std::to_string(port) + "/api/"; }
};

void InitHub(const Options& o, Hub& hub, const std::string& org) {
  CommandResult r = RunOrDie({o.liaison, "init", "--data", hub.data_dir, "--org", org});
  hub.admin_password = Capture(r.output, "admin user 'admin' created with password: (\\S+)");
  hub.pub_password = "bench-" + UuidGenerator().Next();
  RunOrDie({o.liaison, "user", "add", "pub", "--role", "publisher", "--password-stdin", "--data",
            hub.data_dir},
           hub.pub_password + "\n");
}

// Starts `hub` on `port` (0: one the kernel picks).
void StartHub(const Options& o, Hub& hub, int port = 0) {
  int out_pipe[2];
  if (pipe(out_pipe) != 0) Fail("pipe failed");
  std::string log = hub.data_dir + ".stderr.log";
  pid_t pid = fork();
  if (pid < 0) Fail("fork failed");
  if (pid == 0) {
    int err = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    dup2(out_pipe[1], 1);
    if (err >= 0) dup2(err, 2);
    int null_in = open("/dev/null", O_RDONLY);
    if (null_in >= 0) dup2(null_in, 0);
    close(out_pipe[0]);
    close(out_pipe[1]);
    std::vector<std::string> args = {o.liaison,     "serve",    "--data",
                                     hub.data_dir,  "--listen", "127.0.0.1:" + std::to_string(port),
                                     "--log-level", "warn"};
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  hub.pid = pid;
  g_hub_pids.push_back(pid);
  std::string seen;
  char buf[512];
  ssize_t n;
  std::regex listening("listening on https?://[^\\s:]+:(\\d+)");
  while ((n = read(out_pipe[0], buf, sizeof(buf))) > 0) {
    seen.append(buf, n);
    std::smatch m;
    if (std::regex_search(seen, m, listening)) {
      hub.port = std::stoi(m[1].str());
      break;
    }
  }
  // Keep draining stdout in the background so the hub never blocks on a full pipe.
  std::thread([fd = out_pipe[0]] {
    char sink[4096];
    while (read(fd, sink, sizeof(sink)) > 0) {
    }
    close(fd);
  }).detach();
  if (hub.port == 0) {
    std::ifstream f(log);
    std::stringstream ss;
    ss << f.rdbuf();
    Fail("hub " + hub.name + " did not start; stdout: " + seen + "\nstderr:\n" + ss.str());
  }
}

void StopHub(Hub& hub) {
  if (hub.pid <= 0) return;
  kill(hub.pid, SIGTERM);
  int status = 0;
  waitpid(hub.pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::cerr << "federation_benchmark: hub " << hub.name << " exited with status " << status
              << " on SIGTERM (see " << hub.data_dir << ".stderr.log)\n";
  }
  g_hub_pids.erase(std::remove(g_hub_pids.begin(), g_hub_pids.end(), hub.pid), g_hub_pids.end());
  hub.pid = -1;
}

std::string CollectionByAlias(Hub& hub, const std::string& alias) {
  HttpClient client(hub.port);
  auto res = client.Request(http::verb::get, "/api/collections/", hub.AdminAuth());
  if (res.result() != http::status::ok) Fail("GET collections at " + hub.name + ": " + res.body());
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(res.body()).get(doc)) Fail("collections answer is not JSON");
  simdjson::dom::array cols;
  if (doc["collections"].get_array().get(cols)) Fail("no collections in " + res.body());
  for (simdjson::dom::element c : cols) {
    std::string_view a, id;
    if (!c["alias"].get_string().get(a) && a == alias && !c["id"].get_string().get(id)) {
      return std::string(id);
    }
  }
  Fail("no collection with alias '" + alias + "' at " + hub.name);
}

void ExportIdentity(const Options& o, Hub& hub) {
  hub.identity_file = hub.data_dir + ".identity.json";
  RunOrDie({o.liaison, "identity", "export", "--data", hub.data_dir, "--url", hub.ApiUrl(), "-o",
            hub.identity_file});
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view id;
  if (parser.load(hub.identity_file).get(doc) || doc["identity"]["id"].get_string().get(id)) {
    Fail("cannot read the identity file " + hub.identity_file);
  }
  hub.identity_id = std::string(id);
}

// The operator's steps: export identities, partner add on both sides, exchange tokens, channel.
void Partner(const Options& o, Hub& a, Hub& b) {
  ExportIdentity(o, a);
  ExportIdentity(o, b);
  const std::string token_re = "(lsk_[A-Za-z0-9_.\\-]+)";
  CommandResult r =
      RunOrDie({o.liaison, "partner", "add", "--data", a.data_dir, "--identity", b.identity_file});
  std::string token_b_at_a = Capture(r.output, token_re);
  r = RunOrDie({o.liaison, "partner", "add", "--data", b.data_dir, "--identity", a.identity_file,
                "--token", token_b_at_a});
  std::string token_a_at_b = Capture(r.output, token_re);
  RunOrDie({o.liaison, "partner", "set-token", b.identity_id, "--token", token_a_at_b, "--data",
            a.data_dir});
  RunOrDie({o.liaison, "channel", "add", "--data", a.data_dir, "--partner", b.identity_id,
            "--collection", a.default_collection, "--mode", "push", "--max-tlp", "red"});
}

std::string Envelope(const std::vector<std::string>& objects) {
  std::string out = "{\"objects\":[";
  for (size_t i = 0; i < objects.size(); ++i) {
    if (i) out += ',';
    out += objects[i];
  }
  return out + "]}";
}

// ---------------------------------------------------------------------------------------------

// Envelopes of `batch` indicators each, one per id; indicator i gets version offset `base + i`.
std::vector<std::string> Envelopes(const std::vector<std::string>& ids, size_t batch, size_t base) {
  std::vector<std::string> envelopes;
  for (size_t i = 0; i < ids.size(); i += batch) {
    std::vector<std::string> objs;
    for (size_t j = i; j < std::min(ids.size(), i + batch); ++j) {
      objs.push_back(IndicatorJson(ids[j], base + j));
    }
    envelopes.push_back(Envelope(objs));
  }
  return envelopes;
}

// CPU seconds a process has used so far (0 when it cannot be read).
double CpuSeconds(pid_t pid) { return std::max(0.0, liaison::bench::ProcessCpuSeconds(pid)); }

struct Figures {
  size_t latency_n = 0, latency_lost = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
  double ack_p50 = 0;  // publish request answered by A
  size_t throughput_n = 0, throughput_lost = 0, duplicates = 0;
  double ingest_seconds = 0, replicate_seconds = 0;
  double throughput_cpu_a_us = 0, throughput_cpu_b_us = 0;  // CPU per object, each hub
  size_t backlog_n = 0, backlog_lost = 0;
  double backlog_ingest_seconds = 0, backlog_wait_seconds = 0, backlog_drain_seconds = 0;
  double backlog_cpu_a_us = 0, backlog_cpu_b_us = 0;
};

int Main(const Options& o) {
  char tmpl[] = "/tmp/liaison-fedbench.XXXXXX";
  if (!mkdtemp(tmpl)) Fail("mkdtemp failed");
  std::string root = tmpl;
  Hub a, b;
  a.name = "A";
  a.data_dir = root + "/a";
  b.name = "B";
  b.data_dir = root + "/b";
  InitHub(o, a, "Benchmark Agency A");
  InitHub(o, b, "Benchmark Agency B");
  StartHub(o, a);
  StartHub(o, b);
  a.default_collection = CollectionByAlias(a, "default");
  b.inbox = CollectionByAlias(b, "inbox");
  Partner(o, a, b);
  std::cout << "hubs: A pid " << a.pid << " " << a.ApiUrl() << ", B pid " << b.pid << " "
            << b.ApiUrl() << " (data in " << root << ")\n";

  EventWatcher watcher(b.port, b.AdminAuth());
  watcher.Start();
  HttpClient publisher(a.port);
  UuidGenerator uuids;
  const std::string objects_path = "/api/collections/" + a.default_collection + "/objects/";
  Figures f;

  // Warm-up: the first delivery opens the pusher's connection.
  {
    std::string id = "indicator--" + uuids.Next();
    auto res = publisher.Request(http::verb::post, objects_path, a.PubAuth(),
                                 Envelope({IndicatorJson(id, 0)}));
    if (res.result() != http::status::accepted) Fail("publish answered " + res.body());
    if (!watcher.WaitFor(id, o.timeout_seconds)) Fail("warm-up object never reached B");
  }

  if (o.latency_count > 0) {
    std::vector<double> ms, ack_ms;
    ms.reserve(o.latency_count);
    ack_ms.reserve(o.latency_count);
    for (size_t i = 0; i < o.latency_count; ++i) {
      std::string id = "indicator--" + uuids.Next();
      std::string body = Envelope({IndicatorJson(id, i + 1)});
      auto start = SteadyClock::now();
      auto res = publisher.Request(http::verb::post, objects_path, a.PubAuth(), body);
      if (res.result() != http::status::accepted) Fail("publish answered " + res.body());
      ack_ms.push_back(
          std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count());
      std::optional<SteadyClock::time_point> at = watcher.WaitFor(id, o.timeout_seconds);
      if (!at) {
        ++f.latency_lost;
        continue;
      }
      ms.push_back(std::chrono::duration<double, std::milli>(*at - start).count());
    }
    f.latency_n = ms.size();
    f.p50 = Percentile(ms, 50);
    f.p90 = Percentile(ms, 90);
    f.p99 = Percentile(ms, 99);
    f.max = ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end());
    double sum = 0;
    for (double v : ms) sum += v;
    f.mean = ms.empty() ? 0 : sum / static_cast<double>(ms.size());
    f.ack_p50 = Percentile(ack_ms, 50);
    std::printf(
        "latency (publish at A -> announced at B), %zu single-object publishes:\n"
        "  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  mean %.2f ms  lost %zu\n"
        "  (of which the publish, until A's answer: p50 %.2f ms)\n"
        "  goals: p50 < 5 ms %s, p99 < 50 ms %s\n",
        f.latency_n, f.p50, f.p90, f.p99, f.max, f.mean, f.latency_lost, f.ack_p50,
        f.p50 < 5 ? "met" : "MISSED", f.p99 < 50 ? "met" : "MISSED");
    std::fflush(stdout);
  }

  if (o.throughput_count > 0) {
    std::vector<std::string> ids;
    ids.reserve(o.throughput_count);
    for (size_t i = 0; i < o.throughput_count; ++i) ids.push_back("indicator--" + uuids.Next());
    // Build the envelopes before the clock starts.
    std::vector<std::string> envelopes = Envelopes(ids, o.batch, 1000000);
    const double cpu_a0 = CpuSeconds(a.pid), cpu_b0 = CpuSeconds(b.pid);
    auto start = SteadyClock::now();
    for (const std::string& env : envelopes) {
      auto res = publisher.Request(http::verb::post, objects_path, a.PubAuth(), env);
      if (res.result() != http::status::accepted) Fail("publish answered " + res.body());
    }
    auto ingested = SteadyClock::now();
    std::optional<SteadyClock::time_point> last = watcher.WaitForAll(ids, o.timeout_seconds);
    f.throughput_cpu_a_us = 1e6 * (CpuSeconds(a.pid) - cpu_a0) / static_cast<double>(ids.size());
    f.throughput_cpu_b_us = 1e6 * (CpuSeconds(b.pid) - cpu_b0) / static_cast<double>(ids.size());
    if (!last) {
      for (const std::string& id : ids) {
        if (!watcher.WaitFor(id, 0)) ++f.throughput_lost;
      }
      last = SteadyClock::now();
    }
    f.throughput_n = ids.size();
    f.ingest_seconds = std::chrono::duration<double>(ingested - start).count();
    f.replicate_seconds = std::chrono::duration<double>(*last - start).count();
    std::printf(
        "throughput: %zu objects in envelopes of %zu\n"
        "  ingest at A %.2f s (%.0f objects/s); all at B after %.2f s: %.0f objects/s "
        "replicated  lost %zu\n"
        "  CPU per object: A %.0f us, B %.0f us\n"
        "  goal: >= 10,000 objects/s %s\n",
        f.throughput_n, o.batch, f.ingest_seconds,
        static_cast<double>(f.throughput_n) / std::max(f.ingest_seconds, 1e-9), f.replicate_seconds,
        static_cast<double>(f.throughput_n) / std::max(f.replicate_seconds, 1e-9),
        f.throughput_lost, f.throughput_cpu_a_us, f.throughput_cpu_b_us,
        static_cast<double>(f.throughput_n) / std::max(f.replicate_seconds, 1e-9) >= 10000
            ? "met"
            : "MISSED");
    std::fflush(stdout);
  }
  f.duplicates = watcher.duplicates();
  const std::string resume_after = watcher.last_event_id();
  watcher.Stop();

  if (o.backlog_count > 0) {
    // B goes down; A's people publish; B comes back on the same address, and A is restarted
    // (its pusher resumes the persisted outbox at once). The drain is timed from the first
    // object's arrival at B to the last one's; the wait before it is reported apart.
    const int b_port = b.port;
    StopHub(b);
    std::vector<std::string> ids;
    ids.reserve(o.backlog_count);
    for (size_t i = 0; i < o.backlog_count; ++i) ids.push_back("indicator--" + uuids.Next());
    std::vector<std::string> envelopes = Envelopes(ids, o.batch, 5000000);
    auto start = SteadyClock::now();
    for (const std::string& env : envelopes) {
      auto res = publisher.Request(http::verb::post, objects_path, a.PubAuth(), env);
      if (res.result() != http::status::accepted) Fail("publish answered " + res.body());
    }
    f.backlog_ingest_seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    // A is restarted too, so its pusher starts on the backlog at once instead of at the end of
    // a random backoff (up to a minute by then); the outbox it resumes from is on disk.
    const int a_port = a.port;
    StopHub(a);
    StartHub(o, b, b_port);
    EventWatcher again(b.port, b.AdminAuth());
    again.Start(resume_after);
    const double cpu_b0 = CpuSeconds(b.pid);
    StartHub(o, a, a_port);
    auto up = SteadyClock::now();
    const double cpu_a0 = 0;  // A's new process: all its CPU is this phase's
    std::optional<SteadyClock::time_point> last = again.WaitForAll(ids, o.timeout_seconds + 60);
    if (!last) {
      for (const std::string& id : ids) {
        if (!again.WaitFor(id, 0)) ++f.backlog_lost;
      }
      last = SteadyClock::now();
    }
    f.backlog_cpu_a_us = 1e6 * (CpuSeconds(a.pid) - cpu_a0) / static_cast<double>(ids.size());
    f.backlog_cpu_b_us = 1e6 * (CpuSeconds(b.pid) - cpu_b0) / static_cast<double>(ids.size());
    std::optional<SteadyClock::time_point> first = again.FirstOf(ids);
    f.backlog_n = ids.size();
    if (first) {
      f.backlog_wait_seconds = std::chrono::duration<double>(*first - up).count();
      f.backlog_drain_seconds = std::chrono::duration<double>(*last - *first).count();
    }
    f.duplicates += again.duplicates();
    again.Stop();
    const double rate = static_cast<double>(f.backlog_n) / std::max(f.backlog_drain_seconds, 1e-9);
    std::printf(
        "backlog: %zu objects published at A while B was down (%.2f s); B back, A restarted,\n"
        "  first object at B after %.2f s; drained in %.2f s: %.0f objects/s "
        "replicated  lost %zu\n"
        "  CPU per object: A %.0f us, B %.0f us\n"
        "  goal: >= 10,000 objects/s %s\n",
        f.backlog_n, f.backlog_ingest_seconds, f.backlog_wait_seconds, f.backlog_drain_seconds,
        rate, f.backlog_lost, f.backlog_cpu_a_us, f.backlog_cpu_b_us,
        rate >= 10000 ? "met" : "MISSED");
  }
  const size_t lost = f.latency_lost + f.throughput_lost + f.backlog_lost;
  std::printf("nothing-lost check: %s (lost %zu, announced twice %zu)\n",
              lost + f.duplicates == 0 ? "OK" : "FAILED", lost, f.duplicates);

  StopHub(a);
  StopHub(b);

  if (!o.json_path.empty()) {
    std::ofstream out(o.json_path);
    out << "{\"latency\":{\"n\":" << f.latency_n << ",\"lost\":" << f.latency_lost
        << ",\"p50_ms\":" << f.p50 << ",\"p90_ms\":" << f.p90 << ",\"p99_ms\":" << f.p99
        << ",\"max_ms\":" << f.max << ",\"mean_ms\":" << f.mean
        << ",\"publish_p50_ms\":" << f.ack_p50 << "},\"throughput\":{\"n\":" << f.throughput_n
        << ",\"batch\":" << o.batch << ",\"lost\":" << f.throughput_lost
        << ",\"ingest_s\":" << f.ingest_seconds << ",\"replicate_s\":" << f.replicate_seconds
        << ",\"objects_per_s\":"
        << (f.replicate_seconds > 0 ? static_cast<double>(f.throughput_n) / f.replicate_seconds : 0)
        << ",\"cpu_us_per_object_a\":" << f.throughput_cpu_a_us
        << ",\"cpu_us_per_object_b\":" << f.throughput_cpu_b_us
        << "},\"backlog\":{\"n\":" << f.backlog_n << ",\"lost\":" << f.backlog_lost
        << ",\"wait_s\":" << f.backlog_wait_seconds << ",\"drain_s\":" << f.backlog_drain_seconds
        << ",\"objects_per_s\":"
        << (f.backlog_drain_seconds > 0 ? static_cast<double>(f.backlog_n) / f.backlog_drain_seconds
                                        : 0)
        << ",\"cpu_us_per_object_a\":" << f.backlog_cpu_a_us
        << ",\"cpu_us_per_object_b\":" << f.backlog_cpu_b_us << "},\"duplicates\":" << f.duplicates
        << "}\n";
  }
  bool ok = f.latency_lost + f.throughput_lost + f.backlog_lost + f.duplicates == 0;
  if (ok) {
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  } else {
    std::cerr << "federation_benchmark: data kept in " << root << "\n";
  }
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Options> options = ParseOptions(argc, argv);
  if (!options) return 2;
  signal(SIGPIPE, SIG_IGN);
  return Main(*options);
}

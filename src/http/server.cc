#include "http/server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>

#include "common/log.h"
#include "http/status_mapping.h"

namespace liaison::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// How much of an unread request body we swallow after refusing it, so the client sees our answer
// instead of a connection reset (RFC 9112 section 9.6, "lingering close").
constexpr size_t kDrainBytes = 1024 * 1024;
constexpr std::chrono::seconds kDrainTimeout{2};
// Flat buffer bound: the header limit plus room for reads of the body and pipelined requests.
constexpr size_t kReadBufferExtra = 64 * 1024;

bool IsEqualIgnoreCase(std::string_view a, std::string_view b) { return beast::iequals(a, b); }

// What the request loop asks its caller to do with the connection when it ends.
enum class Ending {
  kGone,          // the peer closed or the connection failed: nothing more to send
  kClose,         // close cleanly
  kCloseDrained,  // a request body was left unread: shut down sending, swallow input, close
};

// A streamed response (Server-Sent Events) in progress. `pending` is set by the stream's wake
// callback from any thread; the rest is touched only on the connection's strand.
struct StreamState {
  std::atomic<bool> pending{false};     // a wake arrived since the last Poll
  asio::steady_timer* timer = nullptr;  // the wait between polls; null once the stream ended
  bool reading = false;                 // the watch read on the connection is in progress
  bool client_gone = false;             // the client closed the connection (or it failed)
  std::array<char, 512> scratch{};      // whatever the client sends meanwhile is dropped here
};

// Keeps one read pending on the connection while a stream is written, so that a client that goes
// away is noticed at once rather than at the next heartbeat. Bytes the client sends are dropped.
// The completion runs on the stream's executor (the connection's strand).
template <class Stream>
void WatchForClose(Stream& stream, std::shared_ptr<StreamState> state) {
  state->reading = true;
  StreamState* s = state.get();
  stream.async_read_some(
      asio::buffer(s->scratch),
      [&stream, state = std::move(state)](const boost::system::error_code& ec, size_t) mutable {
        if (!ec) {
          WatchForClose(stream, std::move(state));
          return;
        }
        state->reading = false;
        state->client_gone = true;
        if (state->timer != nullptr) state->timer->cancel();
      });
}

std::string LogPath(std::string_view target) {
  // Control characters cannot reach here (the parser rejects them), so only bound the length.
  constexpr size_t kMax = 256;
  if (target.size() <= kMax) return std::string(target);
  return std::string(target.substr(0, kMax)) + "...";
}

}  // namespace

class Server::Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(const ServerOptions& options, RequestHandler& handler)
      : options_(options),
        handler_(handler),
        threads_count_(
            options.threads > 0
                ? options.threads
                : std::max(4, 2 * static_cast<int>(std::thread::hardware_concurrency()))),
        ioc_(threads_count_),
        acceptor_(asio::make_strand(ioc_)) {}

  ~Listener() { Stop(); }

  Status Open();
  void Run();
  void Stop();

  uint16_t port() const { return bound_.port(); }
  std::string host() const { return bound_.address().to_string(); }
  bool tls() const { return ssl_.has_value(); }
  size_t open_connections() const { return open_.load(); }

 private:
  // A live connection, as Stop() sees it. `stream` and `idle` are touched only on the connection's
  // strand (`executor`); `stream` is null once the session has ended.
  struct Connection {
    asio::any_io_executor executor;
    beast::tcp_stream* stream = nullptr;
    bool idle = false;
    std::shared_ptr<StreamState> streaming;  // set while a streamed response is written
  };

  asio::awaitable<void> Accept();
  asio::awaitable<void> Session(tcp::socket socket);
  template <class Stream>
  asio::awaitable<Ending> Serve(Stream& stream, beast::tcp_stream& lowest, Connection& conn,
                                const std::string& client);
  template <class Stream>
  asio::awaitable<bool> Write(Stream& stream, beast::tcp_stream& lowest,
                              bhttp::response<bhttp::string_body>& response);
  template <class Stream>
  asio::awaitable<void> Drain(Stream& stream, beast::tcp_stream& lowest);
  // Writes a streamed response (taxii::Response::stream) until the stream ends, the client goes
  // away or the server stops; the connection is closed afterwards. Returns the bytes written
  // after the header, and whether the connection can still be shut down cleanly.
  template <class Stream>
  asio::awaitable<std::pair<size_t, bool>> WriteStream(Stream& stream, beast::tcp_stream& lowest,
                                                       Connection& conn, unsigned version,
                                                       taxii::Response response);
  bhttp::response<bhttp::string_body> MakeResponse(taxii::Response r, unsigned version,
                                                   bool keep_alive, bool head) const;
  void SessionEnded(const std::shared_ptr<Connection>& conn);
  void CancelConnections(bool idle_only);

  const ServerOptions options_;
  RequestHandler& handler_;
  const int threads_count_;

  asio::io_context ioc_;
  tcp::acceptor acceptor_;  // on its own strand
  tcp::endpoint bound_;
  std::optional<asio::ssl::context> ssl_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> open_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::shared_ptr<Connection>> connections_;  // guarded by mu_
  bool stopped_ = false;                               // guarded by mu_
};

Status Server::Listener::Open() {
  try {
    if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
      if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
        return InvalidArgumentError("TLS needs both a certificate file and a key file");
      }
      ssl_.emplace(asio::ssl::context::tls_server);
      ssl_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                        asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                        asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
      SSL_CTX_set_min_proto_version(ssl_->native_handle(), TLS1_2_VERSION);
      boost::system::error_code ec;
      ssl_->use_certificate_chain_file(options_.tls_cert_file, ec);
      if (ec) {
        return InvalidArgumentError("cannot load the TLS certificate " + options_.tls_cert_file +
                                    ": " + ec.message());
      }
      ssl_->use_private_key_file(options_.tls_key_file, asio::ssl::context::pem, ec);
      if (ec) {
        return InvalidArgumentError("cannot load the TLS key " + options_.tls_key_file + ": " +
                                    ec.message());
      }
      if (SSL_CTX_check_private_key(ssl_->native_handle()) != 1) {
        return InvalidArgumentError("the TLS key " + options_.tls_key_file +
                                    " does not match the certificate " + options_.tls_cert_file);
      }
    }

    boost::system::error_code ec;
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(options_.host, std::to_string(options_.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
      return InvalidArgumentError("cannot resolve listen address '" + options_.host +
                                  "': " + (ec ? ec.message() : "no address"));
    }
    tcp::endpoint endpoint = results.begin()->endpoint();
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return UnavailableError("cannot listen on " + options_.host + ":" +
                              std::to_string(options_.port) + ": " + ec.message());
    }
    bound_ = acceptor_.local_endpoint(ec);
    if (ec) return UnavailableError("cannot read the bound address: " + ec.message());
  } catch (const std::exception& e) {
    return InternalError(std::string("cannot start the HTTP server: ") + e.what());
  }
  return Status::Ok();
}

void Server::Listener::Run() {
  // The accept loop is spawned before the threads start so that run() has work and does not
  // return at once; the threads then run until every coroutine has finished (see Stop).
  auto self = shared_from_this();
  asio::co_spawn(acceptor_.get_executor(), Accept(), [self](std::exception_ptr e) {
    if (e) LOG_ERROR("HTTP accept loop ended by an exception");
  });
  threads_.reserve(threads_count_);
  for (int i = 0; i < threads_count_; ++i) {
    threads_.emplace_back([this] {
      for (;;) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {
          // Handlers do not throw; this is a last line of defence so one bad request cannot take
          // the process down.
          LOG_ERROR("HTTP worker caught an exception: {}", e.what());
        }
      }
    });
  }
}

asio::awaitable<void> Server::Listener::Accept() {
  auto self = shared_from_this();
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), kTuple);
    if (stopping_.load()) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      // E.g. EMFILE: wait a little instead of spinning.
      LOG_WARN("accept failed: {}", ec.message());
      asio::steady_timer timer(acceptor_.get_executor(), std::chrono::milliseconds(50));
      co_await timer.async_wait(kTuple);
      continue;
    }
    if (open_.load() >= options_.max_connections) {
      // Refuse beyond the bound: a plain client gets a short 503; TLS clients see the close.
      if (!ssl_) {
        static constexpr char kBusy[] =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\n"
            "Connection: close\r\n\r\n";
        boost::system::error_code wec;
        socket.non_blocking(true, wec);
        socket.write_some(asio::buffer(kBusy, sizeof kBusy - 1), wec);
      }
      boost::system::error_code cec;
      socket.close(cec);
      LOG_WARN("refused a connection: {} connections open (the limit)", options_.max_connections);
      continue;
    }
    ++open_;
    asio::any_io_executor executor = socket.get_executor();
    asio::co_spawn(executor, Session(std::move(socket)), [self](std::exception_ptr e) {
      if (e) LOG_ERROR("HTTP session ended by an exception");
    });
  }
}

void Server::Listener::SessionEnded(const std::shared_ptr<Connection>& conn) {
  conn->stream = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    connections_.erase(conn);
  }
  --open_;
  cv_.notify_all();
}

asio::awaitable<void> Server::Listener::Session(tcp::socket socket) {
  auto self = shared_from_this();
  auto conn = std::make_shared<Connection>();
  conn->executor = socket.get_executor();
  // Runs however the coroutine ends (normally, by exception, or destroyed unfinished).
  struct Guard {
    Listener* listener;
    std::shared_ptr<Connection> conn;
    ~Guard() { listener->SessionEnded(conn); }
  } guard{this, conn};

  boost::system::error_code ec;
  std::string client = socket.remote_endpoint(ec).address().to_string();
  if (ec) co_return;
  socket.set_option(tcp::no_delay(true), ec);

  {
    std::lock_guard<std::mutex> lock(mu_);
    connections_.insert(conn);
  }
  if (ssl_) {
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *ssl_);
    beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
    conn->stream = &lowest;
    conn->idle = true;
    if (stopping_.load()) co_return;
    lowest.expires_after(options_.header_timeout);
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
    conn->idle = false;
    if (hec) {
      LOG_DEBUG("TLS handshake with {} failed: {}", client, hec.message());
      co_return;
    }
    Ending ending = co_await Serve(stream, lowest, *conn, client);
    if (ending == Ending::kGone) co_return;
    if (ending == Ending::kCloseDrained) co_await Drain(stream, lowest);
    lowest.expires_after(kDrainTimeout);
    co_await stream.async_shutdown(kTuple);
  } else {
    beast::tcp_stream stream(std::move(socket));
    conn->stream = &stream;
    Ending ending = co_await Serve(stream, stream, *conn, client);
    if (ending == Ending::kGone) co_return;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ending == Ending::kCloseDrained) co_await Drain(stream, stream);
  }
}

template <class Stream>
asio::awaitable<void> Server::Listener::Drain(Stream& stream, beast::tcp_stream& lowest) {
  std::vector<char> sink(16 * 1024);
  size_t total = 0;
  lowest.expires_after(kDrainTimeout);
  while (total < kDrainBytes) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
    if (ec) break;
    total += n;
  }
}

template <class Stream>
asio::awaitable<bool> Server::Listener::Write(Stream& stream, beast::tcp_stream& lowest,
                                              bhttp::response<bhttp::string_body>& response) {
  lowest.expires_after(options_.write_timeout);
  auto [ec, n] = co_await bhttp::async_write(stream, response, kTuple);
  if (ec) LOG_DEBUG("write failed: {}", ec.message());
  co_return !ec;
}

bhttp::response<bhttp::string_body> Server::Listener::MakeResponse(taxii::Response r,
                                                                   unsigned version,
                                                                   bool keep_alive,
                                                                   bool head) const {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
  if (!r.body.empty() || !r.content_type.empty()) {
    res.set(bhttp::field::content_type, r.content_type);
  }
  for (auto& [name, value] : r.headers) res.insert(name, value);
  // Responses carry shared intelligence and are per-principal: never cache them anywhere.
  res.set(bhttp::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  const size_t size = r.body.size();
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive);
  if (head) {
    // RFC 9110 section 9.3.2: HEAD gets the GET headers (including the length), no content.
    res.content_length(size);
    res.body().clear();
  } else {
    res.prepare_payload();
  }
  return res;
}

template <class Stream>
asio::awaitable<Ending> Server::Listener::Serve(Stream& stream, beast::tcp_stream& lowest,
                                                Connection& conn, const std::string& client) {
  beast::flat_buffer buffer(options_.max_header_bytes + kReadBufferExtra);
  bool first = true;
  for (;;) {
    if (stopping_.load()) co_return Ending::kClose;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(options_.max_header_bytes));
    // No limit while reading the header: the limit depends on the handler's decision, and Beast
    // would otherwise fail an over-limit Content-Length as a header error.
    parser.body_limit(boost::none);
    lowest.expires_after(first || buffer.size() > 0 ? options_.header_timeout
                                                    : options_.idle_timeout);
    first = false;
    conn.idle = true;
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
    conn.idle = false;
    const auto started = std::chrono::steady_clock::now();

    auto send_error = [&](int http_status, std::string_view description, std::string_view method,
                          std::string_view target) -> asio::awaitable<bool> {
      auto res = MakeResponse(ErrorResponseWithHttpStatus(http_status, description), 11,
                              /*keep_alive=*/false, /*head=*/false);
      const size_t bytes = res.body().size();
      bool ok = co_await Write(stream, lowest, res);
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started)
                    .count();
      LOG_INFO("{} \"{} {}\" {} {}B {}ms user=-", client, method, LogPath(target), http_status,
               bytes, ms);
      co_return ok;
    };

    if (ec) {
      if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
          ec == asio::error::operation_aborted || ec == beast::error::timeout ||
          ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
          ec == asio::ssl::error::stream_truncated) {
        co_return Ending::kGone;
      }
      if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
        bool ok = co_await send_error(431, "the request header is too large", "-", "-");
        co_return ok ? Ending::kCloseDrained : Ending::kGone;
      }
      LOG_DEBUG("malformed request from {}: {}", client, ec.message());
      bool ok = co_await send_error(400, "malformed HTTP request", "-", "-");
      co_return ok ? Ending::kCloseDrained : Ending::kGone;
    }

    auto& req = parser.get();
    RequestHead head;
    head.method = std::string(req.method_string());
    head.target = std::string(req.target());
    head.client_address = client;
    head.tls = ssl_.has_value();
    if (auto it = req.find(bhttp::field::authorization); it != req.end()) {
      head.authorization = std::string(it->value());
    }
    for (auto range = req.equal_range(bhttp::field::accept); range.first != range.second;
         ++range.first) {
      if (!head.accept.empty()) head.accept += ", ";
      head.accept += std::string(range.first->value());
    }
    if (auto it = req.find(bhttp::field::content_type); it != req.end()) {
      head.content_type = std::string(it->value());
    }
    if (auto it = req.find(bhttp::field::host); it != req.end()) {
      head.host = std::string(it->value());
    }
    if (auto it = req.find("Last-Event-ID"); it != req.end()) {
      head.last_event_id = std::string(it->value());
    }
    if (auto length = parser.content_length()) head.content_length = *length;
    head.has_body = parser.chunked() || (head.content_length && *head.content_length > 0);
    const unsigned version = req.version();
    const bool is_head = req.method() == bhttp::verb::head;

    if (head.target.size() > options_.max_target_bytes) {
      bool ok = co_await send_error(414, "the request target is too long", head.method, "-");
      co_return ok ? Ending::kCloseDrained : Ending::kGone;
    }
    if (head.target.empty() || head.target.front() != '/') {
      // Only origin-form targets (RFC 9112 section 3.2.1); this is not a proxy.
      bool ok =
          co_await send_error(400, "the request target must be a path", head.method, head.target);
      co_return ok ? Ending::kCloseDrained : Ending::kGone;
    }

    std::string user = "-";
    auto finish = [&](taxii::Response response, bool keep_alive) -> asio::awaitable<bool> {
      const int status = response.status;
      auto res = MakeResponse(std::move(response), version, keep_alive, is_head);
      const size_t bytes = is_head ? 0 : res.body().size();
      bool ok = co_await Write(stream, lowest, res);
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started)
                    .count();
      LOG_INFO("{} \"{} {}\" {} {}B {}ms user={}", client, head.method, LogPath(head.target),
               status, bytes, ms, user);
      co_return ok;
    };

    Admission admission;
    try {
      admission = handler_.Admit(head);
    } catch (const std::exception& e) {
      LOG_ERROR("request handler threw while admitting {} {}: {}", head.method,
                LogPath(head.target), e.what());
      admission.reject = ErrorResponseWithHttpStatus(500, "internal error");
    }
    if (admission.principal.authenticated) user = admission.principal.user;
    if (admission.reject) {
      const bool keep = !head.has_body && req.keep_alive() && !stopping_.load();
      bool ok = co_await finish(std::move(*admission.reject), keep);
      if (!ok) co_return Ending::kGone;
      if (!keep) co_return head.has_body ? Ending::kCloseDrained : Ending::kClose;
      continue;
    }

    const uint64_t limit = std::min(admission.body_limit, options_.max_body_bytes);
    if (head.content_length && *head.content_length > limit) {
      bool ok = co_await finish(
          ErrorResponseWithHttpStatus(413, "the request body is larger than the " +
                                               std::to_string(limit) + " bytes allowed here"),
          false);
      co_return ok ? Ending::kCloseDrained : Ending::kGone;
    }
    if (!parser.is_done()) {
      parser.body_limit(limit);
      if (auto it = req.find(bhttp::field::expect); it != req.end()) {
        if (!IsEqualIgnoreCase(it->value(), "100-continue")) {
          bool ok = co_await finish(
              ErrorResponseWithHttpStatus(417, "only Expect: 100-continue is supported"), false);
          co_return ok ? Ending::kCloseDrained : Ending::kGone;
        }
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version};
        lowest.expires_after(options_.write_timeout);
        auto [cec, cn] = co_await bhttp::async_write(stream, cont, kTuple);
        if (cec) co_return Ending::kGone;
      }
      lowest.expires_after(options_.body_timeout);
      auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
      if (bec == bhttp::error::body_limit) {
        bool ok = co_await finish(
            ErrorResponseWithHttpStatus(413, "the request body is larger than the " +
                                                 std::to_string(limit) + " bytes allowed here"),
            false);
        co_return ok ? Ending::kCloseDrained : Ending::kGone;
      }
      if (bec) {
        if (bec == beast::error::timeout || bec == asio::error::eof ||
            bec == bhttp::error::partial_message || bec == asio::error::connection_reset ||
            bec == asio::error::operation_aborted) {
          LOG_DEBUG("reading a request body from {} failed: {}", client, bec.message());
          co_return Ending::kGone;
        }
        bool ok = co_await send_error(400, "malformed HTTP request body", head.method, head.target);
        co_return ok ? Ending::kCloseDrained : Ending::kGone;
      }
    }

    taxii::Response response;
    try {
      response = handler_.Handle(head, admission, std::move(req.body()));
    } catch (const std::exception& e) {
      LOG_ERROR("request handler threw on {} {}: {}", head.method, LogPath(head.target), e.what());
      response = ErrorResponseWithHttpStatus(500, "internal error");
    }
    if (response.stream != nullptr && !is_head) {
      const int status = response.status;
      auto [bytes, ok] = co_await WriteStream(stream, lowest, conn, version, std::move(response));
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started)
                    .count();
      LOG_INFO("{} \"{} {}\" {} {}B {}ms user={} (stream)", client, head.method,
               LogPath(head.target), status, bytes, ms, user);
      co_return ok ? Ending::kClose : Ending::kGone;
    }
    // HEAD of a streamed resource: the header alone.
    response.stream.reset();
    const bool keep = req.keep_alive() && !stopping_.load();
    if (!co_await finish(std::move(response), keep)) co_return Ending::kGone;
    if (!keep) co_return Ending::kClose;
  }
}

template <class Stream>
asio::awaitable<std::pair<size_t, bool>> Server::Listener::WriteStream(Stream& stream,
                                                                       beast::tcp_stream& lowest,
                                                                       Connection& conn,
                                                                       unsigned version,
                                                                       taxii::Response response) {
  std::shared_ptr<taxii::ResponseStream> events = std::move(response.stream);
  std::chrono::milliseconds heartbeat = options_.stream_heartbeat;
  if (const auto* h = dynamic_cast<const StreamHeartbeat*>(events.get())) {
    heartbeat = h->heartbeat();
  }
  heartbeat = std::max(heartbeat, std::chrono::milliseconds(1));

  auto state = std::make_shared<StreamState>();
  asio::steady_timer timer(conn.executor);
  state->timer = &timer;
  conn.streaming = state;
  // The wake may come from any thread (a store commit, a notifier): it marks the stream and
  // cancels the wait on the strand. A wake that comes before the wait starts is seen through
  // `pending`, which is checked on the strand before every wait, after the post was queued.
  std::weak_ptr<StreamState> weak = state;
  asio::any_io_executor executor = conn.executor;
  events->SetWake([weak, executor] {
    std::shared_ptr<StreamState> s = weak.lock();
    if (s == nullptr) return;
    s->pending.store(true);
    asio::post(executor, [weak] {
      std::shared_ptr<StreamState> live = weak.lock();
      if (live != nullptr && live->timer != nullptr) live->timer->cancel();
    });
  });

  // HTML "Server-sent events" (WHATWG, section 9.2): text/event-stream, never cached, never
  // stored; HTTP/1.1 chunked (RFC 9112 section 7.1). HTTP/1.0 clients get the body delimited by
  // the close of the connection.
  const bool chunked = version >= 11;
  bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(response.status), version};
  res.set(bhttp::field::content_type, response.content_type);
  for (auto& [name, value] : response.headers) res.insert(name, value);
  res.set(bhttp::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.keep_alive(false);
  if (chunked) res.chunked(true);
  bhttp::response_serializer<bhttp::empty_body> serializer{res};
  lowest.expires_after(options_.write_timeout);
  auto [hec, hn] = co_await bhttp::async_write_header(stream, serializer, kTuple);
  bool ok = !hec;
  size_t bytes = 0;
  auto last_write = std::chrono::steady_clock::now();

  auto write = [&](std::string_view data) -> asio::awaitable<bool> {
    // Only the write timer is set: the watch read stays without a deadline.
    lowest.expires_after(options_.write_timeout);
    boost::system::error_code ec;
    if (chunked) {
      std::tie(ec, std::ignore) =
          co_await asio::async_write(stream, bhttp::make_chunk(asio::buffer(data)), kTuple);
    } else {
      std::tie(ec, std::ignore) = co_await asio::async_write(stream, asio::buffer(data), kTuple);
    }
    if (ec) {
      LOG_DEBUG("stream write failed: {}", ec.message());
      co_return false;
    }
    bytes += data.size();
    last_write = std::chrono::steady_clock::now();
    co_return true;
  };

  if (ok) {
    lowest.expires_never();
    WatchForClose(stream, state);
  }
  std::string out;
  while (ok) {
    if (stopping_.load() || state->client_gone) break;
    state->pending.store(false);
    out.clear();
    bool more = false;
    try {
      more = events->Poll(out);
    } catch (const std::exception& e) {
      LOG_ERROR("event stream threw: {}", e.what());
      more = false;
    }
    if (!out.empty()) ok = co_await write(out);
    if (!ok || !more) break;
    if (!out.empty()) continue;  // there may be more ready: poll again at once
    if (state->pending.load() || stopping_.load() || state->client_gone) continue;
    // Nothing to send: wait for a wake, the heartbeat, the client's close or Stop().
    timer.expires_at(last_write + heartbeat);
    auto [wec] = co_await timer.async_wait(kTuple);
    if (!wec && !stopping_.load() && !state->client_gone &&
        std::chrono::steady_clock::now() >= last_write + heartbeat) {
      ok = co_await write(": keepalive\n\n");
    }
  }
  events->SetWake(nullptr);  // returns once no call of the old wake is in progress

  if (ok && !state->client_gone && chunked) {
    lowest.expires_after(options_.write_timeout);
    auto [lec, ln] = co_await asio::async_write(stream, bhttp::make_chunk_last(), kTuple);
    ok = !lec;
  }
  ok = ok && !state->client_gone;
  // End the watch read before the stream it reads from goes away.
  if (state->reading) {
    boost::system::error_code ec;
    lowest.socket().cancel(ec);
    while (state->reading) {
      timer.expires_after(kDrainTimeout);
      auto [wec] = co_await timer.async_wait(kTuple);
      if (!wec && state->reading) lowest.socket().close(ec);  // completes the read for sure
    }
  }
  ok = ok && lowest.socket().is_open();
  state->timer = nullptr;
  conn.streaming.reset();
  co_return std::make_pair(bytes, ok);
}

void Server::Listener::CancelConnections(bool idle_only) {
  std::vector<std::weak_ptr<Connection>> conns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& c : connections_) conns.push_back(c);
  }
  for (auto& weak : conns) {
    auto c = weak.lock();
    if (!c) continue;
    asio::post(c->executor, [weak, idle_only] {
      auto conn = weak.lock();
      if (conn == nullptr || conn->stream == nullptr) return;
      if (conn->streaming != nullptr) {
        // A stream ends at its next turn once `stopping_` is set: wake it from its wait. Only a
        // stream stuck writing to a slow client needs its socket cancelled.
        if (conn->streaming->timer != nullptr) conn->streaming->timer->cancel();
        if (!idle_only) conn->stream->cancel();
        return;
      }
      if (conn->idle || !idle_only) conn->stream->cancel();
    });
  }
}

void Server::Listener::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  stopping_.store(true);
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
  // Idle connections close now; busy ones finish their request (answered with Connection: close).
  CancelConnections(/*idle_only=*/true);
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, options_.shutdown_grace, [this] { return open_.load() == 0; });
  }
  if (open_.load() != 0) {
    LOG_WARN("{} connections still busy after {} ms; closing them", open_.load(),
             options_.shutdown_grace.count());
    CancelConnections(/*idle_only=*/false);
  }
  // With the acceptor closed and every session finished, run() returns by itself. A handler that
  // never returns would block here: handlers are bounded by the store's own timeouts.
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options,
                                              RequestHandler& handler) {
  auto listener = std::make_shared<Listener>(options, handler);
  RETURN_IF_ERROR(listener->Open());
  listener->Run();
  return std::unique_ptr<Server>(new Server(std::move(listener)));
}

Server::Server(std::shared_ptr<Listener> listener) : listener_(std::move(listener)) {}

Server::~Server() { Stop(); }

uint16_t Server::port() const { return listener_->port(); }
std::string Server::host() const { return listener_->host(); }
bool Server::tls() const { return listener_->tls(); }
size_t Server::open_connections() const { return listener_->open_connections(); }
void Server::Stop() { listener_->Stop(); }

}  // namespace liaison::http

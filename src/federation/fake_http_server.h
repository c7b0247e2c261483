#pragma once

// FakeHttpServer: a tiny HTTP/1.1 server on 127.0.0.1:0 for client tests (federation, cli
// publish). One connection at a time on its own thread; every request is recorded and answered by
// the handler. Test-only.

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace liaison::federation::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

using Req = http::request<http::string_body>;
using Res = http::response<http::string_body>;

// A tiny HTTP/1.1 server on 127.0.0.1:0 serving one connection at a time on its own thread.
class FakeHttpServer {
 public:
  struct Options {
    // Close the socket after every response although it promised keep-alive (a server dropping
    // an idle connection).
    bool drop_after_response = false;
    // Serve HTTPS with this PEM certificate and key (both set) instead of HTTP.
    std::string tls_cert_pem;
    std::string tls_key_pem;
  };

  explicit FakeHttpServer(std::function<Res(const Req&)> handler)
      : FakeHttpServer(handler, Options{}) {}
  FakeHttpServer(std::function<Res(const Req&)> handler, Options options)
      : handler_(std::move(handler)), options_(options), acceptor_(ioc_) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    if (!options_.tls_cert_pem.empty()) {
      ssl_ctx_.emplace(asio::ssl::context::tls_server);
      ssl_ctx_->use_certificate_chain(asio::buffer(options_.tls_cert_pem));
      ssl_ctx_->use_private_key(asio::buffer(options_.tls_key_pem), asio::ssl::context::pem);
    }
    thread_ = std::thread([this] { Loop(); });
  }

  ~FakeHttpServer() {
    stop_ = true;
    // Wake the blocking accept.
    asio::io_context ioc;
    tcp::socket s(ioc);
    boost::system::error_code ec;
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    s.close(ec);
    thread_.join();
  }

  uint16_t port() const { return port_; }
  std::string base() const {
    return std::string(ssl_ctx_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  }
  int connections() const { return connections_.load(); }
  std::vector<Req> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void Loop() {
    while (!stop_) {
      tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stop_) break;
      ++connections_;
      if (ssl_ctx_) {
        asio::ssl::stream<tcp::socket&> stream(socket, *ssl_ctx_);
        stream.handshake(asio::ssl::stream_base::server, ec);
        if (!ec) Serve(stream);
      } else {
        Serve(socket);
      }
      socket.shutdown(tcp::socket::shutdown_both, ec);
      socket.close(ec);
    }
  }

  template <typename Stream>
  void Serve(Stream& stream) {
    boost::system::error_code ec;
    {
      beast::flat_buffer buffer;
      for (;;) {
        Req req;
        http::read(stream, buffer, req, ec);
        if (ec) break;
        {
          std::lock_guard<std::mutex> lock(mu_);
          requests_.push_back(req);
        }
        Res res = handler_(req);
        res.version(11);
        res.keep_alive(res.keep_alive() && req.keep_alive());
        res.prepare_payload();
        http::write(stream, res, ec);
        if (ec || !res.keep_alive() || options_.drop_after_response) break;
      }
    }
  }

  std::function<Res(const Req&)> handler_;
  Options options_;
  asio::io_context ioc_;
  std::optional<asio::ssl::context> ssl_ctx_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::vector<Req> requests_;
};

// A response with the TAXII media type and keep-alive.
inline Res TaxiiJson(int status, std::string body) {
  Res res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, "application/taxii+json;version=2.1");
  res.keep_alive(true);
  res.body() = std::move(body);
  return res;
}

}  // namespace liaison::federation::testing

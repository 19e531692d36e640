#include "metadial/dashboard/server.h"

#include <httplib.h>

#include <sys/socket.h>

#include <atomic>
#include <utility>

#include "dashboard/assets.h"
#include "metadial/core/error.h"

namespace metadial::dashboard {

namespace {

const char* content_type(const std::string& path) {
  auto ends = [&](const char* ext) {
    const std::string e(ext);
    return path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
  };
  // Not text/javascript: httplib compresses every text/* answer, with brotli at its slowest quality
  // when the browser accepts it (Chromium does), which took seconds for Chart.js on a busy machine.
  // application/javascript with a charset is not on its list of types to compress.
  if (ends(".js")) return "application/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  return "text/html; charset=utf-8";
}

/// Headers of every answer: nothing is loaded from elsewhere, nothing is framed, types are not sniffed.
void secure(httplib::Response& res) {
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
                 "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
}

}  // namespace

struct Server::Impl {
  Impl(storage::Storage& storage, std::string label, ServerOptions o)
      : options(std::move(o)), api(storage, std::move(label), options.api) {}
  ServerOptions options;
  Api api;
  httplib::Server http;
  std::atomic<bool> stopped{false};
};

Server::Server(storage::Storage& storage, std::string storage_label, ServerOptions options)
    : impl_(std::make_unique<Impl>(storage, std::move(storage_label), std::move(options))) {
  auto& http = impl_->http;
  Api* api = &impl_->api;
  // httplib sets SO_REUSEPORT, with which a second server binds a port already listening and the two
  // share it; SO_REUSEADDR alone allows a restart on a port in TIME_WAIT but refuses a port in use.
  http.set_tcp_nodelay(true);
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  http.Get(R"(/api/[a-z]+)", [api](const httplib::Request& req, httplib::Response& res) {
    std::map<std::string, std::string> query;
    for (const auto& [k, v] : req.params) query.emplace(k, v);  // the first of repeated names
    const ApiResponse r = api->handle(req.path, query);
    res.status = r.status;
    secure(res);
    res.set_header("Cache-Control", "no-store");
    res.set_content(r.body, "application/json; charset=utf-8");
  });
  for (const auto& asset : detail::assets()) {
    const std::string path = asset.path;
    const std::string_view bytes = asset.bytes();
    std::string pattern;  // httplib matches a regular expression: the path, its dots escaped
    for (const char c : path) pattern += c == '.' ? std::string("\\.") : std::string(1, c);
    http.Get(pattern, [path, bytes](const httplib::Request&, httplib::Response& res) {
      secure(res);
      res.set_content(bytes.data(), bytes.size(), content_type(path));
    });
  }
  // Anything else (no file of the disk is ever served): 404.
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      secure(res);
      res.set_content("not found (the dashboard serves its page at / and its API at /api/...)\n",
                      "text/plain; charset=utf-8");
    }
  });
}

Server::~Server() { stop(); }

int Server::bind() {
  const auto& o = impl_->options;
  MD_CHECK(o.port >= 0 && o.port <= 65535, "--port ", o.port, " is not a TCP port (0 to 65535; 0 picks a free one)");
  int port = o.port;
  bool ok = false;
  if (o.port == 0) {
    port = impl_->http.bind_to_any_port(o.host);
    ok = port > 0;
  } else {
    ok = impl_->http.bind_to_port(o.host, o.port);
  }
  MD_CHECK(ok, "cannot listen on ", o.host, ":", o.port,
           ": the port is in use or the address is not one of this machine; pick another --port (0 = any free "
           "port) or --host");
  return port;
}

void Server::serve() {
  if (impl_->stopped) return;
  impl_->http.listen_after_bind();
}

void Server::warm() { impl_->api.handle("/api/studies", {}); }

bool Server::running() const { return impl_->http.is_running(); }

void Server::stop() {
  impl_->stopped = true;
  impl_->http.stop();
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace metadial::dashboard

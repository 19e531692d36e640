// The dashboard's HTTP server: the page and its script, style and chart library (compiled into the
// program, never read from disk), and the JSON API of api.h, served by cpp-httplib on a thread
// pool. Everything it answers is a GET; it never writes to the storage.
//
//   auto storage = storage::open_storage("sqlite:runs.db", storage::OpenMode::kReadOnly);
//   dashboard::Server server(*storage, "sqlite:runs.db", {.host = "127.0.0.1", .port = 8080});
//   int port = server.bind();   // InvalidArgument if the address cannot be bound (port in use)
//   server.serve();             // until stop() from another thread
#pragma once

#include <memory>
#include <string>

#include "metadial/dashboard/api.h"
#include "metadial/storage/storage.h"

namespace metadial::dashboard {

struct ServerOptions {
  std::string host = "127.0.0.1";  ///< the address to bind: loopback unless told otherwise
  int port = 8080;                 ///< 0: any free port (bind() says which)
  ApiOptions api;
};

class Server {
 public:
  Server(storage::Storage& storage, std::string storage_label, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds the address; returns the port. InvalidArgument naming host:port when it cannot be
  /// bound (in use, or an address of no interface of this machine).
  int bind();
  /// Reads every study's trials into the API's caches, so that the first page is drawn without
  /// waiting for a large study to be read (a study of 20,000 trials takes a few tenths of a second).
  void warm();
  /// Answers requests until stop(); bind() first.
  void serve();
  /// True while serve() answers requests.
  bool running() const;
  /// Makes serve() return (from any thread; also before serve() was called).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// True if `host` is a loopback address (127.x.x.x, ::1, localhost): other hosts are reachable from
/// the network, and `metadial dashboard` warns.
bool is_loopback(const std::string& host);

}  // namespace metadial::dashboard

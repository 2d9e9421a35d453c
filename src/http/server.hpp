#pragma once
// The HTTP/1.1 server: one io_context per thread, keep-alive, per-connection idle timeout, body
// limit, `Expect: 100-continue`, graceful stop. Each parsed request is handed to one callback
// (the API's dispatcher) on the connection's I/O thread, with the Reply that answers it (at once
// or later, from any thread). A connection reads its next request once the answer is written.
//
// Thread-safety: Start/Stop from one controlling thread; the callback is called concurrently from
// all I/O threads and must be safe for that.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "http/message.hpp"
#include "http/reply.hpp"

namespace horde::http {

struct ServerSettings {
    std::string bind_address = "0.0.0.0";
    uint16_t port = 7001;
    int threads = 2;
    uint64_t body_bytes_max = 32ull * 1024 * 1024;
    int idle_timeout_s = 60;
};

/// `handle` is called for every request; `transport_error` builds the answer to errors of the
/// transport itself (413 for oversized bodies, 400 for unparsable requests, 500 when a handler
/// throws or drops its Reply).
struct ServerCallbacks {
    std::function<void(Request&, Reply)> handle;
    std::function<Response(int status, const std::string& why)> transport_error;
};

class Server {
public:
    Server(ServerSettings settings, ServerCallbacks callbacks);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds and starts the I/O threads. Returns the bound port (useful with port 0).
    uint16_t Start();
    /// Stops accepting, lets in-flight requests (answered or not yet) finish for up to
    /// `grace_ms`, then stops.
    void Stop(int grace_ms = 2000);
    /// Blocks until SIGINT or SIGTERM.
    void WaitForSignal();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace horde::http

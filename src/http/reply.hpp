#pragma once
// Where the answer to one request goes. The server gives each request a Reply; the handler sends
// the response through it at once or later, from any thread (a handler that waits for a write
// to be stored answers from the commit's completion instead of holding an I/O thread).
//
// Copies share one target; the first Send wins and later ones are ignored. If every copy is
// dropped without a Send, the client gets a 500 rather than a connection that hangs.
//
// Thread-safety: Send and Post may be called from any thread; both run their work on the
// connection's I/O thread.

#include <functional>
#include <memory>
#include <utility>

#include "http/message.hpp"

namespace horde::http {

class Reply {
public:
    /// What the transport implements for one request.
    class Target {
    public:
        virtual ~Target() = default;
        /// Writes the response (called at most once).
        virtual void Deliver(Response response) = 0;
        /// Runs `fn` on the connection's I/O thread.
        virtual void Post(std::function<void()> fn) = 0;
    };

    explicit Reply(std::shared_ptr<Target> target) : target_(std::move(target)) {}

    void Send(Response response) const { target_->Deliver(std::move(response)); }
    void Post(std::function<void()> fn) const { target_->Post(std::move(fn)); }

private:
    std::shared_ptr<Target> target_;
};

}  // namespace horde::http

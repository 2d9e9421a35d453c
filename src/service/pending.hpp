#pragma once
// Pending<T>: the outcome of a service call whose answer waits for its writes to be stored.
// Either ready now (an error found before anything was written, or nothing to write), or a
// commit ticket plus what to do once the commit is done (`finish`, given the commit's status).
// The service resolves it by waiting (the blocking calls) or by continuing on the caller's
// thread when the writer is done (the *Then calls used by the HTTP handlers).
//
// Thread-safety: a plain value; `finish` runs once, on the thread that resolves it.

#include <functional>
#include <optional>
#include <utility>

#include "common/result.hpp"
#include "service/commit_queue.hpp"

namespace horde::service {

/// Runs a function on the thread that answers the caller (the connection's I/O thread).
using Resume = std::function<void(std::function<void()>)>;
/// Receives the outcome of a *Then call.
template <typename T>
using Done = std::function<void(Result<T>)>;

template <typename T>
struct Pending {
    Pending(Error error) : ready(std::move(error)) {}  // NOLINT(google-explicit-constructor)
    Pending(T value) : ready(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Pending(CommitQueue::Ticket t, std::function<Result<T>(const Status&)> then)
        : ticket(std::move(t)), finish(std::move(then)) {}

    std::optional<Result<T>> ready;  // set when there is nothing to wait for
    CommitQueue::Ticket ticket;
    std::function<Result<T>(const Status&)> finish;
};

}  // namespace horde::service

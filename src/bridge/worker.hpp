#pragma once
// The worker: N job threads that each pop a job from the horde, run it on the backend, upload
// the result and submit it; a health monitor that decides whether to pop at all; a periodic
// status line.
//
// Life of a job: pop (declaring models, limits and capabilities) -> run on the backend (bounded by
// the job's ttl) -> image: WebP, PUT to r2_upload (base64 in the submit if that fails) ->
// submit with state ok / censored / faulted, retried while the horde is unreachable until
// ttl + submit_grace -> one log line. A submit the horde answers with "does not exist", "already
// submitted" or "aborted" is dropped; other 4xx answers are logged and dropped.
//
// Shutdown: StopPopping() lets held jobs finish and be delivered; Abort() gives up on them
// (backend interrupted, jobs reported faulted).
//
// Thread-safety: the public methods are safe to call from any thread (typically main's signal
// loop). The Worker owns its threads; destroy it only after WaitFinished() or Abort().

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bridge/backend.hpp"
#include "bridge/health.hpp"
#include "bridge/horde_api.hpp"
#include "bridge/settings.hpp"
#include "common/clock.hpp"

namespace horde::bridge {

/// The body of a pop for this worker's settings and what its backend serves right now.
json::object BuildPopBody(const WorkerSettings& settings, const BackendState& state, JobKind kind);

/// The capability list an image worker declares (api-contract §9.5): what the backend can do,
/// minus what the settings disallow, plus samplers and post-processors by name.
std::vector<std::string> DeclaredCapabilities(const WorkerSettings& settings,
                                              const ImageFeatures& features);

/// True when `prompt` contains one of `words` as a whole word (case-insensitive).
bool PromptHasCensoredWord(std::string_view prompt, const std::vector<std::string>& words);

/// How a submit ended.
enum class SubmitStatus {
    kAccepted,  // the horde took it
    kDropped,   // the horde no longer wants it (unknown, already submitted, aborted)
    kRejected,  // another 4xx: the horde refused this body
    kGaveUp,    // unreachable until the job's keep-until time (or shutdown)
};

struct SubmitOutcome {
    SubmitStatus status = SubmitStatus::kGaveUp;
    double reward = 0;
    std::string detail;  // why, for the log
};

struct WorkerStats {
    int64_t jobs_ok = 0;
    int64_t jobs_censored = 0;
    int64_t jobs_faulted = 0;
    int64_t jobs_dropped = 0;
    double kudos = 0;
    int busy = 0;              // jobs in hand right now
    std::string last_skipped;  // the horde's skip reasons at the last empty pop
};

class Worker {
public:
    Worker(WorkerSettings settings, std::shared_ptr<Backend> backend, std::shared_ptr<HordeApi> api,
           const Clock& clock);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// Starts the health monitor, `threads` job threads and the status reporter.
    void Start();
    /// No more pops; jobs in hand finish and are delivered.
    void StopPopping();
    /// True once every job thread has ended; waits up to `timeout`.
    bool WaitFinished(std::chrono::milliseconds timeout);
    /// Gives up on jobs in hand: interrupts the backend, reports them faulted (one try each),
    /// and waits up to `timeout` for the job threads. True when they all ended.
    bool Abort(std::chrono::milliseconds timeout);

    WorkerStats Stats() const;
    std::string StatusLine() const;
    HealthMonitor& health() { return health_; }

private:
    struct HeldJob {
        std::string model;
        bool reported = false;  // submitted (or reported faulted by Abort)
    };
    /// When a popped job must be done (backend deadline) and given up (delivery deadline).
    struct JobTimes {
        TimePoint popped;
        TimePoint deadline;
        TimePoint keep_until;
    };

    void JobThread(int index);
    void StatusThread();
    /// Sleeps up to `d`; returns early (false) when popping stops.
    bool PauseUnlessStopping(std::chrono::milliseconds d);
    void HandlePopError(const std::string& problem, int failures);
    void LogHordeMessages(const json::object& pop);

    void RunJob(const json::object& pop, const BackendState& state);
    void RunTextJob(const json::object& pop, const BackendState& state, const JobTimes& times);
    void RunImageJob(const json::object& pop, const BackendState& state, const JobTimes& times);
    SubmitOutcome DeliverImage(const std::string& id, const std::string& upload_url,
                               const std::string& webp, const json::object& fields,
                               const JobTimes& times);
    SubmitOutcome Submit(JobKind kind, const json::object& body, const JobTimes& times);
    SubmitOutcome SubmitFault(JobKind kind, const std::string& id, const JobTimes& times);
    /// Fetches a source image or mask: a URL (downloaded) or base64 (decoded).
    Result<std::string> FetchSource(const std::string& value);

    void Hold(const std::vector<std::string>& ids, const std::string& model);
    void Release(const std::string& id);
    void Count(SubmitStatus status, bool faulted, bool censored, double reward);
    CancelToken TokenFor(TimePoint deadline) const;

    WorkerSettings settings_;
    JobKind kind_;
    std::shared_ptr<Backend> backend_;
    std::shared_ptr<HordeApi> api_;
    const Clock& clock_;
    HealthMonitor health_;

    std::shared_ptr<std::atomic<bool>> abort_;
    std::atomic<bool> stopping_{false};

    mutable std::mutex mu_;
    std::condition_variable cv_;           // StopPopping/Abort and thread exits
    int running_ = 0;                      // job threads alive; guarded by mu_
    std::map<std::string, HeldJob> held_;  // guarded by mu_
    WorkerStats stats_;                    // guarded by mu_
    std::set<std::string> seen_messages_;  // guarded by mu_
    std::string last_pop_problem_;         // guarded by mu_
    std::vector<std::thread> threads_;
    std::thread status_thread_;
};

}  // namespace horde::bridge

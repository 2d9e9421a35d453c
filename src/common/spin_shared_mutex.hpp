#pragma once
// A reader-writer lock that tries again for a few microseconds before it sleeps.
//
// std::shared_mutex (a pthread rwlock) puts a thread that finds the lock taken to sleep in the
// kernel at once. The service's lock is held for microseconds at a time (a pop's search, its
// claim), and with as many busy I/O threads as cores the core that the sleeper leaves often has
// nothing else to run: it idles until the release wakes the sleeper, and waking an idle core of a
// virtual machine takes tens of microseconds, longer than the wait itself (docs/benchmarks.md,
// session 10: 15 % of a core idle under pops, in ~70 us gaps after the I/O threads slept on the
// lock). SpinSharedMutex tries the lock again, with a pause between tries, for about
// kSpinMicros first, and sleeps only if it is still taken then (at once on a single core, where
// the holder cannot run while a waiter spins). It meets the standard's SharedMutex requirements
// (std::unique_lock, std::shared_lock).
//
// Thread-safety: as std::shared_mutex.
#include <chrono>
#include <shared_mutex>
#include <thread>

namespace horde {

class SpinSharedMutex {
public:
    /// How long a thread tries again before it sleeps.
    static constexpr std::chrono::microseconds kSpinMicros{40};

    void lock() {
        if (!Spin([this] { return m_.try_lock(); })) {
            m_.lock();
        }
    }
    bool try_lock() { return m_.try_lock(); }
    void unlock() { m_.unlock(); }

    void lock_shared() {
        if (!Spin([this] { return m_.try_lock_shared(); })) {
            m_.lock_shared();
        }
    }
    bool try_lock_shared() { return m_.try_lock_shared(); }
    void unlock_shared() { m_.unlock_shared(); }

private:
    static void Pause() {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
    }

    /// Calls `attempt` until it succeeds or kSpinMicros have passed; the clock is read only
    /// every few tries.
    template <class Attempt>
    static bool Spin(Attempt&& attempt) {
        if (attempt()) {
            return true;
        }
        static const bool several_cores = std::thread::hardware_concurrency() > 1;
        if (!several_cores) {
            return false;
        }
        const auto until = std::chrono::steady_clock::now() + kSpinMicros;
        for (;;) {
            for (int i = 0; i < 16; ++i) {
                for (int p = 0; p < 8; ++p) {
                    Pause();
                }
                if (attempt()) {
                    return true;
                }
            }
            if (std::chrono::steady_clock::now() >= until) {
                return false;
            }
        }
    }

    std::shared_mutex m_;
};

}  // namespace horde

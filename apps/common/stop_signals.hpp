// Signals as every app handles them: SIGINT or SIGTERM asks for a graceful stop, a second
// one ends the process at once; SIGUSR1 asks for the current figures on stderr.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

namespace conveyor::cli {

class stop_signals {
public:
    // Starts handling the signals, on a thread of their own, until destroyed; app names
    // the app in the line that acknowledges a stop.
    explicit stop_signals(const char* app);
    ~stop_signals();
    stop_signals(const stop_signals&) = delete;
    stop_signals& operator=(const stop_signals&) = delete;

    // Polled by the app's loop between messages; relaxed loads are enough, as a signal
    // only has to be noticed soon, and carries no data with it.
    bool stop_requested() const noexcept { return stop_.load(std::memory_order_relaxed) != 0; }
    // True once for each SIGUSR1 received.
    bool take_report_request() noexcept {
        return report_.load(std::memory_order_relaxed) &&
               report_.exchange(false, std::memory_order_relaxed);
    }
    // The signal that asked to stop (0 if none).
    int stop_signal() const noexcept { return stop_.load(std::memory_order_relaxed); }

    // How long a blocking call may wait before the loop looks at the flags again.
    static constexpr std::chrono::milliseconds poll_interval{100};

private:
    struct runner;
    std::atomic<int> stop_{0};
    std::atomic<bool> report_{false};
    std::unique_ptr<runner> runner_;
};

} // namespace conveyor::cli

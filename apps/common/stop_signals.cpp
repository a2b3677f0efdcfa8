#include "common/stop_signals.hpp"

#include <conveyor/signals.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <csignal>
#include <cstdlib>
#include <pthread.h>
#include <string>
#include <thread>
#include <unistd.h>

namespace conveyor::cli {

namespace {

sigset_t handled_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int signal : {SIGINT, SIGTERM, SIGUSR1})
        sigaddset(&set, signal);
    return set;
}

} // namespace

struct stop_signals::runner {
    boost::asio::io_context io{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{
        io.get_executor()};
    signal_handlers handlers{io};
    std::thread thread;
    sigset_t old_mask;
};

stop_signals::stop_signals(const char* app) : runner_(std::make_unique<runner>()) {
    // Runs on the handlers' thread only, one call at a time: it alone writes stop_.
    auto stop = [this, app](int signal) {
        // A second request means the user will not wait for the graceful path.
        if (stop_.load(std::memory_order_relaxed) != 0) std::_Exit(128 + signal);
        // write(2), not std::cerr: the app's thread may be writing to stderr right now. The
        // line goes out before the stop is published: the app prints its summary once it
        // sees the stop, and the two lines then never interleave.
        const std::string line = std::string(app) + ": signal " + std::to_string(signal) +
                                 ": stopping; send it again to stop at once\n";
        [[maybe_unused]] const auto ignored = ::write(STDERR_FILENO, line.data(), line.size());
        stop_.store(signal, std::memory_order_relaxed); // the write(2) has returned already
    };
    runner_->handlers.on(SIGINT, stop);
    runner_->handlers.on(SIGTERM, stop);
    runner_->handlers.on(SIGUSR1, [this](int) { report_.store(true); });
    // Only the handlers' thread takes these signals: the app's own system calls (reading
    // standard input, say) are then never cut short with EINTR by one of them.
    const sigset_t handled = handled_signals();
    pthread_sigmask(SIG_BLOCK, &handled, &runner_->old_mask);
    runner_->thread = std::thread([r = runner_.get(), handled] {
        pthread_sigmask(SIG_UNBLOCK, &handled, nullptr);
        r->io.run();
    });
}

stop_signals::~stop_signals() {
    runner_->io.stop();
    runner_->thread.join();
    pthread_sigmask(SIG_SETMASK, &runner_->old_mask, nullptr);
}

} // namespace conveyor::cli

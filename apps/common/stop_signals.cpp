#include "common/stop_signals.hpp"

#include <conveyor/signals.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>
#include <unistd.h>

namespace conveyor::cli {

struct stop_signals::runner {
    boost::asio::io_context io{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{
        io.get_executor()};
    signal_handlers handlers{io};
    std::thread thread;
};

stop_signals::stop_signals(const char* app) : runner_(std::make_unique<runner>()) {
    auto stop = [this, app](int signal) {
        int none = 0;
        // A second request means the user will not wait for the graceful path.
        if (!stop_.compare_exchange_strong(none, signal)) std::_Exit(128 + signal);
        // write(2), not std::cerr: the app's thread may be writing to stderr right now.
        const std::string line = std::string(app) + ": signal " + std::to_string(signal) +
                                 ": stopping; send it again to stop at once\n";
        [[maybe_unused]] const auto ignored = ::write(STDERR_FILENO, line.data(), line.size());
    };
    runner_->handlers.on(SIGINT, stop);
    runner_->handlers.on(SIGTERM, stop);
    runner_->handlers.on(SIGUSR1, [this](int) { report_.store(true); });
    runner_->thread = std::thread([r = runner_.get()] { r->io.run(); });
}

stop_signals::~stop_signals() {
    runner_->io.stop();
    runner_->thread.join();
}

} // namespace conveyor::cli

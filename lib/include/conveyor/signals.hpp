// Signals for conveyor's processes and services: send one to a peer, or attach handlers to
// an io_context (Boost.Asio signal_set), so that a signal is handled as ordinary work.
#pragma once

#include <functional>
#include <memory>
#include <sys/types.h>
#include <system_error>

namespace boost::asio {
class io_context;
}

namespace conveyor {

// kill(pid, signal), with an error naming the process and the cause ("no such process",
// "operation not permitted"). pid must be positive: no process groups by accident.
void notify(pid_t pid, int signal);
void notify(pid_t pid, int signal, std::error_code& ec);

// Handlers run on io (by whichever thread runs it), once per delivery, until this object
// is destroyed. While it lives, the signals it handles no longer take their default action.
class signal_handlers {
public:
    explicit signal_handlers(boost::asio::io_context& io);
    ~signal_handlers();
    signal_handlers(const signal_handlers&) = delete;
    signal_handlers& operator=(const signal_handlers&) = delete;

    // Calls handler(signal) each time signal arrives; one handler per signal.
    void on(int signal, std::function<void(int)> handler);
    void on(int signal, std::function<void(int)> handler, std::error_code& ec);

private:
    struct state;
    static void wait_next(const std::shared_ptr<state>& s);
    std::shared_ptr<state> state_;
};

} // namespace conveyor

// notify() and signal_handlers over Boost.Asio's signal_set.
#include "conveyor/signals.hpp"

#include "conveyor/error.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <cerrno>
#include <csignal>
#include <map>
#include <string>

namespace conveyor {

void notify(pid_t pid, int signal, std::error_code& ec) {
    ec.clear();
    if (pid <= 0) {
        ec = errc::invalid_argument; // 0 and negatives address process groups
        return;
    }
    if (::kill(pid, signal) != 0) ec = std::error_code(errno, std::system_category());
}

void notify(pid_t pid, int signal) {
    std::error_code ec;
    notify(pid, signal, ec);
    if (ec)
        throw_error(ec, "sending signal " + std::to_string(signal) + " to process " +
                            std::to_string(pid));
}

// Shared with the pending wait, so that a delivery racing destruction finds it alive.
struct signal_handlers::state {
    explicit state(boost::asio::io_context& io) : set(io) {}
    boost::asio::signal_set set;
    std::map<int, std::function<void(int)>> handlers;
    bool waiting = false;
};

signal_handlers::signal_handlers(boost::asio::io_context& io)
    : state_(std::make_shared<state>(io)) {}

signal_handlers::~signal_handlers() {
    boost::system::error_code ignored; // the set's own destructor would do no better
    state_->set.cancel(ignored);
    state_->set.clear(ignored);
}

void signal_handlers::on(int signal, std::function<void(int)> handler, std::error_code& ec) {
    ec.clear();
    boost::system::error_code e;
    state_->set.add(signal, e);
    if (e) {
        ec = std::error_code(e.value(), std::system_category());
        return;
    }
    state_->handlers[signal] = std::move(handler);
    if (!state_->waiting) wait_next(state_);
}

void signal_handlers::on(int signal, std::function<void(int)> handler) {
    std::error_code ec;
    on(signal, std::move(handler), ec);
    if (ec) throw_error(ec, "handling signal " + std::to_string(signal));
}

void signal_handlers::wait_next(const std::shared_ptr<state>& s) {
    s->waiting = true;
    s->set.async_wait([weak = std::weak_ptr(s)](const boost::system::error_code& e, int signal) {
        const auto s = weak.lock();
        if (!s) return;
        s->waiting = false;
        if (e) return; // cancelled: the handlers are being destroyed
        if (auto found = s->handlers.find(signal); found != s->handlers.end())
            found->second(signal);
        wait_next(s);
    });
}

} // namespace conveyor

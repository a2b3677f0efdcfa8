// The server skeleton: listeners on one io_context, a pool of threads to run it, and the
// registrations with rpcbind it removes as it stops.
#include "conveyor/rpc/server.hpp"

#include "conveyor/error.hpp"
#include "conveyor/rpc/client.hpp"
#include "conveyor/rpc/error.hpp"
#include "conveyor/rpc/rpcbind.hpp"
#include "listener.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <unistd.h>

namespace conveyor::rpc {
namespace {

namespace asio = boost::asio;

// How long one exchange with rpcbind, or one probe of the server a mapping names, may take.
constexpr auto rpcbind_timeout = std::chrono::seconds(5);
constexpr auto probe_timeout = std::chrono::milliseconds(500);

// io.run(), but a thread that finds no work looks again for busy before it sleeps.
void run_busy(asio::io_context& io, std::chrono::microseconds busy) {
    if (busy.count() <= 0) {
        io.run();
        return;
    }
    using clock = std::chrono::steady_clock;
    auto idle_since = clock::now();
    while (!io.stopped()) {
        if (io.poll() > 0) {
            idle_since = clock::now();
        } else if (clock::now() - idle_since >= busy) {
            io.run_one(); // sleeps until there is work
            idle_since = clock::now();
        }
    }
}

std::string hex(std::uint32_t value) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%x", value);
    return text;
}

// Whether the server at universal address uaddr over netid answers the NULL procedure of
// program, version: a mapping that outlived its server points at nobody, or at whoever
// took the port since.
bool answers(const std::string& uaddr, const std::string& netid, std::uint32_t program,
             std::uint32_t version) {
    std::string host;
    std::uint16_t port = 0;
    if (!rpcbind::split_universal_address(uaddr, host, port)) return false;
    if (host == "0.0.0.0") host = "127.0.0.1";
    if (host == "::") host = "::1";
    const bool v6 = host.find(':') != std::string::npos;
    const std::string scheme = netid.rfind("udp", 0) == 0 ? "udp://" : "tcp://";
    std::error_code ec;
    address to =
        address::parse(scheme + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port), ec);
    if (ec) return false;
    client probe(to);
    detail::reply_message reply;
    probe.call_raw({program, version, 0, "NULL"}, {}, probe_timeout, reply, ec);
    return !ec;
}

struct registration {
    std::uint32_t program;
    std::uint32_t version;
    std::string netid;
};

} // namespace

struct server::state {
    explicit state(const server_options& o) : options(o) {}

    // Declared before io, so destroyed after it: the handlers io still holds as it goes
    // (a responder in a timer's handler answers as it is destroyed) find them in place.
    server_options options;
    std::atomic<bool> serving{true};
    detail::dispatcher calls;
    detail::listener_context context{io, calls, options, serving};
    asio::io_context io;
    // Declared after io, so destroyed before it: sockets go while their io_context lives.
    std::mutex mutex; // guards what follows
    std::vector<std::unique_ptr<detail::listener>> listeners;
    std::vector<registration> registered;
    bool running = false;
    bool stopped = false;

    void unregister() {
        std::vector<registration> mine;
        {
            const std::lock_guard lock(mutex);
            mine.swap(registered);
        }
        for (const auto& r : mine) {
            std::error_code ec;
            std::string why;
            rpcbind::unset(r.program, r.version, r.netid, rpcbind_timeout, ec, &why);
            if (ec)
                std::fprintf(stderr, "conveyor rpc: cannot remove the rpcbind mapping of %s: %s\n",
                             hex(r.program).c_str(), why.c_str());
        }
    }

    // Stops every listener; the io_context does not run by now.
    void close_listeners() {
        serving.store(false, std::memory_order_release);
        std::vector<std::unique_ptr<detail::listener>> all;
        {
            const std::lock_guard lock(mutex);
            for (auto& l : listeners)
                l->stop();
        }
    }
};

server::server(const server_options& options) : state_(std::make_shared<state>(options)) {}

server::~server() {
    stop();
    state_->close_listeners();
    state_->unregister();
}

boost::asio::io_context& server::context() noexcept {
    return state_->io;
}

void server::add(const call_target& target, detail::handler_function handler) {
    state_->calls.add(target, std::move(handler));
}

std::string server::listen(std::string_view uri, std::error_code& ec, std::string* why) {
    std::string cause;
    const auto at = address::parse(uri, ec, &cause);
    std::unique_ptr<detail::listener> made;
    if (!ec) {
        switch (at.kind) {
        case transport::tcp:
            made = detail::make_tcp_listener(state_->context, at, ec, cause);
            break;
        case transport::udp:
            made = detail::make_udp_listener(state_->context, at, ec, cause);
            break;
        case transport::shm:
            made = detail::make_shm_listener(state_->context, at, ec, cause);
            break;
        case transport::rpcbind:
        case transport::local:
            ec = make_error_code(conveyor::errc::invalid_endpoint);
            cause = "a server listens on tcp://, udp:// or shm://";
            break;
        }
        if (ec) cause = std::string(uri) + ": " + cause;
    }
    if (ec) {
        if (why) *why = cause;
        return {};
    }
    auto served = made->uri();
    const std::lock_guard lock(state_->mutex);
    if (state_->running) made->start();
    state_->listeners.push_back(std::move(made));
    return served;
}

std::string server::listen(std::string_view uri) {
    std::error_code ec;
    std::string why;
    auto served = listen(uri, ec, &why);
    if (ec) throw error(ec, why);
    return served;
}

void server::register_with_rpcbind(std::error_code& ec, std::string* why) {
    ec.clear();
    std::vector<std::pair<std::string, std::string>> endpoints; // netid, universal address
    {
        const std::lock_guard lock(state_->mutex);
        for (const auto& l : state_->listeners)
            if (!l->netid().empty()) endpoints.emplace_back(l->netid(), l->universal_address());
    }
    for (const auto& [netid, uaddr] : endpoints) {
        for (const auto& [program, version] : state_->calls.programs()) {
            const std::string what = "program " + hex(program) + " version " +
                                     std::to_string(version) + " over " + netid;
            std::string cause;
            const auto existing =
                rpcbind::getaddr(program, version, netid, rpcbind_timeout, ec, &cause);
            if (ec) {
                if (why) *why = "cannot ask rpcbind about " + what + ": " + cause;
                return;
            }
            if (!existing.empty()) {
                if (answers(existing, netid, program, version)) {
                    ec = make_error_code(errc::already_registered);
                    if (why)
                        *why = "rpcbind maps " + what + " to " + existing +
                               ", a server that answers: it is not replaced";
                    return;
                }
                // A server that died without removing its mapping (SIGKILL) left it.
                rpcbind::unset(program, version, netid, rpcbind_timeout, ec, &cause);
                if (ec) {
                    if (why) *why = "cannot remove the stale mapping of " + what + ": " + cause;
                    return;
                }
            }
            rpcbind::mapping m{program, version, netid, uaddr, std::to_string(::getuid())};
            rpcbind::set(m, rpcbind_timeout, ec, &cause);
            if (ec) {
                if (why) *why = "cannot map " + what + " to " + uaddr + ": " + cause;
                return;
            }
            const std::lock_guard lock(state_->mutex);
            state_->registered.push_back({program, version, netid});
        }
    }
}

void server::register_with_rpcbind() {
    std::error_code ec;
    std::string why;
    register_with_rpcbind(ec, &why);
    if (ec) throw error(ec, why);
}

void server::run() {
    auto& s = *state_;
    {
        const std::lock_guard lock(s.mutex);
        if (s.stopped) return;
        s.running = true;
        for (auto& l : s.listeners)
            l->start();
    }
    const auto work = asio::make_work_guard(s.io);
    std::vector<std::thread> pool;
    for (std::size_t i = 1; i < s.options.threads; ++i)
        pool.emplace_back([&s] { run_busy(s.io, s.options.busy_poll); });
    run_busy(s.io, s.options.busy_poll);
    for (auto& t : pool)
        t.join();
    s.close_listeners();
    s.unregister();
}

void server::stop() {
    {
        const std::lock_guard lock(state_->mutex);
        state_->stopped = true;
    }
    state_->io.stop();
}

} // namespace conveyor::rpc

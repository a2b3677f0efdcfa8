// The RPC rows: see rpc_suite.hpp.
#include "rpc_suite.hpp"

#include "calc_service.hpp"
#include "echo_bench.hpp"
#include "onc_rpc_peer.hpp"

#include <conveyor/rpc/client.hpp>
#include <conveyor/rpc/server.hpp>
#include <conveyor/shm/segment.hpp>
#include <conveyor/signals.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <optional>
#include <ostream>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace conveyor::bench {
namespace {

constexpr std::size_t echo_size = 64;
constexpr unsigned in_flight = 16;
constexpr std::uint64_t warm_up_calls = 100;
constexpr auto call_timeout = std::chrono::seconds(10);
// A server that has not said where it listens by then is not coming.
constexpr int server_start_ms = 10'000;
// conveyor's tcp and udp are also tried with client and server polling this long before
// they sleep (client_options::busy_poll): a few round trips of a machine with awake cores.
constexpr std::chrono::microseconds busy_poll{50};

struct rpc_transport {
    std::string name;     // the row's transport
    std::string endpoint; // conveyor's, or "tcp"/"udp" for libtirpc's
    bool onc = false;
    std::vector<std::chrono::microseconds> busy_polls = {std::chrono::microseconds(0)};
};

const std::vector<rpc_transport>& transports() {
    static const std::vector<rpc_transport> all = {
        {"conveyor-rpc-shm", "shm://", false},
        {"conveyor-rpc-tcp", "tcp://127.0.0.1:0", false, {{}, busy_poll}},
        {"conveyor-rpc-udp", "udp://127.0.0.1:0", false, {{}, busy_poll}},
        {"onc-rpc-tcp", "tcp", true},
        {"onc-rpc-udp", "udp", true},
    };
    return all;
}

// A conveyor calc server in a child process; its URI comes back through a pipe.
pid_t start_conveyor_server(const std::string& endpoint, std::chrono::microseconds busy,
                            std::string& uri) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("rpc bench: pipe failed");
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("rpc bench: fork failed");
    if (pid == 0) {
        ::close(fds[0]);
        int status = 0;
        try {
            rpc::server_options options;
            options.busy_poll = busy;
            rpc::server server(options);
            calc::service calc;
            calc.serve_on(server);
            const auto served = server.listen(endpoint);
            signal_handlers signals(server.context());
            signals.on(SIGTERM, [&](int) { server.stop(); });
            [[maybe_unused]] const auto n = ::write(fds[1], served.data(), served.size());
            ::close(fds[1]);
            server.run();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "rpc bench server: %s\n", e.what());
            status = 1;
        }
        ::_exit(status);
    }
    ::close(fds[1]);
    char text[512];
    pollfd p{fds[0], POLLIN, 0};
    const auto n = ::poll(&p, 1, server_start_ms) == 1 ? ::read(fds[0], text, sizeof text) : -1;
    ::close(fds[0]);
    if (n <= 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        throw std::runtime_error("rpc bench: the server for " + endpoint + " did not start");
    }
    uri.assign(text, static_cast<std::size_t>(n));
    return pid;
}

void stop(pid_t pid) {
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
}

double percentile(std::vector<double> sorted, double p) {
    if (sorted.empty()) return 0;
    std::sort(sorted.begin(), sorted.end());
    return sorted[static_cast<std::size_t>(p * double(sorted.size() - 1))];
}

// One run of one transport: the one-at-a-time row and the 16-in-flight row.
std::pair<measurement, measurement> measure(const rpc_transport& t, std::chrono::microseconds busy,
                                            std::uint64_t calls, std::uint64_t calls_16) {
    measurement one, many;
    if (t.onc) {
        std::uint16_t port = 0;
        const pid_t server = start_onc_server(t.endpoint, port);
        const auto a = run_onc_echo(t.endpoint, port, calls, echo_size, 1, warm_up_calls);
        const auto b =
            run_onc_echo(t.endpoint, port, calls_16, echo_size, in_flight, warm_up_calls);
        stop(server);
        for (auto [r, m, n] : {std::tuple{&a, &one, calls}, std::tuple{&b, &many, calls_16}}) {
            m->verified = r->verified;
            m->failure = r->failure;
            if (!r->verified) continue;
            m->msgs_per_s = double(n) / r->seconds;
            m->rtt_p50_us = percentile(r->rtt_us, 0.50);
            m->rtt_p99_us = percentile(r->rtt_us, 0.99);
        }
        return {one, many};
    }
    std::string endpoint = t.endpoint;
    if (endpoint == "shm://") endpoint += "conveyor-bench-rpc-" + std::to_string(::getpid());
    std::string uri;
    const pid_t server = start_conveyor_server(endpoint, busy, uri);
    try {
        rpc::client_options options;
        options.busy_poll = busy;
        rpc::client c(uri, options);
        const std::uint32_t program = calc::program_v1::number;
        const std::uint32_t version = calc::program_v1::version;
        for (auto [m, n, k] :
             {std::tuple{&one, calls, 1u}, std::tuple{&many, calls_16, in_flight}}) {
            const auto f = calc::run_echo_bench(c, n, echo_size, k, call_timeout, program, version,
                                                warm_up_calls);
            m->verified = true;
            m->msgs_per_s = f.calls_per_s;
            m->rtt_p50_us = f.p50_us;
            m->rtt_p99_us = f.p99_us;
        }
    } catch (const std::exception& e) {
        one.verified = many.verified = false;
        one.failure = many.failure = e.what();
    }
    stop(server);
    return {one, many};
}

// Higher is better: the median round trip's inverse, or calls/s.
double score(const measurement& m, pattern kind) {
    if (!m.verified) return -1;
    if (kind == pattern::rpc_call) return m.rtt_p50_us && *m.rtt_p50_us > 0 ? 1 / *m.rtt_p50_us : 0;
    return m.msgs_per_s.value_or(0);
}

measurement median(std::vector<measurement> runs, pattern kind) {
    std::sort(runs.begin(), runs.end(), [kind](const measurement& a, const measurement& b) {
        return score(a, kind) < score(b, kind);
    });
    for (const auto& r : runs)
        if (!r.verified) return r;
    return runs[runs.size() / 2];
}

const row* find(const std::vector<row>& rows, const std::string& transport, pattern kind) {
    for (const auto& r : rows)
        if (r.transport == transport && r.kind == kind && r.result.verified) return &r;
    return nullptr;
}

} // namespace

std::vector<std::string> rpc_transport_names() {
    std::vector<std::string> names;
    for (const auto& t : transports())
        names.push_back(t.name);
    return names;
}

std::vector<row> run_rpc_suite(const suite_options& options,
                               const std::function<void(const std::string&, bool)>& progress) {
    std::vector<row> rows;
    const std::uint64_t calls = options.round_trips;
    const std::uint64_t calls_16 = 5 * options.round_trips;
    for (const auto& t : transports()) {
        if (!options.only.empty() &&
            std::find(options.only.begin(), options.only.end(), t.name) == options.only.end())
            continue;
        // Each setting's median; the row is the best of them, as for the other transports.
        std::optional<row> best[2];
        const auto settings = options.every_setting ? t.busy_polls.size() : 1;
        for (std::size_t setting = 0; setting < settings; ++setting) {
            const auto busy = t.busy_polls[setting];
            const std::string polling =
                busy.count() ? ", busy-poll " + std::to_string(busy.count()) + " us" : "";
            std::vector<measurement> ones, manys;
            for (int i = 0; i < options.repeats; ++i) {
                progress("[rpc] " + t.name + " 64 B ECHO" + polling + ", run " +
                             std::to_string(i + 1),
                         false);
                try {
                    auto [one, many] = measure(t, busy, calls, calls_16);
                    ones.push_back(one);
                    manys.push_back(many);
                } catch (const std::exception& e) {
                    measurement failed;
                    failed.failure = e.what();
                    ones.push_back(failed);
                    manys.push_back(failed);
                }
            }
            for (auto [kind, runs, at] : {std::tuple{pattern::rpc_call, &ones, 0},
                                          std::tuple{pattern::rpc_16, &manys, 1}}) {
                row r{t.name, kind, echo_size, median(*runs, kind),
                      (kind == pattern::rpc_call
                           ? "1 call at a time"
                           : (t.onc ? "16 threads, a CLIENT each" : "16 async calls, one client")) +
                          polling};
                if (!r.result.verified)
                    progress("FAILED " + t.name + " " + to_string(kind) + polling + ": " +
                                 r.result.failure,
                             true);
                // A setting that failed fails the row.
                if (!best[at] ||
                    (best[at]->result.verified &&
                     (!r.result.verified || score(r.result, kind) > score(best[at]->result, kind))))
                    best[at] = std::move(r);
            }
        }
        for (auto& r : best)
            rows.push_back(std::move(*r));
    }
    return rows;
}

void print_rpc_targets(std::ostream& out, const std::vector<row>& rows) {
    const auto* onc_tcp = find(rows, "onc-rpc-tcp", pattern::rpc_call);
    const auto* onc_udp = find(rows, "onc-rpc-udp", pattern::rpc_call);
    const auto* onc_tcp_16 = find(rows, "onc-rpc-tcp", pattern::rpc_16);
    const auto line = [&out](const char* what, double value, const char* target, bool met) {
        char text[200];
        std::snprintf(text, sizeof text, "  %-44s %8.2f  (target %s: %s)\n", what, value, target,
                      met ? "met" : "missed");
        out << text;
    };
    bool any = false;
    const auto header = [&] {
        if (!any) out << "\nRPC targets, 64 B ECHO, this run:\n";
        any = true;
    };
    if (const auto* shm = find(rows, "conveyor-rpc-shm", pattern::rpc_call); shm && onc_tcp) {
        header();
        const double ratio = *shm->result.rtt_p50_us / *onc_tcp->result.rtt_p50_us;
        line("p50 conveyor-rpc-shm / onc-rpc-tcp", ratio, "<= 0.10", ratio <= 0.10);
    }
    if (const auto* tcp = find(rows, "conveyor-rpc-tcp", pattern::rpc_call); tcp && onc_tcp) {
        header();
        const double ratio = *tcp->result.rtt_p50_us / *onc_tcp->result.rtt_p50_us;
        line("p50 conveyor-rpc-tcp / onc-rpc-tcp", ratio, "<= 1", ratio <= 1);
    }
    if (const auto* udp = find(rows, "conveyor-rpc-udp", pattern::rpc_call); udp && onc_udp) {
        header();
        const double ratio = *udp->result.rtt_p50_us / *onc_udp->result.rtt_p50_us;
        line("p50 conveyor-rpc-udp / onc-rpc-udp", ratio, "<= 1", ratio <= 1);
    }
    if (const auto* tcp = find(rows, "conveyor-rpc-tcp", pattern::rpc_16); tcp && onc_tcp_16) {
        header();
        const double ratio = *tcp->result.msgs_per_s / *onc_tcp_16->result.msgs_per_s;
        line("calls/s, 16 in flight, conveyor-rpc-tcp / onc", ratio, ">= 5", ratio >= 5);
    }
}

} // namespace conveyor::bench

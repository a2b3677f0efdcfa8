// The ONC RPC peer: see onc_rpc_peer.hpp.
#include "onc_rpc_peer.hpp"

#include "calc.h"     // rpcgen's, made from apps/calc/calc.x at build time
#include "calc_onc.h" // calc's procedures and a server loop for libtirpc

#include <arpa/inet.h>
#include <barrier>
#include <chrono>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <unistd.h>

namespace conveyor::bench {
namespace {

volatile int onc_stop = 0;

// Notes when the last thread reached the barrier: the clock's start.
struct start_clock {
    std::chrono::steady_clock::time_point* at;
    void operator()() noexcept { *at = std::chrono::steady_clock::now(); }
};
using start_barrier = std::barrier<start_clock>;

void on_sigterm(int) {
    onc_stop = 1;
}

void write_port(unsigned short port, void* fd) {
    [[maybe_unused]] const auto n = ::write(*static_cast<int*>(fd), &port, sizeof port);
}

// One thread's calls, each timed; false with why on a failed call or a wrong reply.
// After its warm-up calls, each thread waits at start for the others, so that the clock
// runs while all of them call.
bool echo_calls(const std::string& protocol, std::uint16_t port, std::uint64_t calls,
                std::size_t size, std::uint64_t warm_up, start_barrier& start,
                std::vector<double>& rtt_us, std::string& why) {
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(port);
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int sock = RPC_ANYSOCK;
    const timeval retry{1, 0};
    CLIENT* c = protocol == "udp" ? clntudp_create(&at, CALC_PROG, CALC_VERS, retry, &sock)
                                  : clnttcp_create(&at, CALC_PROG, CALC_VERS, &sock, 0, 0);
    if (!c) {
        why = clnt_spcreateerror("onc-rpc");
        start.arrive_and_drop();
        return false;
    }
    timeval timeout{10, 0};
    clnt_control(c, CLSET_TIMEOUT, reinterpret_cast<char*>(&timeout));
    std::vector<char> bytes(size);
    bool ok = true;
    for (std::uint64_t i = 0; i < warm_up + calls; ++i) {
        if (i == warm_up) start.arrive_and_wait();
        if (!ok) continue;
        std::memset(bytes.data(), static_cast<int>(i & 0xFF), size);
        calc_data in{static_cast<u_int>(size), bytes.data()};
        calc_data out{0, nullptr};
        const auto t0 = std::chrono::steady_clock::now();
        const auto status = echo_1(&in, &out, c);
        const auto took = std::chrono::steady_clock::now() - t0;
        if (status != RPC_SUCCESS) {
            why = clnt_sperror(c, "onc-rpc ECHO");
            ok = false;
        } else if (out.calc_data_len != size ||
                   std::memcmp(out.calc_data_val, bytes.data(), size)) {
            why = "onc-rpc ECHO: the reply differs from the call";
            ok = false;
        }
        xdr_free(reinterpret_cast<xdrproc_t>(reinterpret_cast<void (*)()>(xdr_calc_data)),
                 reinterpret_cast<char*>(&out));
        if (i >= warm_up) rtt_us.push_back(std::chrono::duration<double, std::micro>(took).count());
    }
    clnt_destroy(c);
    return ok;
}

} // namespace

pid_t start_onc_server(const std::string& protocol, std::uint16_t& port) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("onc-rpc: pipe failed");
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("onc-rpc: fork failed");
    if (pid == 0) {
        ::close(fds[0]);
        struct sigaction action {};
        action.sa_handler = on_sigterm;
        ::sigaction(SIGTERM, &action, nullptr);
        const int status = calc_onc_serve(protocol == "udp" ? IPPROTO_UDP : IPPROTO_TCP, CALC_PROG,
                                          0, write_port, &fds[1], &onc_stop);
        ::_exit(status == 0 ? 0 : 1);
    }
    ::close(fds[1]);
    unsigned short bound = 0;
    const auto n = ::read(fds[0], &bound, sizeof bound);
    ::close(fds[0]);
    if (n != sizeof bound) {
        ::kill(pid, SIGKILL);
        throw std::runtime_error("onc-rpc: the " + protocol + " server did not start");
    }
    port = bound;
    return pid;
}

onc_echo_result run_onc_echo(const std::string& protocol, std::uint16_t port, std::uint64_t calls,
                             std::size_t size, unsigned threads, std::uint64_t warm_up) {
    onc_echo_result result;
    std::vector<std::vector<double>> rtts(threads);
    std::vector<std::string> why(threads);
    std::vector<char> ok(threads, 0);
    // The clock starts when the last thread finished its warm-up.
    std::chrono::steady_clock::time_point began;
    start_barrier start(static_cast<std::ptrdiff_t>(threads), start_clock{&began});
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            const std::uint64_t mine = calls / threads + (t < calls % threads ? 1 : 0);
            rtts[t].reserve(mine);
            ok[t] = echo_calls(protocol, port, mine, size, warm_up, start, rtts[t], why[t]);
        });
    for (auto& t : pool)
        t.join();
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    result.verified = true;
    for (unsigned t = 0; t < threads; ++t) {
        result.rtt_us.insert(result.rtt_us.end(), rtts[t].begin(), rtts[t].end());
        if (!ok[t]) {
            result.verified = false;
            result.failure = why[t];
        }
    }
    return result;
}

} // namespace conveyor::bench

// libtirpc with rpcgen's stubs for calc.x: the ONC RPC peer of the RPC rows. Its own file,
// since rpcgen's header defines ADD, ECHO, COUNT and SLEEP as macros.
#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace conveyor::bench {

// Forks calc served by libtirpc on 127.0.0.1 over "tcp" or "udp"; its port in *port. The
// server stops on SIGTERM.
pid_t start_onc_server(const std::string& protocol, std::uint16_t& port);

struct onc_echo_result {
    std::vector<double> rtt_us; // every call's round trip
    double seconds = 0;
    bool verified = false;
    std::string failure;
};

// calls ECHO calls of size bytes from threads threads, each with a CLIENT of its own, after
// warm_up calls each; every reply compared with its call.
onc_echo_result run_onc_echo(const std::string& protocol, std::uint16_t port, std::uint64_t calls,
                             std::size_t size, unsigned threads, std::uint64_t warm_up);

} // namespace conveyor::bench

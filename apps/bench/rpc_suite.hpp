// The RPC rows: 64 B ECHO calls of calc.x through conveyor's RPC over shm, tcp and udp, and
// through libtirpc with rpcgen's stubs over tcp and udp, the server a process of its own.
// Each transport: calls one at a time (round trip p50 and p99, calls/s), and 16 in flight
// (calls/s; conveyor's asynchronously on one client, ONC RPC's synchronous clients from 16
// threads, each with its own CLIENT). docs/rpc.md has the method and the figures.
#pragma once

#include "suite.hpp"

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace conveyor::bench {

// The transports of the RPC rows, for --only.
std::vector<std::string> rpc_transport_names();

std::vector<row> run_rpc_suite(const suite_options& options,
                               const std::function<void(const std::string&, bool)>& progress);

// The targets against this run's rows, one line each; nothing without RPC rows.
void print_rpc_targets(std::ostream& out, const std::vector<row>& rows);

} // namespace conveyor::bench

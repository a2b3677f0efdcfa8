// What the RPC tests share: calc served in this process, program numbers no other test run
// uses, the machine's rpcbind (started when none runs, and only then stopped), and lines of
// an app's output.
#pragma once

#include "calc_service.hpp"

#include <conveyor/error.hpp>
#include <conveyor/rpc/error.hpp>
#include <conveyor/rpc/server.hpp>

#include <boost/test/unit_test.hpp>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace conveyor::test {

class child_process;

// A program number in the transient range (0x40000000-0x5FFFFFFF) that no other process
// uses: this process's pid and a counter, so that runs side by side do not meet in rpcbind.
std::uint32_t unique_program();

// calc (and whatever extra adds) served in this process on endpoints, by a thread running
// the server until destruction.
class served_calc {
public:
    explicit served_calc(const std::vector<std::string>& endpoints,
                         const rpc::server_options& options = {},
                         const std::function<void(rpc::server&)>& extra = {},
                         std::uint32_t program = calc::program_v1::number);
    ~served_calc();
    served_calc(const served_calc&) = delete;
    served_calc& operator=(const served_calc&) = delete;

    const std::string& uri(std::size_t i = 0) const { return uris_.at(i); }
    rpc::server& server() noexcept { return server_; }
    std::uint64_t counter() const noexcept { return calc_.counter(); }

private:
    rpc::server server_;
    calc::service calc_;
    std::vector<std::string> uris_;
    std::thread runner_;
};

// Whether an rpcbind answers on 127.0.0.1, starting /usr/sbin/rpcbind for this process when
// none does (it is stopped as the process ends). For test preconditions.
bool rpcbind_available();
struct rpcbind_precondition {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const;
};

// A server program run as a child process, with the lines it printed once it serves (one
// per endpoint).
class server_process {
public:
    server_process(const std::string& program, const std::vector<std::string>& args,
                   std::size_t lines);
    ~server_process();
    server_process(const server_process&) = delete;
    server_process& operator=(const server_process&) = delete;

    const std::string& line(std::size_t i = 0) const { return lines_.at(i); }
    child_process& process() noexcept { return *child_; }

private:
    std::unique_ptr<child_process> child_;
    std::vector<std::string> lines_;
};

// A unique shm name for an RPC server of this test.
std::string scratch_rpc_name(const std::string& purpose);

std::vector<std::string> lines_of(const std::string& text);

// The port of "tcp://HOST:PORT".
std::uint16_t port_of(const std::string& uri);

} // namespace conveyor::test

// Error conditions print as their messages in failed assertions.
namespace boost::test_tools::tt_detail {
template <> struct print_log_value<std::errc> {
    void operator()(std::ostream& out, std::errc e) { out << std::make_error_code(e).message(); }
};
template <> struct print_log_value<conveyor::rpc::errc> {
    void operator()(std::ostream& out, conveyor::rpc::errc e) {
        out << make_error_code(e).message();
    }
};
template <> struct print_log_value<conveyor::errc> {
    void operator()(std::ostream& out, conveyor::errc e) { out << make_error_code(e).message(); }
};
} // namespace boost::test_tools::tt_detail

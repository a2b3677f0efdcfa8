// conveyor-calc-server: serves calc.x on every endpoint given, prints each one's URI once it
// serves, and stops on SIGINT or SIGTERM (removing its rpcbind mappings).
#include "calc_service.hpp"

#include "common/exit_codes.hpp"
#include "common/options.hpp"

#include <conveyor/error.hpp>
#include <conveyor/rpc/address.hpp>
#include <conveyor/rpc/server.hpp>
#include <conveyor/signals.hpp>

#include <boost/program_options.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace po = boost::program_options;
using namespace conveyor;

namespace {

constexpr const char* app = "conveyor-calc-server";
// More threads than this is a mistake, not a configuration.
constexpr cli::whole_bounds threads_bounds{1, 256};
// Looking for work for longer than a second before sleeping is a busy loop, not a wait.
constexpr cli::whole_bounds busy_poll_bounds{0, 1'000'000};

const char* description =
    "Serves the calc program (apps/calc/calc.x: CALC_NULL, ADD, ECHO, COUNT, SLEEP) over ONC\n"
    "RPC on every ENDPOINT: tcp://HOST:PORT, udp://HOST:PORT (PORT 0: any free port) or\n"
    "shm://NAME. Prints one line per endpoint, its URI with the port bound, once it serves.\n"
    "SIGINT or SIGTERM stops it, and removes the mappings --register made.";

std::uint32_t parse_program(const std::string& text) {
    std::error_code ec;
    const auto a = rpc::address::parse("rpc://h/" + text + "/1", ec);
    if (ec) throw cli::usage_error("--program " + text + ": expected a number (decimal or 0x hex)");
    return a.program;
}

} // namespace

int main(int argc, char** argv) try {
    po::options_description visible(std::string("Usage: ") + app +
                                    " ENDPOINT... [--register] [--threads N] [--busy-poll US]\n\n" +
                                    description + "\n\nOptions");
    std::string threads_text = "1";
    std::string busy_poll_text = "0";
    std::string program_text;
    visible.add_options()("help,h", "show this help")(
        "register", "map the program on each tcp and udp endpoint in this machine's rpcbind")(
        "threads", po::value(&threads_text)->value_name("N"),
        ("threads serving calls (default 1; " + cli::bounds_help(threads_bounds) + ")").c_str())(
        "busy-poll", po::value(&busy_poll_text)->value_name("US"),
        ("microseconds a thread with no call to serve keeps looking for one before it sleeps: "
         "faster round trips where idle cores sleep, a core kept busy meanwhile (default 0; " +
         cli::bounds_help(busy_poll_bounds) + ")")
            .c_str())("program", po::value(&program_text),
                      "serve under this program number instead of calc's 0x2C0FFEE0");
    po::options_description all;
    all.add(visible).add_options()("endpoint", po::value<std::vector<std::string>>());
    const auto vm = cli::parse_command_line(argc, argv, all, "endpoint", -1);
    if (vm.count("help")) {
        std::cout << visible << "\nExample: " << app << " tcp://127.0.0.1:0 udp://127.0.0.1:0\n"
                  << "Exit status: 0 stopped by SIGTERM or SIGINT, 64 bad usage, 70 cannot serve\n"
                     "(an address in use, rpcbind unreachable...).\n";
        return cli::exit_ok;
    }
    if (!vm.count("endpoint")) throw cli::usage_error("no ENDPOINT given");
    const auto threads = cli::parse_count("threads", threads_text, threads_bounds);
    const auto busy_poll = cli::parse_count("busy-poll", busy_poll_text, busy_poll_bounds);
    const std::uint32_t program =
        program_text.empty() ? calc::program_v1::number : parse_program(program_text);

    rpc::server_options options;
    options.threads = threads;
    options.busy_poll = std::chrono::microseconds(busy_poll);
    rpc::server server(options);
    calc::service calc;
    calc.serve_on(server, program);

    std::vector<std::string> served;
    for (const auto& uri : vm["endpoint"].as<std::vector<std::string>>()) {
        std::error_code ec;
        std::string why;
        served.push_back(server.listen(uri, ec, &why));
        if (ec == conveyor::errc::invalid_endpoint) throw cli::usage_error(why);
        if (ec) throw error(ec, why);
    }
    if (vm.count("register")) server.register_with_rpcbind();

    signal_handlers signals(server.context());
    signals.on(SIGINT, [&](int) { server.stop(); });
    signals.on(SIGTERM, [&](int) { server.stop(); });
    std::string lines;
    for (const auto& uri : served)
        lines += uri + '\n';
    std::fputs(lines.c_str(), stdout);
    std::fflush(stdout);
    server.run();
    return cli::exit_ok;
} catch (const cli::usage_error& e) {
    std::cerr << app << ": " << e.what() << "\n(see " << app << " --help)\n";
    return cli::exit_usage;
} catch (const error& e) {
    std::cerr << std::string(app) + ": " + e.what() + '\n';
    return cli::exit_failure;
} catch (const std::exception& e) {
    std::cerr << std::string(app) + ": " + e.what() + '\n';
    return cli::exit_failure;
}

// conveyor-calc: calls the calc program (calc.x) on a server, one call per run, or measures
// ECHO round trips with `bench`.
#include "calc.hpp"
#include "echo_bench.hpp"

#include "common/exit_codes.hpp"
#include "common/options.hpp"

#include <conveyor/error.hpp>
#include <conveyor/rpc/client.hpp>
#include <conveyor/rpc/error.hpp>

#include <boost/program_options.hpp>

#include <charconv>
#include <cstdio>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

namespace po = boost::program_options;
using namespace conveyor;

namespace {

constexpr const char* app = "conveyor-calc";
// The default --timeout, libtirpc's own default for a call; below a millisecond no call
// could be answered, and a deadline of 0 would only ever time out.
constexpr double default_timeout_s = 25;
constexpr cli::decimal_bounds timeout_bounds{0.001, cli::max_seconds};
// bench: an ECHO within the 1 MiB record servers take by default, and at most this many
// calls at a time (a client's calls are matched by xid, but beyond this it is a typo).
constexpr cli::whole_bounds size_bounds{0, 1'000'000};
constexpr cli::whole_bounds calls_bounds{1};
constexpr cli::whole_bounds in_flight_bounds{1, 1 << 16};
// Looking for a reply for longer than a second before sleeping is a busy loop, not a wait.
constexpr cli::whole_bounds busy_poll_bounds{0, 1'000'000};

const char* usage =
    "Usage: conveyor-calc ENDPOINT COMMAND [ARGUMENTS] [options]\n\n"
    "Calls the calc program (apps/calc/calc.x) on the server at ENDPOINT: tcp://HOST:PORT,\n"
    "udp://HOST:PORT, shm://NAME or rpc://HOST/PROGRAM/VERSION[?proto=udp] (rpcbind finds\n"
    "the port; the calls go to that PROGRAM and VERSION). Commands:\n"
    "  null             calls CALC_NULL\n"
    "  add A B          prints A + B (32-bit integers)\n"
    "  echo TEXT        prints TEXT as the server echoes it\n"
    "  count            prints the server's counter after its increment\n"
    "  sleep MS         returns after the server slept MS milliseconds\n"
    "  bench --calls N --size BYTES [--in-flight K]\n"
    "                   N ECHO calls of BYTES, K at a time; prints\n"
    "                   'N calls in S s: X calls/s, p50 P us, p99 Q us'\n\nOptions";

template <class Number> Number parse_number(const std::string& what, const std::string& text) {
    Number value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
        throw cli::usage_error(what + ": '" + text + "' is not a number in range");
    return value;
}

int exit_code_for(const std::error_code& ec) {
    if (ec == std::errc::timed_out) return cli::exit_timed_out;
    if (ec == conveyor::errc::invalid_endpoint) return cli::exit_usage;
    return cli::exit_failure;
}

} // namespace

int main(int argc, char** argv) try {
    po::options_description visible(usage);
    std::string timeout_text;
    std::string auth = "none";
    std::string calls_text = "10000";
    std::string size_text = "64";
    std::string in_flight_text = "1";
    std::string busy_poll_text = "0";
    visible.add_options()("help,h", "show this help")(
        "timeout", po::value(&timeout_text)->value_name("SECONDS"),
        ("seconds each call may take (default 25; " + cli::bounds_help(timeout_bounds) + ")")
            .c_str())("auth", po::value(&auth)->default_value("none"),
                      "credentials: none or sys (AUTH_SYS)")(
        "calls", po::value(&calls_text)->value_name("N"),
        ("bench: calls to make (default 10000; " + cli::bounds_help(calls_bounds) + ")").c_str())(
        "size", po::value(&size_text)->value_name("BYTES"),
        ("bench: ECHO bytes per call (default 64; " + cli::bounds_help(size_bounds, true) + ")")
            .c_str())(
        "in-flight", po::value(&in_flight_text)->value_name("K"),
        ("bench: calls at a time (default 1; " + cli::bounds_help(in_flight_bounds) + ")").c_str())(
        "busy-poll", po::value(&busy_poll_text)->value_name("US"),
        ("tcp, udp: microseconds to keep looking for a reply before sleeping: faster round "
         "trips where idle cores sleep, a core kept busy meanwhile (default 0; " +
         cli::bounds_help(busy_poll_bounds) + ")")
            .c_str());
    po::options_description all;
    all.add(visible).add_options()("words", po::value<std::vector<std::string>>());
    const auto vm = cli::parse_command_line(argc, argv, all, "words", -1);
    if (vm.count("help")) {
        std::cout << visible << "\nExample: " << app << " tcp://127.0.0.1:40123 add 2 3\n"
                  << "Exit status: 0 done, 2 timed out (no reply within --timeout), 64 bad usage,\n"
                     "70 the call failed (refused, PROC_UNAVAIL, the server went away...).\n";
        return cli::exit_ok;
    }
    const auto words =
        vm.count("words") ? vm["words"].as<std::vector<std::string>>() : std::vector<std::string>{};
    if (words.size() < 2) throw cli::usage_error("expected ENDPOINT COMMAND [ARGUMENTS]");
    const double timeout_s = vm.count("timeout")
                                 ? cli::parse_seconds("timeout", timeout_text, timeout_bounds)
                                 : default_timeout_s;
    const auto timeout = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(timeout_s));
    const auto busy_poll = cli::parse_count("busy-poll", busy_poll_text, busy_poll_bounds);
    if (auth != "none" && auth != "sys")
        throw cli::usage_error("--auth " + auth + ": expected none or sys");

    std::error_code ec;
    std::string why;
    const auto where = rpc::address::parse(words[0], ec, &why);
    if (ec) throw cli::usage_error(why);
    // An rpc:// address names the program and version the calls go to.
    const bool named = where.kind == rpc::transport::rpcbind;
    const std::uint32_t program = named ? where.program : calc::program_v1::number;
    const std::uint32_t version = named ? where.version : calc::program_v1::version;
    using rpc::with_program;

    const std::string& command = words[1];
    const auto arguments = std::vector<std::string>(words.begin() + 2, words.end());
    const auto expect = [&](std::size_t n, const char* form) {
        if (arguments.size() != n) throw cli::usage_error(command + ": expected " + form);
    };
    rpc::client_options options;
    options.credentials = auth == "sys" ? rpc::auth_flavor::sys : rpc::auth_flavor::none;
    options.busy_poll = std::chrono::microseconds(busy_poll);
    rpc::client client(where, options);

    if (command == "null") {
        expect(0, "no arguments");
        client.call(with_program(calc::null, program, version), timeout);
    } else if (command == "add") {
        expect(2, "add A B");
        const calc::add_args args{parse_number<std::int32_t>("add A", arguments[0]),
                                  parse_number<std::int32_t>("add B", arguments[1])};
        std::printf("%d\n", client.call(with_program(calc::add, program, version), args, timeout));
    } else if (command == "echo") {
        expect(1, "echo TEXT");
        const auto* bytes = reinterpret_cast<const std::byte*>(arguments[0].data());
        const auto reply = client.call(with_program(calc::echo, program, version),
                                       calc::data(bytes, bytes + arguments[0].size()), timeout);
        std::string text(reinterpret_cast<const char*>(reply.data()), reply.size());
        std::printf("%s\n", text.c_str());
    } else if (command == "count") {
        expect(0, "no arguments");
        const auto n = client.call(with_program(calc::count, program, version), timeout);
        std::printf("%llu\n", static_cast<unsigned long long>(n));
    } else if (command == "sleep") {
        expect(1, "sleep MS");
        client.call(with_program(calc::sleep, program, version),
                    parse_number<std::uint32_t>("sleep MS", arguments[0]), timeout);
    } else if (command == "bench") {
        expect(0, "bench --calls N --size BYTES [--in-flight K]");
        const auto calls = cli::parse_count("calls", calls_text, calls_bounds);
        const auto size = cli::parse_size("size", size_text, size_bounds);
        const auto in_flight = cli::parse_count("in-flight", in_flight_text, in_flight_bounds);
        const auto f =
            calc::run_echo_bench(client, calls, size, in_flight, timeout, program, version);
        std::printf("%llu calls in %.3f s: %.0f calls/s, p50 %.1f us, p99 %.1f us\n",
                    static_cast<unsigned long long>(calls), f.seconds, f.calls_per_s, f.p50_us,
                    f.p99_us);
    } else {
        throw cli::usage_error("unknown command '" + command +
                               "' (null, add, echo, count, sleep or bench)");
    }
    std::fflush(stdout);
    return cli::exit_ok;
} catch (const cli::usage_error& e) {
    std::cerr << app << ": " << e.what() << "\n(see " << app << " --help)\n";
    return cli::exit_usage;
} catch (const error& e) {
    std::cerr << std::string(app) + ": " + e.what() + '\n';
    return exit_code_for(e.code());
} catch (const std::exception& e) {
    std::cerr << std::string(app) + ": " + e.what() + '\n';
    return cli::exit_failure;
}

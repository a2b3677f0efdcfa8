// conveyor-bench: conveyor's transports and their peers side by side, in one run, producers
// and consumers as separate processes. docs/performance.md has the method and the figures.
#include "report.hpp"
#include "rpc_suite.hpp"
#include "suite.hpp"

#include "common/exit_codes.hpp"
#include "common/options.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <exception>
#include <iostream>
#include <unistd.h>

namespace po = boost::program_options;
using namespace conveyor;
using namespace conveyor::bench;

namespace {

// --repeats: runs of each best setting whose median is reported; past 99 a full run takes
// hours and the median moves no more.
constexpr cli::whole_bounds repeats_bounds{1, 99};

// Rewrites one status line on a terminal; elsewhere (a log) each line stays.
void show_progress(const std::string& line, bool keep) {
    static const bool terminal = ::isatty(STDERR_FILENO) != 0;
    if (terminal)
        std::cerr << "\r\033[K" << line << (keep ? "\n" : "") << std::flush;
    else
        std::cerr << line << '\n';
}

// The transports --only names, each checked against those the bench has.
std::vector<std::string> parse_only(const std::string& list) {
    std::vector<std::string> known;
    for (const auto& t : all_transports())
        known.push_back(t->name());
    for (const auto& name : rpc_transport_names())
        known.push_back(name);
    std::vector<std::string> names;
    for (std::size_t begin = 0; begin <= list.size();) {
        const auto end = std::min(list.find(',', begin), list.size());
        names.push_back(list.substr(begin, end - begin));
        if (std::find(known.begin(), known.end(), names.back()) == known.end()) {
            std::string all;
            for (const auto& k : known)
                all += (all.empty() ? "" : ", ") + k;
            throw cli::usage_error("--only '" + list + "': no transport '" + names.back() +
                                   "' (there are " + all + ")");
        }
        begin = end + 1;
    }
    return names;
}

int run(int argc, char** argv) {
    po::options_description visible("Usage: conveyor-bench [--quick | --smoke] [--json] "
                                    "[--only NAME,...] [--repeats N]\n\nOptions");
    const std::string repeats_help =
        "runs of each transport's best setting, whose median is reported (default 3; 1 with "
        "--quick or --smoke); " +
        cli::bounds_help(repeats_bounds);
    visible.add_options()("help,h", "show this help")(
        "quick", "fewer messages per run (under a minute on 2 cores); the default is the full run")(
        "smoke", "a few messages per run and each transport's default setting only: checks that "
                 "everything works, measures nothing")(
        "json", "print the results as JSON on stdout (the table goes to stderr)")(
        "only", po::value<std::string>(),
        "comma-separated transports to run: conveyor-shm, conveyor-shm-ack, "
        "conveyor-shm-zerocopy, conveyor-file, conveyor-file-sync, conveyor-topic (fan-out 1to4 "
        "only), conveyor-fifo, conveyor-pipe, pipe, fifo, uds, posix-mq, boost-mq, conveyor-nats, "
        "nats-c, nats-c-msgid; RPC: "
        "conveyor-rpc-shm, conveyor-rpc-tcp, conveyor-rpc-udp, onc-rpc-tcp, onc-rpc-udp")(
        "repeats", po::value<std::string>()->value_name("N"), repeats_help.c_str());
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, visible), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw cli::usage_error(e.what());
    }
    if (vm.count("help")) {
        std::cout << visible
                  << "\nEach peer is tried in a few settings (queue depths, buffer "
                     "sizes) and its best verified result is shown with its setting.\n";
        return cli::exit_ok;
    }

    suite_options options;
    if (vm.count("smoke")) {
        options.count_small = 2'000;
        options.count_page = 200;
        options.count_large = 8;
        options.round_trips = 200;
        options.every_setting = false;
        options.repeats = 1;
    } else if (vm.count("quick")) {
        options.count_small = 200'000;
        options.count_page = 20'000;
        options.count_large = 200;
        options.round_trips = 5'000;
        options.repeats = 1;
    }
    if (vm.count("repeats"))
        options.repeats = static_cast<int>(
            cli::parse_count("repeats", vm["repeats"].as<std::string>(), repeats_bounds));
    if (vm.count("only")) options.only = parse_only(vm["only"].as<std::string>());

    auto rows = run_suite(options, show_progress);
    const auto rpc_rows = run_rpc_suite(options, show_progress);
    rows.insert(rows.end(), rpc_rows.begin(), rpc_rows.end());
    show_progress("", false);
    const bool json = vm.count("json") != 0;
    print_table(json ? std::cerr : std::cout, rows);
    print_rpc_targets(json ? std::cerr : std::cout, rows);
    if (json) print_json(std::cout, rows);
    for (const auto& r : rows)
        if (!r.result.verified) return 1;
    return cli::exit_ok;
}

} // namespace

int main(int argc, char** argv) try { return run(argc, argv); } catch (const cli::usage_error& e) {
    std::cerr << "conveyor-bench: " << e.what() << "\n(see conveyor-bench --help)\n";
    return cli::exit_usage;
} catch (const std::exception& e) {
    std::cerr << "conveyor-bench: " << e.what() << '\n';
    return 2;
}

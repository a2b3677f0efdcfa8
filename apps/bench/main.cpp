// conveyor-bench: conveyor's transports and their peers side by side, in one run, producers
// and consumers as separate processes. docs/performance.md has the method and the figures.
#include "report.hpp"
#include "suite.hpp"

#include <boost/program_options.hpp>

#include <exception>
#include <iostream>
#include <unistd.h>

namespace po = boost::program_options;
using namespace conveyor::bench;

namespace {

// Rewrites one status line on a terminal; elsewhere (a log) each line stays.
void show_progress(const std::string& line, bool keep) {
    static const bool terminal = ::isatty(STDERR_FILENO) != 0;
    if (terminal)
        std::cerr << "\r\033[K" << line << (keep ? "\n" : "") << std::flush;
    else
        std::cerr << line << '\n';
}

} // namespace

int main(int argc, char** argv) try {
    po::options_description visible("Usage: conveyor-bench [--quick | --smoke] [--json] "
                                    "[--only NAME,...]\n\nOptions");
    std::string only;
    visible.add_options()("help,h", "show this help")(
        "quick", "fewer messages per run (under a minute on 2 cores); the default is the full run")(
        "smoke", "a few messages per run and each transport's default setting only: checks that "
                 "everything works, measures nothing")(
        "json", "print the results as JSON on stdout (the table goes to stderr)")(
        "only", po::value(&only),
        "comma-separated transports to run: conveyor-shm, conveyor-shm-zerocopy, conveyor-fifo, "
        "conveyor-pipe, pipe, "
        "fifo, uds, posix-mq, boost-mq, conveyor-nats, nats-c, nats-c-msgid");
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, visible), vm);
    po::notify(vm);
    if (vm.count("help")) {
        std::cout << visible
                  << "\nEach peer is tried in a few settings (queue depths, buffer "
                     "sizes) and its best verified result is shown with its setting.\n";
        return 0;
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
    for (std::size_t begin = 0; begin < only.size();) {
        const auto end = std::min(only.find(',', begin), only.size());
        options.only.push_back(only.substr(begin, end - begin));
        begin = end + 1;
    }

    const auto rows = run_suite(options, show_progress);
    show_progress("", false);
    const bool json = vm.count("json") != 0;
    print_table(json ? std::cerr : std::cout, rows);
    if (json) print_json(std::cout, rows);
    for (const auto& r : rows)
        if (!r.result.verified) return 1;
    return 0;
} catch (const std::exception& e) {
    std::cerr << "conveyor-bench: " << e.what() << '\n';
    return 2;
}

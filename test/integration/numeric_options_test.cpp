// Every numeric option of every app, walked through the values a user may type by mistake:
// each is refused with exit 64, naming the option and the value; the minimum and a usual
// value are accepted by a short real run; --help states the bounds. One row per option:
// an app that gains a numeric option adds a row, a new app adds an app_under_test.
#include "support/apps.hpp"
#include "support/child_process.hpp"
#include "support/temporary_names.hpp"

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <functional>
#include <map>
#include <sstream>

using namespace conveyor::test;

namespace {

const std::string bench_app = CONVEYOR_BENCH;
const std::string calc_app = CONVEYOR_CALC;
const std::string calc_server_app = CONVEYOR_CALC_SERVER;

// The forms of apps/common/options.hpp.
enum class number { count, size, seconds, rate, mode };

// An app as the table runs it: a short real run that ends by itself (exit 0) once every
// option value is accepted, with the values under test added to its arguments.
struct app_under_test {
    std::string name; // how its messages begin: "conveyor-producer"
    std::string program;
    std::function<run_result(const std::vector<std::string>& extra)> run;
};

std::vector<std::string> joined(std::vector<std::string> first,
                                const std::vector<std::string>& then) {
    first.insert(first.end(), then.begin(), then.end());
    return first;
}

// A producer reading an empty standard input into a segment of its own: it creates the
// segment, sends nothing, closes, and the segment goes with the test.
const app_under_test producer{"conveyor-producer", producer_app, [](const auto& extra) {
                                  scratch_segment s("numbers");
                                  return run(producer_app, joined({s.uri()}, extra));
                              }};
// A consumer of an empty pipe on its standard input: end of stream at once.
const app_under_test consumer{"conveyor-consumer", consumer_app, [](const auto& extra) {
                                  return run(consumer_app, joined({"pipe:"}, extra));
                              }};
// A bridge from an empty pipe on its standard input to a segment of its own: it creates the
// segment, sees the end of its input at once, and closes the segment's stream.
const app_under_test bridge{"conveyor-bridge", bridge_app, [](const auto& extra) {
                                scratch_segment s("numbers");
                                return run(bridge_app, joined({"pipe:", s.uri()}, extra));
                            }};
// The bench on one transport, a few messages per run.
const app_under_test bench{
    "conveyor-bench", bench_app, [](const auto& extra) {
        return run(bench_app, joined({"--smoke", "--only", "conveyor-pipe"}, extra));
    }};

// A calc server started with its flags: once it says it serves (its endpoint's line), it is
// stopped with SIGTERM and its exit (0) is the run's; one that refused its flags has exited.
run_result serve_and_stop(const std::vector<std::string>& extra) {
    child_process server(calc_server_app, joined({"tcp://127.0.0.1:0"}, extra));
    eventually([&] { return contains(server.out(), "\n") || server.has_ended(); });
    if (!server.has_ended()) server.signal(SIGTERM);
    const int status = server.wait();
    return {status, server.out(), server.err()};
}
const app_under_test calc_server{"conveyor-calc-server", calc_server_app, serve_and_stop};

// The calc client's bench against the calc server the test case starts (calc_endpoint).
std::string calc_endpoint;
const app_under_test calc{"conveyor-calc", calc_app, [](const auto& extra) {
                              return run(calc_app, joined({calc_endpoint, "bench"}, extra));
                          }};

struct numeric_option {
    const app_under_test* app;
    std::string option; // without its dashes
    number kind;
    std::string minimum;                // as --help states it
    std::string below;                  // just below the minimum; empty where nothing is
    std::string maximum;                // as --help states it; empty where none but 2^64 - 1
    std::string above;                  // just above the maximum
    std::string usual;                  // a value a user would give
    std::vector<std::string> with = {}; // other options the short run needs
    // A call's deadline: at the minimum, a real call may find no reply in time, and the app
    // then ends saying so (exit 2) instead of with 0; either shows the value was taken.
    bool minimum_may_time_out = false;
};

const std::vector<numeric_option> every_numeric_option{
    {&producer, "generate", number::count, "1", "0", "", "", "1000"},
    {&producer, "size", number::size, "32", "31", "4095M", "4293918721", "1K", {"--generate", "1"}},
    {&producer, "rate", number::rate, "0.001", "0.0009", "1000000000", "1000000001", "0.5"},
    {&producer, "timeout", number::seconds, "0", "", "1000000000", "1000000000.5", "2.5"},
    {&producer,
     "capacity",
     number::size,
     "1K",
     "1023",
     "64G",
     "65G",
     "1M",
     {"--max-message", "100"}},
    {&producer, "max-message", number::size, "1", "0", "4095M", "4096M", "1M"},
    {&producer, "mode", number::mode, "0600", "0577", "0777", "01000", "0660"},
    {&consumer, "count", number::count, "1", "0", "", "", "64K"},
    {&consumer, "producers", number::count, "1", "0", "", "", "4"},
    {&consumer, "timeout", number::seconds, "0", "", "1000000000", "1000000001", "0.25"},
    {&consumer, "capacity", number::size, "1K", "1023", "64G", "68719476737", "8M"},
    {&consumer, "max-message", number::size, "1", "0", "4095M", "4G", "1M"},
    {&consumer, "mode", number::mode, "0600", "0", "0777", "1000", "0640"},
    {&bridge, "batch", number::count, "1", "0", "65536", "65537", "64"},
    {&bridge, "timeout", number::seconds, "0", "", "1000000000", "1000000000.5", "2.5"},
    {&bridge, "capacity", number::size, "1K", "1023", "64G", "65G", "1M", {"--max-message", "100"}},
    {&bridge, "max-message", number::size, "1", "0", "4095M", "4096M", "1M"},
    {&bridge, "mode", number::mode, "0600", "0577", "0777", "01000", "0660"},
    {&bench, "repeats", number::count, "1", "0", "99", "100", "2"},
    {&calc_server, "threads", number::count, "1", "0", "256", "257", "4"},
    {&calc_server, "busy-poll", number::count, "0", "", "1000000", "1000001", "50"},
    {&calc, "calls", number::count, "1", "0", "", "", "1000"},
    {&calc, "size", number::size, "0", "", "1000000", "1000001", "64", {"--calls", "10"}},
    {&calc, "in-flight", number::count, "1", "0", "65536", "65537", "16", {"--calls", "100"}},
    {&calc, "busy-poll", number::count, "0", "", "1000000", "1000001", "50", {"--calls", "100"}},
    {&calc,
     "timeout",
     number::seconds,
     "0.001",
     "0.0009",
     "1000000000",
     "1000000000.5",
     "2.5",
     {"--calls", "10"},
     true},
};

struct attempt {
    std::string value;
    bool accepted;
    std::string says; // beyond the option and the value, for a refusal
};

bool is_whole(number kind) {
    return kind == number::count || kind == number::size || kind == number::mode;
}

std::vector<attempt> attempts_for(const numeric_option& o) {
    // Past 2^64 - 1 a count or a size names its bound; a mode's digits there are not octal.
    const std::string too_large =
        o.kind == number::count || o.kind == number::size
            ? "at most " + (o.maximum.empty() ? "18446744073709551615" : o.maximum)
            : "";
    std::vector<attempt> all{
        {"-1", false, ""},
        {"+1", false, ""},
        {" 1", false, ""},
        {"1 ", false, ""},
        {"1x", false, ""},
        {"0x10", false, ""},
        {"1e3", false, ""},
        {"", false, ""},
        {"inf", false, ""},
        {"nan", false, ""},
        {"1.5K", false, ""},
        {"1,5", false, ""},
        {"99999999999999999999", false, too_large},
        {"18446744073709551616", false, too_large},
        {o.minimum, true, ""},
        {o.usual, true, ""},
    };
    if (is_whole(o.kind)) {
        for (const char* v : {"1.5", "1k", "1KiB", "1B", "1KK"})
            all.push_back({v, false, ""});
    } else {
        all.push_back({"1.5", true, ""});
        for (const char* v : {".5", "5.", "0x1p3", "1.5.2", "1K", "-0"})
            all.push_back({v, false, ""});
    }
    if (!o.below.empty()) all.push_back({o.below, false, "at least " + o.minimum});
    if (!o.above.empty()) all.push_back({o.above, false, "at most " + o.maximum});
    return all;
}

// The lines of --help that describe option, joined with single spaces.
std::string help_of(const std::string& help, const std::string& option) {
    std::istringstream lines(help);
    std::string text, line;
    bool inside = false;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::vector<std::string> w;
        for (std::string word; words >> word;)
            w.push_back(word);
        // An option's first line starts "  --name" or "  -x [ --name ]"; the rest of its
        // lines are indented further.
        if (line.rfind("  -", 0) == 0)
            inside = w[0] == "--" + option || (w.size() > 2 && w[2] == "--" + option);
        else if (line.rfind("   ", 0) != 0)
            inside = false;
        for (const auto& word : w)
            if (inside) text += word + ' ';
    }
    return text;
}

} // namespace

BOOST_AUTO_TEST_SUITE(numeric_options)

BOOST_AUTO_TEST_CASE(every_numeric_option_refuses_bad_numbers_and_states_its_bounds) {
    // The server conveyor-calc's runs call, on a loopback port of its own.
    child_process server(calc_server_app, {"tcp://127.0.0.1:0"});
    BOOST_REQUIRE_MESSAGE(eventually([&] { return contains(server.out(), "\n"); }),
                          "conveyor-calc-server did not say it serves: " << server.err());
    calc_endpoint = server.out().substr(0, server.out().find('\n'));
    std::map<std::string, std::string> helps;
    std::size_t values = 0;
    for (const auto& o : every_numeric_option) {
        const std::string flag = "--" + o.option;
        auto& help = helps[o.app->name];
        if (help.empty()) help = run(o.app->program, {"--help"}).out;
        const std::string described = help_of(help, o.option);
        BOOST_TEST(contains(described, "at least " + o.minimum),
                   o.app->name << " --help on " << flag << ": " << described);
        if (!o.maximum.empty())
            BOOST_TEST(contains(described, "at most " + o.maximum),
                       o.app->name << " --help on " << flag << ": " << described);

        for (const auto& a : attempts_for(o)) {
            ++values;
            const auto result = o.app->run(joined(o.with, {flag, a.value}));
            const std::string named = flag + " '" + a.value + "'";
            const std::string what = o.app->name + " " + named + ": " + result.err;
            if (a.accepted) {
                const bool timed_out = o.minimum_may_time_out && a.value == o.minimum &&
                                       result.status == 2 &&
                                       contains(result.err, "no reply within");
                BOOST_TEST((result.status == 0 || timed_out), what);
                BOOST_TEST(!contains(result.err, named), what);
                continue;
            }
            BOOST_TEST(result.status == 64, what);
            BOOST_TEST(contains(result.err, o.app->name + ": " + named + ": "), what);
            BOOST_TEST(contains(result.err, a.says), what);
            BOOST_TEST(contains(result.err, "(see " + o.app->name + " --help)"), what);
        }
    }
    BOOST_TEST_MESSAGE(every_numeric_option.size()
                       << " options of " << helps.size() << " apps, " << values << " values tried");
}

BOOST_AUTO_TEST_SUITE_END()

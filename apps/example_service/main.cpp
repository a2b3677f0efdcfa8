// conveyor-example-service: a service as Asio programs are written, one io_context on one
// thread, taking from several shm://, file:// and topic:// endpoints at once with the async
// calls (conveyor/shm/async.hpp) and, with --rpc, serving the calc program (apps/calc) on
// the same context, stopped by SIGTERM or SIGINT through a signal_set on it too. The
// process has one thread more than main: conveyor's helper, whatever the number of
// endpoints (an RPC server on shm:// would add its reader thread).
#include "calc/calc_service.hpp"
#include "common/exit_codes.hpp"
#include "common/options.hpp"

#include <conveyor/error.hpp>
#include <conveyor/generated_message.hpp>
#include <conveyor/open.hpp>
#include <conveyor/rpc/server.hpp>
#include <conveyor/shm/async.hpp>
#include <conveyor/signals.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/positional_options.hpp>
#include <boost/program_options/value_semantic.hpp>
#include <boost/program_options/variables_map.hpp>

#include <csignal>
#include <iostream>
#include <memory>
#include <optional>

namespace po = boost::program_options;
namespace asio = boost::asio;
using namespace conveyor;

namespace {

// Messages taken per visit to an endpoint at most.
constexpr std::size_t batch_size = 256;

// One endpoint: receives batch after batch until its stream ends or the service stops.
class reader {
public:
    reader(asio::io_context& io, const endpoint& where, const channel_options& options, bool verify,
           std::function<void()> finished)
        : where_(where), in_(io.get_executor(), open_receiver(where, options)), verify_(verify),
          finished_(std::move(finished)) {}

    void start() {
        in_.async_receive_batch(
            batch_, batch_size,
            [this](boost::system::error_code ec, receive_status status) { take(ec, status); });
    }
    void stop() { in_.cancel(); }

    // "shm://a: received N messages, B bytes" and, with --verify, the verifier's line.
    // Stopped by a signal, what had not arrived yet is not counted lost.
    bool report(bool stopped) const {
        std::string line = where_.uri() + ": received " + std::to_string(messages_) +
                           " messages, " + std::to_string(bytes_) + " bytes";
        if (!failure_.empty()) line += "; failed: " + failure_;
        bool ok = failure_.empty();
        if (verify_) {
            auto summary = verifier_.result();
            if (stopped) summary.lost = 0;
            line += "; " + stream_verifier::describe(summary);
            ok = ok && summary.ok();
        }
        std::cerr << line + '\n';
        return ok;
    }

private:
    void take(boost::system::error_code ec, receive_status status) {
        if (ec && ec != asio::error::operation_aborted) failure_ = ec.message();
        if (ec || status == receive_status::end_of_stream) return finished_();
        for (std::size_t i = 0; i < batch_.size(); ++i) {
            if (verify_) verifier_.observe(batch_[i]);
            bytes_ += batch_[i].size();
        }
        messages_ += batch_.size();
        start();
    }

    endpoint where_;
    shm::async_receiver in_;
    bool verify_;
    std::function<void()> finished_;
    message_batch batch_;
    stream_verifier verifier_;
    std::uint64_t messages_ = 0;
    std::uint64_t bytes_ = 0;
    std::string failure_;
};

// Every endpoint's reader on one io_context; stops the context once all have finished,
// unless the context serves RPC as well (then only a signal ends it).
class service {
public:
    service(asio::io_context& io, const std::vector<endpoint>& from, const channel_options& options,
            bool verify, bool serves_rpc)
        : io_(io), serves_rpc_(serves_rpc) {
        for (const auto& where : from)
            readers_.push_back(
                std::make_unique<reader>(io, where, options, verify, [this] { finished(); }));
    }

    void start() {
        for (auto& r : readers_)
            r->start();
    }
    // A signal: every reader stops; what its endpoint still holds stays there.
    void stop(int signal) {
        if (stopped_by_ != 0) return;
        stopped_by_ = signal;
        std::cerr << "conveyor-example-service: stopping on signal " + std::to_string(signal) +
                         '\n';
        for (auto& r : readers_)
            r->stop();
    }
    int report() const {
        bool ok = true;
        for (const auto& r : readers_)
            ok = r->report(stopped_by_ != 0) && ok;
        return ok ? cli::exit_ok : cli::exit_verify_failed;
    }

private:
    void finished() {
        // The signal_set waits on: stop it all.
        if (++finished_ == readers_.size() && !serves_rpc_) io_.stop();
    }

    asio::io_context& io_;
    bool serves_rpc_;
    std::vector<std::unique_ptr<reader>> readers_;
    std::size_t finished_ = 0;
    int stopped_by_ = 0;
};

const char* help_text =
    "Usage: conveyor-example-service ENDPOINT... [--rpc URI]... [options]\n\n"
    "Takes messages from every ENDPOINT (shm://NAME, file:///PATH, topic://NAME) at once, on\n"
    "one thread, until each stream ends, then prints a line per endpoint on stderr. With\n"
    "--rpc it also serves the calc program (apps/calc/calc.x) on each URI, on the same\n"
    "thread, and runs until a signal. SIGTERM/SIGINT: stop taking messages and calls, print\n"
    "the lines, exit 0 (1 if --verify found a fault). An example of conveyor's async calls\n"
    "and RPC server in one service (apps/example_service).\n\n";

} // namespace

int main(int argc, char** argv) try {
    po::options_description options("Options");
    options.add_options()("help,h", "show this help and exit")(
        "endpoint", po::value<std::vector<std::string>>()->value_name("ENDPOINT"),
        "where to take from; give several")(
        "rpc", po::value<std::vector<std::string>>()->value_name("URI"),
        "serve calc on URI too: tcp://HOST:PORT, udp://HOST:PORT (port 0: any free port) or "
        "shm://NAME; give several; each URI served is printed on stderr")(
        "verify", "check generated messages per endpoint (conveyor-producer --generate)")(
        "producers", po::value<std::string>()->value_name("N")->default_value("1"),
        "per endpoint: end of stream only once N producers have come and gone; at least 1");
    cli::add_channel_options(options);
    po::positional_options_description positional;
    positional.add("endpoint", -1);
    po::variables_map values;
    try {
        po::store(po::command_line_parser(argc, argv).options(options).positional(positional).run(),
                  values);
        po::notify(values);
    } catch (const po::error& e) {
        throw cli::usage_error(e.what());
    }
    if (values.count("help")) {
        std::cout << help_text << options << cli::exit_code_help();
        return cli::exit_ok;
    }
    if (!values.count("endpoint") && !values.count("rpc"))
        throw cli::usage_error("missing ENDPOINT (e.g. shm://orders shm://payments)");
    std::vector<endpoint> from;
    const auto uris = values.count("endpoint") ? values["endpoint"].as<std::vector<std::string>>()
                                               : std::vector<std::string>{};
    for (const auto& uri : uris) {
        from.push_back(cli::parse_endpoint(uri));
        const auto kind = from.back().kind();
        if (kind != scheme::shm && kind != scheme::file && kind != scheme::topic)
            throw cli::usage_error(uri + ": this service takes shm://, file:// and topic://");
    }
    auto channel = cli::read_channel_options(values);
    channel.min_producers = cli::parse_count("producers", values["producers"].as<std::string>());

    // With --rpc, the RPC server's io_context (run on this thread alone) is the service's.
    std::optional<rpc::server> calls;
    calc::service calc;
    asio::io_context own_context;
    asio::io_context* io = &own_context;
    if (values.count("rpc")) {
        calls.emplace();
        calc.serve_on(*calls);
        for (const auto& uri : values["rpc"].as<std::vector<std::string>>())
            std::cerr << "conveyor-example-service: serving calc on " + calls->listen(uri) + '\n';
        io = &calls->context();
    }
    service readers(*io, from, channel, values.count("verify") != 0, calls.has_value());
    signal_handlers signals(*io);
    auto stop = [&](int signal) {
        readers.stop(signal);
        if (calls) calls->stop();
    };
    signals.on(SIGTERM, stop);
    signals.on(SIGINT, stop);
    readers.start();
    if (calls)
        calls->run();
    else
        io->run();
    if (calls)
        std::cerr << "conveyor-example-service: served " + std::to_string(calc.counter()) +
                         " COUNT calls\n";
    return readers.report();
} catch (const cli::usage_error& e) {
    std::cerr << "conveyor-example-service: " << e.what()
              << "\n(see conveyor-example-service --help)\n";
    return cli::exit_usage;
} catch (const error& e) {
    std::cerr << std::string("conveyor-example-service: ") + e.what() + '\n';
    return cli::exit_failure;
}

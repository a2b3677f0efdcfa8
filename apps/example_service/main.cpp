// conveyor-example-service: a service as Asio programs are written, one io_context on one
// thread, taking from several shm://, file:// and topic:// endpoints at once with the async
// calls (conveyor/shm/async.hpp), stopped by SIGTERM or SIGINT through a signal_set on the
// same context. The process has one thread more than main: conveyor's helper, whatever the
// number of endpoints.
//
// Issue 8's RPC server belongs on the same io_context: construct it in main() beside the
// service and cancel it in service::stop(); neither the readers nor the signals change.
#include "common/exit_codes.hpp"
#include "common/options.hpp"

#include <conveyor/error.hpp>
#include <conveyor/generated_message.hpp>
#include <conveyor/open.hpp>
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

// Every endpoint's reader on one io_context; stops the context once all have finished.
class service {
public:
    service(asio::io_context& io, const std::vector<endpoint>& from, const channel_options& options,
            bool verify)
        : io_(io) {
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
        if (++finished_ == readers_.size()) io_.stop(); // the signal_set waits on: stop it all
    }

    asio::io_context& io_;
    std::vector<std::unique_ptr<reader>> readers_;
    std::size_t finished_ = 0;
    int stopped_by_ = 0;
};

const char* help_text =
    "Usage: conveyor-example-service ENDPOINT... [options]\n\n"
    "Takes messages from every ENDPOINT (shm://NAME, file:///PATH, topic://NAME) at once, on\n"
    "one thread, until each stream ends, then prints a line per endpoint on stderr.\n"
    "SIGTERM/SIGINT: stop taking messages, print the lines, exit 0 (1 if --verify found\n"
    "a fault). An example of conveyor's async calls in a service (apps/example_service).\n\n";

} // namespace

int main(int argc, char** argv) try {
    po::options_description options("Options");
    options.add_options()("help,h", "show this help and exit")(
        "endpoint", po::value<std::vector<std::string>>()->value_name("ENDPOINT"),
        "where to take from; give several")(
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
    if (!values.count("endpoint"))
        throw cli::usage_error("missing ENDPOINT (e.g. shm://orders shm://payments)");
    std::vector<endpoint> from;
    for (const auto& uri : values["endpoint"].as<std::vector<std::string>>()) {
        from.push_back(cli::parse_endpoint(uri));
        const auto kind = from.back().kind();
        if (kind != scheme::shm && kind != scheme::file && kind != scheme::topic)
            throw cli::usage_error(uri + ": this service takes shm://, file:// and topic://");
    }
    auto channel = cli::read_channel_options(values);
    channel.min_producers = cli::parse_count("producers", values["producers"].as<std::string>());

    asio::io_context io;
    service readers(io, from, channel, values.count("verify") != 0);
    signal_handlers signals(io);
    signals.on(SIGTERM, [&](int signal) { readers.stop(signal); });
    signals.on(SIGINT, [&](int signal) { readers.stop(signal); });
    readers.start();
    io.run();
    return readers.report();
} catch (const cli::usage_error& e) {
    std::cerr << "conveyor-example-service: " << e.what()
              << "\n(see conveyor-example-service --help)\n";
    return cli::exit_usage;
} catch (const error& e) {
    std::cerr << std::string("conveyor-example-service: ") + e.what() + '\n';
    return cli::exit_failure;
}

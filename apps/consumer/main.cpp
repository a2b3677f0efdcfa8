// conveyor-consumer: takes messages from an endpoint and writes them out, or verifies them.
#include "common/app_main.hpp"
#include "common/exit_codes.hpp"
#include "common/joined_segment.hpp"
#include "common/message_writer.hpp"
#include "common/options.hpp"
#include "common/report.hpp"
#include "common/stop_signals.hpp"

#include <conveyor/codec/envelope.hpp>
#include <conveyor/codec/generated_xdr.hpp>
#include <conveyor/error.hpp>
#include <conveyor/generated_message.hpp>
#include <conveyor/nats/open.hpp>
#include <conveyor/shm/topic.hpp>

#include <boost/program_options/value_semantic.hpp>

#include <cmath>
#include <iostream>
#include <optional>

namespace po = boost::program_options;
using namespace conveyor;
using clock_type = std::chrono::steady_clock;

// Messages taken per visit to the channel at most.
constexpr std::size_t batch_size = 256;

namespace {

struct settings {
    endpoint where;
    channel_options channel;
    cli::sizes_given sizes;  // which of channel's sizes the command line gave
    std::uint64_t count = 0; // 0: until end of stream
    bool quiet = false;
    bool verify = false;
    bool xdr = false;    // --format xdr: messages are generated ones in typed XDR envelopes
    double timeout = -1; // seconds without a message before giving up, -1: wait forever
};

class consumer {
public:
    consumer(const settings& s, cli::stop_signals& signals) : s_(s), signals_(signals) {}

    int run() {
        in_ = open_receiver(s_.where, s_.channel);
        cli::note_joined_segment("conveyor-consumer", s_.where, s_.channel, s_.sizes);
        cli::note_recovery("conveyor-consumer", *in_);
        int status = cli::exit_ok;
        std::optional<error> failure;
        try {
            status = take_all();
        } catch (const error& e) {
            // The messages taken before a damaged frame are good: write them out and say
            // how many there were before the cause.
            failure = e;
        }
        finished_ = true;
        if (!out_.flush() && status == cli::exit_ok && !failure) status = output_failed();
        report();
        if (failure) return cli::report_failure("conveyor-consumer", *failure, in_->max_message());
        if (status != cli::exit_ok) return status;
        if (!s_.verify) return undecodable_ == 0 ? cli::exit_ok : cli::exit_verify_failed;
        return verified().ok() ? cli::exit_ok : cli::exit_verify_failed;
    }

private:
    // Takes what is there without waiting; before waiting, writes out what was taken, so
    // that output keeps pace with a slow stream and a failed write is noticed early. Waits
    // in short slices to notice signals; empty when the timeout passed or a stop was asked.
    receive_status take_some(message_batch& batch) {
        // Up to a batch at a time: on shm one lock for the lot. Never more than --count.
        const auto max = static_cast<std::size_t>(
            s_.count == 0 ? batch_size
                          : std::min<std::uint64_t>(batch_size, s_.count - meter_.messages));
        auto status = in_->receive_batch(batch, max, no_wait);
        if (status != receive_status::empty) return status;
        if (!s_.quiet && !out_.flush()) return receive_status::empty;
        const auto give_up =
            s_.timeout < 0 ? clock_type::time_point::max()
                           : clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                                                     std::chrono::duration<double>(s_.timeout));
        for (;;) {
            report_if_asked();
            if (signals_.stop_requested()) return receive_status::empty;
            status = in_->receive_batch(batch, max, cli::stop_signals::poll_interval);
            if (status != receive_status::empty || clock_type::now() >= give_up) return status;
        }
    }

    // Mid-stream, what has not arrived yet is not lost. Stopped by a signal, the rest of an
    // shm:// or nats:// stream stays for the next consumer; a pipe or FIFO keeps nothing
    // without a reader, so there the rest is lost.
    stream_verifier::summary verified() const {
        auto summary = verifier_.result();
        const bool rest_kept = signals_.stop_requested() && keeps_the_rest();
        if (rest_kept || !finished_) summary.lost = 0;
        return summary;
    }

    bool keeps_the_rest() const {
        return s_.where.kind() == scheme::shm || s_.where.kind() == scheme::nats;
    }

    void report_if_asked() {
        if (!signals_.take_report_request()) return;
        std::cerr << "conveyor-consumer: so far " + meter_.line("received") + '\n';
        if (s_.verify)
            std::cerr << stream_verifier::describe(verified()) + ", " +
                             std::to_string(redelivered_) + " redelivered\n";
    }

    int take_all() {
        message_batch batch;
        while (s_.count == 0 || meter_.messages < s_.count) {
            report_if_asked();
            if (signals_.stop_requested()) return stopped();
            const auto status = take_some(batch);
            if (out_.failure()) return output_failed();
            if (status == receive_status::end_of_stream) return cli::exit_ok;
            if (signals_.stop_requested() && status == receive_status::empty) return stopped();
            if (status == receive_status::empty) {
                std::cerr << "conveyor-consumer: " << in_->describe() << ": no message for "
                          << s_.timeout << " s; giving up\n";
                return cli::exit_timed_out;
            }
            meter_.starting();
            meter_.moved(batch.size(), batch.bytes());
            const std::uint64_t before = meter_.messages - batch.size();
            for (std::size_t i = 0; i < batch.size(); ++i) {
                const auto message = batch[i];
                redelivered_ += batch.redelivered(i);
                const std::optional<bytes_view> taken =
                    s_.xdr ? unwrap(message, before + i + 1) : std::optional<bytes_view>(message);
                // An undecodable message is verified as an empty one: corrupt.
                const bool corrupt = s_.verify && !verifier_.observe(taken.value_or(bytes_view{}));
                if (corrupt && !s_.xdr && !hinted_xdr_) hint_if_typed(message, before + i + 1);
                if (!s_.quiet && taken && !out_.append(*taken)) return output_failed();
            }
            if (!acknowledge()) return output_failed();
        }
        return cli::exit_ok;
    }

    // With acknowledged delivery, the batch is done with once it is written out and flushed:
    // a consumer killed before that leaves it to the next one. False when writing failed.
    bool acknowledge() {
        if (!s_.channel.acknowledge) return true;
        if (!s_.quiet && !out_.flush()) return false;
        in_->ack();
        return true;
    }

    // The generated message inside a typed envelope; none, with the cause on stderr, when the
    // envelope or its payload is bad.
    // number: the message's place in this consumer's stream, counting from 1.
    std::optional<bytes_view> unwrap(bytes_view wire, std::uint64_t number) {
        std::error_code ec;
        std::string why;
        decode_generated(wire, unwrapped_, ec, why);
        if (!ec) return unwrapped_;
        // A raw generated message's first word, part of its producer id, is no envelope format.
        if (ec == errc::unsupported_format) why += " (is the producer running with --format xdr?)";
        if (++undecodable_ <= max_reported)
            std::cerr << "conveyor-consumer: " << s_.where.uri() << ": message " << number << ": "
                      << why << '\n';
        return std::nullopt;
    }

    // A raw consumer counts every message of an xdr producer corrupt: says why, once. Such a
    // message never passes the raw checks (its length and CRC are elsewhere), so a corrupt
    // one whose envelope opens with the generated type id is one.
    void hint_if_typed(bytes_view message, std::uint64_t number) {
        std::error_code ec;
        const envelope e = open_envelope(message, ec);
        if (ec || e.type_id != generated_message_type_id) return;
        hinted_xdr_ = true;
        std::cerr << "conveyor-consumer: " << s_.where.uri() << ": message " << number
                  << " looks like a typed XDR message; run with --format xdr\n";
    }

    int stopped() const {
        std::string line = "conveyor-consumer: stopped by signal " +
                           std::to_string(signals_.stop_signal()) + " after " +
                           std::to_string(meter_.messages) + " messages; ";
        if (keeps_the_rest())
            line += "the rest stays in " + s_.where.uri() + " for the next consumer";
        else if (s_.where.kind() == scheme::topic)
            line += "what " + s_.where.uri() + " publishes from now on is not kept for it";
        else if (s_.where.kind() == scheme::fifo)
            line += "what " + s_.where.uri() +
                    " still holds is lost once its last reader closes, and its producers "
                    "get 'consumer went away'";
        else
            line += "what the pipe still holds is lost with it";
        std::cerr << line + '\n';
        return cli::exit_ok;
    }

    // Messages taken but not written are lost, unless they were only leased: then the next
    // consumer gets them again.
    int output_failed() const {
        std::cerr << "conveyor-consumer: writing standard output: " << out_.failure().message()
                  << "; stopped taking messages from " << in_->describe() << " ("
                  << out_.unwritten() << " taken but not written"
                  << (s_.channel.acknowledge ? ", not acknowledged: they are delivered again)\n"
                                             : ")\n");
        return cli::exit_failure;
    }

    void report() const {
        if (undecodable_ > max_reported)
            std::cerr << "conveyor-consumer: " << s_.where.uri() << ": ... and "
                      << undecodable_ - max_reported << " more undecodable messages\n";
        std::cerr << meter_.line("received") + '\n'; // one write: a producer may print beside it
        if (const auto* topic = dynamic_cast<const shm::topic_receiver*>(in_.get());
            topic && topic->dropped() != 0)
            std::cerr << "conveyor-consumer: " + s_.where.uri() + ": " +
                             std::to_string(topic->dropped()) +
                             " messages dropped: this subscriber fell a whole ring behind "
                             "(the topic was created with --slow drop)\n";
        if (!s_.verify) return;
        const auto summary = verified();
        std::cerr << stream_verifier::describe(summary) + ", " + std::to_string(redelivered_) +
                         " redelivered\n";
        if (summary.out_of_order != 0)
            std::cerr << summary.out_of_order
                      << " messages arrived out of their producer's order\n";
    }

    const settings& s_;
    cli::stop_signals& signals_;
    std::unique_ptr<receiver> in_;
    cli::message_writer out_{1};
    stream_verifier verifier_;
    static constexpr std::uint64_t max_reported = 10; // undecodable messages named on stderr
    std::vector<std::byte> unwrapped_;
    std::uint64_t undecodable_ = 0;
    std::uint64_t redelivered_ = 0; // messages taken that had been delivered before
    bool hinted_xdr_ = false;       // hint_if_typed has spoken
    bool finished_ = false;         // take_all has returned
    cli::throughput_meter meter_;
};

po::options_description describe_options() {
    const std::string count_help =
        "stop after N messages; " + cli::bounds_help(cli::whole_bounds{});
    const std::string timeout_help =
        "give up (exit 2) when nothing arrives for that long; default: wait. On nats:// also "
        "the wait for a server (default 10 s); " +
        cli::bounds_help(cli::seconds_bounds);
    const std::string producers_help =
        "end of stream only once N producers have attached and all have gone; " +
        cli::bounds_help(cli::whole_bounds{});
    po::options_description options("Options");
    options.add_options()("help,h", "show this help and exit")(
        "endpoint", po::value<std::string>()->value_name("ENDPOINT"),
        ("where to take from: shm://NAME, file:///PATH, topic://NAME (every message published "
         "from now on), fifo:///PATH, pipe: (standard input) or " +
         std::string(nats::uri_help))
            .c_str())("count", po::value<std::string>()->value_name("N"),
                      count_help.c_str())("quiet,q", "do not write messages to standard output")(
        "verify", "check generated messages (conveyor-producer --generate): none lost, "
                  "duplicated, corrupt or out of order; exit 1 if any is. Consumers sharing "
                  "a shm:// queue each count the messages the others took as lost: with "
                  "several, verify their merged output, or run one verifying consumer")(
        "format", po::value<std::string>()->value_name("raw|xdr")->default_value("raw"),
        "xdr: messages are typed XDR envelopes (conveyor-producer --format xdr); one "
        "that fails its checks is named on stderr and makes the exit status 1")(
        "timeout", po::value<std::string>()->value_name("SECONDS"), timeout_help.c_str())(
        "producers", po::value<std::string>()->value_name("N")->default_value("1"),
        producers_help.c_str())(
        "no-ack", "on shm://, file:// and nats://: take messages outright instead of "
                  "acknowledging each batch once it is written out and flushed (then a "
                  "consumer killed mid-batch loses what it had taken; with acknowledgement the "
                  "next consumer gets it again, marked redelivered)");
    cli::add_channel_options(options);
    return options;
}

// Every number first: a bad value is refused before the endpoint is looked at or opened.
settings read_settings(const po::variables_map& values) {
    settings s;
    s.channel = cli::read_channel_options(values);
    s.sizes = cli::read_sizes_given(values);
    s.channel.min_producers = cli::parse_count("producers", values["producers"].as<std::string>());
    if (values.count("count"))
        s.count = cli::parse_count("count", values["count"].as<std::string>());
    if (values.count("timeout")) {
        s.timeout = cli::parse_seconds("timeout", values["timeout"].as<std::string>());
        s.channel.connect_timeout = std::chrono::milliseconds(std::llround(s.timeout * 1000));
    }
    if (!values.count("endpoint")) throw cli::usage_error("missing ENDPOINT (e.g. shm://orders)");
    s.where = cli::parse_endpoint(values["endpoint"].as<std::string>());
    if (s.channel.lines && s.channel.min_producers > 1)
        throw cli::usage_error("--producers " + std::to_string(s.channel.min_producers) +
                               " with --lines: lines carry no hello, so producers cannot be "
                               "counted; drop one of the two");
    s.quiet = values.count("quiet") != 0;
    s.channel.acknowledge = cli::keeps_until_acknowledged(s.where) && values.count("no-ack") == 0;
    s.verify = values.count("verify") != 0;
    s.xdr = cli::parse_format(values["format"].as<std::string>()) == cli::message_format::xdr;
    return s;
}

} // namespace

int main(int argc, char** argv) {
    const cli::app_description app{
        "conveyor-consumer",
        "Takes messages from ENDPOINT and writes each to standard output with a\n"
        "newline, until end of stream: every producer that attached has closed\n"
        "or died and the channel is drained. Waits for a producer if none has\n"
        "attached yet. Creates the segment or FIFO if it does not exist. Prints\n"
        "a throughput line on stderr at the end (and the --verify summary).\n"
        "SIGINT/SIGTERM: stop taking messages, print the summary, exit 0 (a\n"
        "second one: exit at once); SIGUSR1: figures so far on stderr.",
        "conveyor-consumer shm://orders --verify --quiet"};
    cli::stop_signals signals("conveyor-consumer");
    return cli::run_app(argc, argv, app, describe_options(), [&](const po::variables_map& values) {
        const settings s = read_settings(values);
        return consumer(s, signals).run();
    });
}

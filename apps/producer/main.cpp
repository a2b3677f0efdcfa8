// conveyor-producer: sends stdin's lines, or generated verifiable messages, to an endpoint.
#include "common/app_main.hpp"
#include "common/exit_codes.hpp"
#include "common/joined_segment.hpp"
#include "common/options.hpp"
#include "common/report.hpp"
#include "common/stop_signals.hpp"

#include <conveyor/codec/generated_xdr.hpp>
#include <conveyor/error.hpp>
#include <conveyor/generated_message.hpp>
#include <conveyor/nats/open.hpp>
#include <conveyor/pipe/stream.hpp>

#include <boost/program_options/value_semantic.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <poll.h>
#include <thread>
#include <unistd.h>

namespace po = boost::program_options;
using namespace conveyor;
using clock_type = std::chrono::steady_clock;

namespace {

struct settings {
    endpoint where;
    channel_options channel;
    cli::sizes_given sizes;     // which of channel's sizes the command line gave
    std::uint64_t generate = 0; // 0: read stdin
    std::uint64_t size = 64;
    bool xdr = false;    // --format xdr: each generated message in a typed XDR envelope
    double rate = 0;     // messages per second, 0: unlimited
    double timeout = -1; // seconds a full channel may block a send, -1: forever
};

// Spaces sends out to at most rate per second, from the first one on.
class pacer {
public:
    explicit pacer(double rate) : interval_(rate > 0 ? 1.0 / rate : 0) {}
    // Waits until message index may go, in slices, so that a stop is noticed; false
    // when stop said to stop first.
    bool before(std::uint64_t index, const cli::stop_signals& signals) {
        if (interval_ == 0) return true;
        if (index == 0) start_ = clock_type::now();
        const auto due = start_ + std::chrono::duration_cast<clock_type::duration>(
                                      std::chrono::duration<double>(index * interval_));
        for (auto now = clock_type::now(); now < due; now = clock_type::now()) {
            if (signals.stop_requested()) return false;
            std::this_thread::sleep_for(
                std::min<clock_type::duration>(due - now, cli::stop_signals::poll_interval));
        }
        return true;
    }

private:
    double interval_;
    clock_type::time_point start_;
};

class producer {
public:
    producer(const settings& s, cli::stop_signals& signals)
        : s_(s), signals_(signals), pace_(s.rate) {}

    int run() {
        out_ = open_sender(s_.where, s_.channel);
        cli::note_joined_segment("conveyor-producer", s_.where, s_.channel, s_.sizes);
        cli::note_recovery("conveyor-producer", *out_);
        int status = cli::exit_ok;
        try {
            status = s_.generate > 0 ? generate() : forward_stdin();
            if (status == cli::exit_ok) out_->close();
        } catch (const error& e) {
            // What was sent before the channel failed (a consumer that went away) is worth
            // saying: the figures first, then the cause.
            std::cerr << meter_.line("sent") + '\n';
            return cli::report_failure("conveyor-producer", e, out_->max_message());
        }
        std::cerr << meter_.line("sent") + '\n'; // one write: a consumer may print beside it
        if (signals_.stop_requested())
            std::cerr << "conveyor-producer: stopped by signal " << signals_.stop_signal()
                      << "; stream closed\n";
        return status == cli::exit_ok ? spawned_child_status() : status;
    }

private:
    // With --spawn, the child's failure is the producer's (as with `set -o pipefail`).
    int spawned_child_status() const {
        const auto* stream = dynamic_cast<const pipe::stream_sender*>(out_.get());
        return stream && stream->child_status() > 0 ? stream->child_status() : cli::exit_ok;
    }

    void report_if_asked() {
        if (signals_.take_report_request())
            std::cerr << "conveyor-producer: so far " + meter_.line("sent") + '\n';
    }

    // Sends one message, honouring --rate and --timeout, and looking at the signals while
    // the channel is full. False when it timed out or a stop was asked for.
    bool send(bytes_view message) {
        report_if_asked();
        if (signals_.stop_requested() || !pace_.before(meter_.messages, signals_)) return false;
        meter_.starting();
        const auto give_up = s_.timeout < 0 ? clock_type::time_point::max()
                                            : clock_type::now() + seconds(s_.timeout);
        while (!out_->send_for(message, cli::stop_signals::poll_interval)) {
            report_if_asked();
            if (signals_.stop_requested() || clock_type::now() >= give_up) return false;
        }
        meter_.moved(1, message.size());
        return true;
    }

    // Sends messages in order, in one batch where the channel allows (shm: one lock and one
    // commit), honouring --timeout and the signals as send() does. False as send().
    bool send_batch(std::span<const bytes_view> messages) {
        report_if_asked();
        if (signals_.stop_requested()) return false;
        meter_.starting();
        auto give_up = s_.timeout < 0 ? clock_type::time_point::max()
                                      : clock_type::now() + seconds(s_.timeout);
        for (std::size_t done = 0; done < messages.size();) {
            const auto n =
                out_->send_batch(messages.subspan(done), cli::stop_signals::poll_interval);
            std::uint64_t bytes = 0;
            for (std::size_t i = done; i < done + n; ++i)
                bytes += messages[i].size();
            meter_.moved(n, bytes);
            done += n;
            if (done == messages.size()) break;
            report_if_asked();
            if (n > 0 && s_.timeout >= 0) give_up = clock_type::now() + seconds(s_.timeout);
            if (signals_.stop_requested() || clock_type::now() >= give_up) return false;
        }
        return true;
    }

    static clock_type::duration seconds(double s) {
        return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s));
    }

    // Why send() returned false.
    int not_sent() { return signals_.stop_requested() ? cli::exit_ok : timed_out(); }

    int timed_out() {
        // A FIFO producer's first send waits for a consumer to open the FIFO; once one has,
        // the pipe takes a frame at once, so nothing sent yet means no consumer came.
        if (s_.where.kind() == scheme::fifo && meter_.messages == 0)
            std::cerr << "conveyor-producer: " << out_->describe()
                      << ": no consumer opened the FIFO within " << s_.timeout << " s; giving up\n";
        else
            std::cerr << "conveyor-producer: " << out_->describe() << ": channel stayed full for "
                      << s_.timeout << " s (no consumer taking messages?); giving up\n";
        return cli::exit_timed_out;
    }

    int generate() {
        const std::size_t most =
            s_.xdr ? generated_xdr_capacity(out_->max_message()) : out_->max_message();
        if (s_.size > most)
            throw cli::usage_error(
                "--size " + std::to_string(s_.size) + ": generated messages need " +
                std::to_string(generated_header_size) + " to " + std::to_string(most) +
                " bytes on " + s_.where.uri() + (s_.xdr ? " with --format xdr" : "") +
                " (--max-message, the same on both sides, allows more)");
        const message_generator make(make_producer_id(), s_.size, s_.generate);
        // Paced sends go one by one; otherwise in batches of up to 64 messages or 256 KiB.
        const std::size_t per_batch =
            s_.rate > 0 ? 1 : std::clamp<std::size_t>((256u << 10) / s_.size, 1, 64);
        std::vector<std::vector<std::byte>> slots(per_batch);
        std::vector<std::byte> wire;
        std::vector<bytes_view> batch;
        for (std::uint64_t i = 0; i < s_.generate;) {
            batch.clear();
            for (; batch.size() < per_batch && i < s_.generate; ++i) {
                auto& slot = slots[batch.size()];
                slot.resize(s_.size);
                make.make(i, slot);
                if (s_.xdr) {
                    encode_generated(slot, i, wire);
                    slot.swap(wire);
                }
                batch.push_back(slot);
            }
            const bool sent = per_batch == 1 ? send(batch.front()) : send_batch(batch);
            if (!sent) return not_sent();
        }
        return cli::exit_ok;
    }

    // Reads what standard input has now (a line typed or piped in goes out at once), waiting
    // in slices to notice signals; 0 at end of input or once a stop was asked for.
    ssize_t read_input(char* data, std::size_t size) {
        for (;;) {
            report_if_asked();
            if (signals_.stop_requested()) return 0;
            pollfd ready{STDIN_FILENO, POLLIN, 0};
            const int waited = ::poll(&ready, 1, cli::stop_signals::poll_interval.count());
            if (waited == 0 || (waited < 0 && errno == EINTR)) continue;
            const ssize_t n = ::read(STDIN_FILENO, data, size);
            if (n >= 0 || errno != EINTR) return n;
        }
    }

    int forward_stdin() {
        const std::size_t limit = out_->max_message();
        std::vector<char> buffer(1 << 16);
        std::string line;
        std::uint64_t line_number = 0;
        ssize_t n;
        auto flush_line = [&]() -> int {
            ++line_number;
            if (line.size() > limit) {
                std::cerr << "conveyor-producer: line " << line_number << " is " << line.size()
                          << " bytes, more than the " << limit << "-byte maximum of "
                          << out_->describe()
                          << " (--max-message, the same on both sides); lines before it were "
                             "sent\n";
                return cli::exit_failure;
            }
            if (!send(std::as_bytes(std::span(line.data(), line.size())))) return not_sent();
            line.clear();
            return cli::exit_ok;
        };
        while ((n = read_input(buffer.data(), buffer.size())) > 0) {
            const char* p = buffer.data();
            const char* end = p + n;
            while (p < end) {
                const char* newline = static_cast<const char*>(std::memchr(p, '\n', end - p));
                if (!newline) {
                    line.append(p, end);
                    break;
                }
                line.append(p, newline);
                if (int status = flush_line(); status != cli::exit_ok) return status;
                p = newline + 1;
            }
        }
        if (n < 0) {
            std::cerr << "conveyor-producer: reading standard input: " << std::strerror(errno)
                      << '\n';
            return cli::exit_failure;
        }
        if (signals_.stop_requested()) return cli::exit_ok; // the partial line is not sent
        if (!line.empty()) return flush_line();             // a last line without its newline
        return cli::exit_ok;
    }

    const settings& s_;
    cli::stop_signals& signals_;
    pacer pace_;
    std::unique_ptr<sender> out_;
    cli::throughput_meter meter_;
};

// --size: a generated message holds at least its header; the channel's largest message,
// known once it is open, bounds it too.
constexpr cli::whole_bounds size_bounds{generated_header_size, cli::max_message_bounds.max};

po::options_description describe_options() {
    const std::string generate_help =
        "send N generated messages (producer id, sequence, checksum) instead of stdin; " +
        cli::bounds_help(cli::whole_bounds{});
    const std::string size_help = "size of each generated message; " +
                                  cli::bounds_help(size_bounds, true) +
                                  ", and at most the channel's --max-message";
    const std::string rate_help =
        "send at most N messages per second; " + cli::bounds_help(cli::rate_bounds);
    const std::string timeout_help =
        "give up (exit 2) when the channel stays full that long; default: wait. On nats:// "
        "also the wait for a server (default 10 s); " +
        cli::bounds_help(cli::seconds_bounds);
    po::options_description options("Options");
    options.add_options()("help,h", "show this help and exit")(
        "endpoint", po::value<std::string>()->value_name("ENDPOINT"),
        ("where to send: shm://NAME, file:///PATH, topic://NAME (to every subscriber), "
         "fifo:///PATH, pipe: (standard output) or " +
         std::string(nats::uri_help))
            .c_str())("generate", po::value<std::string>()->value_name("N"), generate_help.c_str())(
        "size", po::value<std::string>()->value_name("BYTES")->default_value("64"),
        size_help.c_str())(
        "format", po::value<std::string>()->value_name("raw|xdr")->default_value("raw"),
        "with --generate: xdr sends each message as XDR opaque data in a typed envelope")(
        "rate", po::value<std::string>()->value_name("N"), rate_help.c_str())(
        "timeout", po::value<std::string>()->value_name("SECONDS"), timeout_help.c_str())(
        "name", po::value<std::string>()->value_name("NAME"),
        "shm://, file:// and topic://: attach as the producer NAME; if it dies its stream is "
        "paused, "
        "not ended (consumers keep waiting, bounded by their --timeout), and the next "
        "producer of that name takes its place; only its close ends the stream")(
        "spawn", po::value<std::string>()->value_name("COMMAND"),
        "pipe: only: start `sh -c COMMAND` in a process group of its own (Ctrl-C stops the "
        "producer, and the command reads to the end) and send to its standard input");
    cli::add_channel_options(options);
    return options;
}

// Every number first: a bad value is refused before the endpoint is looked at or opened.
settings read_settings(const po::variables_map& values) {
    settings s;
    s.channel = cli::read_channel_options(values);
    s.sizes = cli::read_sizes_given(values);
    if (values.count("generate"))
        s.generate = cli::parse_count("generate", values["generate"].as<std::string>());
    s.size = cli::parse_size("size", values["size"].as<std::string>(), size_bounds);
    if (values.count("rate")) s.rate = cli::parse_rate("rate", values["rate"].as<std::string>());
    if (values.count("timeout")) {
        s.timeout = cli::parse_seconds("timeout", values["timeout"].as<std::string>());
        s.channel.connect_timeout = std::chrono::milliseconds(std::llround(s.timeout * 1000));
    }
    if (!values.count("endpoint")) throw cli::usage_error("missing ENDPOINT (e.g. shm://orders)");
    s.where = cli::parse_endpoint(values["endpoint"].as<std::string>());
    s.xdr = cli::parse_format(values["format"].as<std::string>()) == cli::message_format::xdr;
    if (s.xdr && s.generate == 0) throw cli::usage_error("--format xdr: only with --generate");
    if (s.channel.lines && s.generate > 0)
        throw cli::usage_error("--lines and --generate: generated messages are binary and may "
                               "hold newlines; --lines sends the lines of standard input");
    if (values.count("name")) {
        if (s.where.kind() != scheme::shm && s.where.kind() != scheme::file &&
            s.where.kind() != scheme::topic && s.where.kind() != scheme::nats)
            throw cli::usage_error("--name: only on shm://, file://, topic:// and nats:// (pipes "
                                   "and FIFOs end with their writers)");
        s.channel.producer_name = values["name"].as<std::string>();
        if (s.channel.producer_name.empty()) throw cli::usage_error("--name: the name is empty");
    }
    if (values.count("spawn")) {
        if (s.where.kind() != scheme::pipe)
            throw cli::usage_error("--spawn: only with the pipe: endpoint");
        s.channel.spawn = values["spawn"].as<std::string>();
    }
    return s;
}

} // namespace

int main(int argc, char** argv) {
    const cli::app_description app{
        "conveyor-producer",
        "Sends one message per line of standard input (newline stripped) and\n"
        "closes the stream at end of input; or, with --generate, N synthetic\n"
        "messages that conveyor-consumer --verify checks. Creates the segment\n"
        "or FIFO if it does not exist. Prints a throughput line on stderr at the\n"
        "end. SIGINT/SIGTERM: stop sending, close the stream, exit 0 (a second\n"
        "one: exit at once); SIGUSR1: figures so far on stderr.",
        "seq 1000 | conveyor-producer shm://orders"};
    cli::stop_signals signals("conveyor-producer");
    return cli::run_app(argc, argv, app, describe_options(), [&](const po::variables_map& values) {
        const settings s = read_settings(values);
        return producer(s, signals).run();
    });
}

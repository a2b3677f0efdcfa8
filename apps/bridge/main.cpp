// conveyor-bridge: takes messages from one endpoint and sends them to another, acknowledging
// each batch at the first only once the second has accepted it, so that a bridge killed at
// any moment loses nothing (docs/architecture.md, "conveyor-bridge").
#include "common/app_main.hpp"
#include "common/exit_codes.hpp"
#include "common/joined_segment.hpp"
#include "common/options.hpp"
#include "common/report.hpp"
#include "common/stop_signals.hpp"

#include <conveyor/checksum.hpp>
#include <conveyor/error.hpp>
#include <conveyor/nats/open.hpp>

#include <boost/program_options/value_semantic.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace po = boost::program_options;
using namespace conveyor;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr const char* app_name = "conveyor-bridge";
// Messages taken, sent and acknowledged at a time, unless --batch says otherwise: as many
// as conveyor-consumer takes at a time.
constexpr std::size_t default_batch = 256;
// A kill makes at most one batch arrive twice; beyond 64K messages a batch only keeps more
// of FROM leased for longer (a shm:// queue hands out at most 1 MiB per visit anyway).
constexpr cli::whole_bounds batch_bounds{1, std::uint64_t(64) << 10};
// The default producer name is this and 16 hex digits: well within the 47 bytes a name has.
constexpr const char* default_name_prefix = "bridge:";

struct settings {
    endpoint from;
    endpoint to;
    channel_options in;     // FROM's
    channel_options out;    // TO's, also the sizes, mode and sync when the bridge creates it
    cli::sizes_given sizes; // which of out's sizes the command line gave
    std::size_t batch = default_batch;
    double timeout = -1; // seconds FROM may stay empty, or TO full, -1: wait forever
};

// FNV-1a, 64 bits: fixed by its definition (std::hash is not), so that a bridge restarted
// from another build still derives the name its predecessor attached under.
std::uint64_t fnv1a(std::string_view text) noexcept {
    std::uint64_t hash = 0xcbf29ce484222325ull;
    for (const char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ull;
    }
    return hash;
}

// The name the bridge from FROM to TO attaches to TO under, the same on every run.
std::string default_name(const endpoint& from, const endpoint& to) {
    char digits[17];
    std::snprintf(digits, sizeof digits, "%016llx",
                  static_cast<unsigned long long>(fnv1a(from.uri() + '\n' + to.uri())));
    return default_name_prefix + std::string(digits);
}

bool takes_producer_names(const endpoint& where) {
    return where.kind() == scheme::shm || where.kind() == scheme::file ||
           where.kind() == scheme::nats;
}

// When a wait bounded by --timeout gives up; never without one.
clock_type::time_point give_up_after(double timeout) {
    if (timeout < 0) return clock_type::time_point::max();
    return clock_type::now() +
           std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(timeout));
}

class bridge {
public:
    bridge(const settings& s, cli::stop_signals& signals) : s_(s), signals_(signals) {}

    int run() {
        // FROM first: attaching as its consumer takes nothing, so a TO that cannot be opened
        // leaves FROM as it was.
        in_ = open_receiver(s_.from, s_.in);
        cli::note_recovery(app_name, *in_);
        out_ = open_sender(s_.to, s_.out);
        cli::note_joined_segment(app_name, s_.to, s_.out, s_.sizes);
        cli::note_recovery(app_name, *out_);
        try {
            return forward();
        } catch (const error& e) {
            // A batch not acknowledged comes again from FROM; TO's stream stays open for the
            // next bridge, as when this one is killed.
            report();
            exit_leaving_to_open(cli::report_failure(app_name, e));
        }
    }

private:
    int forward() {
        message_batch batch;
        for (;;) {
            const auto status = take(batch);
            if (status == receive_status::end_of_stream) return finished();
            if (status == receive_status::empty)
                return signals_.stop_requested() ? stopped(0) : timed_out(s_.from, "had nothing");
            meter_.starting();
            const std::size_t fitting = fitting_in_to(batch);
            const std::size_t unsent = send(batch, fitting);
            if (unsent != 0)
                return signals_.stop_requested() ? stopped(unsent)
                                                 : timed_out(s_.to, "stayed full");
            if (fitting < batch.size()) return refuse(batch, fitting);
            in_->ack(); // TO has them all (on disk, for file:// with --sync batch or always)
            account(batch, batch.size());
        }
    }

    // Waits for FROM's next messages in slices, to notice signals; empty when --timeout
    // passed or a stop was asked for.
    receive_status take(message_batch& batch) {
        const auto give_up = give_up_after(s_.timeout);
        for (;;) {
            report_if_asked();
            if (signals_.stop_requested()) return receive_status::empty;
            const auto status =
                in_->receive_batch(batch, s_.batch, cli::stop_signals::poll_interval);
            if (status != receive_status::empty || clock_type::now() >= give_up) return status;
        }
    }

    // How many of batch's messages, from the first, TO can take.
    std::size_t fitting_in_to(const message_batch& batch) const {
        const std::size_t most = out_->max_message();
        std::size_t n = 0;
        while (n < batch.size() && batch[n].size() <= most)
            ++n;
        return n;
    }

    // Sends batch's first count messages to TO, waiting in slices while it is full; returns
    // how many were not sent, when --timeout passed without room or a stop was asked for.
    std::size_t send(const message_batch& batch, std::size_t count) {
        views_.clear();
        for (std::size_t i = 0; i < count; ++i)
            views_.push_back(batch[i]);
        auto give_up = give_up_after(s_.timeout);
        for (std::size_t done = 0; done < count;) {
            const auto n =
                out_->send_batch(std::span(views_).subspan(done), cli::stop_signals::poll_interval);
            done += n;
            if (done == count) break;
            report_if_asked();
            if (n > 0) give_up = give_up_after(s_.timeout); // TO moves: not stuck
            if (signals_.stop_requested() || clock_type::now() >= give_up) return count - done;
        }
        return 0;
    }

    void account(const message_batch& batch, std::size_t count) {
        std::uint64_t bytes = 0;
        for (std::size_t i = 0; i < count; ++i) {
            bytes += batch[i].size();
            redelivered_ += batch.redelivered(i);
        }
        meter_.moved(count, bytes);
    }

    // End of stream on FROM: TO's stream ends too.
    int finished() {
        out_->close();
        report();
        return cli::exit_ok;
    }

    // A stop asked for ends TO's stream, as FROM's end would. unsent: messages of the batch
    // in hand that TO did not take.
    int stopped(std::size_t unsent) {
        out_->close();
        report();
        std::string line = std::string(app_name) + ": stopped by signal " +
                           std::to_string(signals_.stop_signal()) + "; " + s_.to.uri() +
                           "'s stream closed";
        if (unsent != 0)
            line +=
                s_.in.acknowledge
                    ? "; the batch in hand was not all sent: it comes again from " + s_.from.uri()
                    : "; " + std::to_string(unsent) + " messages taken from " + s_.from.uri() +
                          " were not sent, and are lost with it";
        std::cerr << line + '\n';
        return cli::exit_ok;
    }

    // --timeout passed: exit 2, TO's stream left open for the next bridge.
    int timed_out(const endpoint& where, const char* how) {
        report();
        std::ostringstream line; // the seconds as given: "2", "0.5"
        line << app_name << ": " << where.uri() << ' ' << how << " for " << s_.timeout
             << " s; giving up, " << s_.to.uri() << "'s stream left open for the next bridge\n";
        std::cerr << line.str();
        exit_leaving_to_open(cli::exit_timed_out);
    }

    // batch[fitting] is larger than TO takes: the messages before it go to TO and are
    // acknowledged; it and those after it stay in FROM, unacknowledged. Exit 70, TO's stream
    // left open. A restarted bridge meets the same message first and stops again, having
    // sent nothing twice.
    int refuse(const message_batch& batch, std::size_t fitting) {
        const auto large = batch[fitting];
        const bool prefix_acknowledged = fitting == 0 || acknowledge_first(batch, fitting);
        if (prefix_acknowledged) account(batch, fitting);
        report();
        char crc[9];
        std::snprintf(crc, sizeof crc, "%08x", static_cast<unsigned>(crc32c(large)));
        std::string line =
            std::string(app_name) + ": a message of " + std::to_string(large.size()) +
            " bytes (CRC-32C " + crc + ") from " + s_.from.uri() + " is larger than the " +
            std::to_string(out_->max_message()) + "-byte maximum of " + s_.to.uri() + "; stopped: ";
        if (s_.in.acknowledge)
            line += "it stays in " + s_.from.uri() +
                    ", unacknowledged, with the messages after it (take it out with "
                    "conveyor-consumer " +
                    s_.from.uri() +
                    " --count 1, or bridge to a TO created with a larger "
                    "--max-message)";
        else
            line += "it and what follows it in " + s_.from.uri() + " are lost with the pipe";
        if (!prefix_acknowledged)
            line += "; the " + std::to_string(fitting) + " messages before it, sent to " +
                    s_.to.uri() + ", come again from " + s_.from.uri();
        std::cerr << line + '\n';
        exit_leaving_to_open(cli::exit_failure);
    }

    // A receiver acknowledges all it has taken or nothing. To acknowledge batch's first count
    // messages alone: give the whole batch back (a new attachment in place of this one), take
    // count messages again, which come first since given-back messages are delivered before
    // newer ones, and acknowledge them if they are the same. Another consumer of FROM may
    // take them first: then they arrive at TO twice, never not at all. False when not
    // acknowledged.
    bool acknowledge_first(const message_batch& batch, std::size_t count) {
        if (!s_.in.acknowledge) return true; // taken for good already
        in_.reset();
        in_ = open_receiver(s_.from, s_.in);
        message_batch again;
        if (in_->receive_batch(again, count, no_wait) != receive_status::message ||
            again.size() != count)
            return false;
        for (std::size_t i = 0; i < count; ++i)
            if (!again.redelivered(i) || !std::ranges::equal(again[i], batch[i])) return false;
        in_->ack();
        return true;
    }

    // Exits with TO's stream open: a named producer that goes without closing pauses its
    // stream, as one that dies does, so that TO's consumers wait for the next bridge. Only
    // FROM's end of stream and a stop close it, so TO's sender is never destroyed (that
    // would close it): the process ends here, as a killed one would, once FROM is let go
    // (leases not acknowledged are given back at once) and stderr is out.
    [[noreturn]] void exit_leaving_to_open(int status) {
        in_.reset();
        std::cout.flush();
        std::cerr.flush();
        std::_Exit(status);
    }

    void report_if_asked() {
        if (signals_.take_report_request())
            std::cerr << std::string(app_name) + ": so far " + figures() + '\n';
    }

    std::string figures() const {
        return meter_.line("bridged") + ", " + std::to_string(redelivered_) + " redelivered";
    }

    void report() const { std::cerr << std::string(app_name) + ": " + figures() + '\n'; }

    const settings& s_;
    cli::stop_signals& signals_;
    std::unique_ptr<receiver> in_;
    std::unique_ptr<sender> out_;
    std::vector<bytes_view> views_;
    std::uint64_t redelivered_ = 0; // messages bridged that FROM had delivered before
    cli::throughput_meter meter_;   // messages acknowledged
};

po::options_description describe_options() {
    const std::string batch_help =
        "messages taken from FROM, sent to TO and acknowledged at a time (default " +
        std::to_string(default_batch) + "); a killed bridge sends at most that many twice; " +
        cli::bounds_help(batch_bounds);
    const std::string timeout_help =
        "give up (exit 2) when FROM has nothing, or TO stays full, for that long; TO's "
        "stream is left open, as when the bridge is killed; default: wait. On nats:// also the "
        "wait for a server (default 10 s); " +
        cli::bounds_help(cli::seconds_bounds);
    const std::string name_help =
        std::string("attach to TO (shm://, file://, nats://) as the producer NAME; default: '") +
        default_name_prefix +
        "' and 16 hex digits hashed from FROM and TO as written, the same on every run, so "
        "that a restarted bridge takes its predecessor's place. Two live bridges of one name "
        "are refused";
    po::options_description options("Options");
    options.add_options()("help,h", "show this help and exit")(
        "from", po::value<std::string>()->value_name("FROM"),
        ("where to take from: shm://NAME, file:///PATH, topic://NAME, fifo:///PATH, pipe: "
         "(standard input) or " +
         std::string(nats::uri_help))
            .c_str())("to", po::value<std::string>()->value_name("TO"),
                      "where to send: shm://NAME, file:///PATH, topic://NAME, fifo:///PATH, pipe: "
                      "(standard output) or nats://... (as FROM)")(
        "batch", po::value<std::string>()->value_name("N"), batch_help.c_str())(
        "timeout", po::value<std::string>()->value_name("SECONDS"), timeout_help.c_str())(
        "name", po::value<std::string>()->value_name("NAME"), name_help.c_str());
    cli::add_channel_options(options);
    return options;
}

// Every number first: a bad value is refused before an endpoint is looked at or opened.
settings read_settings(const po::variables_map& values) {
    settings s;
    s.out = cli::read_channel_options(values);
    s.sizes = cli::read_sizes_given(values);
    if (values.count("batch"))
        s.batch = cli::parse_count("batch", values["batch"].as<std::string>(), batch_bounds);
    if (values.count("timeout")) {
        s.timeout = cli::parse_seconds("timeout", values["timeout"].as<std::string>());
        // On nats://, also the wait for a server.
        s.in.connect_timeout = s.out.connect_timeout =
            std::chrono::milliseconds(std::llround(s.timeout * 1000));
    }
    if (!values.count("from") || !values.count("to"))
        throw cli::usage_error(
            std::string(values.count("from") ? "missing TO" : "missing FROM and TO") +
            " (e.g. conveyor-bridge shm://orders file:///var/lib/orders.queue)");
    s.from = cli::parse_endpoint(values["from"].as<std::string>());
    s.to = cli::parse_endpoint(values["to"].as<std::string>());
    if (s.from.kind() == s.to.kind() && s.from.name() == s.to.name() &&
        s.from.kind() != scheme::pipe)
        throw cli::usage_error(s.from.uri() + " is both FROM and TO: the bridge would send "
                                              "every message back where it came from");
    s.in.acknowledge = cli::keeps_until_acknowledged(s.from);
    s.in.lines = s.out.lines;
    // Frames on a pipe or FIFO carry no maximum of their own: the sender's must be the
    // receiver's, and --max-message says it for both ends of the bridge.
    if (s.from.kind() == scheme::pipe || s.from.kind() == scheme::fifo)
        s.in.max_message = s.out.max_message;
    if (values.count("name")) {
        if (!takes_producer_names(s.to))
            throw cli::usage_error("--name: only when TO is shm://, file:// or nats:// (pipes "
                                   "and FIFOs end with their writers)");
        s.out.producer_name = values["name"].as<std::string>();
        if (s.out.producer_name.empty()) throw cli::usage_error("--name: the name is empty");
    } else if (takes_producer_names(s.to)) {
        s.out.producer_name = default_name(s.from, s.to);
    }
    return s;
}

} // namespace

int main(int argc, char** argv) {
    const cli::app_description app{
        app_name,
        "Takes messages from FROM and sends them to TO, a batch at a time, until\n"
        "end of stream on FROM; then closes TO's stream. Where FROM keeps what it\n"
        "hands out (shm://, file://), each batch is a lease, acknowledged only once\n"
        "TO has accepted it (file:// with --sync batch or always: once it is on\n"
        "disk): a bridge killed at any moment loses nothing, and what it had sent\n"
        "but not acknowledged comes again (at least once: at most one batch per\n"
        "kill, marked redelivered). FROM pipe: or fifo:// is allowed, but keeps\n"
        "nothing: what a killed bridge had taken from it is lost. TO pipe: or\n"
        "fifo:// accepts a message once it is in the pipe, which loses what it\n"
        "holds if its reader goes away: nothing is lost only between queues.\n\n"
        "The bridge attaches to TO as a named producer (--name): killed, it pauses\n"
        "TO's stream instead of ending it, and TO's consumers wait (bounded by\n"
        "their --timeout) for the bridge restarted under the same name. A message\n"
        "larger than TO's largest stops the bridge (exit 70) with the message left\n"
        "unacknowledged in FROM. --capacity, --max-message, --mode and --sync\n"
        "apply to TO when the bridge creates it (a FROM it creates gets the\n"
        "defaults); --max-message also bounds FROM's frames on pipe: and fifo://.\n"
        "SIGINT/SIGTERM: stop, close TO's stream, exit 0 (a second one: exit at\n"
        "once); SIGUSR1: figures so far on stderr.",
        "conveyor-bridge shm://orders file:///var/lib/orders.queue --sync batch"};
    cli::stop_signals signals(app_name);
    return cli::run_app(argc, argv, app, {"from", "to"}, describe_options(),
                        [&](const po::variables_map& values) {
                            const settings s = read_settings(values);
                            return bridge(s, signals).run();
                        });
}

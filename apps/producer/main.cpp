// conveyor-producer: sends stdin's lines, or generated verifiable messages, to an endpoint.
#include "common/app_main.hpp"
#include "common/exit_codes.hpp"
#include "common/options.hpp"
#include "common/report.hpp"

#include <conveyor/error.hpp>
#include <conveyor/generated_message.hpp>

#include <boost/program_options/value_semantic.hpp>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <thread>

namespace po = boost::program_options;
using namespace conveyor;
using clock_type = std::chrono::steady_clock;

namespace {

struct settings {
    endpoint where;
    channel_options channel;
    std::uint64_t generate = 0; // 0: read stdin
    std::uint64_t size = 64;
    double rate = 0;     // messages per second, 0: unlimited
    double timeout = -1; // seconds a full channel may block a send, -1: forever
};

// Spaces sends out to at most rate per second, from the first one on.
class pacer {
public:
    explicit pacer(double rate) : interval_(rate > 0 ? 1.0 / rate : 0) {}
    void before(std::uint64_t index) {
        if (interval_ == 0) return;
        if (index == 0) start_ = clock_type::now();
        std::this_thread::sleep_until(start_ +
                                      std::chrono::duration_cast<clock_type::duration>(
                                          std::chrono::duration<double>(index * interval_)));
    }

private:
    double interval_;
    clock_type::time_point start_;
};

class producer {
public:
    explicit producer(const settings& s) : s_(s), pace_(s.rate) {}

    int run() {
        out_ = open_sender(s_.where, s_.channel);
        int status = s_.generate > 0 ? generate() : forward_stdin();
        if (status == cli::exit_ok) out_->close();
        std::cerr << cli::throughput_line("sent", sent_, bytes_, finish_ - start_) << '\n';
        return status;
    }

private:
    // Sends one message, honouring --rate and --timeout. False when it timed out.
    bool send(bytes_view message) {
        pace_.before(sent_);
        if (sent_ == 0) start_ = clock_type::now();
        bool done = true;
        if (s_.timeout < 0)
            out_->send(message);
        else
            done = out_->send_for(message, std::chrono::duration_cast<wait_duration>(
                                               std::chrono::duration<double>(s_.timeout)));
        finish_ = clock_type::now();
        if (done) {
            ++sent_;
            bytes_ += message.size();
        }
        return done;
    }

    int timed_out() {
        std::cerr << "conveyor-producer: " << s_.where.uri() << ": channel stayed full for "
                  << s_.timeout << " s (no consumer taking messages?); giving up\n";
        return cli::exit_timed_out;
    }

    int generate() {
        if (s_.size < generated_header_size || s_.size > out_->max_message())
            throw cli::usage_error(
                "--size " + std::to_string(s_.size) + ": generated messages need " +
                std::to_string(generated_header_size) + " to " +
                std::to_string(out_->max_message()) + " bytes on " + s_.where.uri());
        const message_generator make(make_producer_id(), s_.size, s_.generate);
        std::vector<std::byte> message(s_.size);
        for (std::uint64_t i = 0; i < s_.generate; ++i) {
            make.make(i, message);
            if (!send(message)) return timed_out();
        }
        return cli::exit_ok;
    }

    int forward_stdin() {
        const std::size_t limit = out_->max_message();
        std::vector<char> buffer(1 << 16);
        std::string line;
        std::uint64_t line_number = 0;
        std::size_t n;
        auto flush_line = [&]() -> int {
            ++line_number;
            if (line.size() > limit) {
                std::cerr << "conveyor-producer: line " << line_number << " is " << line.size()
                          << " bytes, more than the " << limit << "-byte maximum of "
                          << s_.where.uri() << "; lines before it were sent\n";
                return cli::exit_failure;
            }
            if (!send(std::as_bytes(std::span(line.data(), line.size())))) return timed_out();
            line.clear();
            return cli::exit_ok;
        };
        while ((n = std::fread(buffer.data(), 1, buffer.size(), stdin)) > 0) {
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
        if (std::ferror(stdin)) {
            std::cerr << "conveyor-producer: reading standard input: " << std::strerror(errno)
                      << '\n';
            return cli::exit_failure;
        }
        if (!line.empty()) return flush_line(); // a last line without its newline
        return cli::exit_ok;
    }

    const settings& s_;
    pacer pace_;
    std::unique_ptr<sender> out_;
    std::uint64_t sent_ = 0;
    std::uint64_t bytes_ = 0;
    clock_type::time_point start_ = clock_type::now();
    clock_type::time_point finish_ = start_;
};

po::options_description describe_options() {
    po::options_description options("Options");
    options.add_options()("help,h", "show this help and exit")(
        "endpoint", po::value<std::string>()->value_name("ENDPOINT"), "where to send: shm://NAME")(
        "generate", po::value<std::uint64_t>()->value_name("N"),
        "send N generated messages (producer id, sequence, checksum) instead of stdin")(
        "size", po::value<std::string>()->value_name("BYTES")->default_value("64"),
        "size of each generated message (at least 32)")(
        "rate", po::value<double>()->value_name("N"), "send at most N messages per second")(
        "timeout", po::value<std::string>()->value_name("SECONDS"),
        "give up (exit 2) when the channel stays full that long; default: wait");
    cli::add_channel_options(options);
    return options;
}

settings read_settings(const po::variables_map& values) {
    if (!values.count("endpoint")) throw cli::usage_error("missing ENDPOINT (e.g. shm://orders)");
    settings s;
    s.where = cli::parse_endpoint(values["endpoint"].as<std::string>());
    s.channel = cli::read_channel_options(values);
    if (values.count("generate")) {
        s.generate = values["generate"].as<std::uint64_t>();
        if (s.generate == 0) throw cli::usage_error("--generate: N must be at least 1");
    }
    s.size = cli::parse_size("size", values["size"].as<std::string>());
    if (values.count("rate")) {
        s.rate = values["rate"].as<double>();
        if (!(s.rate > 0)) throw cli::usage_error("--rate: N must be a positive number");
    }
    if (values.count("timeout"))
        s.timeout = cli::parse_seconds("timeout", values["timeout"].as<std::string>());
    return s;
}

} // namespace

int main(int argc, char** argv) {
    const cli::app_description app{
        "conveyor-producer",
        "Sends one message per line of standard input (newline stripped) and\n"
        "closes the stream at end of input; or, with --generate, N synthetic\n"
        "messages that conveyor-consumer --verify checks. Creates the segment\n"
        "if it does not exist. Prints a throughput line on stderr at the end.",
        "seq 1000 | conveyor-producer shm://orders"};
    return cli::run_app(argc, argv, app, describe_options(), [](const po::variables_map& values) {
        const settings s = read_settings(values);
        return producer(s).run();
    });
}

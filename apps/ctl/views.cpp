// list --json and top (see ctl/views.hpp).
#include "ctl/views.hpp"

#include "common/exit_codes.hpp"

#include <cinttypes>
#include <cmath>
#include <map>
#include <string>
#include <thread>
#include <unistd.h>

namespace conveyor::cli {
namespace {

// A JSON string: quotes, backslashes and control characters escaped; other bytes as they
// are (FIFO paths are bytes; names of segments are printable).
std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (const unsigned char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
            out += escaped;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + '"';
}

std::string json_number(const std::optional<std::uint64_t>& value) {
    return value ? std::to_string(*value) : "null";
}

std::string octal(unsigned mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", mode);
    return text;
}

std::string json_subscribers(const std::vector<shm::subscriber_info>& subscribers) {
    std::string out = "[";
    for (const auto& s : subscribers) {
        if (out.size() > 1) out += ", ";
        out += "{\"pid\": " + std::to_string(s.pid) +
               ", \"behind\": " + std::to_string(s.behind_messages) +
               ", \"behind_bytes\": " + std::to_string(s.behind_bytes) +
               ", \"received\": " + std::to_string(s.received) +
               ", \"dropped\": " + std::to_string(s.dropped) + "}";
    }
    return out + "]";
}

std::string json_object(const endpoint_row& r) {
    std::string out = "{";
    auto field = [&](const char* name, const std::string& value) {
        if (out.size() > 1) out += ", ";
        out += '"';
        out += name;
        out += "\": ";
        out += value;
    };
    field("endpoint", json_string(r.endpoint));
    field("kind", json_string(r.kind));
    field("capacity", json_number(r.capacity));
    field("max_message", json_number(r.max_message));
    field("depth", json_number(r.depth));
    field("depth_bytes", json_number(r.depth_bytes));
    field("producers", json_number(r.producers));
    field("consumers", json_number(r.consumers));
    field("sent", json_number(r.sent));
    field("received", json_number(r.received));
    field("mode", json_string(octal(r.mode)));
    field("owner", json_string(r.owner));
    if (r.kind == "other-layout") field("layout_version", std::to_string(r.layout_version));
    if (r.creator_pid != 0) field("creator_pid", std::to_string(r.creator_pid));
    if (r.kind == "topic") {
        field("slow", json_string(r.slow));
        field("subscribers", json_subscribers(r.subscribers));
    }
    return out + "}";
}

std::string figure(const std::optional<std::uint64_t>& value) {
    return value ? std::to_string(*value) : "-";
}

// Messages per second between two counts; "-" where either is unknown (a FIFO, or an
// endpoint that was not there at the first sample).
std::string rate(const std::optional<std::uint64_t>& before,
                 const std::optional<std::uint64_t>& after, double seconds) {
    if (!before || !after || seconds <= 0) return "-";
    const auto moved = *after >= *before ? *after - *before : 0; // a segment made anew
    return std::to_string(std::llround(static_cast<double>(moved) / seconds));
}

} // namespace

void print_json(std::FILE* out, const std::vector<endpoint_row>& rows) {
    std::string text = "[";
    for (const auto& r : rows) {
        text += text.size() > 1 ? ",\n " : "\n ";
        text += json_object(r);
    }
    text += rows.empty() ? "]\n" : "\n]\n";
    std::fputs(text.c_str(), out);
}

void print_top_frame(std::FILE* out, const std::vector<endpoint_row>& before,
                     const std::vector<endpoint_row>& after,
                     std::chrono::duration<double> elapsed) {
    std::map<std::string, const endpoint_row*> earlier;
    for (const auto& r : before)
        earlier[r.endpoint] = &r;
    std::fprintf(out, "%-32s %-12s %10s %10s %10s %9s %9s\n", "ENDPOINT", "KIND", "DEPTH", "IN/S",
                 "OUT/S", "PRODUCERS", "CONSUMERS");
    const double seconds = elapsed.count();
    for (const auto& r : after) {
        const auto found = earlier.find(r.endpoint);
        const endpoint_row* then = found == earlier.end() ? nullptr : found->second;
        const std::optional<std::uint64_t> none;
        std::fprintf(out, "%-32s %-12s %10s %10s %10s %9s %9s\n", r.endpoint.c_str(),
                     r.kind.c_str(), figure(r.depth).c_str(),
                     rate(then ? then->sent : none, r.sent, seconds).c_str(),
                     rate(then ? then->received : none, r.received, seconds).c_str(),
                     figure(r.producers).c_str(), figure(r.consumers).c_str());
    }
}

int run_top(bool once) {
    using clock = std::chrono::steady_clock;
    auto before = take_snapshot();
    auto taken = clock::now();
    const bool terminal = ::isatty(STDOUT_FILENO) != 0;
    for (;;) {
        std::this_thread::sleep_for(top_interval);
        auto after = take_snapshot();
        const auto now = clock::now();
        if (!once && terminal) std::fputs("\033[H\033[2J", stdout); // home, clear screen
        print_top_frame(stdout, before, after, now - taken);
        std::fflush(stdout);
        if (once) return exit_ok;
        if (!terminal) std::fputc('\n', stdout); // frames apart in a log
        before = std::move(after);
        taken = now;
    }
}

} // namespace conveyor::cli

// Formatting of the results (see report.hpp).
#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <ostream>
#include <string>
#include <utility>

namespace conveyor::bench {
namespace {

// The row every other is compared with: conveyor-topic for fan-out, where conveyor-shm
// (each message to one consumer) has no row.
std::string reference_for(pattern kind) {
    return kind == pattern::fan_out ? "conveyor-topic" : "conveyor-shm";
}

std::string format(const char* spec, double value) {
    char text[64];
    std::snprintf(text, sizeof text, spec, value);
    return text;
}

std::string cell(const std::optional<double>& value, const char* spec) {
    return value ? format(spec, *value) : "-";
}

std::string json_number(const std::optional<double>& value) {
    return value ? format("%.6g", *value) : "null";
}

std::string size_label(std::size_t size) {
    if (size >= (1u << 20)) return std::to_string(size >> 20) + " MiB";
    if (size >= (1u << 10)) return std::to_string(size >> 10) + " KiB";
    return std::to_string(size) + " B";
}

// The reference's figure over this row's, oriented so that above 1 means the reference
// (conveyor-shm; conveyor-topic for fan-out) wins.
std::optional<double> advantage(const row& r, const std::vector<row>& rows) {
    for (const auto& ref : rows) {
        if (ref.transport != reference_for(r.kind) || ref.kind != r.kind || ref.size != r.size)
            continue;
        if (!ref.result.verified || !r.result.verified) return std::nullopt;
        if (ref.result.msgs_per_s && r.result.msgs_per_s && *r.result.msgs_per_s > 0)
            return *ref.result.msgs_per_s / *r.result.msgs_per_s;
        if (ref.result.rtt_p50_us && r.result.rtt_p50_us && *ref.result.rtt_p50_us > 0)
            return *r.result.rtt_p50_us / *ref.result.rtt_p50_us;
    }
    return std::nullopt;
}

} // namespace

void print_table(std::ostream& out, const std::vector<row>& rows) {
    char line[256];
    std::snprintf(line, sizeof line, "%-22s %-8s %8s %12s %10s %9s %9s %9s  %s\n", "transport",
                  "pattern", "size", "msgs/s", "MB/s", "p50 us", "p99 us", "shm wins", "setting");
    out << line;
    // Grouped by pattern and size, so that the rows compared stand together.
    std::vector<const row*> order;
    for (const auto& r : rows)
        order.push_back(&r);
    std::stable_sort(order.begin(), order.end(), [](const row* a, const row* b) {
        return std::pair(a->kind, a->size) < std::pair(b->kind, b->size);
    });
    const row* previous = nullptr;
    for (const row* p : order) {
        const row& r = *p;
        if (previous && (previous->kind != r.kind || previous->size != r.size)) out << "\n";
        const auto ratio = advantage(r, rows);
        std::snprintf(
            line, sizeof line, "%-22s %-8s %8s %12s %10s %9s %9s %9s  %s\n", r.transport.c_str(),
            to_string(r.kind), size_label(r.size).c_str(),
            cell(r.result.msgs_per_s, "%.0f").c_str(), cell(r.result.mb_per_s, "%.1f").c_str(),
            cell(r.result.rtt_p50_us, "%.1f").c_str(), cell(r.result.rtt_p99_us, "%.1f").c_str(),
            (ratio ? format("%.2fx", *ratio) : std::string("-")).c_str(),
            r.result.verified ? r.setting.c_str() : ("FAILED: " + r.result.failure).c_str());
        out << line;
        previous = p;
    }
}

void print_json(std::ostream& out, const std::vector<row>& rows) {
    out << "[\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        const auto& m = r.result;
        out << "  {\"transport\": \"" << r.transport << "\", \"pattern\": \"" << to_string(r.kind)
            << "\", \"size\": " << r.size << ", \"msgs_per_s\": " << json_number(m.msgs_per_s)
            << ", \"mb_per_s\": " << json_number(m.mb_per_s)
            << ", \"rtt_p50_us\": " << json_number(m.rtt_p50_us)
            << ", \"rtt_p99_us\": " << json_number(m.rtt_p99_us)
            << ", \"verified\": " << (m.verified ? "true" : "false") << "}"
            << (i + 1 < rows.size() ? ",\n" : "\n");
    }
    out << "]\n";
}

} // namespace conveyor::bench

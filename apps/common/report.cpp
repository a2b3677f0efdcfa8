#include "common/report.hpp"

#include <cstdio>

namespace conveyor::cli {

std::string throughput_line(const char* verb, std::uint64_t messages, std::uint64_t bytes,
                            std::chrono::steady_clock::duration elapsed) {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    const double rate = seconds > 0 ? messages / seconds : 0;
    const double megabytes = seconds > 0 ? bytes / seconds / 1e6 : 0;
    char line[256];
    std::snprintf(line, sizeof line,
                  "%s %llu messages, %llu bytes in %.3f s: %.0f msgs/s, %.1f MB/s", verb,
                  static_cast<unsigned long long>(messages), static_cast<unsigned long long>(bytes),
                  seconds, rate, megabytes);
    return line;
}

} // namespace conveyor::cli

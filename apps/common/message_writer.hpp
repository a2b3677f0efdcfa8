// Writes messages, each followed by a newline, to a file descriptor in large writes, and
// knows how many messages a failed write lost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>

namespace conveyor::cli {

class message_writer {
public:
    explicit message_writer(int fd, std::size_t flush_at = 1 << 16)
        : fd_(fd), flush_at_(flush_at) {}

    // Buffers message; writes out once the buffer is large. False once a write failed.
    bool append(std::span<const std::byte> message);
    // Writes out everything buffered. False once a write failed.
    bool flush();

    const std::error_code& failure() const noexcept { return failure_; }
    // Messages handed to append that never reached the descriptor.
    std::uint64_t unwritten() const noexcept { return pending_; }

private:
    int fd_;
    std::size_t flush_at_;
    std::string buffer_;
    std::uint64_t pending_ = 0;
    std::error_code failure_;
};

} // namespace conveyor::cli

// Length-prefixed messages over a file descriptor (see stream_io.hpp).
#include "stream_io.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <system_error>
#include <unistd.h>

namespace conveyor::bench {
namespace {

constexpr std::size_t length_size = sizeof(std::uint32_t);
// Reads take up to this much at once, or two messages' worth when messages are larger.
constexpr std::size_t read_chunk = 256u << 10;

} // namespace

unique_fd& unique_fd::operator=(unique_fd&& other) noexcept {
    if (this != &other) {
        reset();
        fd_ = other.release();
    }
    return *this;
}

unique_fd::~unique_fd() {
    reset();
}

int unique_fd::release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
}

void unique_fd::reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

void set_pipe_size(int fd, std::size_t bytes) {
    if (::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(bytes)) < 0)
        throw_errno("fcntl(F_SETPIPE_SZ, " + std::to_string(bytes) + ")");
}

namespace {

// Room for a message of n bytes after its length, in frame.
std::span<std::byte> frame_for(std::vector<std::byte>& frame, std::size_t n) {
    frame.resize(length_size + n);
    const auto length = static_cast<std::uint32_t>(n);
    std::memcpy(frame.data(), &length, length_size);
    return {frame.data() + length_size, n};
}

void write_frame(int fd, const std::vector<std::byte>& frame) {
    const std::byte* p = frame.data();
    std::size_t left = frame.size();
    while (left > 0) { // one write, unless the stream takes part of a large message
        const ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("write");
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

} // namespace

std::span<std::byte> fd_writer::prepare(std::size_t n) {
    return frame_for(frame_, n);
}

void fd_writer::commit() {
    write_frame(fd_.get(), frame_);
}

std::span<std::byte> fan_out_writer::prepare(std::size_t n) {
    return frame_for(frame_, n);
}

void fan_out_writer::commit() {
    for (const auto& fd : fds_)
        write_frame(fd.get(), frame_);
}

fd_reader::fd_reader(unique_fd fd, std::size_t max_message)
    : fd_(std::move(fd)), buffer_(std::max(read_chunk, 2 * (length_size + max_message))) {}

std::optional<std::span<const std::byte>> fd_reader::receive() {
    for (;;) {
        const std::size_t have = end_ - begin_;
        if (have >= length_size) {
            std::uint32_t length;
            std::memcpy(&length, buffer_.data() + begin_, length_size);
            if (have >= length_size + length) {
                const std::span<const std::byte> message{buffer_.data() + begin_ + length_size,
                                                         length};
                begin_ += length_size + length;
                return message;
            }
            if (length_size + length > buffer_.size())
                throw std::system_error(EMSGSIZE, std::generic_category(), "frame length");
        }
        // Move the partial message to the front so a whole one fits after it.
        if (begin_ > 0) {
            std::memmove(buffer_.data(), buffer_.data() + begin_, have);
            begin_ = 0;
            end_ = have;
        }
        const ssize_t n = ::read(fd_.get(), buffer_.data() + end_, buffer_.size() - end_);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("read");
        if (n == 0) {
            if (have != 0) throw std::system_error(EPIPE, std::generic_category(), "torn frame");
            return std::nullopt;
        }
        end_ += static_cast<std::size_t>(n);
    }
}

} // namespace conveyor::bench

// Length-prefixed messages on a byte stream (pipe, FIFO, UNIX socket) the way a user writes
// them by hand: a 4-byte length and the message in one write(), buffered reads.
#pragma once

#include "transport.hpp"

#include <cstdint>
#include <vector>

namespace conveyor::bench {

// Owns a file descriptor.
class unique_fd {
public:
    unique_fd() = default;
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
    unique_fd& operator=(unique_fd&& other) noexcept;
    ~unique_fd();

    int get() const noexcept { return fd_; }
    int release() noexcept;
    void reset() noexcept;

private:
    int fd_ = -1;
};

// Throws std::system_error with errno and what, naming the call that failed.
[[noreturn]] void throw_errno(const std::string& what);

// Sets a pipe's (or FIFO's) buffer to bytes, rounded up by the kernel.
void set_pipe_size(int fd, std::size_t bytes);

class fd_writer final : public writer {
public:
    explicit fd_writer(unique_fd fd) : fd_(std::move(fd)) {}
    std::span<std::byte> prepare(std::size_t n) override;
    void commit() override;
    void close() override { fd_.reset(); }

private:
    unique_fd fd_;
    std::vector<std::byte> frame_;
};

// Fan-out by hand: each message, framed once, written to every reader's stream in turn.
class fan_out_writer final : public writer {
public:
    explicit fan_out_writer(std::vector<unique_fd> fds) : fds_(std::move(fds)) {}
    std::span<std::byte> prepare(std::size_t n) override;
    void commit() override;
    void close() override { fds_.clear(); }

private:
    std::vector<unique_fd> fds_;
    std::vector<std::byte> frame_;
};

class fd_reader final : public reader {
public:
    fd_reader(unique_fd fd, std::size_t max_message);
    std::optional<std::span<const std::byte>> receive() override;

private:
    unique_fd fd_;
    std::vector<std::byte> buffer_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

// A channel of one connected pair of descriptors per lane (a pipe, a socket pair): the
// producer writes one end, the consumer reads the other. Fan-out: the one producer writes
// every lane.
class fd_pair_channel : public channel {
public:
    explicit fd_pair_channel(const lane_plan& plan)
        : max_message_(plan.max_message), fan_out_(plan.fan_out) {}
    std::unique_ptr<writer> open_writer(std::size_t lane) override {
        if (fan_out_) return std::make_unique<fan_out_writer>(std::move(write_ends_));
        return std::make_unique<fd_writer>(std::move(write_ends_.at(lane)));
    }
    std::unique_ptr<reader> open_reader(std::size_t lane) override {
        return std::make_unique<fd_reader>(std::move(read_ends_.at(lane)), max_message_);
    }
    void forget() override {
        read_ends_.clear();
        write_ends_.clear();
    }

protected:
    void add_lane(int read_end, int write_end) {
        read_ends_.emplace_back(read_end);
        write_ends_.emplace_back(write_end);
    }

private:
    std::size_t max_message_;
    bool fan_out_;
    std::vector<unique_fd> read_ends_;
    std::vector<unique_fd> write_ends_;
};

} // namespace conveyor::bench

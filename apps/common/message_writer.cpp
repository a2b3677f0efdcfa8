#include "common/message_writer.hpp"

#include <cerrno>
#include <unistd.h>

namespace conveyor::cli {

bool message_writer::append(std::span<const std::byte> message) {
    if (failure_) {
        ++pending_;
        return false;
    }
    buffer_.append(reinterpret_cast<const char*>(message.data()), message.size());
    buffer_.push_back('\n');
    ++pending_;
    return buffer_.size() < flush_at_ || flush();
}

bool message_writer::flush() {
    std::size_t done = 0;
    while (!failure_ && done < buffer_.size()) {
        const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
        if (n > 0)
            done += static_cast<std::size_t>(n);
        else if (n < 0 && errno != EINTR)
            failure_ = std::error_code(errno, std::system_category());
    }
    if (failure_) return false;
    buffer_.clear();
    pending_ = 0;
    return true;
}

} // namespace conveyor::cli

// The kernel gives a pipe 64 KiB. A 1 MiB message then crosses in sixteen rounds of "full,
// wake the reader, empty, wake the writer"; a buffer that holds it crosses it in one.
#include "pipe/pipe_buffer.hpp"

#include "conveyor/pipe/framing.hpp"

#include <algorithm>
#include <fcntl.h>
#include <fstream>

namespace conveyor::pipe::detail {
namespace {

// /proc/sys/fs/pipe-max-size: what an unprivileged process may ask for (1 MiB by default).
// Root may ask for more, but a buffer larger than a message gains nothing more.
std::size_t pipe_max_size() noexcept {
    std::size_t most = 1u << 20;
    std::ifstream limit("/proc/sys/fs/pipe-max-size");
    limit >> most;
    return most;
}

} // namespace

void fit_pipe_buffer(int fd, std::size_t max_message) noexcept {
    const int now = ::fcntl(fd, F_GETPIPE_SZ);
    if (now < 0) return; // not a pipe
    const std::size_t frame = max_message + frame_header_size;
    if (frame <= static_cast<std::size_t>(now)) return;
    std::size_t want = static_cast<std::size_t>(now);
    while (want < frame)
        want *= 2; // the kernel rounds to a power of two pages anyway
    want = std::min(want, pipe_max_size());
    if (want > static_cast<std::size_t>(now)) ::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(want));
}

} // namespace conveyor::pipe::detail

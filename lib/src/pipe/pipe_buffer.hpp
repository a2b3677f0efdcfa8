// Sizing a pipe's kernel buffer to the messages it carries.
#pragma once

#include <cstddef>

namespace conveyor::pipe::detail {

// Grows the buffer of the pipe or FIFO behind fd so that a frame of max_message bytes fits
// whole, up to the system's pipe-max-size; never shrinks it. Best effort: a pipe left at
// its size still works, only in more rounds of wake-ups per large message.
void fit_pipe_buffer(int fd, std::size_t max_message) noexcept;

} // namespace conveyor::pipe::detail

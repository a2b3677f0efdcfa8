// Telling whether a process that attached to a segment is still alive. A pid alone can be
// reused, so a process is identified by its pid and its start time (from /proc).
#pragma once

#include <cstdint>
#include <sys/types.h>

namespace conveyor::detail {

struct process_identity {
    pid_t pid = 0;
    std::uint64_t start_time = 0; // clock ticks after boot, /proc/PID/stat field 22
};

process_identity self_identity() noexcept;

// False once the process has exited, even while it is an unreaped zombie.
bool is_alive(const process_identity& process) noexcept;

} // namespace conveyor::detail

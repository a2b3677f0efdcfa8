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
// The same, read from /proc once per process (again in a forked child) and then without a
// system call: for hot paths.
process_identity self_identity_cached() noexcept;

// False once the process has exited, even while it is an unreaped zombie.
bool is_alive(const process_identity& process) noexcept;

// A process identity in one 64-bit word, for locks that one compare-and-swap takes: the pid
// in the low half, the low 32 bits of the start time in the high half. Never 0.
std::uint64_t packed_identity(const process_identity& process) noexcept;
// This process's packed identity (cached as self_identity_cached).
std::uint64_t packed_self() noexcept;
// As is_alive, for a packed identity; a word no process could hold (pid <= 0) is dead.
bool is_alive_packed(std::uint64_t word) noexcept;

} // namespace conveyor::detail

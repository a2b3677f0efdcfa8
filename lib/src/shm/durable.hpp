// What a queue in a file (file://) needs beyond a segment in /dev/shm: knowing whether the
// processes its locks and slots name can still exist, and putting written bytes on disk.
#pragma once

#include "shm/layout.hpp"

#include <cstddef>
#include <cstdint>

namespace conveyor::shm::detail {

// Records the running boot and the file's identity in control: the lock and slot states
// are valid for this boot and this file only.
void stamp_identity(queue_control& control, int fd) noexcept;

// Whether control's lock and slot states were written under another boot, or in another
// file (this one is a copy): then every process they name is gone.
bool identity_changed(const queue_control& control, int fd) noexcept;

// Writes the bytes from begin to end of a mapping to disk and waits for it (msync with
// MS_SYNC, which on Linux is fdatasync of that range, the blocks' metadata included).
bool sync_range(const std::byte* begin, const std::byte* end) noexcept;

} // namespace conveyor::shm::detail

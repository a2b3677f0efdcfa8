// Who owns a file and why this process may not use or remove it, in words for errors and
// listings: segments and FIFOs of another user (docs/architecture.md, "Another user").
#pragma once

#include <string>
#include <sys/types.h>

namespace conveyor::detail {

// "root:nogroup": a file's owner and group by name, by number where the system has no name.
std::string owner_text(uid_t uid, gid_t gid);

// Why this process was refused access to path: "/dev/shm/x belongs to root:root with mode
// 0600, and this process runs as nobody:nogroup", and how a group shares it.
std::string access_refusal(const std::string& path);

// Why this process may not remove path: "/tmp/x belongs to root:root and /tmp is sticky:
// only its owner or root may remove it", or that the directory is not writable.
std::string removal_refusal(const std::string& path);

// Whether this process (its effective ids and groups) may open path for reading or writing.
bool may_read(const std::string& path);
bool may_write(const std::string& path);

} // namespace conveyor::detail

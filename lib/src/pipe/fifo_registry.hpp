// The list of FIFOs conveyor made, so that conveyor-ctl can show them wherever their paths
// are: one absolute path a line in /dev/shm/.conveyor-fifos-UID, changed under flock by its
// user only, readable by all. docs/architecture.md, "FIFOs", says why a file and why per
// user.
#pragma once

#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace conveyor::pipe::detail {

// Records path in this user's registry. Best effort: a FIFO works whether or not it is
// listed, so a registry that cannot be written (no /dev/shm, a full disk, a file of that
// name that another user made) fails nothing.
void register_fifo(const std::string& path) noexcept;

// Rewrites this user's registry keeping the paths keep accepts, each once, and returns them
// in their order. No registry is an empty one.
std::vector<std::string> keep_registered_fifos(const std::function<bool(const std::string&)>& keep);

// Every other user's registry that this process may read, with the uid it belongs to; a
// file that its uid does not own is not one (anybody may create a file in /dev/shm).
struct registry {
    uid_t owner;
    std::vector<std::string> paths;
};
std::vector<registry> other_registries();

} // namespace conveyor::pipe::detail

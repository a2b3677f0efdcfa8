// The list of FIFOs conveyor made, so that conveyor-ctl can show them wherever their paths
// are: one absolute path a line in /dev/shm/.conveyor-fifos-UID, changed under flock.
// docs/architecture.md, "FIFOs", says why a file and why per user.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace conveyor::pipe::detail {

// Records path. Best effort: a FIFO works whether or not it is listed, so a registry that
// cannot be written (no /dev/shm, a full disk) fails nothing.
void register_fifo(const std::string& path) noexcept;

// Rewrites the registry keeping the paths keep accepts, each once, and returns them in
// their order. No registry is an empty one.
std::vector<std::string> keep_registered_fifos(const std::function<bool(const std::string&)>& keep);

} // namespace conveyor::pipe::detail

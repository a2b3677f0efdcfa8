// What the nats rows share besides the server: the largest message they carry, and removing
// a run's streams.
#pragma once

#include "nats_server.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace conveyor::bench {

// nats-server's default max payload is 1 MiB, headers included: the 1 MiB rows are not run.
inline constexpr std::size_t max_nats_message = 64u << 10;

// Deletes the streams of lanes (and with registries, conveyor's producer registries beside
// them), from a forked child.
void remove_nats_streams(const std::string& url, const std::vector<nats_lane>& lanes,
                         bool registries);

} // namespace conveyor::bench

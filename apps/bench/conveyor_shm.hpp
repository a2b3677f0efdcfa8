// What the conveyor-shm transports (and conveyor-file, the same queue in a file) share: the
// queues of a run, one per lane, and the capacities tried.
#pragma once

#include "transport.hpp"

#include "conveyor/endpoint.hpp"
#include "conveyor/open.hpp"

#include <optional>

namespace conveyor::bench {

// Ring capacities 256 KiB, 4 MiB and 64 MiB, those that hold three messages of size bytes.
std::vector<config> shm_capacities(std::size_t size);

// Queues made in the parent with the capacity asked for; removed by the destructor. Segments
// in /dev/shm, or with durable, file:// queues of that sync policy in a directory of their
// own under /var/tmp (a disk, where /tmp may be a tmpfs whose sync costs nothing).
class shm_lanes {
public:
    shm_lanes(const config& setting, const lane_plan& plan,
              std::optional<sync_policy> durable = std::nullopt);
    ~shm_lanes();
    shm_lanes(const shm_lanes&) = delete;
    shm_lanes& operator=(const shm_lanes&) = delete;

    endpoint where(std::size_t lane) const;
    // A consumer's options: its end of stream waits for every producer of the lane.
    channel_options reader_options() const;

private:
    lane_plan plan_;
    std::string directory_; // of the files; empty for segments
    std::vector<std::string> names_;
};

} // namespace conveyor::bench

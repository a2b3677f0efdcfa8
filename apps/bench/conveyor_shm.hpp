// What conveyor-shm and conveyor-shm-zerocopy share: the segments of a run, one per lane,
// and the capacities tried.
#pragma once

#include "transport.hpp"

#include "conveyor/endpoint.hpp"
#include "conveyor/open.hpp"

namespace conveyor::bench {

// Ring capacities 256 KiB, 4 MiB and 64 MiB, those that hold three messages of size bytes.
std::vector<config> shm_capacities(std::size_t size);

// Segments made in the parent with the capacity asked for; removed by the destructor.
class shm_lanes {
public:
    shm_lanes(const config& setting, const lane_plan& plan);
    ~shm_lanes();
    shm_lanes(const shm_lanes&) = delete;
    shm_lanes& operator=(const shm_lanes&) = delete;

    endpoint where(std::size_t lane) const;
    // A consumer's options: its end of stream waits for every producer of the lane.
    channel_options reader_options() const;

private:
    lane_plan plan_;
    std::vector<std::string> names_;
};

} // namespace conveyor::bench

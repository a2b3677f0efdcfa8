// The segments of the conveyor-shm transports (see conveyor_shm.hpp).
#include "conveyor_shm.hpp"

#include "conveyor/shm/queue.hpp"
#include "conveyor/shm/segment.hpp"

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace conveyor::bench {
namespace {

// Room for a message and its record header in the ring.
constexpr std::size_t record_overhead = 64;

} // namespace

std::vector<config> shm_capacities(std::size_t size) {
    std::vector<config> result;
    // Fewer than three messages and producer and consumer take turns instead of overlapping.
    for (std::size_t capacity : {256u << 10, 4u << 20, 64u << 20})
        if (capacity >= 3 * (size + record_overhead))
            result.push_back({"capacity " + std::to_string(capacity >> 10) + "K", capacity});
    return result;
}

shm_lanes::shm_lanes(const config& setting, const lane_plan& plan,
                     std::optional<sync_policy> durable)
    : plan_(plan) {
    if (durable) {
        char pattern[] = "/var/tmp/conveyor-bench-XXXXXX";
        if (!::mkdtemp(pattern))
            throw std::system_error(errno, std::system_category(), "mkdtemp in /var/tmp");
        directory_ = pattern;
    }
    for (std::size_t i = 0; i < plan.lanes; ++i) {
        names_.push_back(unique_name("conveyor-bench-"));
        channel_options options;
        options.capacity = setting.value;
        options.max_message = plan.max_message;
        if (durable) options.sync = *durable;
        shm::queue_receiver creator(where(i), options); // makes the queue, then leaves
    }
}

shm_lanes::~shm_lanes() {
    std::error_code ignored;
    if (!directory_.empty()) {
        std::filesystem::remove_all(directory_, ignored);
        return;
    }
    for (const auto& name : names_)
        shm::remove_segment(name, ignored);
}

endpoint shm_lanes::where(std::size_t lane) const {
    std::string uri = directory_.empty() ? "shm://" : "file://" + directory_ + '/';
    uri += names_.at(lane);
    return endpoint::parse(uri);
}

channel_options shm_lanes::reader_options() const {
    channel_options options;
    options.min_producers = plan_.writers_per_lane;
    return options;
}

} // namespace conveyor::bench

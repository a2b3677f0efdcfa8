// conveyor's shared-memory queue (shm://) through the public sender/receiver interface: one
// segment per lane, shared by the lane's producers and consumers, at a few capacities.
#include "conveyor_stream.hpp"

#include "conveyor/shm/queue.hpp"
#include "conveyor/shm/segment.hpp"

namespace conveyor::bench {
namespace {

// Room for a message and its record header in the ring.
constexpr std::size_t record_overhead = 64;

class shm_channel final : public channel {
public:
    shm_channel(const config& setting, const lane_plan& plan) : plan_(plan) {
        for (std::size_t i = 0; i < plan.lanes; ++i) {
            names_.push_back(unique_name("conveyor-bench-"));
            const auto where = endpoint::parse("shm://" + names_.back());
            channel_options options;
            options.capacity = setting.value;
            options.max_message = plan.max_message;
            shm::queue_receiver creator(where, options); // makes the segment, then leaves
        }
    }
    ~shm_channel() override {
        for (const auto& name : names_) {
            std::error_code ignored;
            shm::remove_segment(name, ignored);
        }
    }
    std::unique_ptr<writer> open_writer(std::size_t lane) override {
        return std::make_unique<copying_writer>(std::make_unique<shm::queue_sender>(where(lane)));
    }
    std::unique_ptr<reader> open_reader(std::size_t lane) override {
        channel_options options;
        options.min_producers = plan_.writers_per_lane;
        return std::make_unique<copying_reader>(
            std::make_unique<shm::queue_receiver>(where(lane), options));
    }

private:
    endpoint where(std::size_t lane) const { return endpoint::parse("shm://" + names_.at(lane)); }
    lane_plan plan_;
    std::vector<std::string> names_;
};

class shm_transport final : public transport {
public:
    std::string name() const override { return "conveyor-shm"; }
    bool shares_lanes() const override { return true; }
    std::vector<config> configs(std::size_t size) const override {
        std::vector<config> result;
        // A capacity must hold a few messages for producer and consumer to overlap.
        for (std::size_t capacity : {256u << 10, 4u << 20, 64u << 20})
            if (capacity >= 3 * (size + record_overhead))
                result.push_back({"capacity " + std::to_string(capacity >> 10) + "K", capacity});
        return result;
    }
    std::unique_ptr<channel> open(const config& setting, const lane_plan& plan) override {
        return std::make_unique<shm_channel>(setting, plan);
    }
};

} // namespace

std::unique_ptr<transport> make_conveyor_shm() {
    return std::make_unique<shm_transport>();
}

} // namespace conveyor::bench

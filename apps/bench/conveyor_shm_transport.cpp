// conveyor's shared-memory queue (shm://) as a program after throughput uses it: a stream
// goes in with send_batch() (64 messages a call, as conveyor-producer sends), a ping-pong
// with send(); receive_batch() copies out all that are there in one visit. One segment per
// lane, shared by the lane's producers and consumers.
#include "conveyor_copying.hpp"
#include "conveyor_shm.hpp"

#include "conveyor/shm/queue.hpp"

namespace conveyor::bench {
namespace {

class shm_channel final : public channel {
public:
    shm_channel(const config& setting, const lane_plan& plan)
        : lanes_(setting, plan), streaming_(plan.streaming) {}
    std::unique_ptr<writer> open_writer(std::size_t lane) override {
        auto sender = std::make_unique<shm::queue_sender>(lanes_.where(lane));
        if (streaming_) return std::make_unique<batching_writer>(std::move(sender));
        return std::make_unique<copying_writer>(std::move(sender));
    }
    std::unique_ptr<reader> open_reader(std::size_t lane) override {
        return std::make_unique<copying_reader>(
            std::make_unique<shm::queue_receiver>(lanes_.where(lane), lanes_.reader_options()));
    }

private:
    shm_lanes lanes_;
    bool streaming_;
};

class shm_transport final : public transport {
public:
    std::string name() const override { return "conveyor-shm"; }
    bool shares_lanes() const override { return true; }
    std::vector<config> configs(std::size_t size) const override { return shm_capacities(size); }
    std::unique_ptr<channel> open(const config& setting, const lane_plan& plan) override {
        return std::make_unique<shm_channel>(setting, plan);
    }
};

} // namespace

std::unique_ptr<transport> make_conveyor_shm() {
    return std::make_unique<shm_transport>();
}

} // namespace conveyor::bench

// conveyor's shared-memory queue (shm://) as most programs use it: send() copies each
// message in, receive_batch() copies out all that are there in one visit. One segment per
// lane, shared by the lane's producers and consumers.
#include "conveyor_shm.hpp"
#include "conveyor_copying.hpp"

#include "conveyor/shm/queue.hpp"

namespace conveyor::bench {
namespace {

class shm_channel final : public channel {
public:
    shm_channel(const config& setting, const lane_plan& plan) : lanes_(setting, plan) {}
    std::unique_ptr<writer> open_writer(std::size_t lane) override {
        return std::make_unique<copying_writer>(
            std::make_unique<shm::queue_sender>(lanes_.where(lane)));
    }
    std::unique_ptr<reader> open_reader(std::size_t lane) override {
        return std::make_unique<copying_reader>(
            std::make_unique<shm::queue_receiver>(lanes_.where(lane), lanes_.reader_options()));
    }

private:
    shm_lanes lanes_;
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

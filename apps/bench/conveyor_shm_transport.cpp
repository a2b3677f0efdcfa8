// conveyor's shared-memory queue (shm://) as a program after throughput uses it: a stream
// goes in with send_batch() (64 messages a call, as conveyor-producer sends), a ping-pong
// with send(); receive_batch() copies out all that are there in one visit. One queue per
// lane, shared by the lane's producers and consumers. The same queue with acknowledged
// delivery (conveyor-shm-ack: each batch acknowledged once used, as conveyor-consumer does),
// and in a file (conveyor-file, sync none; conveyor-file-sync, sync batch: each send_batch
// on disk before it returns).
#include "conveyor_copying.hpp"
#include "conveyor_shm.hpp"

#include "conveyor/shm/queue.hpp"

namespace conveyor::bench {
namespace {

// What sets one of these transports apart from conveyor-shm.
struct queue_kind {
    std::string name;
    bool acknowledge = false;
    std::optional<sync_policy> durable; // file:// with this policy
};

class shm_channel final : public channel {
public:
    shm_channel(const queue_kind& kind, const config& setting, const lane_plan& plan)
        : lanes_(setting, plan, kind.durable), streaming_(plan.streaming),
          acknowledge_(kind.acknowledge) {}
    std::unique_ptr<writer> open_writer(std::size_t lane) override {
        auto sender = std::make_unique<shm::queue_sender>(lanes_.where(lane));
        if (streaming_) return std::make_unique<batching_writer>(std::move(sender));
        return std::make_unique<copying_writer>(std::move(sender));
    }
    std::unique_ptr<reader> open_reader(std::size_t lane) override {
        auto options = lanes_.reader_options();
        options.acknowledge = acknowledge_;
        return std::make_unique<copying_reader>(
            std::make_unique<shm::queue_receiver>(lanes_.where(lane), options), acknowledge_);
    }

private:
    shm_lanes lanes_;
    bool streaming_;
    bool acknowledge_;
};

class shm_transport final : public transport {
public:
    explicit shm_transport(queue_kind kind) : kind_(std::move(kind)) {}
    std::string name() const override { return kind_.name; }
    bool shares_lanes() const override { return true; }
    std::vector<config> configs(std::size_t size) const override { return shm_capacities(size); }
    std::unique_ptr<channel> open(const config& setting, const lane_plan& plan) override {
        return std::make_unique<shm_channel>(kind_, setting, plan);
    }

private:
    queue_kind kind_;
};

} // namespace

std::unique_ptr<transport> make_conveyor_shm() {
    return std::make_unique<shm_transport>(queue_kind{"conveyor-shm", false, std::nullopt});
}

std::unique_ptr<transport> make_conveyor_shm_ack() {
    return std::make_unique<shm_transport>(queue_kind{"conveyor-shm-ack", true, std::nullopt});
}

std::unique_ptr<transport> make_conveyor_file() {
    return std::make_unique<shm_transport>(queue_kind{"conveyor-file", false, sync_policy::none});
}

std::unique_ptr<transport> make_conveyor_file_sync() {
    return std::make_unique<shm_transport>(
        queue_kind{"conveyor-file-sync", false, sync_policy::batch});
}

} // namespace conveyor::bench

// conveyor's nats:// transport against the bench's nats-server: one stream for a run, its
// producers and consumers sharing it through one durable, as conveyor-producer and
// conveyor-consumer do; a stream goes in with send_batch (64 messages a call), either each
// batch confirmed before the next (sync batch, the default) or within the window of
// unconfirmed messages (sync none); receive_batch takes what has come. nats.c runs only in
// the children (nats_server.hpp).
#include "conveyor_copying.hpp"
#include "nats_peer.hpp"
#include "nats_server.hpp"

#include "conveyor/endpoint.hpp"
#include "conveyor/open.hpp"

namespace conveyor::bench {
namespace {

class conveyor_nats_channel final : public channel {
public:
    conveyor_nats_channel(const config& setting, const lane_plan& plan)
        : url_(bench_nats_url()), streaming_(plan.streaming) {
        options_.max_message = plan.max_message;
        options_.min_producers = plan.writers_per_lane;
        options_.sync = setting.value == 0 ? sync_policy::batch : sync_policy::none;
        for (std::size_t i = 0; i < plan.lanes; ++i)
            lanes_.push_back(make_nats_lane("conveyor-nats-"));
    }
    ~conveyor_nats_channel() override {
        try {
            remove_nats_streams(url_, lanes_, true);
        } catch (const std::exception&) {
            // The server's folder goes when the bench ends.
        }
    }
    std::unique_ptr<writer> open_writer(std::size_t lane) override {
        auto sender = open_sender(where(lane), options_);
        if (streaming_) return std::make_unique<batching_writer>(std::move(sender));
        return std::make_unique<copying_writer>(std::move(sender));
    }
    std::unique_ptr<reader> open_reader(std::size_t lane) override {
        return std::make_unique<copying_reader>(open_receiver(where(lane), options_));
    }

private:
    endpoint where(std::size_t lane) const {
        const auto& l = lanes_.at(lane);
        return endpoint::parse(url_ + "/" + l.subject + "?stream=" + l.stream);
    }
    std::string url_;
    bool streaming_;
    channel_options options_;
    std::vector<nats_lane> lanes_;
};

class conveyor_nats_transport final : public transport {
public:
    std::string name() const override { return "conveyor-nats"; }
    bool shares_lanes() const override { return true; }
    std::vector<config> configs(std::size_t size) const override {
        if (size > max_nats_message) return {}; // above the server's max payload
        return {{"sync batch", 0}, {"sync none, window 4096", 1}};
    }
    std::unique_ptr<channel> open(const config& setting, const lane_plan& plan) override {
        return std::make_unique<conveyor_nats_channel>(setting, plan);
    }
};

} // namespace

std::unique_ptr<transport> make_conveyor_nats() {
    return std::make_unique<conveyor_nats_transport>();
}

} // namespace conveyor::bench

// conveyor's broadcast ring (topic://) in the fan-out pattern: one publisher streams with
// send_batch (64 messages a call, as conveyor-producer sends), each subscriber takes what is
// there with receive_batch; every subscriber gets every message. Block mode: the publisher
// waits for the slowest subscriber, so that nothing is lost.
#include "conveyor_copying.hpp"
#include "conveyor_shm.hpp"

#include "conveyor/shm/segment.hpp"
#include "conveyor/shm/topic.hpp"

namespace conveyor::bench {
namespace {

class topic_channel final : public channel {
public:
    topic_channel(const config& setting, const lane_plan& plan)
        : name_(unique_name("conveyor-bench-topic-")) {
        options_.capacity = setting.value;
        options_.max_message = plan.max_message;
        shm::topic_receiver creator(where(), options_); // makes the topic, then leaves
    }
    ~topic_channel() override {
        std::error_code ignored;
        shm::remove_segment(name_, ignored);
    }
    std::unique_ptr<writer> open_writer(std::size_t) override {
        return std::make_unique<batching_writer>(
            std::make_unique<shm::topic_sender>(where(), options_));
    }
    std::unique_ptr<reader> open_reader(std::size_t) override {
        return std::make_unique<copying_reader>(
            std::make_unique<shm::topic_receiver>(where(), options_));
    }

private:
    endpoint where() const { return endpoint::parse("topic://" + name_); }

    std::string name_;
    channel_options options_;
};

class topic_transport final : public transport {
public:
    std::string name() const override { return "conveyor-topic"; }
    bool shares_lanes() const override { return true; }
    bool runs(pattern kind) const override { return kind == pattern::fan_out; }
    std::vector<config> configs(std::size_t size) const override { return shm_capacities(size); }
    std::unique_ptr<channel> open(const config& setting, const lane_plan& plan) override {
        return std::make_unique<topic_channel>(setting, plan);
    }
};

} // namespace

std::unique_ptr<transport> make_conveyor_topic() {
    return std::make_unique<topic_transport>();
}

} // namespace conveyor::bench

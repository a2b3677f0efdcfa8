// Peer: boost::interprocess::message_queue per lane, shared by the lane's producers and
// consumers, at the depths of queue_peers.hpp.
#include "queue_peers.hpp"

#include <boost/interprocess/ipc/message_queue.hpp>

namespace conveyor::bench {
namespace {

namespace bip = boost::interprocess;

class boost_mq_writer final : public writer {
public:
    boost_mq_writer(const std::string& name, std::size_t readers)
        : queue_(bip::open_only, name.c_str()), readers_(readers) {}
    std::span<std::byte> prepare(std::size_t n) override {
        buffer_.resize(n);
        return buffer_;
    }
    void commit() override { queue_.send(buffer_.data(), buffer_.size(), 0); }
    void close() override {
        // The end marker is an empty message; send() copies it with memcpy, whose pointers
        // must be valid even for no bytes.
        const std::byte none{};
        for (std::size_t i = 0; i < readers_; ++i)
            queue_.send(&none, 0, 0);
    }

private:
    bip::message_queue queue_;
    std::size_t readers_;
    std::vector<std::byte> buffer_;
};

class boost_mq_reader final : public reader {
public:
    boost_mq_reader(const std::string& name, std::size_t max_message, std::size_t writers)
        : queue_(bip::open_only, name.c_str()), buffer_(max_message), ends_{writers, 0} {}
    std::optional<std::span<const std::byte>> receive() override {
        for (;;) {
            bip::message_queue::size_type n = 0;
            unsigned priority = 0;
            queue_.receive(buffer_.data(), buffer_.size(), n, priority);
            if (n > 0) return std::span<const std::byte>(buffer_.data(), n);
            if (ends_.reader_done()) return std::nullopt;
        }
    }

private:
    bip::message_queue queue_;
    std::vector<std::byte> buffer_;
    end_markers ends_;
};

class boost_mq_channel final : public channel {
public:
    boost_mq_channel(const config& setting, const lane_plan& plan) : plan_(plan) {
        for (std::size_t i = 0; i < plan.lanes; ++i) {
            names_.push_back(unique_name("conveyor-bench-bmq-"));
            bip::message_queue(bip::create_only, names_.back().c_str(), setting.value,
                               plan.max_message);
        }
    }
    ~boost_mq_channel() override {
        for (const auto& name : names_)
            bip::message_queue::remove(name.c_str());
    }
    std::unique_ptr<writer> open_writer(std::size_t lane) override {
        return std::make_unique<boost_mq_writer>(names_.at(lane), plan_.readers_per_lane);
    }
    std::unique_ptr<reader> open_reader(std::size_t lane) override {
        return std::make_unique<boost_mq_reader>(names_.at(lane), plan_.max_message,
                                                 plan_.writers_per_lane);
    }

private:
    lane_plan plan_;
    std::vector<std::string> names_;
};

class boost_mq_transport final : public transport {
public:
    std::string name() const override { return "boost-mq"; }
    bool shares_lanes() const override { return true; }
    std::vector<config> configs(std::size_t size) const override { return depths(size); }
    std::unique_ptr<channel> open(const config& setting, const lane_plan& plan) override {
        return std::make_unique<boost_mq_channel>(setting, plan);
    }
};

} // namespace

std::unique_ptr<transport> make_boost_mq() {
    return std::make_unique<boost_mq_transport>();
}

} // namespace conveyor::bench

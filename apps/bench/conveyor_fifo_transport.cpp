// conveyor's fifo:// transport: one FIFO per lane (a FIFO has one consumer at a time). The
// producer opens the FIFO at its first send, as the library does; the library sizes the
// FIFO's buffer to hold a whole message (the kernel's 64 KiB, up to 1 MiB for large ones). A stream
// goes in with send_batch, as conveyor-producer sends; a ping-pong with send.
#include "conveyor_copying.hpp"

#include "conveyor/endpoint.hpp"
#include "conveyor/pipe/fifo.hpp"

#include <unistd.h>

namespace conveyor::bench {
namespace {

class conveyor_fifo_channel final : public channel {
public:
    explicit conveyor_fifo_channel(const lane_plan& plan) : streaming_(plan.streaming) {
        options_.max_message = plan.max_message;
        options_.min_producers = plan.writers_per_lane;
        for (std::size_t i = 0; i < plan.lanes; ++i) {
            paths_.push_back("/tmp/" + unique_name("conveyor-bench-cfifo-"));
            pipe::make_fifo(paths_.back(), 0600);
        }
    }
    ~conveyor_fifo_channel() override {
        for (const auto& path : paths_)
            ::unlink(path.c_str());
    }
    std::unique_ptr<writer> open_writer(std::size_t lane) override {
        std::error_code ec;
        std::string why;
        auto sender = pipe::open_fifo_sender(where(lane), options_, ec, &why);
        if (!sender) throw std::system_error(ec, why);
        if (streaming_) return std::make_unique<batching_writer>(std::move(sender));
        return std::make_unique<copying_writer>(std::move(sender));
    }
    std::unique_ptr<reader> open_reader(std::size_t lane) override {
        std::error_code ec;
        std::string why;
        auto receiver = pipe::open_fifo_receiver(where(lane), options_, ec, &why);
        if (!receiver) throw std::system_error(ec, why);
        return std::make_unique<copying_reader>(std::move(receiver));
    }

private:
    endpoint where(std::size_t lane) const { return endpoint::parse("fifo://" + paths_.at(lane)); }
    bool streaming_;
    channel_options options_;
    std::vector<std::string> paths_;
};

class conveyor_fifo_transport final : public transport {
public:
    std::string name() const override { return "conveyor-fifo"; }
    bool shares_lanes() const override { return false; }
    std::vector<config> configs(std::size_t) const override {
        return {{"buffer fits a message", 0}};
    }
    std::unique_ptr<channel> open(const config&, const lane_plan& plan) override {
        return std::make_unique<conveyor_fifo_channel>(plan);
    }
};

} // namespace

std::unique_ptr<transport> make_conveyor_fifo() {
    return std::make_unique<conveyor_fifo_transport>();
}

} // namespace conveyor::bench

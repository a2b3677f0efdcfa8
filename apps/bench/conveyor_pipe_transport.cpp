// conveyor's pipe: transport: its frames (header and CRC-32C) on an anonymous pipe per lane,
// through stream_sender and stream_receiver as a program would use on its stdin/stdout. A
// stream goes in with send_batch, as conveyor-producer sends; a ping-pong with send.
#include "conveyor_copying.hpp"
#include "stream_io.hpp"

#include "conveyor/endpoint.hpp"
#include "conveyor/pipe/stream.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace conveyor::bench {
namespace {

class conveyor_pipe_channel final : public channel {
public:
    conveyor_pipe_channel(const config& setting, const lane_plan& plan)
        : where_(endpoint::parse("pipe:")), streaming_(plan.streaming) {
        options_.max_message = plan.max_message;
        for (std::size_t i = 0; i < plan.lanes; ++i) {
            int fds[2];
            if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("conveyor-pipe: pipe2");
            read_ends_.emplace_back(fds[0]);
            write_ends_.emplace_back(fds[1]);
            if (setting.value != 0) set_pipe_size(fds[1], setting.value);
        }
    }
    std::unique_ptr<writer> open_writer(std::size_t lane) override {
        auto sender =
            std::make_unique<pipe::stream_sender>(write_ends_.at(lane).release(), where_, options_);
        if (streaming_) return std::make_unique<batching_writer>(std::move(sender));
        return std::make_unique<copying_writer>(std::move(sender));
    }
    std::unique_ptr<reader> open_reader(std::size_t lane) override {
        return std::make_unique<copying_reader>(std::make_unique<pipe::stream_receiver>(
            read_ends_.at(lane).release(), where_, options_));
    }
    void forget() override {
        read_ends_.clear();
        write_ends_.clear();
    }

private:
    endpoint where_;
    bool streaming_;
    pipe::stream_options options_;
    std::vector<unique_fd> read_ends_;
    std::vector<unique_fd> write_ends_;
};

class conveyor_pipe_transport final : public transport {
public:
    std::string name() const override { return "conveyor-pipe"; }
    bool shares_lanes() const override { return false; }
    std::vector<config> configs(std::size_t) const override {
        return {{"buffer 64K", 0}, {"buffer 1M", 1u << 20}};
    }
    std::unique_ptr<channel> open(const config& setting, const lane_plan& plan) override {
        return std::make_unique<conveyor_pipe_channel>(setting, plan);
    }
};

} // namespace

std::unique_ptr<transport> make_conveyor_pipe() {
    return std::make_unique<conveyor_pipe_transport>();
}

} // namespace conveyor::bench

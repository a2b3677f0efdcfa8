// Peer: an anonymous pipe per lane, one write() per length-prefixed message. Tried with the
// default 64 KiB buffer and with 1 MiB (F_SETPIPE_SZ, the default pipe-max-size).
#include "stream_io.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace conveyor::bench {
namespace {

class pipe_channel final : public fd_pair_channel {
public:
    pipe_channel(const config& setting, const lane_plan& plan) : fd_pair_channel(plan) {
        for (std::size_t i = 0; i < plan.lanes; ++i) {
            int fds[2];
            if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe: pipe2");
            add_lane(fds[0], fds[1]);
            if (setting.value != 0) set_pipe_size(fds[1], setting.value);
        }
    }
};

class pipe_transport final : public transport {
public:
    std::string name() const override { return "pipe"; }
    bool shares_lanes() const override { return false; }
    bool runs(pattern) const override { return true; } // fan-out: a pipe per consumer
    std::vector<config> configs(std::size_t) const override {
        return {{"buffer 64K", 0}, {"buffer 1M", 1u << 20}};
    }
    std::unique_ptr<channel> open(const config& setting, const lane_plan& plan) override {
        return std::make_unique<pipe_channel>(setting, plan);
    }
};

} // namespace

std::unique_ptr<transport> make_pipe() {
    return std::make_unique<pipe_transport>();
}

} // namespace conveyor::bench

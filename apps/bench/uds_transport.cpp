// Peer: a connected UNIX stream socket pair per lane, length-prefixed like the pipe. Tried
// with the default buffers and with larger ones (SO_SNDBUFFORCE where allowed, else capped
// by net.core.wmem_max).
#include "stream_io.hpp"

#include <sys/socket.h>
#include <unistd.h>

namespace conveyor::bench {
namespace {

void set_buffer(int fd, int option, int force_option, std::size_t bytes) {
    const int value = static_cast<int>(bytes);
    if (::setsockopt(fd, SOL_SOCKET, force_option, &value, sizeof value) == 0) return;
    if (::setsockopt(fd, SOL_SOCKET, option, &value, sizeof value) != 0)
        throw_errno("uds: setsockopt");
}

class uds_channel final : public fd_pair_channel {
public:
    uds_channel(const config& setting, const lane_plan& plan) : fd_pair_channel(plan) {
        for (std::size_t i = 0; i < plan.lanes; ++i) {
            int fds[2];
            if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
                throw_errno("uds: socketpair");
            add_lane(fds[0], fds[1]);
            if (setting.value != 0) {
                set_buffer(fds[1], SO_SNDBUF, SO_SNDBUFFORCE, setting.value);
                set_buffer(fds[0], SO_RCVBUF, SO_RCVBUFFORCE, setting.value);
            }
        }
    }
};

class uds_transport final : public transport {
public:
    std::string name() const override { return "uds"; }
    bool shares_lanes() const override { return false; }
    bool runs(pattern) const override { return true; } // fan-out: a socket per consumer
    std::vector<config> configs(std::size_t) const override {
        return {{"default buffers", 0}, {"buffers 1M", 1u << 20}, {"buffers 8M", 8u << 20}};
    }
    std::unique_ptr<channel> open(const config& setting, const lane_plan& plan) override {
        return std::make_unique<uds_channel>(setting, plan);
    }
};

} // namespace

std::unique_ptr<transport> make_uds() {
    return std::make_unique<uds_transport>();
}

} // namespace conveyor::bench

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

class uds_channel final : public channel {
public:
    uds_channel(const config& setting, const lane_plan& plan) : max_message_(plan.max_message) {
        for (std::size_t i = 0; i < plan.lanes; ++i) {
            int fds[2];
            if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
                throw_errno("uds: socketpair");
            read_ends_.emplace_back(fds[0]);
            write_ends_.emplace_back(fds[1]);
            if (setting.value != 0) {
                set_buffer(fds[1], SO_SNDBUF, SO_SNDBUFFORCE, setting.value);
                set_buffer(fds[0], SO_RCVBUF, SO_RCVBUFFORCE, setting.value);
            }
        }
    }
    std::unique_ptr<writer> open_writer(std::size_t lane) override {
        return std::make_unique<fd_writer>(std::move(write_ends_.at(lane)));
    }
    std::unique_ptr<reader> open_reader(std::size_t lane) override {
        return std::make_unique<fd_reader>(std::move(read_ends_.at(lane)), max_message_);
    }
    void forget() override {
        read_ends_.clear();
        write_ends_.clear();
    }

private:
    std::size_t max_message_;
    std::vector<unique_fd> read_ends_;
    std::vector<unique_fd> write_ends_;
};

class uds_transport final : public transport {
public:
    std::string name() const override { return "uds"; }
    bool shares_lanes() const override { return false; }
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

// Peer: an anonymous pipe per lane, one write() per length-prefixed message. Tried with the
// default 64 KiB buffer and with 1 MiB (F_SETPIPE_SZ, the default pipe-max-size).
#include "stream_io.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace conveyor::bench {
namespace {

class pipe_channel final : public channel {
public:
    pipe_channel(const config& setting, const lane_plan& plan) : max_message_(plan.max_message) {
        for (std::size_t i = 0; i < plan.lanes; ++i) {
            int fds[2];
            if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe: pipe2");
            read_ends_.emplace_back(fds[0]);
            write_ends_.emplace_back(fds[1]);
            if (setting.value != 0) set_pipe_size(fds[1], setting.value);
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

class pipe_transport final : public transport {
public:
    std::string name() const override { return "pipe"; }
    bool shares_lanes() const override { return false; }
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

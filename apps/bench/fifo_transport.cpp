// Peer: a named FIFO (mkfifo) per lane, the same framing as the pipe. The reader opens its
// end without blocking so that the writer's open, before timing starts, finds it there.
#include "stream_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace conveyor::bench {
namespace {

class fifo_channel final : public channel {
public:
    fifo_channel(const config& setting, const lane_plan& plan)
        : setting_(setting), max_message_(plan.max_message) {
        for (std::size_t i = 0; i < plan.lanes; ++i) {
            paths_.push_back("/tmp/" + unique_name("conveyor-bench-fifo-"));
            if (::mkfifo(paths_.back().c_str(), 0600) != 0)
                throw_errno("fifo: mkfifo " + paths_.back());
        }
    }
    ~fifo_channel() override {
        for (const auto& path : paths_)
            ::unlink(path.c_str());
    }
    // Readers open first (the harness starts consumers before producers), so this open
    // does not wait long.
    std::unique_ptr<writer> open_writer(std::size_t lane) override {
        unique_fd fd(::open(paths_.at(lane).c_str(), O_WRONLY | O_CLOEXEC));
        if (fd.get() < 0) throw_errno("fifo: open " + paths_.at(lane));
        return std::make_unique<fd_writer>(std::move(fd));
    }
    std::unique_ptr<reader> open_reader(std::size_t lane) override {
        unique_fd fd(::open(paths_.at(lane).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
        if (fd.get() < 0) throw_errno("fifo: open " + paths_.at(lane));
        if (setting_.value != 0) set_pipe_size(fd.get(), setting_.value);
        // Blocking reads from here on; a read before any writer opened would see end of
        // file, but the harness lets readers read only once every writer is open.
        ::fcntl(fd.get(), F_SETFL, 0);
        return std::make_unique<fd_reader>(std::move(fd), max_message_);
    }

private:
    config setting_;
    std::size_t max_message_;
    std::vector<std::string> paths_;
};

class fifo_transport final : public transport {
public:
    std::string name() const override { return "fifo"; }
    bool shares_lanes() const override { return false; }
    std::vector<config> configs(std::size_t) const override {
        return {{"buffer 64K", 0}, {"buffer 1M", 1u << 20}};
    }
    std::unique_ptr<channel> open(const config& setting, const lane_plan& plan) override {
        return std::make_unique<fifo_channel>(setting, plan);
    }
};

} // namespace

std::unique_ptr<transport> make_fifo() {
    return std::make_unique<fifo_transport>();
}

} // namespace conveyor::bench

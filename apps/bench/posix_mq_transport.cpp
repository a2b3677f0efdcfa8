// Peer: a POSIX message queue (mq_open) per lane, shared by the lane's producers and
// consumers, at the depths of queue_peers.hpp. As root the bench raises fs.mqueue.msg_max
// and msgsize_max for the run (and puts them back); a queue above RLIMIT_MSGQUEUE (bytes of
// all queues of a user, 800 KiB by default) is refused by the kernel and skipped.
#include "queue_peers.hpp"
#include "stream_io.hpp"

#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <mqueue.h>
#include <sys/resource.h>
#include <unistd.h>

namespace conveyor::bench {
namespace {

class mq_writer final : public writer {
public:
    mq_writer(mqd_t queue, std::size_t readers) : queue_(queue), readers_(readers) {}
    ~mq_writer() override { ::mq_close(queue_); }
    std::span<std::byte> prepare(std::size_t n) override {
        buffer_.resize(n);
        return buffer_;
    }
    void commit() override { send(buffer_.data(), buffer_.size()); }
    void close() override {
        for (std::size_t i = 0; i < readers_; ++i)
            send(nullptr, 0);
    }

private:
    void send(const std::byte* data, std::size_t n) {
        static const char nothing = 0; // mq_send wants a pointer even for no bytes
        const char* bytes = n == 0 ? &nothing : reinterpret_cast<const char*>(data);
        while (::mq_send(queue_, bytes, n, 0) != 0)
            if (errno != EINTR) throw_errno("posix-mq: mq_send");
    }
    mqd_t queue_;
    std::size_t readers_;
    std::vector<std::byte> buffer_;
};

class mq_reader final : public reader {
public:
    mq_reader(mqd_t queue, std::size_t max_message, std::size_t writers)
        : queue_(queue), buffer_(max_message), ends_{writers, 0} {}
    ~mq_reader() override { ::mq_close(queue_); }
    std::optional<std::span<const std::byte>> receive() override {
        for (;;) {
            const ssize_t n = ::mq_receive(queue_, reinterpret_cast<char*>(buffer_.data()),
                                           buffer_.size(), nullptr);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_errno("posix-mq: mq_receive");
            if (n > 0) return std::span<const std::byte>(buffer_.data(), std::size_t(n));
            if (ends_.reader_done()) return std::nullopt;
        }
    }

private:
    mqd_t queue_;
    std::vector<std::byte> buffer_;
    end_markers ends_;
};

class mq_channel final : public channel {
public:
    mq_channel(const config& setting, const lane_plan& plan) : plan_(plan) {
        for (std::size_t i = 0; i < plan.lanes; ++i) {
            names_.push_back(unique_name("/conveyor-bench-mq-"));
            mq_attr attr{};
            attr.mq_maxmsg = static_cast<long>(setting.value);
            attr.mq_msgsize = static_cast<long>(plan.max_message);
            const mqd_t q =
                ::mq_open(names_.back().c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
            if (q == mqd_t(-1)) {
                names_.pop_back();
                // The kernel says EMFILE when the queues would pass RLIMIT_MSGQUEUE.
                if (errno == EMFILE)
                    throw_errno("posix-mq: mq_open " + setting.label + " (above RLIMIT_MSGQUEUE?)");
                throw_errno("posix-mq: mq_open " + setting.label);
            }
            ::mq_close(q);
        }
    }
    ~mq_channel() override {
        for (const auto& name : names_)
            ::mq_unlink(name.c_str());
    }
    std::unique_ptr<writer> open_writer(std::size_t lane) override {
        return std::make_unique<mq_writer>(open_queue(lane, O_WRONLY), plan_.readers_per_lane);
    }
    std::unique_ptr<reader> open_reader(std::size_t lane) override {
        return std::make_unique<mq_reader>(open_queue(lane, O_RDONLY), plan_.max_message,
                                           plan_.writers_per_lane);
    }

private:
    mqd_t open_queue(std::size_t lane, int flags) {
        const mqd_t q = ::mq_open(names_.at(lane).c_str(), flags);
        if (q == mqd_t(-1)) throw_errno("posix-mq: mq_open " + names_.at(lane));
        return q;
    }
    lane_plan plan_;
    std::vector<std::string> names_;
};

// A kernel limit under /proc/sys/fs/mqueue, raised for the bench's lifetime where allowed.
class mqueue_limit {
public:
    mqueue_limit(const std::string& name, long wanted) : path_("/proc/sys/fs/mqueue/" + name) {
        std::ifstream(path_) >> old_;
        if (old_ <= 0 || old_ >= wanted || ::geteuid() != 0) return;
        std::ofstream(path_) << wanted;
        long now = 0;
        std::ifstream(path_) >> now;
        if (now != wanted) return;
        raised_ = true;
        std::fprintf(stderr, "conveyor-bench: fs.mqueue.%s raised from %ld to %ld for this run\n",
                     name.c_str(), old_, wanted);
    }
    ~mqueue_limit() {
        if (raised_) std::ofstream(path_) << old_;
    }
    mqueue_limit(const mqueue_limit&) = delete;
    mqueue_limit& operator=(const mqueue_limit&) = delete;

private:
    std::string path_;
    long old_ = 0;
    bool raised_ = false;
};

class posix_mq_transport final : public transport {
public:
    std::string name() const override { return "posix-mq"; }
    bool shares_lanes() const override { return true; }
    std::vector<config> configs(std::size_t size) const override { return depths(size); }
    std::unique_ptr<channel> open(const config& setting, const lane_plan& plan) override {
        if (!msg_max_) {
            msg_max_ = std::make_unique<mqueue_limit>("msg_max", 4096);
            msgsize_max_ = std::make_unique<mqueue_limit>("msgsize_max", 1 << 20);
            rlimit bytes{};
            if (::getrlimit(RLIMIT_MSGQUEUE, &bytes) == 0 && bytes.rlim_cur < bytes.rlim_max) {
                bytes.rlim_cur = bytes.rlim_max;
                ::setrlimit(RLIMIT_MSGQUEUE, &bytes);
            }
        }
        return std::make_unique<mq_channel>(setting, plan);
    }

private:
    std::unique_ptr<mqueue_limit> msg_max_;
    std::unique_ptr<mqueue_limit> msgsize_max_;
};

} // namespace

std::unique_ptr<transport> make_posix_mq() {
    return std::make_unique<posix_mq_transport>();
}

} // namespace conveyor::bench

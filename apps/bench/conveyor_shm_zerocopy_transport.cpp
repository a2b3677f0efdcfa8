// conveyor's shared-memory queue without copies: a producer reserve()s room in the ring,
// writes the message there and commit()s it; a consumer reads messages where they lie
// through receive_views() and release()s them before taking the next. A stream reserves up
// to 64 messages (256 KiB) before one commit, as the copying path batches its sends.
#include "conveyor_shm.hpp"

#include "conveyor/error.hpp"
#include "conveyor/shm/queue.hpp"

namespace conveyor::bench {
namespace {

class zerocopy_writer final : public writer {
public:
    zerocopy_writer(const endpoint& where, bool streaming)
        : sender_(where), streaming_(streaming) {}
    std::span<std::byte> prepare(std::size_t n) override {
        if (pending_ == max_messages || pending_bytes_ + n > max_bytes) flush();
        if (pending_ != 0) {
            std::error_code ec;
            auto room = sender_.reserve(n, no_wait, ec); // behind the pending ones, or null
            if (ec) throw error(ec, sender_.where().uri() + ": reserve");
            if (room.data()) return note(room);
            flush();
        }
        return note(sender_.reserve(n));
    }
    void commit() override {
        if (!streaming_) flush();
    }
    void close() override {
        flush();
        sender_.close();
    }

private:
    static constexpr std::size_t max_messages = 64;
    static constexpr std::size_t max_bytes = 256u << 10;

    std::span<std::byte> note(std::span<std::byte> room) {
        ++pending_;
        pending_bytes_ += room.size();
        return room;
    }
    void flush() {
        sender_.commit();
        pending_ = 0;
        pending_bytes_ = 0;
    }

    shm::queue_sender sender_;
    bool streaming_;
    std::size_t pending_ = 0;
    std::size_t pending_bytes_ = 0;
};

class zerocopy_reader final : public reader {
public:
    zerocopy_reader(const endpoint& where, const channel_options& options)
        : receiver_(where, options) {}
    std::optional<std::span<const std::byte>> receive() override {
        if (next_ == views_.size()) { // the caller is done with the last views
            if (receiver_.receive_views(views_, 1024) != receive_status::message)
                return std::nullopt;
            next_ = 0;
        }
        return views_[next_++];
    }

private:
    shm::queue_receiver receiver_;
    std::vector<bytes_view> views_;
    std::size_t next_ = 0;
};

class zerocopy_channel final : public channel {
public:
    zerocopy_channel(const config& setting, const lane_plan& plan)
        : lanes_(setting, plan), streaming_(plan.streaming) {}
    std::unique_ptr<writer> open_writer(std::size_t lane) override {
        return std::make_unique<zerocopy_writer>(lanes_.where(lane), streaming_);
    }
    std::unique_ptr<reader> open_reader(std::size_t lane) override {
        return std::make_unique<zerocopy_reader>(lanes_.where(lane), lanes_.reader_options());
    }

private:
    shm_lanes lanes_;
    bool streaming_;
};

class zerocopy_transport final : public transport {
public:
    std::string name() const override { return "conveyor-shm-zerocopy"; }
    bool shares_lanes() const override { return true; }
    std::vector<config> configs(std::size_t size) const override { return shm_capacities(size); }
    std::unique_ptr<channel> open(const config& setting, const lane_plan& plan) override {
        return std::make_unique<zerocopy_channel>(setting, plan);
    }
};

} // namespace

std::unique_ptr<transport> make_conveyor_shm_zerocopy() {
    return std::make_unique<zerocopy_transport>();
}

} // namespace conveyor::bench

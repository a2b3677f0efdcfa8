// conveyor's shared-memory queue without copies: a producer reserve()s room in the ring,
// writes the message there and commit()s it; a consumer reads it where it lies through
// receive_view() and release()s it before taking the next.
#include "conveyor_shm.hpp"

#include "conveyor/shm/queue.hpp"

namespace conveyor::bench {
namespace {

class zerocopy_writer final : public writer {
public:
    explicit zerocopy_writer(const endpoint& where) : sender_(where) {}
    std::span<std::byte> prepare(std::size_t n) override { return sender_.reserve(n); }
    void commit() override { sender_.commit(); }
    void close() override { sender_.close(); }

private:
    shm::queue_sender sender_;
};

class zerocopy_reader final : public reader {
public:
    zerocopy_reader(const endpoint& where, const channel_options& options)
        : receiver_(where, options) {}
    std::optional<std::span<const std::byte>> receive() override {
        if (viewing_) receiver_.release(); // the caller is done with the last view
        bytes_view view;
        viewing_ = receiver_.receive_view(view) == receive_status::message;
        if (!viewing_) return std::nullopt;
        return view;
    }

private:
    shm::queue_receiver receiver_;
    bool viewing_ = false;
};

class zerocopy_channel final : public channel {
public:
    zerocopy_channel(const config& setting, const lane_plan& plan) : lanes_(setting, plan) {}
    std::unique_ptr<writer> open_writer(std::size_t lane) override {
        return std::make_unique<zerocopy_writer>(lanes_.where(lane));
    }
    std::unique_ptr<reader> open_reader(std::size_t lane) override {
        return std::make_unique<zerocopy_reader>(lanes_.where(lane), lanes_.reader_options());
    }

private:
    shm_lanes lanes_;
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

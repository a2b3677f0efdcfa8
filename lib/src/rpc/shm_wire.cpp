// A client's shared-memory connection (shm_frame.hpp): calls into the server's queue, each
// behind the frame header, replies out of the client's own queue.
#include "shm_frame.hpp"
#include "wire.hpp"

#include "conveyor/rpc/error.hpp"
#include "conveyor/shm/queue.hpp"
#include "conveyor/shm/segment.hpp"
#include "detail/process_liveness.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>

namespace conveyor::rpc::detail {
namespace {

// A wait for replies looks at wake() this often: the queue has no descriptor to poll. It is
// longer than the queue's liveness interval (100 ms), since a waiting receiver looks for
// producers that died (the server) only once a single wait has lasted that long.
constexpr auto receive_slice = std::chrono::milliseconds(150);

std::atomic<std::uint32_t> next_client{0};

class shm_wire final : public wire {
public:
    shm_wire(std::unique_ptr<shm::queue_sender> requests,
             std::unique_ptr<shm::queue_receiver> replies, shm_frame_header header,
             std::string reply_name)
        : requests_(std::move(requests)), replies_(std::move(replies)), header_(header),
          reply_name_(std::move(reply_name)) {}

    ~shm_wire() override {
        // The server removes the name once it attached; a call it never saw leaves it here.
        std::error_code ignored;
        shm::remove_segment(reply_name_, ignored);
    }

    bool send(bytes_view message, time_point deadline, bool wait, std::error_code& ec) override {
        const std::lock_guard lock(send_mutex_);
        if (corked_ && !wait) {
            backlog_.push_back(frame(message));
            return true;
        }
        if (!send_backlog(ec)) {
            if (ec) return false;
            if (!wait) {
                backlog_.push_back(frame(message));
                return true;
            }
        }
        const auto size = sizeof header_ + message.size();
        for (;;) {
            const auto left = wait ? std::max(deadline - clock::now(), clock::duration::zero())
                                   : clock::duration::zero();
            // Each wait is bounded by the deadline; the queue's own waits wake every 100 ms.
            const auto slot =
                requests_->reserve(size, std::chrono::duration_cast<wait_duration>(left), ec);
            if (ec) return false;
            if (slot.data()) {
                std::memcpy(slot.data(), &header_, sizeof header_);
                std::memcpy(slot.data() + sizeof header_, message.data(), message.size());
                requests_->commit();
                return true;
            }
            if (!wait) {
                backlog_.push_back(frame(message));
                return true;
            }
            if (clock::now() >= deadline) return false;
        }
    }

    void cork() noexcept override {
        const std::lock_guard lock(send_mutex_);
        corked_ = true;
    }

    void flush(std::error_code& ec) override {
        const std::lock_guard lock(send_mutex_);
        corked_ = false;
        send_backlog(ec);
    }

    bool receive(std::vector<std::byte>& message, time_point deadline,
                 std::error_code& ec) override {
        ec.clear();
        for (;;) {
            {
                const std::lock_guard lock(send_mutex_);
                if (!corked_ && !send_backlog(ec) && ec) return false;
            }
            const auto now = clock::now();
            if (now >= deadline) {
                // One look without waiting, so that a deadline of now still finds a reply.
                const auto status = replies_->try_receive(message, ec);
                return finish(status, ec);
            }
            const auto slice = std::min<clock::duration>(deadline - now, receive_slice);
            const auto status = replies_->receive_for(
                message, std::chrono::duration_cast<wait_duration>(slice), ec);
            if (status != receive_status::empty || ec) return finish(status, ec);
            if (woken_.exchange(false, std::memory_order_relaxed)) return false;
            if (clock::now() >= deadline) return false;
        }
    }

    void wake() noexcept override { woken_.store(true, std::memory_order_relaxed); }
    std::size_t max_message() const noexcept override {
        return requests_->max_message() - sizeof header_;
    }

private:
    static bool finish(receive_status status, std::error_code& ec) {
        if (ec) return false;
        if (status == receive_status::end_of_stream) {
            ec = make_error_code(errc::server_gone);
            return false;
        }
        return status == receive_status::message;
    }

    std::vector<std::byte> frame(bytes_view message) const {
        std::vector<std::byte> framed(sizeof header_ + message.size());
        std::memcpy(framed.data(), &header_, sizeof header_);
        std::memcpy(framed.data() + sizeof header_, message.data(), message.size());
        return framed;
    }

    // send_mutex_ held: sends the backlog in order without waiting; true when it is empty.
    bool send_backlog(std::error_code& ec) {
        if (backlog_.empty()) return true;
        std::vector<bytes_view> views(backlog_.begin(), backlog_.end());
        const auto sent = requests_->send_batch(views, no_wait, ec);
        backlog_.erase(backlog_.begin(), backlog_.begin() + static_cast<std::ptrdiff_t>(sent));
        return backlog_.empty();
    }

    std::mutex send_mutex_; // guards requests_ (one thread at a time) and the backlog
    std::unique_ptr<shm::queue_sender> requests_;
    std::vector<std::vector<std::byte>> backlog_;
    bool corked_ = false;
    std::unique_ptr<shm::queue_receiver> replies_; // the reader's only
    std::atomic<bool> woken_{false};
    const shm_frame_header header_;
    const std::string reply_name_;
};

} // namespace

std::unique_ptr<wire> open_shm_wire(const address& where, const client_options& options,
                                    std::error_code& ec, std::string& why) {
    ec.clear();
    // Only a server makes its queue: a client that made it would wait for nobody.
    const auto info = shm::inspect_segment(where.name, ec);
    if (ec || info.consumers == 0) {
        ec = std::make_error_code(std::errc::connection_refused);
        why = "no server is attached to shm://" + where.name;
        return nullptr;
    }
    const auto self = conveyor::detail::self_identity();
    shm_frame_header header;
    header.pid = static_cast<std::uint32_t>(self.pid);
    header.start_time = self.start_time;
    header.client = next_client.fetch_add(1, std::memory_order_relaxed);
    const auto reply_name = reply_queue_name(where.name, header.pid, header.client);
    // A name with this pid in it that exists is a leftover of a process that had this pid.
    std::error_code ignored;
    shm::remove_segment(reply_name, ignored);

    channel_options replies;
    replies.max_message = options.max_record;
    replies.capacity = shm_reply_queue_records * (options.max_record + 64);
    replies.min_producers = 1;
    std::string cause;
    auto receiver =
        shm::queue_receiver::open(endpoint::parse("shm://" + reply_name), replies, ec, &cause);
    if (ec) {
        why = "cannot make the reply queue: " + cause;
        return nullptr;
    }
    channel_options requests;
    requests.capacity = shm_request_capacity;
    requests.max_message = shm_max_message + sizeof(shm_frame_header);
    auto sender =
        shm::queue_sender::open(endpoint::parse("shm://" + where.name), requests, ec, &cause);
    if (ec) {
        shm::remove_segment(reply_name, ignored);
        why = cause;
        return nullptr;
    }
    return std::make_unique<shm_wire>(std::move(sender), std::move(receiver), header, reply_name);
}

} // namespace conveyor::rpc::detail

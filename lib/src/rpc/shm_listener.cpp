// shm:// endpoints (shm_frame.hpp): threads of their own read calls from the server's queue,
// since a shared-memory queue has no descriptor for the io_context to wait on; each serves
// what it took and puts the reply on its client's queue. The server attaches to a client's
// queue at its first call and removes the queue's name at once (both keep their mapping),
// so nothing is left in /dev/shm when either process dies.
#include "listener.hpp"
#include "shm_frame.hpp"

#include "conveyor/shm/queue.hpp"
#include "conveyor/shm/segment.hpp"
#include "detail/process_liveness.hpp"

#include <cstdio>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace conveyor::rpc::detail {
namespace {

// How long a reader waits for calls before it looks at the stop flag and the clients.
constexpr auto poll_interval = std::chrono::milliseconds(100);
// Clients that died are let go this often: their queues' mappings are released.
constexpr auto sweep_interval = std::chrono::seconds(1);
// A reply waits this long for room in a client's queue before it is dropped: a client that
// stopped reading its replies must not hold up the others.
constexpr auto reply_wait = std::chrono::milliseconds(100);
// Calls taken from the queue in one visit.
constexpr std::size_t read_batch = 64;

struct client_id {
    std::uint32_t pid = 0;
    std::uint64_t start_time = 0;
    std::uint32_t client = 0;
    bool operator==(const client_id&) const = default;
};

struct client_id_hash {
    std::size_t operator()(const client_id& c) const noexcept {
        return (std::size_t(c.pid) * 0x9E37'79B9'7F4A'7C15ull + c.start_time) * 31 + c.client;
    }
};

// The server's side of one client: the producer end of its reply queue.
class client_slot {
public:
    client_slot(std::unique_ptr<shm::queue_sender> sender, conveyor::detail::process_identity who)
        : sender_(std::move(sender)), who_(who) {}

    void send(bytes_view reply) {
        const std::lock_guard lock(mutex_);
        if (!sender_) return;
        std::error_code ignored;
        sender_->send_for(reply, reply_wait, ignored);
    }
    void close() {
        const std::lock_guard lock(mutex_);
        sender_.reset(); // the client's stream ends: its calls in flight fail at once
    }
    const conveyor::detail::process_identity& who() const noexcept { return who_; }

private:
    std::mutex mutex_; // a sender belongs to one thread at a time
    std::unique_ptr<shm::queue_sender> sender_;
    const conveyor::detail::process_identity who_;
};

class shm_deferred final : public deferred_reply {
public:
    shm_deferred(std::uint32_t xid, std::shared_ptr<client_slot> to)
        : deferred_reply(xid), to_(std::move(to)) {}

private:
    void send(std::vector<std::byte>&& reply) override { to_->send(reply); }
    std::shared_ptr<client_slot> to_;
};

struct slot_maker final : reply_maker {
    explicit slot_maker(const std::shared_ptr<client_slot>& slot) : slot(slot) {}
    std::unique_ptr<deferred_reply> defer(std::uint32_t xid) override {
        return std::make_unique<shm_deferred>(xid, slot);
    }
    const std::shared_ptr<client_slot>& slot;
};

class shm_listener final : public listener {
public:
    shm_listener(const listener_context& context, const address& at,
                 std::vector<std::unique_ptr<shm::queue_receiver>> readers,
                 std::unique_ptr<shm::queue_sender> keep_open)
        : context_(context), at_(at), readers_(std::move(readers)),
          keep_open_(std::move(keep_open)) {}

    ~shm_listener() override { stop(); }

    void start() override {
        for (auto& reader : readers_)
            threads_.emplace_back([this, r = reader.get()] { serve(*r); });
    }

    void stop() override {
        stopping_.store(true, std::memory_order_relaxed);
        // An empty message wakes a reader at once; one that misses it sees the flag within
        // poll_interval.
        if (keep_open_)
            for (std::size_t i = 0; i < threads_.size(); ++i)
                keep_open_->try_send({});
        for (auto& t : threads_)
            t.join();
        threads_.clear();
        {
            const std::lock_guard lock(clients_mutex_);
            for (auto& [id, slot] : clients_)
                slot->close();
            clients_.clear();
        }
        if (readers_.empty()) return;
        readers_.clear();
        keep_open_.reset();
        std::error_code ignored;
        shm::remove_segment(at_.name, ignored);
    }

    std::string uri() const override { return "shm://" + at_.name; }

private:
    void serve(shm::queue_receiver& reader) {
        message_batch batch;
        std::vector<std::byte> out;
        auto next_sweep = std::chrono::steady_clock::now() + sweep_interval;
        while (!stopping_.load(std::memory_order_relaxed)) {
            std::error_code ec;
            const auto status = reader.receive_batch(batch, read_batch, poll_interval, ec);
            if (ec) {
                // A malformed record in the queue: the queue reports it and moves on.
                std::fprintf(stderr, "%s: %s\n", uri().c_str(), ec.message().c_str());
                continue;
            }
            if (status == receive_status::message)
                for (std::size_t i = 0; i < batch.size(); ++i)
                    serve_one(batch[i], out);
            if (const auto now = std::chrono::steady_clock::now(); now >= next_sweep) {
                sweep();
                next_sweep = now + sweep_interval;
            }
        }
    }

    void serve_one(bytes_view frame, std::vector<std::byte>& out) {
        shm_frame_header header;
        if (frame.size() < sizeof header) return; // the stop's wake-up, or not ours
        std::memcpy(&header, frame.data(), sizeof header);
        if (header.magic != shm_frame_header::expected_magic) return;
        const auto slot = slot_for(header);
        if (!slot) return;
        const auto message = frame.subspan(sizeof header);
        call_header call;
        const auto decoded = decode_call(message, call);
        out.clear();
        slot_maker maker(slot);
        if (context_.calls.handle(message, decoded, call, out, maker) ==
            dispatcher::outcome::replied)
            slot->send(out);
    }

    std::shared_ptr<client_slot> slot_for(const shm_frame_header& header) {
        const client_id id{header.pid, header.start_time, header.client};
        const std::lock_guard lock(clients_mutex_);
        if (const auto found = clients_.find(id); found != clients_.end()) return found->second;
        const conveyor::detail::process_identity who{static_cast<pid_t>(header.pid),
                                                     header.start_time};
        if (!conveyor::detail::is_alive(who)) return nullptr;
        const auto name = reply_queue_name(at_.name, header.pid, header.client);
        std::error_code ec;
        // Only a client makes its reply queue: one that is gone is not made again here.
        shm::inspect_segment(name, ec);
        if (ec) return nullptr;
        auto sender = shm::queue_sender::open(endpoint::parse("shm://" + name), {}, ec);
        if (ec) return nullptr;
        shm::remove_segment(name, ec);
        auto slot = std::make_shared<client_slot>(std::move(sender), who);
        clients_.emplace(id, slot);
        return slot;
    }

    // Lets go of the clients that died.
    void sweep() {
        const std::lock_guard lock(clients_mutex_);
        std::erase_if(clients_, [](const auto& entry) {
            if (conveyor::detail::is_alive(entry.second->who())) return false;
            entry.second->close();
            return true;
        });
    }

    const listener_context& context_;
    const address at_;
    std::vector<std::unique_ptr<shm::queue_receiver>> readers_; // one per thread
    // A producer of the server's own queue: the readers' stream never ends as clients come
    // and go, and the stop's wake-ups go through it.
    std::unique_ptr<shm::queue_sender> keep_open_;
    std::vector<std::thread> threads_;
    std::atomic<bool> stopping_{false};
    std::mutex clients_mutex_; // guards clients_
    std::unordered_map<client_id, std::shared_ptr<client_slot>, client_id_hash> clients_;
};

} // namespace

std::unique_ptr<listener> make_shm_listener(const listener_context& context, const address& at,
                                            std::error_code& ec, std::string& why) {
    const auto where = endpoint::parse("shm://" + at.name);
    // One server per queue: a second one would take some of the calls, and a client's
    // stream would no longer end when the server it waits on dies.
    const auto existing = shm::inspect_segment(at.name, ec);
    if (!ec && existing.consumers > 0) {
        ec = std::make_error_code(std::errc::address_in_use);
        why = "another server reads this queue (" + std::to_string(existing.consumers) + " reader" +
              (existing.consumers > 1 ? "s" : "") + "); one server per shm:// name";
        return nullptr;
    }
    ec.clear();
    channel_options queue;
    queue.capacity = shm_request_capacity;
    queue.max_message = shm_max_message + sizeof(shm_frame_header);
    std::vector<std::unique_ptr<shm::queue_receiver>> readers;
    for (std::size_t i = 0; i < std::max<std::size_t>(1, context.options.threads); ++i) {
        readers.push_back(shm::queue_receiver::open(where, queue, ec, &why));
        if (ec) return nullptr;
    }
    auto keep_open = shm::queue_sender::open(where, queue, ec, &why);
    if (ec) return nullptr;
    return std::make_unique<shm_listener>(context, at, std::move(readers), std::move(keep_open));
}

} // namespace conveyor::rpc::detail

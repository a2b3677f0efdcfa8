// udp:// endpoints: one socket, one datagram a call, and the duplicate-request cache
// (reply_cache.hpp) so that a retransmitted call runs once. The socket's handlers and the
// cache share one strand.
#include "listener.hpp"
#include "reply_cache.hpp"

#include "conveyor/checksum.hpp"

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

namespace conveyor::rpc::detail {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;

// The largest UDP payload over IPv4; one byte more is read so that a longer one shows.
constexpr std::size_t max_datagram = 65'507;

class udp_core final : public std::enable_shared_from_this<udp_core> {
public:
    udp_core(const listener_context& context, udp::socket socket)
        : context_(context), socket_(std::move(socket)), in_(max_datagram + 1),
          cache_(context.options.reply_cache_lifetime, context.options.reply_cache_entries,
                 context.options.reply_cache_bytes) {
        boost::system::error_code ignored;
        // A reply that finds the socket's buffer full is dropped, as the network may drop
        // it: the client retransmits, and the cache answers.
        socket_.non_blocking(true, ignored);
    }

    void receive() {
        socket_.async_receive_from(
            asio::buffer(in_), from_,
            [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                if (ec == asio::error::operation_aborted) return;
                if (!ec && n <= max_datagram) self->serve(bytes_view(self->in_.data(), n));
                self->receive();
            });
    }

    void close() {
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

    udp::endpoint local_endpoint() const { return socket_.local_endpoint(); }

    // From any thread: an asynchronous handler's reply to the call under key, from to.
    void finish_later(reply_cache_key key, udp::endpoint to, std::vector<std::byte>&& reply) {
        if (!context_.serving.load(std::memory_order_acquire)) return;
        asio::post(socket_.get_executor(),
                   [self = shared_from_this(), key = std::move(key), to, r = std::move(reply)] {
                       self->cache_.finish(key, r, reply_cache::clock::now());
                       self->send(r, to);
                   });
    }

private:
    struct maker final : reply_maker {
        maker(udp_core& core, const reply_cache_key& key, const udp::endpoint& to)
            : core(core), key(key), to(to) {}
        std::unique_ptr<deferred_reply> defer(std::uint32_t xid) override;
        udp_core& core;
        const reply_cache_key& key;
        const udp::endpoint& to;
    };

    class deferred final : public deferred_reply {
    public:
        deferred(std::uint32_t xid, std::shared_ptr<udp_core> core, reply_cache_key key,
                 udp::endpoint to)
            : deferred_reply(xid), core_(std::move(core)), key_(std::move(key)), to_(to) {}

    private:
        void send(std::vector<std::byte>&& reply) override {
            core_->finish_later(std::move(key_), to_, std::move(reply));
        }
        std::shared_ptr<udp_core> core_;
        reply_cache_key key_;
        udp::endpoint to_;
    };

    void serve(bytes_view message) {
        call_header header;
        const auto decoded = decode_call(message, header);
        if (decoded.status == call_status::not_a_call || decoded.status == call_status::truncated)
            return; // a datagram of one byte, a stray reply: nothing to answer
        const udp::endpoint to = from_;
        out_.clear();
        if (decoded.status != call_status::ok) {
            // RPC_MISMATCH and AUTH_ERROR run nothing: answered each time, not cached.
            if (context_.calls.handle(message, decoded, header, out_, *no_defer()) ==
                dispatcher::outcome::replied)
                send(out_, to);
            return;
        }
        reply_cache_key key{peer_address(to.data(), to.size()),
                            header.xid, header.program, header.version, header.procedure};
        const auto arguments = message.subspan(decoded.arguments);
        const std::uint32_t crc = crc32c(arguments);
        const std::vector<std::byte>* cached = nullptr;
        const auto now = reply_cache::clock::now();
        switch (cache_.admit(key, crc, now, cached)) {
        case reply_cache::verdict::in_progress:
            return;
        case reply_cache::verdict::replay:
            send(*cached, to);
            return;
        case reply_cache::verdict::run:
            break;
        }
        maker defer_to(*this, key, to);
        switch (context_.calls.handle(message, decoded, header, out_, defer_to)) {
        case dispatcher::outcome::replied:
            cache_.finish(key, out_, now);
            send(out_, to);
            break;
        case dispatcher::outcome::deferred:
            break;
        case dispatcher::outcome::dropped:
            cache_.forget(key);
            break;
        }
    }

    // A maker for calls that cannot be deferred (those refused before any handler).
    reply_maker* no_defer() {
        static struct none final : reply_maker {
            std::unique_ptr<deferred_reply> defer(std::uint32_t) override { return nullptr; }
        } instance;
        return &instance;
    }

    void send(bytes_view reply, const udp::endpoint& to) {
        boost::system::error_code ignored;
        socket_.send_to(asio::buffer(reply.data(), reply.size()), to, 0, ignored);
    }

    const listener_context& context_;
    udp::socket socket_; // its executor is the strand that owns everything below
    std::vector<std::byte> in_;
    udp::endpoint from_;
    std::vector<std::byte> out_;
    reply_cache cache_;
};

std::unique_ptr<deferred_reply> udp_core::maker::defer(std::uint32_t xid) {
    return std::make_unique<deferred>(xid, core.shared_from_this(), key, to);
}

class udp_listener final : public listener {
public:
    udp_listener(const address& at, std::shared_ptr<udp_core> core)
        : at_(at), core_(std::move(core)) {}

    void start() override { core_->receive(); }
    void stop() override { core_->close(); }
    std::string uri() const override { return at_.with_port(core_->local_endpoint().port()); }
    std::string netid() const override {
        return core_->local_endpoint().address().is_v6() ? "udp6" : "udp";
    }
    std::string universal_address() const override {
        const auto bound = core_->local_endpoint();
        const auto port = bound.port();
        return bound.address().to_string() + "." + std::to_string(port >> 8) + "." +
               std::to_string(port & 0xFF);
    }

private:
    const address at_;
    std::shared_ptr<udp_core> core_;
};

} // namespace

std::unique_ptr<listener> make_udp_listener(const listener_context& context, const address& at,
                                            std::error_code& ec, std::string& why) {
    boost::system::error_code error;
    udp::resolver resolver(context.io);
    const auto found =
        resolver.resolve(at.host, std::to_string(at.port),
                         udp::resolver::passive | udp::resolver::numeric_service, error);
    if (error || found.empty()) {
        ec = std::make_error_code(std::errc::host_unreachable);
        why = "cannot resolve host \"" + at.host + "\": " + error.message();
        return nullptr;
    }
    udp::socket socket(asio::make_strand(context.io));
    const udp::endpoint bind_to = *found.begin();
    socket.open(bind_to.protocol(), error);
    if (!error) socket.bind(bind_to, error);
    if (error) {
        ec = error;
        why = "cannot listen: " + error.message();
        return nullptr;
    }
    return std::make_unique<udp_listener>(at,
                                          std::make_shared<udp_core>(context, std::move(socket)));
}

} // namespace conveyor::rpc::detail

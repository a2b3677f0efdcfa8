// tcp:// endpoints: an acceptor and one connection object per client, kept alive by the
// operation it has in flight, its handlers serialised by a strand. A connection reads what
// the socket holds, serves every whole record in it, and writes all the replies at once.
#include "listener.hpp"
#include "record_marking.hpp"
#include "xdr_words.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include <mutex>

namespace conveyor::rpc::detail {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Replies waiting to be written, in records of the largest size: past this a connection
// stops reading calls until the client reads its replies, so that a client that never
// reads cannot make the server hold its replies without bound.
constexpr std::size_t backlog_records = 4;

class tcp_connection final : public std::enable_shared_from_this<tcp_connection>,
                             public reply_maker {
public:
    tcp_connection(tcp::socket socket, const listener_context& context,
                   std::shared_ptr<std::atomic<std::size_t>> count)
        : socket_(std::move(socket)), context_(context), count_(std::move(count)),
          reader_(context.options.max_record),
          max_backlog_(backlog_records * (context.options.max_record + record_mark_size)) {}

    ~tcp_connection() { count_->fetch_sub(1, std::memory_order_relaxed); }

    void start() { read(); }

    // Closes the socket; handlers in flight see operation_aborted. The io_context must not
    // be running (the server stopped it) or this must run on the connection's strand.
    void close() {
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

    std::unique_ptr<deferred_reply> defer(std::uint32_t xid) override;

    // From any thread: an asynchronous handler's reply.
    void send_later(std::vector<std::byte>&& reply) {
        if (!context_.serving.load(std::memory_order_acquire)) return;
        asio::post(socket_.get_executor(), [self = shared_from_this(), r = std::move(reply)] {
            append_record(self->out_, r);
            self->write();
        });
    }

private:
    void read() {
        const auto space = reader_.space();
        socket_.async_read_some(
            asio::buffer(space.data(), space.size()),
            [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                self->on_read(ec, n);
            });
    }

    void on_read(boost::system::error_code ec, std::size_t n) {
        if (ec) return; // closed, reset or aborted: the connection ends with its last handler
        reader_.commit(n);
        bytes_view record;
        std::error_code bad;
        while (reader_.next(record, bad))
            serve(record);
        write();
        if (bad) {
            // A record beyond max_record, or a forged mark: nothing more can be read in step.
            // The replies already made go out, then the connection closes.
            closing_ = true;
            if (!writing_) close();
            return;
        }
        if (out_.size() + sending_.size() > max_backlog_) {
            paused_ = true;
            return;
        }
        read();
    }

    void serve(bytes_view record) {
        call_header header;
        const auto decoded = decode_call(record, header);
        const std::size_t mark_at = out_.size();
        out_.resize(mark_at + record_mark_size);
        const auto outcome = context_.calls.handle(record, decoded, header, out_, *this);
        if (outcome == dispatcher::outcome::replied)
            put_u32_at(out_.data() + mark_at,
                       last_fragment |
                           static_cast<std::uint32_t>(out_.size() - mark_at - record_mark_size));
        else
            out_.resize(mark_at);
    }

    void write() {
        if (writing_ || out_.empty()) return;
        writing_ = true;
        std::swap(out_, sending_);
        asio::async_write(socket_, asio::buffer(sending_),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                              self->on_write(ec);
                          });
    }

    void on_write(boost::system::error_code ec) {
        writing_ = false;
        sending_.clear();
        if (ec) {
            close();
            return;
        }
        if (closing_ && out_.empty()) {
            close();
            return;
        }
        write();
        if (paused_ && out_.size() + sending_.size() <= max_backlog_) {
            paused_ = false;
            read();
        }
    }

    tcp::socket socket_; // its executor is the connection's strand
    const listener_context& context_;
    std::shared_ptr<std::atomic<std::size_t>> count_;
    record_reader reader_;
    const std::size_t max_backlog_;
    std::vector<std::byte> out_;     // replies made, to be written
    std::vector<std::byte> sending_; // replies being written
    bool writing_ = false;
    bool paused_ = false;  // reading stopped until the replies go out
    bool closing_ = false; // close once the replies go out
};

class tcp_deferred final : public deferred_reply {
public:
    tcp_deferred(std::uint32_t xid, std::shared_ptr<tcp_connection> to)
        : deferred_reply(xid), to_(std::move(to)) {}

private:
    void send(std::vector<std::byte>&& reply) override { to_->send_later(std::move(reply)); }
    std::shared_ptr<tcp_connection> to_;
};

std::unique_ptr<deferred_reply> tcp_connection::defer(std::uint32_t xid) {
    return std::make_unique<tcp_deferred>(xid, shared_from_this());
}

class tcp_listener final : public listener {
public:
    tcp_listener(const listener_context& context, const address& at, tcp::acceptor acceptor)
        : context_(context), at_(at), acceptor_(std::move(acceptor)),
          count_(std::make_shared<std::atomic<std::size_t>>(0)) {}

    void start() override { accept(); }

    void stop() override {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        const std::lock_guard lock(mutex_);
        for (const auto& weak : connections_)
            if (const auto c = weak.lock()) c->close();
        connections_.clear();
    }

    std::string uri() const override { return at_.with_port(acceptor_.local_endpoint().port()); }
    std::string netid() const override {
        return acceptor_.local_endpoint().address().is_v6() ? "tcp6" : "tcp";
    }
    std::string universal_address() const override {
        const auto bound = acceptor_.local_endpoint();
        const auto port = bound.port();
        return bound.address().to_string() + "." + std::to_string(port >> 8) + "." +
               std::to_string(port & 0xFF);
    }

private:
    void accept() {
        acceptor_.async_accept(asio::make_strand(context_.io),
                               [this](boost::system::error_code ec, tcp::socket socket) {
                                   if (ec == asio::error::operation_aborted) return;
                                   if (!ec) admit(std::move(socket));
                                   accept();
                               });
    }

    void admit(tcp::socket socket) {
        if (count_->fetch_add(1, std::memory_order_relaxed) >= context_.options.max_connections) {
            count_->fetch_sub(1, std::memory_order_relaxed);
            return; // the socket closes as it goes
        }
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        const auto c = std::make_shared<tcp_connection>(std::move(socket), context_, count_);
        {
            const std::lock_guard lock(mutex_);
            std::erase_if(connections_, [](const auto& weak) { return weak.expired(); });
            connections_.push_back(c);
        }
        c->start();
    }

    const listener_context& context_;
    const address at_;
    tcp::acceptor acceptor_;
    std::shared_ptr<std::atomic<std::size_t>> count_; // connections open
    std::mutex mutex_;                                // guards connections_
    std::vector<std::weak_ptr<tcp_connection>> connections_;
};

} // namespace

std::unique_ptr<listener> make_tcp_listener(const listener_context& context, const address& at,
                                            std::error_code& ec, std::string& why) {
    boost::system::error_code error;
    tcp::resolver resolver(context.io);
    const auto found =
        resolver.resolve(at.host, std::to_string(at.port),
                         tcp::resolver::passive | tcp::resolver::numeric_service, error);
    if (error || found.empty()) {
        ec = std::make_error_code(std::errc::host_unreachable);
        why = "cannot resolve host \"" + at.host + "\": " + error.message();
        return nullptr;
    }
    tcp::acceptor acceptor(context.io);
    const tcp::endpoint bind_to = *found.begin();
    acceptor.open(bind_to.protocol(), error);
    if (!error) acceptor.set_option(tcp::acceptor::reuse_address(true), error);
    if (!error) acceptor.bind(bind_to, error);
    if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
        ec = error;
        why = "cannot listen: " + error.message();
        return nullptr;
    }
    return std::make_unique<tcp_listener>(context, at, std::move(acceptor));
}

} // namespace conveyor::rpc::detail

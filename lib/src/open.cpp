// Opening a sender or receiver: the scheme of the endpoint picks the transport.
#include "conveyor/open.hpp"

#include "conveyor/error.hpp"
#include "conveyor/nats/open.hpp"
#include "conveyor/pipe/fifo.hpp"
#include "conveyor/shm/queue.hpp"
#include "conveyor/shm/topic.hpp"

namespace conveyor {
namespace {

std::unique_ptr<sender> open_pipe(const endpoint& where, const channel_options& options,
                                  std::error_code& ec, std::string* why, sender*) {
    if (where.kind() == scheme::fifo) return pipe::open_fifo_sender(where, options, ec, why);
    return pipe::open_pipe_sender(where, options, ec, why);
}

std::unique_ptr<receiver> open_pipe(const endpoint& where, const channel_options& options,
                                    std::error_code& ec, std::string* why, receiver*) {
    if (where.kind() == scheme::fifo) return pipe::open_fifo_receiver(where, options, ec, why);
    return pipe::open_pipe_receiver(where, options, ec, why);
}

std::unique_ptr<sender> open_nats(const endpoint& where, const channel_options& options,
                                  std::error_code& ec, std::string* why, sender*) {
    return nats::open_sender(where, options, ec, why);
}

std::unique_ptr<receiver> open_nats(const endpoint& where, const channel_options& options,
                                    std::error_code& ec, std::string* why, receiver*) {
    return nats::open_receiver(where, options, ec, why);
}

// Opens Shm (the shm transport's class) for shm:// and file://, Topic for topic://, the pipe
// transport for fifo:// and pipe:, JetStream for nats://, and refuses what is not built yet.
template <class Channel, class Shm, class Topic>
std::unique_ptr<Channel> open_channel(const endpoint& where, const channel_options& options,
                                      std::error_code& ec, std::string* why) {
    std::string reason;
    std::unique_ptr<Channel> result;
    ec.clear();
    if (where.kind() == scheme::shm || where.kind() == scheme::file) {
        result = Shm::open(where, options, ec, &reason);
    } else if (where.kind() == scheme::topic) {
        result = Topic::open(where, options, ec, &reason);
    } else if (where.kind() == scheme::fifo || where.kind() == scheme::pipe) {
        result = open_pipe(where, options, ec, &reason, static_cast<Channel*>(nullptr));
        if (ec && reason.empty()) reason = where.uri() + ": " + ec.message();
    } else if (where.kind() == scheme::nats) {
        result = open_nats(where, options, ec, &reason, static_cast<Channel*>(nullptr));
    } else {
        ec = errc::unsupported_scheme;
        reason = where.uri() + ": transport not supported yet";
    }
    if (ec && why) *why = reason;
    return result;
}

template <class Channel, class Shm, class Topic>
std::unique_ptr<Channel> open_or_throw(const endpoint& where, const channel_options& options) {
    std::error_code ec;
    std::string why;
    auto result = open_channel<Channel, Shm, Topic>(where, options, ec, &why);
    if (ec) throw error(ec, why);
    return result;
}

} // namespace

std::unique_ptr<sender> open_sender(const endpoint& where, const channel_options& options,
                                    std::error_code& ec, std::string* why) {
    return open_channel<sender, shm::queue_sender, shm::topic_sender>(where, options, ec, why);
}

std::unique_ptr<sender> open_sender(const endpoint& where, const channel_options& options) {
    return open_or_throw<sender, shm::queue_sender, shm::topic_sender>(where, options);
}

std::unique_ptr<receiver> open_receiver(const endpoint& where, const channel_options& options,
                                        std::error_code& ec, std::string* why) {
    return open_channel<receiver, shm::queue_receiver, shm::topic_receiver>(where, options, ec,
                                                                            why);
}

std::unique_ptr<receiver> open_receiver(const endpoint& where, const channel_options& options) {
    return open_or_throw<receiver, shm::queue_receiver, shm::topic_receiver>(where, options);
}

} // namespace conveyor

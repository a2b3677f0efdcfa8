// Opening a sender or receiver: the scheme of the endpoint picks the transport.
#include "conveyor/open.hpp"

#include "conveyor/error.hpp"
#include "conveyor/shm/queue.hpp"

namespace conveyor {
namespace {

std::error_code unsupported(const endpoint& where, std::string& why) {
    why = where.uri() + ": transport not supported yet";
    return errc::unsupported_scheme;
}

} // namespace

std::unique_ptr<sender> open_sender(const endpoint& where, const channel_options& options,
                                    std::error_code& ec, std::string* why) {
    std::string reason;
    std::unique_ptr<sender> result;
    if (where.kind() == scheme::shm)
        result = shm::queue_sender::open(where, options, ec, &reason);
    else
        ec = unsupported(where, reason);
    if (ec && why) *why = reason;
    return result;
}

std::unique_ptr<sender> open_sender(const endpoint& where, const channel_options& options) {
    std::error_code ec;
    std::string why;
    auto result = open_sender(where, options, ec, &why);
    if (ec) throw error(ec, why);
    return result;
}

std::unique_ptr<receiver> open_receiver(const endpoint& where, const channel_options& options,
                                        std::error_code& ec, std::string* why) {
    std::string reason;
    std::unique_ptr<receiver> result;
    if (where.kind() == scheme::shm)
        result = shm::queue_receiver::open(where, options, ec, &reason);
    else
        ec = unsupported(where, reason);
    if (ec && why) *why = reason;
    return result;
}

std::unique_ptr<receiver> open_receiver(const endpoint& where, const channel_options& options) {
    std::error_code ec;
    std::string why;
    auto result = open_receiver(where, options, ec, &why);
    if (ec) throw error(ec, why);
    return result;
}

} // namespace conveyor

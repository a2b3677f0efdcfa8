// The entry points of the nats:// transport (conveyor/nats/open.hpp).
#include "conveyor/nats/open.hpp"

#include "nats/receiver.hpp"
#include "nats/sender.hpp"

namespace conveyor::nats {

const char* const uri_help =
    "nats://HOST:PORT[,HOST:PORT...]/SUBJECT[?stream=NAME&durable=NAME&replicas=N&"
    "ack_wait=SECONDS&creds=FILE&max_bytes=BYTES&max_msgs=N&max_age=SECONDS]: a NATS "
    "JetStream stream (created when missing: file storage, limits retention, discard new). "
    "Defaults: stream = SUBJECT in upper case with '.' as '_', durable = conveyor-STREAM, "
    "replicas=1, ack_wait=10, no limits but the server's; port 4222; servers are tried in "
    "the order given";

std::unique_ptr<sender> open_sender(const endpoint& where, const channel_options& options,
                                    std::error_code& ec, std::string* why) {
    ec.clear();
    return detail::stream_sender::open(where, options, ec, why);
}

std::unique_ptr<receiver> open_receiver(const endpoint& where, const channel_options& options,
                                        std::error_code& ec, std::string* why) {
    ec.clear();
    return detail::stream_receiver::open(where, options, ec, why);
}

} // namespace conveyor::nats

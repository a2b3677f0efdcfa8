// What goes wrong on a nats:// channel that conveyor's own errc does not name: error codes
// in the category "nats", and the text of nats.c's last error.
#pragma once

#include <nats/nats.h>

#include <string>
#include <system_error>

namespace conveyor::nats::detail {

enum class failure {
    no_server = 1,          // no server of the URI answered within the time allowed
    authentication_refused, // the server refused the credentials given, or their absence
    stream_full,            // the stream is at its byte or message limit and discards new ones
    refused,                // the server refused a JetStream request; the text says why
    unconfirmed,            // the server did not confirm sent messages within the time allowed
    stream_mismatch,        // an existing stream does not take the URI's subject
};

const std::error_category& failure_category() noexcept;

inline std::error_code make_error_code(failure f) noexcept {
    return {static_cast<int>(f), failure_category()};
}

// nats.c's account of the last failure in this thread, else the text of status.
std::string last_error_text(natsStatus status);

} // namespace conveyor::nats::detail

template <> struct std::is_error_code_enum<conveyor::nats::detail::failure> : std::true_type {};

// Errors of conveyor: an error_code category for the non-throwing calls and
// conveyor::error, the exception the throwing calls raise.
#pragma once

#include <string>
#include <system_error>

namespace conveyor {

// Causes that are conveyor's own; operating-system failures keep std::system_category.
enum class errc {
    invalid_endpoint = 1, // the URI is malformed
    unsupported_scheme,   // the URI names a transport this build does not offer
    not_a_segment,        // a file exists under the name but conveyor did not make it
    layout_mismatch,      // a conveyor segment of another layout version
    no_such_endpoint,     // nothing to join under that name
    message_too_large,    // a message longer than the channel's max_message
    invalid_argument,     // an option value outside what the channel accepts
    too_many_attached,    // every producer or consumer slot of the segment is taken
    closed,               // the sender was closed before this call
    peer_gone,            // the other side went away for good
    corrupt_data,         // bytes that cannot be what a well-behaved peer sent
    unsupported_format,   // a typed message in an envelope format this build does not read
    unknown_message_type, // a typed message of a type the receiver does not expect
    length_mismatch,      // a typed message whose payload is not as long as its header says
    checksum_mismatch,    // a typed message whose payload fails its CRC-32C
    segment_corrupt,      // a segment holds what no conveyor process writes (written by hand)
    name_in_use,          // a named producer of that name is attached and alive
    too_many_leases,      // a receiver holds as many separate leases as it may: ack() first
    kind_mismatch,        // a topic opened as a queue (shm://), or a queue as a topic
};

const std::error_category& conveyor_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), conveyor_category()};
}

// Thrown by every throwing call; what() is a whole sentence naming the endpoint and cause.
class error : public std::system_error {
public:
    error(std::error_code ec, std::string description)
        : std::system_error(ec), description_(std::move(description)) {}
    const char* what() const noexcept override { return description_.c_str(); }

private:
    std::string description_;
};

// Throws conveyor::error with what() = "context: <the cause in words>".
[[noreturn]] void throw_error(std::error_code ec, const std::string& context);

} // namespace conveyor

template <> struct std::is_error_code_enum<conveyor::errc> : std::true_type {};

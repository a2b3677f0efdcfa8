// Typed messages over any channel: each value travels in XDR inside the checked envelope,
// with its type's id, so that a consumer can tell types apart.
#pragma once

#include "conveyor/channel.hpp"
#include "conveyor/codec/envelope.hpp"
#include "conveyor/error.hpp"

#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace conveyor {

// The id T travels under. Give each message type its own with CONVEYOR_MESSAGE_TYPE; ids
// from first_reserved_type_id up are conveyor's own (generated_message_type_id among them).
template <class T> struct message_type;
inline constexpr std::uint32_t first_reserved_type_id = 0xffff0000;

#define CONVEYOR_MESSAGE_TYPE(T, ID)                                                               \
    template <> struct conveyor::message_type<T> {                                                 \
        static constexpr std::uint32_t id = ID;                                                    \
        static_assert(id < conveyor::first_reserved_type_id,                                       \
                      "CONVEYOR_MESSAGE_TYPE: ids from 0xffff0000 up are conveyor's own");         \
    }

// Receives typed messages of any type: look at type_id() (or is<T>()), then decode.
class envelope_receiver {
public:
    explicit envelope_receiver(receiver& in) : in_(in), buffer_(in.max_message()) {}

    // Takes the next message and opens its envelope; throws conveyor::error when the
    // envelope is bad (the message is then consumed).
    receive_status receive(wait_duration timeout = forever) {
        std::error_code ec;
        const auto status = receive(timeout, ec);
        if (ec) fail(ec);
        return status;
    }
    receive_status receive(wait_duration timeout, std::error_code& ec) {
        why_.clear();
        const auto status = in_.receive_for(buffer_, timeout, ec);
        if (ec || status != receive_status::message) return status;
        current_ = open_envelope(buffer_, ec, why_);
        return status;
    }

    std::uint32_t type_id() const noexcept { return current_.type_id; }
    std::uint64_t sequence() const noexcept { return current_.sequence; }
    template <class T> bool is() const noexcept { return type_id() == message_type<T>::id; }

    // Reads the message taken last as a T: unknown_message_type when it is not one,
    // corrupt_data when its payload is not a well-formed T.
    template <class T> void decode(T& value) const {
        std::error_code ec;
        decode(value, ec);
        if (ec) fail(ec);
    }
    template <class T> void decode(T& value, std::error_code& ec) const {
        why_.clear();
        if (!is<T>()) {
            why_ = "typed message " + std::to_string(sequence()) + " has type id " +
                   std::to_string(type_id()) + ", expected " + std::to_string(message_type<T>::id);
            ec = errc::unknown_message_type;
            return;
        }
        try {
            from_xdr(current_.payload, value, current_.mode);
            ec.clear();
        } catch (const std::exception& e) {
            why_ = "typed message " + std::to_string(sequence()) + ": " + e.what();
            detail::translate_read_failure(ec);
        }
    }

    receiver& channel() const noexcept { return in_; }

private:
    // Throws ec with the endpoint and, where the envelope or payload was at fault, the why.
    [[noreturn]] void fail(std::error_code ec) const {
        if (why_.empty()) throw_error(ec, in_.where().uri());
        throw error(ec, in_.where().uri() + ": " + why_);
    }

    receiver& in_;
    std::vector<std::byte> buffer_;
    envelope current_;
    mutable std::string why_;
};

// Sends values of type T, numbering them from 0.
template <class T> class typed_sender {
public:
    explicit typed_sender(sender& out, xdr_mode mode = xdr_mode::class_info)
        : out_(out), mode_(mode) {}

    void send(const T& value) {
        seal_value(value, message_type<T>::id, sequence_, mode_, buffer_);
        out_.send(buffer_);
        ++sequence_;
    }
    void send(const T& value, std::error_code& ec) {
        seal_value(value, message_type<T>::id, sequence_, mode_, buffer_, ec);
        if (!ec) out_.send(buffer_, ec);
        if (!ec) ++sequence_;
    }

    // The sequence number the next value goes out with.
    std::uint64_t next_sequence() const noexcept { return sequence_; }
    sender& channel() const noexcept { return out_; }

private:
    sender& out_;
    xdr_mode mode_;
    std::uint64_t sequence_ = 0;
    std::vector<std::byte> buffer_;
};

// Receives values of type T only; a message of another type is an unknown_message_type
// error (use envelope_receiver to take several types).
template <class T> class typed_receiver {
public:
    explicit typed_receiver(receiver& in) : in_(in) {}

    receive_status receive(T& value, wait_duration timeout = forever) {
        const auto status = in_.receive(timeout);
        if (status == receive_status::message) in_.decode(value);
        return status;
    }
    receive_status receive(T& value, wait_duration timeout, std::error_code& ec) {
        const auto status = in_.receive(timeout, ec);
        if (!ec && status == receive_status::message) in_.decode(value, ec);
        return status;
    }

    // The sequence number of the message taken last, as its sender numbered it.
    std::uint64_t sequence() const noexcept { return in_.sequence(); }

private:
    envelope_receiver in_;
};

} // namespace conveyor

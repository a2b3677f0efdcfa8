// Sealing and opening the typed-message envelope.
#include "conveyor/codec/envelope.hpp"

#include "conveyor/checksum.hpp"
#include "conveyor/error.hpp"

#include <cstdio>
#include <limits>

namespace conveyor {
namespace {

void put_be(std::byte* at, std::uint64_t value, int bytes) noexcept {
    for (int i = 0; i < bytes; ++i)
        at[i] = static_cast<std::byte>(value >> (8 * (bytes - 1 - i)));
}

std::uint64_t get_be(const std::byte* at, int bytes) noexcept {
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i)
        value = value << 8 | std::to_integer<std::uint8_t>(at[i]);
    return value;
}

std::string hex(std::uint32_t value) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%08x", value);
    return text;
}

// Opens message into e; on failure returns the cause and says why in words.
std::error_code open(bytes_view message, envelope& e, std::string& why) {
    if (message.size() < envelope_header_size) {
        why = "typed message of " + std::to_string(message.size()) + " bytes is shorter than the " +
              std::to_string(envelope_header_size) + "-byte envelope header";
        return errc::length_mismatch;
    }
    const std::byte* p = message.data();
    const auto format = static_cast<std::uint32_t>(get_be(p, 4));
    if (format != envelope_format_class_info && format != envelope_format_pure) {
        why = "typed message in envelope format " + std::to_string(format) + ", not 1 or 2";
        return errc::unsupported_format;
    }
    const std::uint64_t length = get_be(p + 16, 4);
    if (length != message.size() - envelope_header_size) {
        why = "typed message header gives a payload of " + std::to_string(length) + " bytes but " +
              std::to_string(message.size() - envelope_header_size) + " follow";
        return errc::length_mismatch;
    }
    e.payload = message.subspan(envelope_header_size);
    const auto expected = static_cast<std::uint32_t>(get_be(p + 20, 4));
    if (const auto actual = crc32c(e.payload); actual != expected) {
        why = "typed message payload has CRC-32C " + hex(actual) + ", its header says " +
              hex(expected);
        return errc::checksum_mismatch;
    }
    e.type_id = static_cast<std::uint32_t>(get_be(p + 4, 4));
    e.sequence = get_be(p + 8, 8);
    e.mode = format == envelope_format_pure ? xdr_mode::pure : xdr_mode::class_info;
    return {};
}

} // namespace

void seal_envelope_in_place(std::uint32_t type_id, std::uint64_t sequence, xdr_mode mode,
                            std::vector<std::byte>& message) {
    const std::size_t length = message.size() - envelope_header_size;
    if (length > std::numeric_limits<std::uint32_t>::max())
        throw error(make_error_code(errc::message_too_large),
                    "typed message payload of " + std::to_string(length) +
                        " bytes is beyond the envelope's 4-byte length");
    std::byte* p = message.data();
    put_be(p, mode == xdr_mode::pure ? envelope_format_pure : envelope_format_class_info, 4);
    put_be(p + 4, type_id, 4);
    put_be(p + 8, sequence, 8);
    put_be(p + 16, length, 4);
    put_be(p + 20, crc32c(bytes_view(message).subspan(envelope_header_size)), 4);
}

void seal_envelope(const envelope& e, std::vector<std::byte>& out) {
    out.resize(envelope_header_size);
    out.insert(out.end(), e.payload.begin(), e.payload.end());
    seal_envelope_in_place(e.type_id, e.sequence, e.mode, out);
}

envelope open_envelope(bytes_view message) {
    envelope e;
    std::string why;
    if (const auto ec = open(message, e, why)) throw error(ec, why);
    return e;
}

envelope open_envelope(bytes_view message, std::error_code& ec) {
    std::string why;
    return open_envelope(message, ec, why);
}

envelope open_envelope(bytes_view message, std::error_code& ec, std::string& why) {
    envelope e;
    ec = open(message, e, why);
    return ec ? envelope{} : e;
}

} // namespace conveyor

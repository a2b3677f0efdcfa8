// Pure XDR of the simplest values, written and read without an archive: integers and bools
// (one word, or two for 64 bits), float and double, opaque<> (std::vector<std::byte>) and
// string<>. The bytes are exactly those xdr_oarchive writes in xdr_mode::pure; building an
// archive costs more than the value (allocations for Boost's tables), which an RPC pays on
// every call and reply.
#pragma once

#include "conveyor/channel.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace conveyor::detail {

template <class T>
inline constexpr bool is_plain_xdr =
    std::is_integral_v<T> || std::is_same_v<T, float> || std::is_same_v<T, double> ||
    std::is_same_v<T, std::vector<std::byte>> || std::is_same_v<T, std::string>;

void append_xdr_word(std::uint32_t word, std::vector<std::byte>& out);
void append_xdr_hyper(std::uint64_t value, std::vector<std::byte>& out);
// The length, the bytes, zero padding; message_too_large past a 4-byte length.
void append_xdr_opaque(bytes_view bytes, std::vector<std::byte>& out);

// Each reads in as exactly one value, or throws conveyor::error (corrupt_data) saying why.
std::uint32_t read_xdr_word(bytes_view in);
std::uint64_t read_xdr_hyper(bytes_view in);
bool read_xdr_bool(bytes_view in);
// what names the value in messages ("opaque data", "a string").
bytes_view read_xdr_opaque(bytes_view in, const char* what);

template <class T> void append_plain_xdr(const T& value, std::vector<std::byte>& out) {
    if constexpr (std::is_same_v<T, bool>)
        append_xdr_word(value ? 1 : 0, out);
    else if constexpr (std::is_integral_v<T> && sizeof(T) > 4)
        append_xdr_hyper(static_cast<std::uint64_t>(value), out);
    else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>)
        append_xdr_word(static_cast<std::uint32_t>(static_cast<std::int32_t>(value)), out);
    else if constexpr (std::is_integral_v<T>)
        append_xdr_word(static_cast<std::uint32_t>(value), out);
    else if constexpr (std::is_same_v<T, float>)
        append_xdr_word(std::bit_cast<std::uint32_t>(value), out);
    else if constexpr (std::is_same_v<T, double>)
        append_xdr_hyper(std::bit_cast<std::uint64_t>(value), out);
    else
        append_xdr_opaque(std::as_bytes(std::span(value.data(), value.size())), out);
}

template <class T> void read_plain_xdr(bytes_view in, T& value) {
    if constexpr (std::is_same_v<T, bool>)
        value = read_xdr_bool(in);
    else if constexpr (std::is_integral_v<T> && sizeof(T) > 4)
        value = static_cast<T>(read_xdr_hyper(in));
    else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>)
        value = static_cast<T>(static_cast<std::int32_t>(read_xdr_word(in)));
    else if constexpr (std::is_integral_v<T>)
        value = static_cast<T>(read_xdr_word(in));
    else if constexpr (std::is_same_v<T, float>)
        value = std::bit_cast<float>(read_xdr_word(in));
    else if constexpr (std::is_same_v<T, double>)
        value = std::bit_cast<double>(read_xdr_hyper(in));
    else if constexpr (std::is_same_v<T, std::string>) {
        const auto bytes = read_xdr_opaque(in, "a string");
        value.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    } else {
        const auto bytes = read_xdr_opaque(in, "opaque data");
        value.assign(bytes.begin(), bytes.end());
    }
}

} // namespace conveyor::detail

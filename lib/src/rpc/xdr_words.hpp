// XDR (RFC 4506) words for the RPC headers, written and read directly: the headers are a
// fixed sequence of unsigned ints and opaque data, and every call pays for them.
#pragma once

#include "conveyor/channel.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace conveyor::rpc::detail {

constexpr std::size_t xdr_padding(std::size_t size) noexcept {
    return (4 - size % 4) % 4;
}

inline void put_u32(std::vector<std::byte>& out, std::uint32_t value) {
    const std::byte word[4] = {std::byte(value >> 24), std::byte(value >> 16),
                               std::byte(value >> 8), std::byte(value)};
    out.insert(out.end(), word, word + 4);
}

inline void put_u32_at(std::byte* at, std::uint32_t value) noexcept {
    at[0] = std::byte(value >> 24);
    at[1] = std::byte(value >> 16);
    at[2] = std::byte(value >> 8);
    at[3] = std::byte(value);
}

inline std::uint32_t get_u32_at(const std::byte* at) noexcept {
    return std::uint32_t(std::to_integer<std::uint8_t>(at[0])) << 24 |
           std::uint32_t(std::to_integer<std::uint8_t>(at[1])) << 16 |
           std::uint32_t(std::to_integer<std::uint8_t>(at[2])) << 8 |
           std::uint32_t(std::to_integer<std::uint8_t>(at[3]));
}

// Variable-length opaque data: the length, the bytes, zero padding.
inline void put_opaque(std::vector<std::byte>& out, bytes_view data) {
    put_u32(out, static_cast<std::uint32_t>(data.size()));
    out.insert(out.end(), data.begin(), data.end());
    out.insert(out.end(), xdr_padding(data.size()), std::byte{0});
}

inline void put_string(std::vector<std::byte>& out, std::string_view text) {
    put_opaque(out, {reinterpret_cast<const std::byte*>(text.data()), text.size()});
}

// Reads words from a byte range; every read is checked against its end, and a failed read
// leaves the reader failed (ok() false) and returns zeros.
class word_reader {
public:
    explicit word_reader(bytes_view in) noexcept : in_(in) {}

    bool ok() const noexcept { return ok_; }
    std::size_t offset() const noexcept { return at_; }
    std::size_t remaining() const noexcept { return in_.size() - at_; }

    std::uint32_t u32() noexcept {
        if (!ok_ || remaining() < 4) return fail();
        const std::uint32_t value = get_u32_at(in_.data() + at_);
        at_ += 4;
        return value;
    }

    // Opaque data of at most max bytes, padding included; an empty view on failure.
    bytes_view opaque(std::size_t max) noexcept {
        const std::uint32_t size = u32();
        if (!ok_ || size > max || remaining() < size + xdr_padding(size)) {
            fail();
            return {};
        }
        const bytes_view data = in_.subspan(at_, size);
        at_ += size + xdr_padding(size);
        return data;
    }

private:
    std::uint32_t fail() noexcept {
        ok_ = false;
        return 0;
    }

    bytes_view in_;
    std::size_t at_ = 0;
    bool ok_ = true;
};

} // namespace conveyor::rpc::detail

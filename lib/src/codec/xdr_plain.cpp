// Pure XDR of the simplest values without an archive, with the archive's checks and words.
#include "conveyor/codec/xdr_plain.hpp"

#include "conveyor/error.hpp"

#include <limits>

namespace conveyor::detail {
namespace {

constexpr std::size_t padding(std::size_t size) noexcept {
    return (4 - size % 4) % 4;
}

[[noreturn]] void corrupt(const std::string& why) {
    throw error(make_error_code(errc::corrupt_data), "XDR data: " + why);
}

std::uint32_t word_at(const std::byte* p) noexcept {
    return std::uint32_t(std::to_integer<std::uint8_t>(p[0])) << 24 |
           std::uint32_t(std::to_integer<std::uint8_t>(p[1])) << 16 |
           std::uint32_t(std::to_integer<std::uint8_t>(p[2])) << 8 |
           std::uint32_t(std::to_integer<std::uint8_t>(p[3]));
}

// in holds exactly size bytes, as the archive reports it otherwise.
void expect_size(bytes_view in, std::size_t size, const char* what) {
    if (in.size() < size)
        corrupt(std::string(what) + " of " + std::to_string(size) +
                " bytes at offset 0 runs past the end (" + std::to_string(in.size()) +
                " bytes left)");
    if (in.size() > size) corrupt(std::to_string(in.size() - size) + " bytes left over after the value");
}

} // namespace

void append_xdr_word(std::uint32_t word, std::vector<std::byte>& out) {
    const std::byte bytes[4] = {std::byte(word >> 24), std::byte(word >> 16), std::byte(word >> 8),
                                std::byte(word)};
    out.insert(out.end(), bytes, bytes + 4);
}

void append_xdr_hyper(std::uint64_t value, std::vector<std::byte>& out) {
    append_xdr_word(static_cast<std::uint32_t>(value >> 32), out);
    append_xdr_word(static_cast<std::uint32_t>(value), out);
}

void append_xdr_opaque(bytes_view bytes, std::vector<std::byte>& out) {
    if (bytes.size() > std::numeric_limits<std::uint32_t>::max())
        throw error(make_error_code(errc::message_too_large),
                    "XDR: a collection of " + std::to_string(bytes.size()) +
                        " is beyond XDR's 4-byte length");
    append_xdr_word(static_cast<std::uint32_t>(bytes.size()), out);
    out.insert(out.end(), bytes.begin(), bytes.end());
    out.insert(out.end(), padding(bytes.size()), std::byte{0});
}

std::uint32_t read_xdr_word(bytes_view in) {
    expect_size(in, 4, "a 4-byte word");
    return word_at(in.data());
}

std::uint64_t read_xdr_hyper(bytes_view in) {
    expect_size(in, 8, "a 4-byte word");
    return std::uint64_t(word_at(in.data())) << 32 | word_at(in.data() + 4);
}

bool read_xdr_bool(bytes_view in) {
    const std::uint32_t word = read_xdr_word(in);
    if (word > 1) corrupt("a bool of " + std::to_string(word) + " (XDR bools are 0 or 1)");
    return word == 1;
}

bytes_view read_xdr_opaque(bytes_view in, const char* what) {
    if (in.size() < 4) expect_size(in, 4, "a 4-byte word");
    const std::size_t size = word_at(in.data());
    const std::size_t left = in.size() - 4;
    if (size > left)
        corrupt("a collection of " + std::to_string(size) + " elements in " +
                std::to_string(left) + " bytes");
    expect_size(in.subspan(4), size + padding(size), what);
    for (std::size_t i = size; i < size + padding(size); ++i)
        if (in[4 + i] != std::byte{0}) corrupt("non-zero padding at offset " + std::to_string(4 + size + padding(size)));
    return in.subspan(4, size);
}

} // namespace conveyor::detail

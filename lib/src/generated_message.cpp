// Generated messages and their verification (see generated_message.hpp for the layout).
#include "conveyor/generated_message.hpp"

#include "conveyor/checksum.hpp"

#include <bit>
#include <cstring>
#include <random>
#include <unistd.h>

namespace conveyor {
namespace {

// Fields are little-endian whatever the host. Bytes is a constant, so on a little-endian
// host each is one move: the byte-by-byte form cost a third of making a 64-byte message.
template <int Bytes> void put_le(std::byte* at, std::uint64_t value) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(at, &value, Bytes);
    } else {
        for (int i = 0; i < Bytes; ++i)
            at[i] = static_cast<std::byte>(value >> (8 * i));
    }
}

template <int Bytes> std::uint64_t get_le(const std::byte* at) noexcept {
    std::uint64_t value = 0;
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(&value, at, Bytes);
    } else {
        for (int i = 0; i < Bytes; ++i)
            value |= std::uint64_t(std::to_integer<unsigned>(at[i])) << (8 * i);
    }
    return value;
}

// Verification state is one bit per sequence number: refuse counts that would need more
// than 512 MiB of bits rather than exhaust memory on a corrupt count.
constexpr std::uint64_t max_verified_count = std::uint64_t(1) << 32;

} // namespace

message_generator::message_generator(std::uint64_t producer_id, std::size_t size,
                                     std::uint64_t count)
    : producer_id_(producer_id), count_(count), size_(size),
      payload_(size > generated_header_size ? size - generated_header_size : 0) {
    std::uint64_t x = producer_id | 1;
    for (std::size_t i = 0; i < payload_.size(); ++i) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; // xorshift: cheap bytes that vary
        payload_[i] = static_cast<std::byte>(x);
    }
    payload_crc_ = crc32c(payload_);
}

void message_generator::make(std::uint64_t sequence, std::span<std::byte> out) const noexcept {
    std::byte* p = out.data();
    put_le<8>(p, producer_id_);
    put_le<8>(p + 8, sequence);
    put_le<8>(p + 16, count_);
    put_le<4>(p + 24, size_);
    std::uint32_t crc = crc32c({p, 28}) ^ payload_crc_;
    put_le<4>(p + 28, crc);
    if (!payload_.empty()) std::memcpy(p + generated_header_size, payload_.data(), payload_.size());
}

std::uint64_t make_producer_id() noexcept {
    std::random_device entropy;
    return (std::uint64_t(::getpid()) << 32) ^ entropy();
}

bool stream_verifier::observe(std::span<const std::byte> message) {
    ++totals_.messages;
    if (message.size() < generated_header_size) {
        ++totals_.corrupt;
        return false;
    }
    const std::byte* p = message.data();
    const auto crc = static_cast<std::uint32_t>(get_le<4>(p + 28));
    const auto expected = crc32c({p, 28}) ^ crc32c(message.subspan(generated_header_size));
    const std::uint64_t producer = get_le<8>(p);
    const std::uint64_t sequence = get_le<8>(p + 8);
    const std::uint64_t count = get_le<8>(p + 16);
    if (crc != expected || get_le<4>(p + 24) != message.size() || sequence >= count ||
        count > max_verified_count) {
        ++totals_.corrupt;
        return false;
    }
    // Messages come in runs from one producer: skip the hash lookup for the same one.
    // (Pointers into an unordered_map survive its rehashing.)
    if (!last_ || last_id_ != producer) {
        last_ = &producers_[producer];
        last_id_ = producer;
    }
    auto& state = *last_;
    if (state.seen.empty()) {
        state.count = count;
        state.seen.assign((count + 63) / 64, 0);
    } else if (count != state.count) {
        ++totals_.corrupt;
        return false;
    }
    std::uint64_t& word = state.seen[sequence / 64];
    const std::uint64_t bit = std::uint64_t(1) << (sequence % 64);
    if (word & bit) {
        ++totals_.duplicated;
        return true;
    }
    word |= bit;
    ++state.distinct;
    if (sequence < state.next_expected) ++totals_.out_of_order;
    state.next_expected = sequence + 1;
    return true;
}

stream_verifier::summary stream_verifier::result() const {
    summary s = totals_;
    s.producers = producers_.size();
    for (const auto& [id, state] : producers_)
        s.lost += state.count - state.distinct;
    return s;
}

std::string stream_verifier::describe(const summary& s) {
    return "received " + std::to_string(s.messages) + " messages from " +
           std::to_string(s.producers) + " producers: " + std::to_string(s.lost) + " lost, " +
           std::to_string(s.duplicated) + " duplicated, " + std::to_string(s.corrupt) + " corrupt";
}

} // namespace conveyor

// Synthetic messages that a consumer can verify: each carries its producer's id, its
// sequence number, the producer's total and a checksum of every byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace conveyor {

// Layout, little-endian: producer id (8) | sequence (8) | count (8) | size (4) | crc (4) |
// payload. crc = crc32c(first 28 bytes) XOR crc32c(payload), so a producer computes the
// payload's part once while a consumer still reads every byte.
inline constexpr std::size_t generated_header_size = 32;

// Writes the messages of one producer.
class message_generator {
public:
    // size >= generated_header_size; count is the number of messages the producer will send.
    message_generator(std::uint64_t producer_id, std::size_t size, std::uint64_t count);

    std::size_t size() const noexcept { return size_; }
    // Writes message number sequence into out, which holds exactly size() bytes.
    void make(std::uint64_t sequence, std::span<std::byte> out) const noexcept;

private:
    std::uint64_t producer_id_;
    std::uint64_t count_;
    std::size_t size_;
    std::vector<std::byte> payload_;
    std::uint32_t payload_crc_;
};

// A producer id unlikely to be shared by two producers on one machine (pid and a random part).
std::uint64_t make_producer_id() noexcept;

// Checks a stream of generated messages: per producer, none lost, duplicated, corrupt or out
// of order. Lost counts assume this verifier saw the whole stream (one consumer, or the
// messages of every consumer merged).
class stream_verifier {
public:
    struct summary {
        std::uint64_t messages = 0;
        std::uint64_t producers = 0;
        std::uint64_t lost = 0;
        std::uint64_t duplicated = 0;
        std::uint64_t corrupt = 0;
        std::uint64_t out_of_order = 0;
        bool ok() const noexcept {
            return lost == 0 && duplicated == 0 && corrupt == 0 && out_of_order == 0;
        }
    };

    stream_verifier() = default;
    stream_verifier(const stream_verifier&) = delete; // it points into its own map
    stream_verifier& operator=(const stream_verifier&) = delete;
    stream_verifier(stream_verifier&&) = default; // the map's elements move with it
    stream_verifier& operator=(stream_verifier&&) = default;

    // Accounts one received message; false when it is corrupt.
    bool observe(std::span<const std::byte> message);
    summary result() const;

    // "received N messages from P producers: L lost, D duplicated, C corrupt"
    static std::string describe(const summary& s);

private:
    struct producer_state {
        std::uint64_t count = 0;
        std::uint64_t distinct = 0;
        std::uint64_t next_expected = 0;
        std::vector<std::uint64_t> seen; // one bit per sequence number
    };
    std::unordered_map<std::uint64_t, producer_state> producers_;
    producer_state* last_ = nullptr; // the state of producer last_id_
    std::uint64_t last_id_ = 0;
    summary totals_;
};

} // namespace conveyor

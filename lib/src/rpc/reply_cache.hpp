// udp's duplicate-request cache, so that a call retransmitted runs once. RFC 5531 defines
// none; this one is keyed by the client's address, xid, program, version and procedure,
// with a CRC-32C of the arguments to tell a reused xid from a retransmission. A duplicate
// of a call still running is dropped; a finished one gets its reply again. Finished entries
// stay for the lifetime given (at least the longest client deadline) unless the cache's
// bounds on entries or bytes push the oldest out first. Not thread-safe: one udp socket's
// strand owns it.
#pragma once

#include "conveyor/channel.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <list>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace conveyor::rpc::detail {

// A client's socket address as bytes (a sockaddr_in6 at most), held in place: a key is made
// for every datagram, and must not allocate.
class peer_address {
public:
    static constexpr std::size_t capacity = 28;
    peer_address() = default;
    peer_address(const void* data, std::size_t size) noexcept;
    peer_address(std::string_view bytes) noexcept : peer_address(bytes.data(), bytes.size()) {}
    peer_address(const char* text) noexcept : peer_address(std::string_view(text)) {}
    bool operator==(const peer_address& other) const noexcept;
    std::size_t hash() const noexcept;

private:
    std::array<unsigned char, capacity> bytes_{};
    std::uint8_t size_ = 0;
};

struct reply_cache_key {
    peer_address peer; // the client's address and port
    std::uint32_t xid = 0;
    std::uint32_t program = 0;
    std::uint32_t version = 0;
    std::uint32_t procedure = 0;
    bool operator==(const reply_cache_key&) const = default;
};

struct reply_cache_key_hash {
    std::size_t operator()(const reply_cache_key& k) const noexcept;
};

class reply_cache {
public:
    using clock = std::chrono::steady_clock;

    reply_cache(std::chrono::seconds lifetime, std::size_t max_entries, std::size_t max_bytes);

    enum class verdict {
        run,         // a new call: run it, then finish() it
        in_progress, // a duplicate of a call still running: drop it
        replay,      // a duplicate of a finished call: send *reply again
    };
    // Looks the call up, recording it as running when it is new.
    verdict admit(const reply_cache_key& key, std::uint32_t arguments_crc, clock::time_point now,
                  const std::vector<std::byte>*& reply);
    // The call's reply, kept for its duplicates.
    void finish(const reply_cache_key& key, bytes_view reply, clock::time_point now);
    // The call ended without a reply (dropped): forget it.
    void forget(const reply_cache_key& key);

    std::size_t entries() const noexcept { return entries_.size(); }

private:
    // A finished entry in order of finishing, oldest first, with its time, so that most calls
    // see that nothing is due without a lookup; the key lives in entries_.
    struct finished_entry {
        clock::time_point at;
        const reply_cache_key* key;
    };
    struct entry {
        std::uint32_t arguments_crc = 0;
        bool finished = false;
        std::vector<std::byte> reply;
        std::list<finished_entry>::iterator in_order; // finished entries only
    };
    // Drops finished entries past their lifetime, then the oldest while over a bound.
    void evict(clock::time_point now);
    void erase(std::unordered_map<reply_cache_key, entry, reply_cache_key_hash>::iterator at);

    std::chrono::seconds lifetime_;
    std::size_t max_entries_;
    std::size_t max_bytes_;
    std::size_t bytes_ = 0;
    std::unordered_map<reply_cache_key, entry, reply_cache_key_hash> entries_;
    std::list<finished_entry> finished_;
};

} // namespace conveyor::rpc::detail

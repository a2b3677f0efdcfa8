// udp's duplicate-request cache, so that a call retransmitted runs once. RFC 5531 defines
// none; this one is keyed by the client's address, xid, program, version and procedure,
// with a CRC-32C of the arguments to tell a reused xid from a retransmission. A duplicate
// of a call still running is dropped; a finished one gets its reply again. Finished entries
// stay for the lifetime given (at least the longest client deadline) unless the cache's
// bounds on entries or bytes push the oldest out first. Not thread-safe: one udp socket's
// strand owns it.
#pragma once

#include "conveyor/channel.hpp"

#include <chrono>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

namespace conveyor::rpc::detail {

struct reply_cache_key {
    std::string peer; // the client's address and port, as bytes
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
    struct entry {
        std::uint32_t arguments_crc = 0;
        bool finished = false;
        std::vector<std::byte> reply;
        clock::time_point finished_at;
        std::list<const reply_cache_key*>::iterator in_order; // finished entries only
    };
    // Drops finished entries past their lifetime, then the oldest while over a bound.
    void evict(clock::time_point now);
    void erase(std::unordered_map<reply_cache_key, entry, reply_cache_key_hash>::iterator at);

    std::chrono::seconds lifetime_;
    std::size_t max_entries_;
    std::size_t max_bytes_;
    std::size_t bytes_ = 0;
    std::unordered_map<reply_cache_key, entry, reply_cache_key_hash> entries_;
    std::list<const reply_cache_key*> finished_; // oldest first; keys live in entries_
};

} // namespace conveyor::rpc::detail

// The duplicate-request cache: see reply_cache.hpp.
#include "reply_cache.hpp"

#include <algorithm>
#include <cstring>

namespace conveyor::rpc::detail {

peer_address::peer_address(const void* data, std::size_t size) noexcept
    : size_(static_cast<std::uint8_t>(std::min(size, capacity))) {
    std::memcpy(bytes_.data(), data, size_);
}

bool peer_address::operator==(const peer_address& other) const noexcept {
    return size_ == other.size_ && std::memcmp(bytes_.data(), other.bytes_.data(), size_) == 0;
}

std::size_t peer_address::hash() const noexcept {
    // Word by word: the bytes past size_ are zero.
    std::uint64_t words[(capacity + 7) / 8] = {};
    std::memcpy(words, bytes_.data(), capacity);
    std::uint64_t h = size_;
    for (const auto w : words)
        h = (h ^ w) * 0x9E37'79B9'7F4A'7C15ull;
    return static_cast<std::size_t>(h ^ (h >> 29));
}

std::size_t reply_cache_key_hash::operator()(const reply_cache_key& k) const noexcept {
    std::size_t h = k.peer.hash();
    for (const std::uint32_t v : {k.xid, k.program, k.version, k.procedure})
        h = h * 0x9E37'79B9'7F4A'7C15ull + v;
    return h;
}

reply_cache::reply_cache(std::chrono::seconds lifetime, std::size_t max_entries,
                         std::size_t max_bytes)
    : lifetime_(lifetime), max_entries_(max_entries), max_bytes_(max_bytes) {}

reply_cache::verdict reply_cache::admit(const reply_cache_key& key, std::uint32_t arguments_crc,
                                        clock::time_point now,
                                        const std::vector<std::byte>*& reply) {
    evict(now);
    auto found = entries_.find(key);
    if (found != entries_.end() && found->second.arguments_crc != arguments_crc) {
        // The same xid with other arguments: the client reused it, so this is a new call.
        // (A call still running under the old one keeps running; its reply goes nowhere.)
        if (!found->second.finished) return verdict::in_progress;
        erase(found);
        found = entries_.end();
    }
    if (found == entries_.end()) {
        entry fresh;
        fresh.arguments_crc = arguments_crc;
        fresh.in_order = finished_.end();
        entries_.emplace(key, std::move(fresh));
        return verdict::run;
    }
    if (!found->second.finished) return verdict::in_progress;
    reply = &found->second.reply;
    return verdict::replay;
}

void reply_cache::finish(const reply_cache_key& key, bytes_view reply, clock::time_point now) {
    const auto found = entries_.find(key);
    if (found == entries_.end() || found->second.finished) return;
    entry& e = found->second;
    e.finished = true;
    e.reply.assign(reply.begin(), reply.end());
    e.in_order = finished_.insert(finished_.end(), {now, &found->first});
    bytes_ += e.reply.size();
    if (entries_.size() > max_entries_ || bytes_ > max_bytes_) evict(now);
}

void reply_cache::forget(const reply_cache_key& key) {
    const auto found = entries_.find(key);
    if (found != entries_.end()) erase(found);
}

void reply_cache::evict(clock::time_point now) {
    while (!finished_.empty()) {
        const bool expired = now - finished_.front().at >= lifetime_;
        const bool over = entries_.size() > max_entries_ || bytes_ > max_bytes_;
        if (!expired && !over) break;
        erase(entries_.find(*finished_.front().key));
    }
}

void reply_cache::erase(
    std::unordered_map<reply_cache_key, entry, reply_cache_key_hash>::iterator at) {
    if (at->second.finished) {
        bytes_ -= at->second.reply.size();
        finished_.erase(at->second.in_order);
    }
    entries_.erase(at);
}

} // namespace conveyor::rpc::detail

// Listing, inspecting and removing conveyor segments.
#include "conveyor/shm/segment.hpp"

#include "conveyor/endpoint.hpp"
#include "conveyor/error.hpp"
#include "detail/file_owner.hpp"
#include "detail/process_liveness.hpp"
#include "shm/mapping.hpp"
#include "shm/topic_layout.hpp"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

namespace conveyor::shm {
namespace {

constexpr auto relaxed = std::memory_order_relaxed; // a snapshot, read without the lock

template <class Slot> unsigned count_alive(const Slot& slots) {
    unsigned alive = 0;
    for (const auto& slot : slots)
        alive += slot.state.load(relaxed) == detail::live_slot &&
                 conveyor::detail::is_alive(slot.identity());
    return alive;
}

template <class Slot> unsigned count_in(const Slot& slots, detail::slot_state state) {
    unsigned n = 0;
    for (const auto& slot : slots)
        n += slot.state.load(relaxed) == state;
    return n;
}

// A topic: its publishers are its producers, its subscribers its consumers.
segment_info describe_topic(segment_info info, const detail::mapping& map) {
    const auto& t = map.topic();
    info.topic = true;
    info.drop = map.shape().drop;
    const auto tail = t.tail.load(relaxed);
    info.sent = t.sent.load(relaxed);
    info.received = t.departed_received.load(relaxed);
    std::uint64_t slowest_sequence = info.sent;
    std::uint64_t slowest_cursor = tail;
    for (const auto& slot : t.subscribers) {
        if (slot.state.load(relaxed) != detail::live_slot) continue;
        const auto received = slot.received.load(relaxed);
        info.received += received; // a dead one's deliveries happened all the same
        if (!conveyor::detail::is_alive(slot.identity())) continue;
        subscriber_info s;
        s.pid = slot.pid.load(relaxed);
        const auto sequence = slot.sequence.load(relaxed);
        const auto cursor = slot.cursor.load(relaxed);
        // As they are, forged ones included: a listing shows, it never follows them.
        s.behind_messages = info.sent > sequence ? info.sent - sequence : 0;
        s.behind_bytes = tail > cursor ? tail - cursor : 0;
        s.received = received;
        s.dropped = slot.dropped.load(relaxed);
        slowest_sequence = std::min(slowest_sequence, sequence);
        slowest_cursor = std::min(slowest_cursor, cursor);
        info.subscribers.push_back(s);
    }
    info.depth_messages = info.sent - slowest_sequence;
    info.depth_bytes = tail - slowest_cursor;
    info.producers = count_alive(t.producers);
    info.paused_producers = count_in(t.producers, detail::paused_slot);
    info.consumers = static_cast<unsigned>(info.subscribers.size());
    info.repairs = t.repairs.load(relaxed);
    return info;
}

segment_info describe(const std::string& name, const detail::mapping& map) {
    const auto& h = map.header();
    const auto& q = map.control();
    segment_info info;
    info.name = name;
    info.capacity = map.shape().capacity;
    info.max_message = map.shape().max_message;
    info.creator_pid = h.creator_pid;
    info.layout_version = h.layout_version;
    if (map.shape().topic) return describe_topic(std::move(info), map);
    // Positions as they are, forged ones included: a listing shows, it never follows them.
    const auto head = q.head.load(relaxed);
    const auto next = q.next.load(relaxed);
    const auto tail = q.tail.load(relaxed);
    info.depth_bytes = tail > next ? tail - next : 0;
    info.unacknowledged_bytes = next > head ? next - head : 0;
    info.sent = q.sent.load(relaxed);
    info.received = q.received.load(relaxed);
    info.redelivered = q.redelivered.load(relaxed);
    const auto delivered_once = info.received - std::min(info.received, info.redelivered);
    info.depth_messages = info.sent > delivered_once ? info.sent - delivered_once : 0;
    info.producers = count_alive(q.producers);
    info.paused_producers = count_in(q.producers, detail::paused_slot);
    info.consumers = count_alive(q.consumers);
    info.orphaned_consumers = count_in(q.consumers, detail::orphaned_slot);
    info.repairs = q.repairs.load(relaxed);
    return info;
}

// A segment of another layout version: conveyor's, but only its version can be read.
segment_info describe_other_layout(const std::string& name) {
    segment_info info;
    info.name = name;
    info.layout_version = detail::stored_layout_version(detail::segment_location::shm(name));
    info.layout_mismatch = true;
    return info;
}

// The file's mode and owner: the header's mode is what its creator asked for, but a chmod
// or chgrp since then is what decides who may open it.
void add_file_facts(segment_info& info, const struct stat& st) {
    info.mode = static_cast<unsigned>(st.st_mode & 0777);
    info.owner = conveyor::detail::owner_text(st.st_uid, st.st_gid);
}

// Whether a file this process may not read has a size a segment can have: a header and
// control block, then a ring of whole records with room for two.
bool could_be_segment(const struct stat& st) {
    const auto size = static_cast<std::uint64_t>(st.st_size);
    // A topic's control block is smaller than a queue's; both end on a record boundary.
    const auto smallest =
        std::min<std::uint64_t>(detail::data_offset(), detail::topic_data_offset());
    return S_ISREG(st.st_mode) && size >= smallest + detail::min_capacity(0) &&
           (size - detail::data_offset()) % detail::record_alignment == 0;
}

} // namespace

std::vector<segment_info> list_segments() {
    std::vector<segment_info> result;
    DIR* dir = ::opendir(std::string(shm_directory).c_str());
    if (!dir) return result;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        if (name.empty() || name.front() == '.') continue; // includes segments being built
        struct stat st {};
        if (::stat(detail::segment_location::shm(name).path().c_str(), &st) != 0)
            continue; // removed meanwhile
        std::error_code ec;
        std::string why;
        auto map = detail::mapping::open(name, detail::mapping::access::read_only, ec, why);
        segment_info info;
        if (map) {
            info = describe(name, *map);
        } else if (ec == errc::layout_mismatch) { // conveyor's, as rm agrees: to be removed
            info = describe_other_layout(name);
        } else if (ec == std::errc::permission_denied && could_be_segment(st)) {
            info.name = name;
            info.no_access = true;
        } else {
            continue;
        }
        add_file_facts(info, st);
        result.push_back(std::move(info));
    }
    ::closedir(dir);
    std::sort(result.begin(), result.end(),
              [](const segment_info& a, const segment_info& b) { return a.name < b.name; });
    return result;
}

namespace {

segment_info inspect(const std::string& name, std::error_code& ec, std::string& why) {
    ec.clear();
    auto map = detail::mapping::open(name, detail::mapping::access::read_only, ec, why);
    if (!map) return {};
    auto info = describe(name, *map);
    struct stat st {};
    if (::stat(detail::segment_location::shm(name).path().c_str(), &st) == 0)
        add_file_facts(info, st);
    return info;
}

} // namespace

segment_info inspect_segment(std::string_view name, std::error_code& ec) {
    std::string why;
    return inspect(std::string(name), ec, why);
}

segment_info inspect_queue(const endpoint& where, std::error_code& ec) {
    ec.clear();
    std::string why;
    const auto location = detail::segment_location::of(where);
    auto map = detail::mapping::open(location, detail::mapping::access::read_only, ec, why);
    if (!map) return {};
    return describe(location.durable ? where.name() : location.file, *map);
}

std::uint64_t capacity_made(std::uint64_t capacity) noexcept {
    return (capacity + detail::record_alignment - 1) & ~std::uint64_t(detail::record_alignment - 1);
}

segment_info inspect_segment(std::string_view name) {
    std::error_code ec;
    std::string why;
    auto info = inspect(std::string(name), ec, why);
    if (ec) throw error(ec, why);
    return info;
}

namespace {

// Unlinks name if conveyor made it (any layout version); why says what went wrong. Whatever
// becomes of name, the files of its creators that died mid-way go: only rm and the next
// opener of name look for them.
void remove_ours(const detail::segment_location& where, std::error_code& ec, std::string& why) {
    detail::remove_abandoned_creations(where);
    auto map = detail::mapping::open(where, detail::mapping::access::read_only, ec, why);
    // Another user's segment that this one may not read: what stops the removal is whose
    // it is, whether or not it could be read.
    struct stat st {};
    const bool theirs =
        ::stat(where.path().c_str(), &st) == 0 && st.st_uid != ::geteuid() && ::geteuid() != 0;
    if (!map && ec == std::errc::permission_denied && theirs) {
        why = where.uri + ": cannot remove: " + conveyor::detail::removal_refusal(where.path());
        return;
    }
    if (!map && ec != errc::layout_mismatch) return;
    map.reset();
    ec.clear();
    if (::unlink(where.path().c_str()) != 0) {
        ec = std::error_code(errno, std::system_category());
        why = where.uri + ": cannot remove: " + ec.message();
        if (ec == std::errc::operation_not_permitted || ec == std::errc::permission_denied)
            why += ": " + conveyor::detail::removal_refusal(where.path());
    }
}

} // namespace

void remove_segment(std::string_view name, std::error_code& ec) {
    std::string why;
    remove_ours(detail::segment_location::shm(std::string(name)), ec, why);
}

void remove_segment(std::string_view name) {
    std::error_code ec;
    std::string why;
    remove_ours(detail::segment_location::shm(std::string(name)), ec, why);
    if (ec) throw error(ec, why);
}

void remove_segment(const endpoint& where, std::error_code& ec) {
    std::string why;
    remove_ours(detail::segment_location::of(where), ec, why);
}

void remove_segment(const endpoint& where) {
    std::error_code ec;
    std::string why;
    remove_ours(detail::segment_location::of(where), ec, why);
    if (ec) throw error(ec, why);
}

} // namespace conveyor::shm

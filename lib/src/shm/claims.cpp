// Claims of records copied outside the producers' lock, committed in order (producers' lock
// held throughout).
#include "shm/claims.hpp"

#include "detail/process_liveness.hpp"
#include "shm/records.hpp"

#include <cstring>

namespace conveyor::shm::detail {
namespace {

// Claims are guarded by the producers' lock; the atomics let conveyor-ctl read a snapshot.
constexpr auto relaxed = std::memory_order_relaxed;

void release(claim_entry& claim) noexcept {
    claim.state.store(claim_entry::unused, relaxed);
}

// Turns the messages from begin to end into skip records: their bytes may be half written.
void void_records(const segment_shape& shape, std::byte* ring, std::uint64_t begin,
                  std::uint64_t end) noexcept {
    if (end < begin || end - begin > shape.capacity) return; // forged: nothing to follow
    for (std::uint64_t at = begin; at < end;) {
        const std::uint64_t offset = at % shape.capacity;
        auto* header = reinterpret_cast<record_header*>(ring + offset);
        if (header->kind == wrap_record) {
            at += shape.capacity - offset;
            continue;
        }
        const std::uint64_t size = record_size(header->size);
        if (header->size > shape.max_message || offset + size > shape.capacity) {
            // The header itself is not what place() wrote: one skip record for the rest of
            // the claim, where it fits before the ring's end.
            const std::uint64_t rest = std::min(end - at, shape.capacity - offset);
            header->size = static_cast<std::uint32_t>(rest - sizeof(record_header));
            header->kind = skip_record;
            at += rest;
            continue;
        }
        header->kind = skip_record;
        at += size;
    }
}

} // namespace

claim_entry* open_claim(queue_control& q, std::uint64_t begin, std::uint64_t end,
                        std::uint64_t messages, std::uint32_t state) noexcept {
    for (auto& claim : q.claims) {
        if (claim.state.load(relaxed) != claim_entry::unused) continue;
        const auto me = conveyor::detail::self_identity_cached();
        claim.pid.store(me.pid, relaxed);
        claim.start_time.store(me.start_time, relaxed);
        claim.begin.store(begin, relaxed);
        claim.end.store(end, relaxed);
        claim.records.store(messages, relaxed);
        claim.state.store(state, relaxed); // last: a claim counts once it is whole
        return &claim;
    }
    return nullptr;
}

std::uint64_t commit_copied(queue_control& q, std::string& problem) noexcept {
    std::uint64_t committed = 0;
    for (bool moved = true; moved;) {
        moved = false;
        const std::uint64_t tail = q.tail.load(relaxed);
        for (auto& claim : q.claims) {
            if (claim.state.load(relaxed) != claim_entry::copied ||
                claim.begin.load(relaxed) != tail)
                continue;
            const std::uint64_t end = claim.end.load(relaxed);
            const std::uint64_t messages = claim.records.load(relaxed);
            release(claim);
            if (end <= tail || end > q.claimed.load(relaxed)) {
                problem = "a claim from " + std::to_string(tail) + " to " + std::to_string(end) +
                          " lies outside the claimed records (claimed " +
                          std::to_string(q.claimed.load(relaxed)) + ")";
                return committed;
            }
            // The commit, as a send's: the claimer copied the records before it released the
            // lock that this process took since.
            q.tail.store(end, std::memory_order_release);
            q.sent.store(q.sent.load(relaxed) + messages, relaxed);
            committed += messages;
            moved = true;
            break;
        }
    }
    return committed;
}

bool void_dead_claims(queue_control& q, const segment_shape& shape, std::byte* ring) noexcept {
    bool voided = false;
    for (auto& claim : q.claims) {
        if (claim.state.load(relaxed) != claim_entry::copying ||
            conveyor::detail::is_alive(claim.identity()))
            continue;
        void_records(shape, ring, claim.begin.load(relaxed), claim.end.load(relaxed));
        claim.records.store(0, relaxed);
        claim.state.store(claim_entry::copied, relaxed);
        voided = true;
    }
    return voided;
}

bool repair_claims(queue_control& q, const segment_shape& shape, std::byte* ring,
                   std::string& problem) noexcept {
    std::uint64_t tail = q.tail.load(relaxed);
    std::uint64_t claimed = q.claimed.load(relaxed);
    // A fast commit stores tail, then claimed: one cut short leaves claimed behind.
    if (claimed < tail) q.claimed.store(claimed = tail, relaxed);
    if (claimed - tail > shape.capacity) {
        problem = "claimed records end at " + std::to_string(claimed) + ", more than a ring past " +
                  "tail " + std::to_string(tail);
        return false;
    }
    for (auto& claim : q.claims) {
        const auto state = claim.state.load(relaxed);
        if (state == claim_entry::unused) continue;
        const bool whole = (state == claim_entry::copying || state == claim_entry::copied) &&
                           claim.begin.load(relaxed) >= tail &&
                           claim.begin.load(relaxed) < claim.end.load(relaxed) &&
                           claim.end.load(relaxed) <= claimed;
        if (!whole) release(claim); // opened by a producer that died before moving claimed
    }
    void_dead_claims(q, shape, ring);
    commit_copied(q, problem);
    // What no claim covers from tail on was claimed by a producer that died between its
    // claim and its commit: void it up to the next claim, or to claimed.
    tail = q.tail.load(relaxed);
    if (tail == claimed) return problem.empty();
    std::uint64_t next_claim = claimed;
    for (auto& claim : q.claims)
        if (claim.state.load(relaxed) != claim_entry::unused)
            next_claim = std::min(next_claim, claim.begin.load(relaxed));
    if (next_claim > tail) {
        void_records(shape, ring, tail, next_claim);
        q.tail.store(next_claim, std::memory_order_release);
        commit_copied(q, problem);
    }
    return problem.empty();
}

} // namespace conveyor::shm::detail

// Large messages copied into the ring outside the producers' lock: the records a producer
// claimed are committed in the order of their positions once copied, by whichever producer
// finds them next in line. docs/architecture.md, "Large messages", has the protocol; every
// function here runs under the producers' lock.
#pragma once

#include "shm/layout.hpp"

#include <cstdint>
#include <string>

namespace conveyor::shm::detail {

// A free claim for the records from begin to end (messages of them), in state; null when
// every claim is in use.
claim_entry* open_claim(queue_control& q, std::uint64_t begin, std::uint64_t end,
                        std::uint64_t messages, std::uint32_t state) noexcept;

// Commits every copied claim that starts at tail, in order; returns the messages committed.
// A claim that cannot be what a producer wrote (it ends before it starts, or past claimed)
// is dropped and described in problem.
std::uint64_t commit_copied(queue_control& q, std::string& problem) noexcept;

// Claims whose producer died while copying: their messages become skip records, which
// consumers pass over, and the claims are copied; true when there was one.
bool void_dead_claims(queue_control& q, const segment_shape& shape, std::byte* ring) noexcept;

// After a producer died holding the lock: claims that lie outside tail..claimed are dropped,
// a stretch from tail that no claim covers (a commit cut short) is voided, and what can be
// committed is. False, with problem set, when tail and claimed cannot be repaired.
bool repair_claims(queue_control& q, const segment_shape& shape, std::byte* ring,
                   std::string& problem) noexcept;

} // namespace conveyor::shm::detail

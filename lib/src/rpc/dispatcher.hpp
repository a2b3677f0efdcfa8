// The server's decisions, apart from any transport: which handler a call goes to, and the
// reply RFC 5531 prescribes when there is none. Used by every listener and by the fuzzer.
#pragma once

#include "conveyor/rpc/server.hpp"

#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

namespace conveyor::rpc::detail {

class dispatcher {
public:
    // Before serving: handler serves target (replacing one there).
    void add(const call_target& target, handler_function handler);

    enum class outcome {
        replied,  // the reply message was appended to out
        deferred, // an asynchronous handler replies later, through the deferred_reply
        dropped,  // nothing to answer (not a call, or too short to hold a call's header)
    };
    // Serves the call in message, whose header decode_call read into header with status
    // decoded (a listener looks at the header first: udp's duplicate-request cache does).
    outcome handle(bytes_view message, const decoded_call& decoded, const call_header& header,
                   std::vector<std::byte>& out, reply_maker& maker) const;

    // The programs and versions served, for rpcbind.
    std::vector<std::pair<std::uint32_t, std::uint32_t>> programs() const;

private:
    static std::uint64_t key(std::uint32_t program, std::uint32_t version) noexcept {
        return std::uint64_t(program) << 32 | version;
    }
    // By program and version, the handlers by procedure number (empty: not served).
    std::unordered_map<std::uint64_t, std::vector<handler_function>> handlers_;
    // By program, the lowest and highest version served (PROG_MISMATCH says them).
    std::map<std::uint32_t, std::pair<std::uint32_t, std::uint32_t>> versions_;
};

// Appends the reply that says stat to a call with xid (no results).
void append_error_reply(std::vector<std::byte>& out, std::uint32_t xid, accept_stat stat,
                        std::uint32_t low = 0, std::uint32_t high = 0);

} // namespace conveyor::rpc::detail

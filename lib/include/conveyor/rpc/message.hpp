// ONC RPC version 2 messages (RFC 5531, 9 and 8.2): the call and reply headers that go
// before the arguments and results, and the AUTH_NONE and AUTH_SYS credentials. The
// arguments and results themselves are XDR from conveyor's archive (rpc/marshal.hpp).
#pragma once

#include "conveyor/channel.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace conveyor::rpc {

inline constexpr std::uint32_t rpc_version = 2;

enum class msg_type : std::uint32_t { call = 0, reply = 1 };
enum class reply_stat : std::uint32_t { accepted = 0, denied = 1 };
enum class accept_stat : std::uint32_t {
    success = 0,
    prog_unavail = 1,
    prog_mismatch = 2,
    proc_unavail = 3,
    garbage_args = 4,
    system_err = 5,
};
enum class reject_stat : std::uint32_t { rpc_mismatch = 0, auth_error = 1 };
enum class auth_stat : std::uint32_t {
    ok = 0,
    badcred = 1,      // the credentials are malformed
    rejectedcred = 2, // the client must begin a new session (or use another flavor)
    badverf = 3,
    rejectedverf = 4,
    tooweak = 5,
    invalidresp = 6,
    failed = 7,
};
enum class auth_flavor : std::uint32_t { none = 0, sys = 1, short_hand = 2 };

// RFC 5531, 8.2: an opaque_auth body is at most 400 bytes.
inline constexpr std::size_t max_auth_body = 400;
// RFC 5531, appendix A: a machine name of at most 255 bytes, at most 16 extra groups.
inline constexpr std::size_t max_machine_name = 255;
inline constexpr std::size_t max_auth_sys_groups = 16;

// AUTH_SYS credentials (RFC 5531, appendix A): who the caller says it is, unverified.
struct auth_sys {
    std::uint32_t stamp = 0;
    std::string machine_name;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::vector<std::uint32_t> gids;

    // This process's: its host name, uid, gid and supplementary groups (the first 16).
    static auth_sys current();
};

// The header of a call; the arguments follow it.
struct call_header {
    std::uint32_t xid = 0;
    std::uint32_t program = 0;
    std::uint32_t version = 0;
    std::uint32_t procedure = 0;
    auth_flavor flavor = auth_flavor::none; // of the credentials
    auth_sys sys;                           // when flavor is sys
};

// The header of a reply; for accept_stat::success the results follow it.
struct reply_header {
    std::uint32_t xid = 0;
    reply_stat stat = reply_stat::accepted;
    accept_stat accepted = accept_stat::success;      // when accepted
    reject_stat rejected = reject_stat::rpc_mismatch; // when denied
    auth_stat auth = auth_stat::ok;                   // when denied with auth_error
    // PROG_MISMATCH: the lowest and highest versions of the program served; RPC_MISMATCH:
    // of the RPC protocol.
    std::uint32_t low = 0;
    std::uint32_t high = 0;
};

// Appends a call header (msg_type, rpcvers 2, credentials, an AUTH_NONE verifier).
void encode_call(const call_header& header, std::vector<std::byte>& out);
// Appends a reply header with an AUTH_NONE verifier.
void encode_reply(const reply_header& header, std::vector<std::byte>& out);

// What a server finds at the start of a message.
enum class call_status {
    ok,            // a call: header filled, the arguments start at the returned offset
    not_a_call,    // a reply, or a message type that is neither: ignored
    truncated,     // too short to hold the header it starts: nothing to answer
    rpc_mismatch,  // rpcvers is not 2: header.xid is valid; answer RPC_MISMATCH
    auth_badcred,  // credentials malformed or too long: answer AUTH_ERROR, AUTH_BADCRED
    auth_rejected, // a flavor other than AUTH_NONE and AUTH_SYS: AUTH_ERROR, AUTH_REJECTEDCRED
};

struct decoded_call {
    call_status status = call_status::truncated;
    std::size_t arguments = 0; // offset of the arguments in the message
};

// Reads a call header; never reads past message. header.xid is valid for every status but
// truncated and not_a_call.
decoded_call decode_call(bytes_view message, call_header& header);

// Reads a reply header; returns the offset of the results, or sets ec (errc::bad_reply)
// when the bytes are not a well-formed reply.
std::size_t decode_reply(bytes_view message, reply_header& header, std::error_code& ec);

// The xid at the start of any message, or false when it is shorter than 4 bytes.
bool peek_xid(bytes_view message, std::uint32_t& xid) noexcept;

// The error a client reports for a reply that is not a success.
std::error_code reply_error(const reply_header& header) noexcept;

} // namespace conveyor::rpc

// Errors of ONC RPC calls: the refusals a server sends (RFC 5531's accept_stat and
// reject_stat) and the failures a client meets on its own, in the category "conveyor.rpc".
#pragma once

#include <system_error>

namespace conveyor::rpc {

enum class errc {
    // The server's answers (RFC 5531, 9): the call reached it but did not run.
    program_unavailable = 1, // PROG_UNAVAIL: the server does not serve the program
    program_mismatch,        // PROG_MISMATCH: nor this version of it
    procedure_unavailable,   // PROC_UNAVAIL: nor this procedure
    garbage_arguments,       // GARBAGE_ARGS: the server could not decode the arguments
    system_error,            // SYSTEM_ERR: the procedure failed on the server
    rpc_mismatch,            // RPC_MISMATCH: the server speaks another RPC version
    authentication_error,    // AUTH_ERROR: the server refused the credentials
    // The client's own findings.
    bad_reply,          // a reply the client cannot decode, or results of the wrong shape
    server_gone,        // the connection ended, or the server died, before the reply came
    record_too_large,   // a record or datagram beyond the bound this side accepts
    not_registered,     // rpcbind knows no port for the program, version and protocol
    already_registered, // rpcbind maps the program to a live server already
};

const std::error_category& rpc_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), rpc_category()};
}

} // namespace conveyor::rpc

template <> struct std::is_error_code_enum<conveyor::rpc::errc> : std::true_type {};

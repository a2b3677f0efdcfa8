// RFC 5531's call and reply headers in XDR, both ways; every length from the wire is checked
// against its bound and the bytes left before it is used.
#include "conveyor/rpc/message.hpp"

#include "conveyor/rpc/error.hpp"
#include "xdr_words.hpp"

#include <algorithm>
#include <climits>
#include <unistd.h>

namespace conveyor::rpc {
namespace {

using detail::put_u32;
using detail::word_reader;

void put_auth_sys(std::vector<std::byte>& out, const auth_sys& sys) {
    put_u32(out, sys.stamp);
    detail::put_string(out, sys.machine_name.substr(0, max_machine_name));
    put_u32(out, sys.uid);
    put_u32(out, sys.gid);
    const std::size_t groups = std::min(sys.gids.size(), max_auth_sys_groups);
    put_u32(out, static_cast<std::uint32_t>(groups));
    for (std::size_t i = 0; i < groups; ++i)
        put_u32(out, sys.gids[i]);
}

// The AUTH_SYS body must hold exactly the fields, each within its bound.
bool read_auth_sys(bytes_view body, auth_sys& sys) {
    word_reader in(body);
    sys.stamp = in.u32();
    const bytes_view name = in.opaque(max_machine_name);
    sys.machine_name.assign(reinterpret_cast<const char*>(name.data()), name.size());
    sys.uid = in.u32();
    sys.gid = in.u32();
    const std::uint32_t groups = in.u32();
    if (!in.ok() || groups > max_auth_sys_groups) return false;
    sys.gids.resize(groups);
    for (auto& gid : sys.gids)
        gid = in.u32();
    return in.ok() && in.remaining() == 0;
}

} // namespace

auth_sys auth_sys::current() {
    auth_sys sys;
    char host[HOST_NAME_MAX + 1] = {};
    if (::gethostname(host, sizeof host - 1) == 0) sys.machine_name = host;
    sys.uid = ::getuid();
    sys.gid = ::getgid();
    gid_t groups[NGROUPS_MAX];
    const int count = ::getgroups(NGROUPS_MAX, groups);
    for (int i = 0; i < count && sys.gids.size() < max_auth_sys_groups; ++i)
        sys.gids.push_back(groups[i]);
    return sys;
}

void encode_call(const call_header& header, std::vector<std::byte>& out) {
    put_u32(out, header.xid);
    put_u32(out, static_cast<std::uint32_t>(msg_type::call));
    put_u32(out, rpc_version);
    put_u32(out, header.program);
    put_u32(out, header.version);
    put_u32(out, header.procedure);
    put_u32(out, static_cast<std::uint32_t>(header.flavor));
    if (header.flavor == auth_flavor::sys) {
        // The body's length goes first: write the body, then fill the length in.
        const std::size_t length_at = out.size();
        put_u32(out, 0);
        put_auth_sys(out, header.sys);
        detail::put_u32_at(out.data() + length_at,
                           static_cast<std::uint32_t>(out.size() - length_at - 4));
    } else {
        put_u32(out, 0);
    }
    put_u32(out, static_cast<std::uint32_t>(auth_flavor::none)); // the verifier
    put_u32(out, 0);
}

void encode_reply(const reply_header& header, std::vector<std::byte>& out) {
    put_u32(out, header.xid);
    put_u32(out, static_cast<std::uint32_t>(msg_type::reply));
    put_u32(out, static_cast<std::uint32_t>(header.stat));
    if (header.stat == reply_stat::accepted) {
        put_u32(out, static_cast<std::uint32_t>(auth_flavor::none));
        put_u32(out, 0);
        put_u32(out, static_cast<std::uint32_t>(header.accepted));
        if (header.accepted == accept_stat::prog_mismatch) {
            put_u32(out, header.low);
            put_u32(out, header.high);
        }
        return;
    }
    put_u32(out, static_cast<std::uint32_t>(header.rejected));
    if (header.rejected == reject_stat::rpc_mismatch) {
        put_u32(out, header.low);
        put_u32(out, header.high);
    } else {
        put_u32(out, static_cast<std::uint32_t>(header.auth));
    }
}

decoded_call decode_call(bytes_view message, call_header& header) {
    word_reader in(message);
    header.xid = in.u32();
    const std::uint32_t type = in.u32();
    if (!in.ok()) return {call_status::truncated};
    if (type != static_cast<std::uint32_t>(msg_type::call)) return {call_status::not_a_call};
    const std::uint32_t version = in.u32();
    if (!in.ok()) return {call_status::truncated};
    if (version != rpc_version) return {call_status::rpc_mismatch};
    header.program = in.u32();
    header.version = in.u32();
    header.procedure = in.u32();
    const std::uint32_t flavor = in.u32();
    const std::uint32_t cred_length = in.u32();
    if (!in.ok()) return {call_status::truncated};
    if (cred_length > max_auth_body) return {call_status::auth_badcred};
    if (in.remaining() < cred_length + detail::xdr_padding(cred_length))
        return {call_status::truncated};
    const bytes_view cred = message.subspan(in.offset(), cred_length);
    word_reader rest(message.subspan(in.offset() + cred_length + detail::xdr_padding(cred_length)));
    rest.u32(); // the verifier's flavor: a server answers AUTH_NONE whatever it is, as libtirpc
    const std::uint32_t verf_length = rest.u32();
    if (!rest.ok()) return {call_status::truncated};
    if (verf_length > max_auth_body) return {call_status::auth_badcred};
    if (rest.remaining() < verf_length + detail::xdr_padding(verf_length))
        return {call_status::truncated};
    const std::size_t arguments =
        message.size() - rest.remaining() + verf_length + detail::xdr_padding(verf_length);

    header.flavor = static_cast<auth_flavor>(flavor);
    switch (header.flavor) {
    case auth_flavor::none:
        break;
    case auth_flavor::sys:
        if (!read_auth_sys(cred, header.sys)) return {call_status::auth_badcred, arguments};
        break;
    default:
        return {call_status::auth_rejected, arguments};
    }
    return {call_status::ok, arguments};
}

std::size_t decode_reply(bytes_view message, reply_header& header, std::error_code& ec) {
    ec.clear();
    word_reader in(message);
    header.xid = in.u32();
    const std::uint32_t type = in.u32();
    const std::uint32_t stat = in.u32();
    if (!in.ok() || type != static_cast<std::uint32_t>(msg_type::reply) || stat > 1) {
        ec = make_error_code(errc::bad_reply);
        return 0;
    }
    header.stat = static_cast<reply_stat>(stat);
    if (header.stat == reply_stat::accepted) {
        in.u32(); // the verifier: AUTH_NONE or a flavor's, checked by nobody here
        in.opaque(max_auth_body);
        const std::uint32_t accepted = in.u32();
        if (!in.ok() || accepted > static_cast<std::uint32_t>(accept_stat::system_err)) {
            ec = make_error_code(errc::bad_reply);
            return 0;
        }
        header.accepted = static_cast<accept_stat>(accepted);
        if (header.accepted == accept_stat::prog_mismatch) {
            header.low = in.u32();
            header.high = in.u32();
        }
    } else {
        const std::uint32_t rejected = in.u32();
        header.rejected = static_cast<reject_stat>(rejected);
        if (rejected == static_cast<std::uint32_t>(reject_stat::rpc_mismatch)) {
            header.low = in.u32();
            header.high = in.u32();
        } else if (rejected == static_cast<std::uint32_t>(reject_stat::auth_error)) {
            header.auth = static_cast<auth_stat>(in.u32());
        } else {
            ec = make_error_code(errc::bad_reply);
            return 0;
        }
    }
    if (!in.ok()) ec = make_error_code(errc::bad_reply);
    return in.offset();
}

bool peek_xid(bytes_view message, std::uint32_t& xid) noexcept {
    if (message.size() < 4) return false;
    xid = detail::get_u32_at(message.data());
    return true;
}

std::error_code reply_error(const reply_header& header) noexcept {
    if (header.stat == reply_stat::denied)
        return make_error_code(header.rejected == reject_stat::rpc_mismatch
                                   ? errc::rpc_mismatch
                                   : errc::authentication_error);
    switch (header.accepted) {
    case accept_stat::success:
        return {};
    case accept_stat::prog_unavail:
        return make_error_code(errc::program_unavailable);
    case accept_stat::prog_mismatch:
        return make_error_code(errc::program_mismatch);
    case accept_stat::proc_unavail:
        return make_error_code(errc::procedure_unavailable);
    case accept_stat::garbage_args:
        return make_error_code(errc::garbage_arguments);
    case accept_stat::system_err:
        return make_error_code(errc::system_error);
    }
    return make_error_code(errc::bad_reply);
}

} // namespace conveyor::rpc

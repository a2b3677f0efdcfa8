// Dispatching calls to handlers, and RFC 5531's answers for calls that reach none.
#include "dispatcher.hpp"

#include <algorithm>

namespace conveyor::rpc::detail {
namespace {

reply_header accepted(std::uint32_t xid, accept_stat stat) {
    reply_header h;
    h.xid = xid;
    h.stat = reply_stat::accepted;
    h.accepted = stat;
    return h;
}

reply_header denied(std::uint32_t xid, reject_stat why, auth_stat auth = auth_stat::ok) {
    reply_header h;
    h.xid = xid;
    h.stat = reply_stat::denied;
    h.rejected = why;
    h.auth = auth;
    h.low = rpc_version;
    h.high = rpc_version;
    return h;
}

handler_status null_procedure(handler_call&) {
    return handler_status::replied;
}

} // namespace

void append_error_reply(std::vector<std::byte>& out, std::uint32_t xid, accept_stat stat,
                        std::uint32_t low, std::uint32_t high) {
    auto h = accepted(xid, stat);
    h.low = low;
    h.high = high;
    encode_reply(h, out);
}

void deferred_reply::succeed(bytes_view results) {
    std::vector<std::byte> reply;
    reply.reserve(24 + results.size());
    encode_reply(accepted(xid_, accept_stat::success), reply);
    reply.insert(reply.end(), results.begin(), results.end());
    send(std::move(reply));
}

void deferred_reply::fail(accept_stat stat) {
    std::vector<std::byte> reply;
    append_error_reply(reply, xid_, stat);
    send(std::move(reply));
}

void dispatcher::add(const call_target& target, handler_function handler) {
    auto& procedures = handlers_[key(target.program, target.version)];
    if (procedures.size() <= target.procedure) {
        // Procedure numbers are small in practice; a sparse table stays proportionate.
        procedures.resize(std::size_t(target.procedure) + 1);
    }
    procedures[target.procedure] = std::move(handler);
    if (!procedures[0]) procedures[0] = null_procedure;
    auto [at, inserted] = versions_.try_emplace(target.program, target.version, target.version);
    if (!inserted) {
        at->second.first = std::min(at->second.first, target.version);
        at->second.second = std::max(at->second.second, target.version);
    }
}

dispatcher::outcome dispatcher::handle(bytes_view message, const decoded_call& decoded,
                                       const call_header& header, std::vector<std::byte>& out,
                                       reply_maker& maker) const {
    switch (decoded.status) {
    case call_status::not_a_call:
    case call_status::truncated:
        return outcome::dropped;
    case call_status::rpc_mismatch:
        encode_reply(denied(header.xid, reject_stat::rpc_mismatch), out);
        return outcome::replied;
    case call_status::auth_badcred:
        encode_reply(denied(header.xid, reject_stat::auth_error, auth_stat::badcred), out);
        return outcome::replied;
    case call_status::auth_rejected:
        encode_reply(denied(header.xid, reject_stat::auth_error, auth_stat::rejectedcred), out);
        return outcome::replied;
    case call_status::ok:
        break;
    }

    const auto found = handlers_.find(key(header.program, header.version));
    if (found == handlers_.end()) {
        const auto program = versions_.find(header.program);
        if (program == versions_.end())
            append_error_reply(out, header.xid, accept_stat::prog_unavail);
        else
            append_error_reply(out, header.xid, accept_stat::prog_mismatch, program->second.first,
                               program->second.second);
        return outcome::replied;
    }
    const auto& procedures = found->second;
    if (header.procedure >= procedures.size() || !procedures[header.procedure]) {
        append_error_reply(out, header.xid, accept_stat::proc_unavail);
        return outcome::replied;
    }

    call_context context;
    context.xid = header.xid;
    context.target = {header.program, header.version, header.procedure, ""};
    context.flavor = header.flavor;
    if (header.flavor == auth_flavor::sys) context.credentials = header.sys;

    // The success header goes first; an error puts its own in place of it and the results.
    const std::size_t start = out.size();
    encode_reply(accepted(header.xid, accept_stat::success), out);
    handler_call call{message.subspan(decoded.arguments), context, out, maker};
    handler_status status;
    try {
        status = procedures[header.procedure](call);
    } catch (...) {
        status = handler_status::system_err;
    }
    switch (status) {
    case handler_status::replied:
        return outcome::replied;
    case handler_status::deferred:
        out.resize(start);
        return outcome::deferred;
    case handler_status::garbage_args:
        out.resize(start);
        append_error_reply(out, header.xid, accept_stat::garbage_args);
        return outcome::replied;
    case handler_status::system_err:
        break;
    }
    out.resize(start);
    append_error_reply(out, header.xid, accept_stat::system_err);
    return outcome::replied;
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> dispatcher::programs() const {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> all;
    for (const auto& [k, procedures] : handlers_)
        all.emplace_back(static_cast<std::uint32_t>(k >> 32), static_cast<std::uint32_t>(k));
    std::sort(all.begin(), all.end());
    return all;
}

} // namespace conveyor::rpc::detail

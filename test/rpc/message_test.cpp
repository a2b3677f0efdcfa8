// RFC 5531's headers against libtirpc's own xdr_callmsg and xdr_replymsg, both ways; the
// readers' refusals; record marking; RPC addresses; the duplicate-request cache.
#include "rpc_support.hpp"

#include "rpc/record_marking.hpp"
#include "rpc/reply_cache.hpp"

#include <conveyor/error.hpp>
#include <conveyor/rpc/address.hpp>
#include <conveyor/rpc/error.hpp>
#include <conveyor/rpc/message.hpp>

#include <boost/test/unit_test.hpp>

#include <rpc/rpc.h>

#include <array>
#include <cstring>

using namespace conveyor;
namespace r = conveyor::rpc;

namespace {

using bytes = std::vector<std::byte>;

bytes tirpc_call(u_int32_t xid, AUTH* auth) {
    rpc_msg msg{};
    msg.rm_xid = xid;
    msg.rm_direction = CALL;
    msg.rm_call.cb_rpcvers = 2;
    msg.rm_call.cb_prog = 0x2C0FFEE0;
    msg.rm_call.cb_vers = 1;
    msg.rm_call.cb_proc = 2;
    msg.rm_call.cb_cred = auth ? auth->ah_cred : _null_auth;
    msg.rm_call.cb_verf = _null_auth;
    std::array<char, 1024> buffer{};
    XDR x;
    xdrmem_create(&x, buffer.data(), buffer.size(), XDR_ENCODE);
    BOOST_REQUIRE(xdr_callmsg(&x, &msg));
    const auto* start = reinterpret_cast<const std::byte*>(buffer.data());
    return bytes(start, start + xdr_getpos(&x));
}

bytes tirpc_reply(rpc_msg& msg) {
    std::array<char, 1024> buffer{};
    XDR x;
    xdrmem_create(&x, buffer.data(), buffer.size(), XDR_ENCODE);
    BOOST_REQUIRE(xdr_replymsg(&x, &msg));
    const auto* start = reinterpret_cast<const std::byte*>(buffer.data());
    return bytes(start, start + xdr_getpos(&x));
}

rpc_msg accepted_msg(u_int32_t xid, enum accept_stat stat) {
    rpc_msg msg{};
    msg.rm_xid = xid;
    msg.rm_direction = REPLY;
    msg.rm_reply.rp_stat = MSG_ACCEPTED;
    msg.rm_reply.rp_acpt.ar_verf = _null_auth;
    msg.rm_reply.rp_acpt.ar_stat = stat;
    msg.rm_reply.rp_acpt.ar_results.where = nullptr;
    msg.rm_reply.rp_acpt.ar_results.proc =
        reinterpret_cast<xdrproc_t>(reinterpret_cast<void (*)()>(xdr_void));
    return msg;
}

bytes words(std::initializer_list<std::uint32_t> values) {
    bytes out;
    for (const auto v : values)
        for (int shift = 24; shift >= 0; shift -= 8)
            out.push_back(std::byte(v >> shift));
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(rpc_message)

BOOST_AUTO_TEST_CASE(a_call_header_is_the_bytes_libtirpc_writes) {
    r::call_header h;
    h.xid = 0x12345678;
    h.program = 0x2C0FFEE0;
    h.version = 1;
    h.procedure = 2;
    bytes ours;
    r::encode_call(h, ours);
    BOOST_TEST(ours == tirpc_call(0x12345678, nullptr));

    h.flavor = r::auth_flavor::sys;
    h.sys.stamp = 77;
    h.sys.machine_name = "builder";
    h.sys.uid = 1000;
    h.sys.gid = 100;
    h.sys.gids = {4, 24, 27};
    gid_t gids[] = {4, 24, 27};
    AUTH* auth = authunix_create(const_cast<char*>("builder"), 1000, 100, 3, gids);
    BOOST_REQUIRE(auth);
    bytes theirs = tirpc_call(0x12345678, auth);
    auth_destroy(auth);
    ours.clear();
    r::encode_call(h, ours);
    // libtirpc stamps the credentials with the time: ours carry 77 in its place.
    BOOST_REQUIRE_EQUAL(ours.size(), theirs.size());
    std::memcpy(theirs.data() + 32, ours.data() + 32, 4);
    BOOST_TEST(ours == theirs);
}

BOOST_AUTO_TEST_CASE(libtirpc_calls_decode_with_their_arguments_offset) {
    gid_t gids[] = {5};
    AUTH* auth = authunix_create(const_cast<char*>("host"), 42, 43, 1, gids);
    auto message = tirpc_call(7, auth);
    auth_destroy(auth);
    const auto args_at = message.size();
    message.insert(message.end(), {std::byte{0}, std::byte{0}, std::byte{0}, std::byte{9}});
    r::call_header h;
    const auto d = r::decode_call(message, h);
    BOOST_TEST(static_cast<int>(d.status) == static_cast<int>(r::call_status::ok));
    BOOST_TEST(d.arguments == args_at);
    BOOST_TEST(h.xid == 7u);
    BOOST_TEST(h.program == 0x2C0FFEE0u);
    BOOST_TEST(h.procedure == 2u);
    BOOST_TEST(static_cast<int>(h.flavor) == static_cast<int>(r::auth_flavor::sys));
    BOOST_TEST(h.sys.machine_name == "host");
    BOOST_TEST(h.sys.uid == 42u);
    BOOST_TEST(h.sys.gid == 43u);
    BOOST_TEST(h.sys.gids == std::vector<std::uint32_t>{5});
}

BOOST_AUTO_TEST_CASE(replies_are_the_bytes_libtirpc_writes_and_read_back) {
    struct sample {
        r::reply_header ours;
        rpc_msg theirs;
    };
    std::vector<sample> samples;
    for (auto stat : {SUCCESS, PROG_UNAVAIL, PROC_UNAVAIL, GARBAGE_ARGS, SYSTEM_ERR}) {
        sample s{{}, accepted_msg(9, stat)};
        s.ours.xid = 9;
        s.ours.accepted = static_cast<r::accept_stat>(stat);
        samples.push_back(s);
    }
    sample mismatch{{}, accepted_msg(10, PROG_MISMATCH)};
    mismatch.theirs.rm_reply.rp_acpt.ar_vers.low = 1;
    mismatch.theirs.rm_reply.rp_acpt.ar_vers.high = 3;
    mismatch.ours.xid = 10;
    mismatch.ours.accepted = r::accept_stat::prog_mismatch;
    mismatch.ours.low = 1;
    mismatch.ours.high = 3;
    samples.push_back(mismatch);
    for (bool auth : {false, true}) {
        sample denied{};
        denied.theirs.rm_xid = 11;
        denied.theirs.rm_direction = REPLY;
        denied.theirs.rm_reply.rp_stat = MSG_DENIED;
        denied.ours.xid = 11;
        denied.ours.stat = r::reply_stat::denied;
        if (auth) {
            denied.theirs.rm_reply.rp_rjct.rj_stat = AUTH_ERROR;
            denied.theirs.rm_reply.rp_rjct.rj_why = AUTH_REJECTEDCRED;
            denied.ours.rejected = r::reject_stat::auth_error;
            denied.ours.auth = r::auth_stat::rejectedcred;
        } else {
            denied.theirs.rm_reply.rp_rjct.rj_stat = RPC_MISMATCH;
            denied.theirs.rm_reply.rp_rjct.rj_vers.low = 2;
            denied.theirs.rm_reply.rp_rjct.rj_vers.high = 2;
            denied.ours.rejected = r::reject_stat::rpc_mismatch;
            denied.ours.low = denied.ours.high = 2;
        }
        samples.push_back(denied);
    }
    for (auto& s : samples) {
        bytes ours;
        r::encode_reply(s.ours, ours);
        const auto theirs = tirpc_reply(s.theirs);
        BOOST_TEST(ours == theirs);
        r::reply_header back;
        std::error_code ec;
        const auto results = r::decode_reply(theirs, back, ec);
        BOOST_TEST(!ec);
        BOOST_TEST(results == theirs.size());
        BOOST_TEST(back.xid == s.ours.xid);
        BOOST_TEST(r::reply_error(back) == r::reply_error(s.ours));
        BOOST_TEST(back.low == s.ours.low);
        BOOST_TEST(back.high == s.ours.high);
    }
}

BOOST_AUTO_TEST_CASE(every_truncation_of_a_call_is_refused_without_reading_past_it) {
    gid_t gids[] = {1, 2};
    AUTH* auth = authunix_create(const_cast<char*>("h"), 1, 1, 2, gids);
    const auto whole = tirpc_call(3, auth);
    auth_destroy(auth);
    for (std::size_t n = 0; n < whole.size(); ++n) {
        // A copy of exactly n bytes: a read past it would touch memory AddressSanitizer sees.
        const bytes cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n));
        r::call_header h;
        const auto d = r::decode_call(cut, h);
        BOOST_TEST(
            (d.status == r::call_status::truncated || d.status == r::call_status::auth_badcred),
            "a call of " << n << " bytes");
    }
}

BOOST_AUTO_TEST_CASE(another_rpc_version_a_long_credential_and_a_foreign_flavor_are_named) {
    r::call_header h;
    // (libtirpc will not write rpcvers 3: the words are written here.)
    BOOST_TEST(static_cast<int>(r::decode_call(words({4, 0, 3, 1, 1, 1, 0, 0, 0, 0}), h).status) ==
               static_cast<int>(r::call_status::rpc_mismatch));
    BOOST_TEST(h.xid == 4u);
    const auto long_cred = words({5, 0, 2, 1, 1, 1, 1, 401});
    BOOST_TEST(static_cast<int>(r::decode_call(long_cred, h).status) ==
               static_cast<int>(r::call_status::auth_badcred));
    const auto dh = words({6, 0, 2, 1, 1, 1, 3, 0, 0, 0});
    BOOST_TEST(static_cast<int>(r::decode_call(dh, h).status) ==
               static_cast<int>(r::call_status::auth_rejected));
    const auto reply = words({6, 1, 0, 0, 0, 0});
    BOOST_TEST(static_cast<int>(r::decode_call(reply, h).status) ==
               static_cast<int>(r::call_status::not_a_call));
    // AUTH_SYS whose body claims 17 groups, one beyond the RFC's 16.
    const auto many_groups = words({7, 0, 2, 1, 1, 1, 1, 24, 0, 0, 0, 0, 17, 0, 0, 0});
    BOOST_TEST(static_cast<int>(r::decode_call(many_groups, h).status) ==
               static_cast<int>(r::call_status::auth_badcred));
}

BOOST_AUTO_TEST_CASE(malformed_replies_are_bad_replies) {
    r::reply_header h;
    std::error_code ec;
    for (const auto& r :
         {words({}), words({1}), words({1, 0, 0}), words({1, 1, 2}), words({1, 1, 0, 0, 0}),
          words({1, 1, 0, 0, 0, 9}), words({1, 1, 1, 5}), words({1, 1, 0, 0, 500, 0})}) {
        r::decode_reply(r, h, ec);
        BOOST_TEST(ec == r::errc::bad_reply);
    }
}

BOOST_AUTO_TEST_CASE(records_of_several_fragments_arrive_whole_whatever_the_reads) {
    const bytes stream = [] {
        auto s = words({0x0000'0004, 0xAAAA'AAAA, 0x0000'0000, 0x8000'0004, 0xBBBB'BBBB,
                        0x8000'0004, 0xCCCC'CCCC});
        return s;
    }();
    for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
        r::detail::record_reader reader(1024);
        std::vector<bytes> records;
        for (std::size_t at = 0; at < stream.size(); at += chunk) {
            const auto n = std::min(chunk, stream.size() - at);
            const auto space = reader.space();
            std::memcpy(space.data(), stream.data() + at, n);
            reader.commit(n);
            bytes_view record;
            std::error_code ec;
            while (reader.next(record, ec))
                records.emplace_back(record.begin(), record.end());
            BOOST_REQUIRE(!ec);
        }
        BOOST_REQUIRE_EQUAL(records.size(), 2u);
        BOOST_TEST(records[0] == words({0xAAAA'AAAA, 0xBBBB'BBBB}));
        BOOST_TEST(records[1] == words({0xCCCC'CCCC}));
    }
}

BOOST_AUTO_TEST_CASE(a_fragment_beyond_the_bound_is_refused_before_it_is_stored) {
    for (const std::uint32_t mark : {0xFFFF'FFFFu, 0x7FFF'FFFFu, 0x8000'0401u}) {
        r::detail::record_reader reader(1024);
        const auto head = words({mark});
        std::memcpy(reader.space().data(), head.data(), head.size());
        reader.commit(head.size());
        bytes_view record;
        std::error_code ec;
        BOOST_TEST(!reader.next(record, ec));
        BOOST_TEST(ec == r::errc::record_too_large);
    }
    // Fragments that add up past the bound are refused as well.
    r::detail::record_reader reader(8);
    const auto parts = words({0x0000'0004, 1, 0x0000'0004, 2, 0x8000'0004, 3});
    std::memcpy(reader.space().data(), parts.data(), parts.size());
    reader.commit(parts.size());
    bytes_view record;
    std::error_code ec;
    BOOST_TEST(!reader.next(record, ec));
    BOOST_TEST(ec == r::errc::record_too_large);
}

BOOST_AUTO_TEST_CASE(addresses_parse_and_refusals_name_the_part) {
    auto a = r::address::parse("tcp://127.0.0.1:40123");
    BOOST_TEST(static_cast<int>(a.kind) == static_cast<int>(r::transport::tcp));
    BOOST_TEST(a.host == "127.0.0.1");
    BOOST_TEST(a.port == 40123);
    a = r::address::parse("udp://[::1]:0");
    BOOST_TEST(a.host == "::1");
    BOOST_TEST(a.with_port(9) == "udp://[::1]:9");
    a = r::address::parse("shm://calc");
    BOOST_TEST(a.name == "calc");
    a = r::address::parse("rpc://localhost/0x2C0FFEE0/1?proto=udp");
    BOOST_TEST(a.program == 0x2C0FFEE0u);
    BOOST_TEST(a.version == 1u);
    BOOST_TEST(static_cast<int>(a.protocol) == static_cast<int>(r::transport::udp));
    BOOST_TEST(r::address::parse("rpc://h/100000/2").program == 100000u);

    const std::pair<const char*, const char*> refused[] = {
        {"tcp://127.0.0.1", "expected HOST:PORT"},
        {"tcp://127.0.0.1:65536", "the port \"65536\""},
        {"tcp://:5", "the host is empty"},
        {"udp://h:x", "the port \"x\""},
        {"shm://", "the name is empty"},
        {"shm://a/b", "'/'"},
        {"rpc://h/1", "expected rpc://HOST/PROGRAM/VERSION"},
        {"rpc://h/0xZZ/1", "the program \"0xZZ\""},
        {"rpc://h/1/v", "the version \"v\""},
        {"rpc://h/1/1?proto=sctp", "proto=sctp"},
        {"http://h:1", "unknown scheme \"http\""},
        {"127.0.0.1:5", "expected tcp://HOST:PORT"},
    };
    for (const auto& [uri, why] : refused) {
        std::error_code ec;
        std::string said;
        r::address::parse(uri, ec, &said);
        BOOST_TEST(ec == conveyor::errc::invalid_endpoint, uri);
        BOOST_TEST(said.find(uri) == 0, said);
        BOOST_TEST(said.find(why) != std::string::npos, said);
    }
    BOOST_CHECK_THROW(r::address::parse("tcp://h"), conveyor::error);
}

BOOST_AUTO_TEST_CASE(the_cache_runs_a_call_once_and_replays_its_reply) {
    using r::detail::reply_cache;
    reply_cache cache(std::chrono::seconds(10), 100, 1 << 20);
    const r::detail::reply_cache_key key{"peer", 1, 2, 3, 4};
    const auto t0 = reply_cache::clock::now();
    const std::vector<std::byte>* cached = nullptr;
    BOOST_TEST(static_cast<int>(cache.admit(key, 99, t0, cached)) ==
               static_cast<int>(reply_cache::verdict::run));
    BOOST_TEST(static_cast<int>(cache.admit(key, 99, t0, cached)) ==
               static_cast<int>(reply_cache::verdict::in_progress));
    const auto reply = words({1, 1, 0});
    cache.finish(key, reply, t0);
    BOOST_TEST(static_cast<int>(cache.admit(key, 99, t0, cached)) ==
               static_cast<int>(reply_cache::verdict::replay));
    BOOST_TEST(*cached == reply);
    // The same xid with other arguments is a new call; another peer's xid is its own.
    BOOST_TEST(static_cast<int>(cache.admit(key, 100, t0, cached)) ==
               static_cast<int>(reply_cache::verdict::run));
    const r::detail::reply_cache_key other{"other", 1, 2, 3, 4};
    BOOST_TEST(static_cast<int>(cache.admit(other, 99, t0, cached)) ==
               static_cast<int>(reply_cache::verdict::run));
    cache.forget(other);
    BOOST_TEST(static_cast<int>(cache.admit(other, 99, t0, cached)) ==
               static_cast<int>(reply_cache::verdict::run));
}

BOOST_AUTO_TEST_CASE(the_cache_keeps_replies_for_their_lifetime_within_its_bounds) {
    using r::detail::reply_cache;
    const auto t0 = reply_cache::clock::now();
    const std::vector<std::byte>* cached = nullptr;
    {
        reply_cache cache(std::chrono::seconds(10), 100, 1 << 20);
        const r::detail::reply_cache_key key{"p", 1, 1, 1, 1};
        cache.admit(key, 0, t0, cached);
        cache.finish(key, words({1}), t0);
        BOOST_TEST(static_cast<int>(cache.admit(key, 0, t0 + std::chrono::seconds(9), cached)) ==
                   static_cast<int>(reply_cache::verdict::replay));
        BOOST_TEST(static_cast<int>(cache.admit(key, 0, t0 + std::chrono::seconds(10), cached)) ==
                   static_cast<int>(reply_cache::verdict::run));
    }
    {
        reply_cache cache(std::chrono::seconds(100), 3, 1 << 20);
        for (std::uint32_t xid = 0; xid < 10; ++xid) {
            const r::detail::reply_cache_key key{"p", xid, 1, 1, 1};
            cache.admit(key, 0, t0, cached);
            cache.finish(key, words({xid}), t0);
        }
        BOOST_TEST(cache.entries() <= 3u);
        const r::detail::reply_cache_key newest{"p", 9, 1, 1, 1};
        BOOST_TEST(static_cast<int>(cache.admit(newest, 0, t0, cached)) ==
                   static_cast<int>(reply_cache::verdict::replay));
    }
    {
        reply_cache cache(std::chrono::seconds(100), 100, 8);
        for (std::uint32_t xid = 0; xid < 10; ++xid) {
            const r::detail::reply_cache_key key{"p", xid, 1, 1, 1};
            cache.admit(key, 0, t0, cached);
            cache.finish(key, words({xid}), t0);
        }
        BOOST_TEST(cache.entries() <= 2u);
    }
}

BOOST_AUTO_TEST_SUITE_END()

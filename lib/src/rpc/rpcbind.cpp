// rpcbind's protocols (RFC 1833): version 2 (the portmapper) for GETPORT, which every
// rpcbind and portmap answer, versions 3 and 4 for DUMP, SET, UNSET and GETADDR.
#include "conveyor/rpc/rpcbind.hpp"

#include "conveyor/error.hpp"
#include "conveyor/rpc/client.hpp"
#include "conveyor/rpc/error.hpp"
#include "xdr_words.hpp"

#include <boost/serialization/string.hpp>

#include <charconv>
#include <netinet/in.h>

namespace conveyor::rpc::rpcbind {
namespace {

// A netid, universal address or owner longer than this is not rpcbind's.
constexpr std::size_t max_rpcbind_string = 1024;

struct portmap_v2 : program<program_number, 2> {};
struct rpcbind_v3 : program<program_number, 3> {};
struct rpcbind_v4 : program<program_number, 4> {};

// struct mapping of RFC 1833, version 2.
struct pmap {
    std::uint32_t program = 0;
    std::uint32_t version = 0;
    std::uint32_t protocol = 0; // IPPROTO_TCP or IPPROTO_UDP
    std::uint32_t port = 0;
    template <class Archive> void serialize(Archive& ar, unsigned) {
        ar& program& version& protocol& port;
    }
};

// struct rpcb of RFC 1833, versions 3 and 4.
struct rpcb {
    std::uint32_t program = 0;
    std::uint32_t version = 0;
    std::string netid;
    std::string address;
    std::string owner;
    template <class Archive> void serialize(Archive& ar, unsigned) {
        ar& program& version& netid& address& owner;
    }
};

constexpr procedure<portmap_v2, 3, pmap, std::uint32_t> pmap_getport{"PMAPPROC_GETPORT"};
constexpr procedure<rpcbind_v3, 4> rpcb_dump{"RPCBPROC_DUMP"}; // results decoded by hand
constexpr procedure<rpcbind_v4, 1, rpcb, bool> rpcb_set{"RPCBPROC_SET"};
constexpr procedure<rpcbind_v4, 2, rpcb, bool> rpcb_unset{"RPCBPROC_UNSET"};

std::string rpcbind_uri(const std::string& host) {
    const bool v6 = host.find(':') != std::string::npos;
    return "tcp://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(address::rpcbind_port);
}

// This machine's rpcbind: its unix socket, else its port on the loopback address.
template <class Call>
auto ask_local(wait_duration timeout, std::error_code& ec, std::string* why, Call call) {
    address local;
    local.kind = transport::local;
    local.name = local_socket;
    local.uri = std::string("unix://") + local_socket;
    {
        client through_socket(local);
        std::string cause;
        auto result = call(through_socket, timeout, ec, &cause);
        const bool unreachable =
            ec == std::errc::no_such_file_or_directory || ec == std::errc::connection_refused;
        if (!unreachable) {
            if (ec && why) *why = cause;
            return result;
        }
    }
    client over_tcp(rpcbind_uri("127.0.0.1"));
    std::string cause;
    auto result = call(over_tcp, timeout, ec, &cause);
    if (ec && why) *why = cause;
    return result;
}

// Calls p with args through c; ec and why as client::call_raw sets them.
template <class P, class Args>
typename P::result_type ask(client& c, const P& p, const Args& args, wait_duration timeout,
                            std::error_code& ec, std::string* why) {
    std::vector<std::byte> encoded;
    detail::encode_value(args, encoded);
    detail::reply_message reply;
    c.call_raw(target_of(p), encoded, timeout, reply, ec, why);
    typename P::result_type result{};
    if (ec) return result;
    try {
        detail::decode_value(reply.results(), result);
    } catch (const std::system_error& e) {
        ec = make_error_code(errc::bad_reply);
        if (why) *why = c.where().uri + ": " + describe(target_of(p)) + ": " + e.what();
    }
    return result;
}

template <class T> T or_throw(T value, const std::error_code& ec, const std::string& why) {
    if (ec) throw error(ec, why);
    return value;
}

} // namespace

std::uint16_t getport(const std::string& host, std::uint32_t program, std::uint32_t version,
                      transport protocol, wait_duration timeout, std::error_code& ec,
                      std::string* why) {
    client c(rpcbind_uri(host));
    pmap query;
    query.program = program;
    query.version = version;
    query.protocol = protocol == transport::udp ? IPPROTO_UDP : IPPROTO_TCP;
    const auto port = ask(c, pmap_getport, query, timeout, ec, why);
    if (ec) {
        if (why) *why = "cannot ask rpcbind on " + host + " for the port: " + *why;
        return 0;
    }
    if (port == 0 || port > 0xFFFF) {
        ec = make_error_code(errc::not_registered);
        if (why) {
            char number[16];
            std::snprintf(number, sizeof number, "0x%x", program);
            *why = "rpcbind on " + host + " maps no port for program " + number + " version " +
                   std::to_string(version) + " over " +
                   (protocol == transport::udp ? "udp" : "tcp");
        }
        return 0;
    }
    return static_cast<std::uint16_t>(port);
}

std::uint16_t getport(const std::string& host, std::uint32_t program, std::uint32_t version,
                      transport protocol, wait_duration timeout) {
    std::error_code ec;
    std::string why;
    const auto port = getport(host, program, version, protocol, timeout, ec, &why);
    return or_throw(port, ec, why);
}

std::vector<mapping> dump(const std::string& host, wait_duration timeout, std::error_code& ec,
                          std::string* why) {
    client c(rpcbind_uri(host));
    detail::reply_message reply;
    c.call_raw(target_of(rpcb_dump), {}, timeout, reply, ec, why);
    std::vector<mapping> found;
    if (ec) return found;
    // rpcblist_ptr: optional-data, each entry an rpcb followed by the next pointer.
    detail::word_reader in(reply.results());
    auto text = [&in] {
        const auto bytes = in.opaque(max_rpcbind_string);
        return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    };
    while (in.u32() == 1 && in.ok()) {
        mapping m;
        m.program = in.u32();
        m.version = in.u32();
        m.netid = text();
        m.address = text();
        m.owner = text();
        if (!in.ok()) break;
        found.push_back(std::move(m));
    }
    if (!in.ok() || in.remaining() != 0) {
        ec = make_error_code(errc::bad_reply);
        if (why)
            *why = c.where().uri + ": " + describe(target_of(rpcb_dump)) +
                   ": the list of mappings is malformed";
        found.clear();
    }
    return found;
}

std::vector<mapping> dump(const std::string& host, wait_duration timeout) {
    std::error_code ec;
    std::string why;
    auto found = dump(host, timeout, ec, &why);
    return or_throw(std::move(found), ec, why);
}

void set(const mapping& m, wait_duration timeout, std::error_code& ec, std::string* why) {
    rpcb args{m.program, m.version, m.netid, m.address, m.owner};
    const bool done = ask_local(timeout, ec, why,
                                [&](client& c, wait_duration t, std::error_code& e,
                                    std::string* w) { return ask(c, rpcb_set, args, t, e, w); });
    if (!ec && !done) {
        ec = make_error_code(errc::already_registered);
        if (why)
            *why = "rpcbind refused to map " + m.netid + " " + m.address +
                   ": the program and version have a mapping over " + m.netid;
    }
}

void unset(std::uint32_t program, std::uint32_t version, const std::string& netid,
           wait_duration timeout, std::error_code& ec, std::string* why) {
    rpcb args{program, version, netid, "", ""};
    ask_local(timeout, ec, why,
              [&](client& c, wait_duration t, std::error_code& e, std::string* w) {
                  return ask(c, rpcb_unset, args, t, e, w);
              });
}

// rpcbind's own GETADDR answers for the netid of the transport the question came over, not
// the one asked for: the list says it for every netid.
std::string getaddr(std::uint32_t program, std::uint32_t version, const std::string& netid,
                    wait_duration timeout, std::error_code& ec, std::string* why) {
    for (const auto& m : dump("127.0.0.1", timeout, ec, why))
        if (m.program == program && m.version == version && m.netid == netid) return m.address;
    return {};
}

void set(const mapping& m, wait_duration timeout) {
    std::error_code ec;
    std::string why;
    set(m, timeout, ec, &why);
    if (ec) throw error(ec, why);
}

void unset(std::uint32_t program, std::uint32_t version, const std::string& netid,
           wait_duration timeout) {
    std::error_code ec;
    std::string why;
    unset(program, version, netid, timeout, ec, &why);
    if (ec) throw error(ec, why);
}

std::string getaddr(std::uint32_t program, std::uint32_t version, const std::string& netid,
                    wait_duration timeout) {
    std::error_code ec;
    std::string why;
    auto found = getaddr(program, version, netid, timeout, ec, &why);
    return or_throw(std::move(found), ec, why);
}

std::string universal_address(const std::string& ipv4, std::uint16_t port) {
    return ipv4 + "." + std::to_string(port >> 8) + "." + std::to_string(port & 0xFF);
}

bool split_universal_address(const std::string& text, std::string& ipv4, std::uint16_t& port) {
    const auto low_dot = text.rfind('.');
    if (low_dot == std::string::npos || low_dot == 0) return false;
    const auto high_dot = text.rfind('.', low_dot - 1);
    if (high_dot == std::string::npos) return false;
    unsigned high = 0, low = 0;
    const auto parse = [](std::string_view digits, unsigned& value) {
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        return ec == std::errc{} && end == digits.data() + digits.size() && value < 256;
    };
    const std::string_view all(text);
    if (!parse(all.substr(high_dot + 1, low_dot - high_dot - 1), high) ||
        !parse(all.substr(low_dot + 1), low))
        return false;
    ipv4 = text.substr(0, high_dot);
    port = static_cast<std::uint16_t>(high << 8 | low);
    return true;
}

} // namespace conveyor::rpc::rpcbind

// Parsing of RPC addresses; every refusal names the URI and the part that is wrong.
#include "conveyor/rpc/address.hpp"

#include "conveyor/error.hpp"

#include <charconv>
#include <limits>

namespace conveyor::rpc {
namespace {

struct refusal {
    std::string why;
};

template <class Number> bool parse_number(std::string_view text, Number& value, int base = 10) {
    const char* end = text.data() + text.size();
    const auto [at, ec] = std::from_chars(text.data(), end, value, base);
    return !text.empty() && ec == std::errc{} && at == end;
}

// "HOST:PORT", HOST possibly "[v6]".
void parse_host_port(std::string_view rest, address& a) {
    std::string_view port;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
            throw refusal{"expected [IPV6]:PORT"};
        a.host = std::string(rest.substr(1, close - 1));
        port = rest.substr(close + 2);
    } else {
        const auto colon = rest.rfind(':');
        if (colon == std::string_view::npos) throw refusal{"expected HOST:PORT"};
        a.host = std::string(rest.substr(0, colon));
        port = rest.substr(colon + 1);
    }
    if (a.host.empty()) throw refusal{"the host is empty"};
    if (a.host.find_first_of("/?#@ ") != std::string::npos)
        throw refusal{"the host \"" + a.host + "\" is not a host name or address"};
    if (!parse_number(port, a.port))
        throw refusal{"the port \"" + std::string(port) + "\" is not a number from 0 to 65535"};
}

std::uint32_t parse_program(std::string_view text) {
    std::uint32_t value = 0;
    const bool hex = text.size() > 2 && (text.substr(0, 2) == "0x" || text.substr(0, 2) == "0X");
    if (!(hex ? parse_number(text.substr(2), value, 16) : parse_number(text, value)))
        throw refusal{"the program \"" + std::string(text) +
                      "\" is not a 32-bit number (decimal, or hex with 0x)"};
    return value;
}

// "HOST/PROGRAM/VERSION[?proto=tcp|udp]"
void parse_rpcbind(std::string_view rest, address& a) {
    std::string_view query;
    if (const auto q = rest.find('?'); q != std::string_view::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    const auto first = rest.find('/');
    const auto second = first == std::string_view::npos ? first : rest.find('/', first + 1);
    if (second == std::string_view::npos || rest.find('/', second + 1) != std::string_view::npos)
        throw refusal{"expected rpc://HOST/PROGRAM/VERSION"};
    a.host = std::string(rest.substr(0, first));
    if (a.host.empty()) throw refusal{"the host is empty"};
    if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']')
        a.host = a.host.substr(1, a.host.size() - 2);
    a.program = parse_program(rest.substr(first + 1, second - first - 1));
    const auto version = rest.substr(second + 1);
    if (!parse_number(version, a.version))
        throw refusal{"the version \"" + std::string(version) + "\" is not a 32-bit number"};
    a.port = address::rpcbind_port;
    if (query.empty()) return;
    if (query == "proto=tcp")
        a.protocol = transport::tcp;
    else if (query == "proto=udp")
        a.protocol = transport::udp;
    else
        throw refusal{"unknown option \"" + std::string(query) + "\" (proto=tcp or proto=udp)"};
}

address parse_or_refuse(std::string_view uri) {
    address a;
    a.uri = std::string(uri);
    const auto colon = uri.find("://");
    if (colon == std::string_view::npos)
        throw refusal{"expected tcp://HOST:PORT, udp://HOST:PORT, shm://NAME, "
                      "rpc://HOST/PROGRAM/VERSION or unix:///PATH"};
    const auto scheme = uri.substr(0, colon);
    const auto rest = uri.substr(colon + 3);
    if (scheme == "tcp" || scheme == "udp") {
        a.kind = scheme == "tcp" ? transport::tcp : transport::udp;
        parse_host_port(rest, a);
    } else if (scheme == "shm") {
        a.kind = transport::shm;
        if (rest.empty()) throw refusal{"the name is empty"};
        if (rest.size() > address::max_shm_name)
            throw refusal{"the name is longer than " + std::to_string(address::max_shm_name) +
                          " bytes"};
        if (rest.find('/') != std::string_view::npos || rest.front() == '.')
            throw refusal{"the name may not contain '/' nor start with '.'"};
        a.name = std::string(rest);
    } else if (scheme == "unix") {
        a.kind = transport::local;
        if (rest.empty() || rest.front() != '/') throw refusal{"expected unix:///ABSOLUTE/PATH"};
        a.name = std::string(rest);
    } else if (scheme == "rpc") {
        a.kind = transport::rpcbind;
        parse_rpcbind(rest, a);
    } else {
        throw refusal{"unknown scheme \"" + std::string(scheme) +
                      "\" for RPC (tcp, udp, shm, rpc or unix)"};
    }
    return a;
}

} // namespace

address address::parse(std::string_view uri, std::error_code& ec, std::string* why) {
    ec.clear();
    try {
        return parse_or_refuse(uri);
    } catch (const refusal& r) {
        ec = make_error_code(conveyor::errc::invalid_endpoint);
        if (why) *why = std::string(uri) + ": " + r.why;
        return {};
    }
}

address address::parse(std::string_view uri) {
    std::error_code ec;
    std::string why;
    auto a = parse(uri, ec, &why);
    if (ec) throw error(ec, why);
    return a;
}

std::string address::with_port(std::uint16_t bound) const {
    const char* scheme = kind == transport::udp ? "udp://" : "tcp://";
    const bool v6 = host.find(':') != std::string::npos;
    return scheme + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(bound);
}

} // namespace conveyor::rpc

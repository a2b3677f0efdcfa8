// Parsing nats:// URIs: every refusal names the part that is wrong and what would be right.
#include "nats/address.hpp"

#include "conveyor/error.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace conveyor::nats::detail {
namespace {

bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// Stream, durable and registry names: letters, digits, '_' and '-' (JetStream refuses '.',
// '*', '>', spaces and path separators; the registry's bucket allows no more than these).
std::string check_name(std::string_view name, std::string_view what) {
    const std::string the = std::string(what) + " '" + std::string(name) + "'";
    if (name.empty()) return std::string(what) + " is empty";
    if (name.size() > max_name)
        return the + " is longer than " + std::to_string(max_name) + " characters";
    if (!std::all_of(name.begin(), name.end(), is_name_char))
        return the + " may hold only letters, digits, '_' and '-'";
    return {};
}

// A subject conveyor publishes to: tokens separated by '.', none empty, no wildcards (a
// message goes to one subject), nothing reserved for the server's own APIs.
std::string check_subject(std::string_view subject) {
    const std::string the = "the subject '" + std::string(subject) + "'";
    if (subject.empty()) return "no subject (expected nats://HOST:PORT/SUBJECT)";
    for (unsigned char c : subject)
        if (c <= 0x20 || c == 0x7f) return the + " contains a space or control character";
    if (subject.find_first_of("*>") != std::string_view::npos)
        return the + " contains a wildcard ('*' or '>'); messages go to one subject";
    if (subject.front() == '.' || subject.back() == '.' ||
        subject.find("..") != std::string_view::npos)
        return the + " has an empty token (a '.' at an end, or two in a row)";
    if (subject.front() == '$')
        return the + " starts with '$', which the server reserves for its own APIs";
    return {};
}

std::string stream_of(std::string_view subject) {
    std::string name(subject);
    for (char& c : name)
        c = c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return name;
}

// One server: [USER[:PASSWORD]@]HOST[:PORT], HOST a name, an IPv4 address or [IPv6].
std::string check_server(std::string_view server, std::string& url) {
    const std::string the = "the server '" + std::string(server) + "'";
    const auto at = server.rfind('@');
    std::string_view host = at == std::string_view::npos ? server : server.substr(at + 1);
    std::string_view port;
    bool has_port = false;
    if (!host.empty() && host.front() == '[') {
        const auto close = host.find(']');
        if (close == std::string_view::npos) return the + " has '[' without ']'";
        if (close + 1 < host.size()) {
            if (host[close + 1] != ':') return the + " has something other than ':PORT' after ']'";
            port = host.substr(close + 2);
            has_port = true;
        }
        host = host.substr(0, close + 1);
    } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
        port = host.substr(colon + 1);
        host = host.substr(0, colon);
        has_port = true;
    }
    if (host.empty() || host == "[]") return the + " has no host (expected HOST:PORT)";
    for (char c : host)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_' &&
            c != ':' && c != '[' && c != ']')
            return the + " has a host name with '" + std::string(1, c) + "'";
    unsigned number = default_port;
    if (has_port) {
        const auto [end, err] = std::from_chars(port.data(), port.data() + port.size(), number);
        if (port.empty() || err != std::errc() || end != port.data() + port.size() || number == 0 ||
            number > 65535)
            return the + " has port '" + std::string(port) + "', not a number from 1 to 65535";
    }
    url = "nats://" + std::string(server.substr(0, at == std::string_view::npos ? 0 : at + 1)) +
          std::string(host) + ":" + std::to_string(number);
    return {};
}

// A non-negative integer with an optional K, M or G (binary) unit.
bool parse_amount(std::string_view text, std::int64_t& out) {
    unsigned shift = 0;
    if (!text.empty()) {
        switch (text.back()) {
        case 'K':
            shift = 10;
            break;
        case 'M':
            shift = 20;
            break;
        case 'G':
            shift = 30;
            break;
        default:
            break;
        }
        if (shift != 0) text.remove_suffix(1);
    }
    std::int64_t value = 0;
    const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || err != std::errc() || end != text.data() + text.size() || value < 0 ||
        value > (std::numeric_limits<std::int64_t>::max() >> shift))
        return false;
    out = value << shift;
    return true;
}

bool parse_seconds(std::string_view text, double& out) {
    const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), out);
    return !text.empty() && err == std::errc() && end == text.data() + text.size() &&
           std::isfinite(out);
}

// Applies one query parameter; returns the reason it is wrong, or empty.
std::string apply_parameter(std::string_view key, std::string_view value, address& out) {
    const std::string the = "?" + std::string(key) + "=" + std::string(value);
    if (value.empty()) return the + ": no value";
    if (key == "stream") {
        out.stream = value;
    } else if (key == "durable") {
        out.durable = value;
    } else if (key == "creds") {
        out.creds = value;
    } else if (key == "replicas") {
        const auto [end, err] =
            std::from_chars(value.data(), value.data() + value.size(), out.replicas);
        if (value.empty() || err != std::errc() || end != value.data() + value.size() ||
            out.replicas < 1 || out.replicas > max_replicas)
            return the + ": expected a number of replicas from 1 to " +
                   std::to_string(max_replicas);
    } else if (key == "ack_wait") {
        double seconds = 0;
        if (!parse_seconds(value, seconds) || seconds < 0.001 || seconds > max_ack_wait_s)
            return the + ": expected seconds, from 0.001 to " +
                   std::to_string(static_cast<long>(max_ack_wait_s));
        out.ack_wait = std::chrono::milliseconds(std::llround(seconds * 1000));
    } else if (key == "max_bytes" || key == "max_msgs") {
        std::int64_t amount = 0;
        if (!parse_amount(value, amount) || amount == 0)
            return the + ": expected a positive number (K, M and G units allowed)";
        (key == "max_bytes" ? out.max_bytes : out.max_msgs) = amount;
    } else if (key == "max_age") {
        double seconds = 0;
        if (!parse_seconds(value, seconds) || seconds < 1 || seconds > 1e9)
            return the + ": expected a number of seconds, at least 1";
        out.max_age = std::chrono::seconds(std::llround(seconds));
    } else {
        return "unknown parameter '" + std::string(key) +
               "' (known: stream, durable, replicas, ack_wait, creds, max_bytes, max_msgs, "
               "max_age)";
    }
    return {};
}

std::string parse_query(std::string_view query, address& out) {
    std::vector<std::string_view> seen;
    while (!query.empty()) {
        const auto amp = std::min(query.find('&'), query.size());
        const std::string_view pair = query.substr(0, amp);
        query = amp < query.size() ? query.substr(amp + 1) : std::string_view{};
        const auto equals = pair.find('=');
        if (pair.empty() || equals == std::string_view::npos)
            return "query part '" + std::string(pair) + "' is not NAME=VALUE";
        const auto key = pair.substr(0, equals);
        if (std::find(seen.begin(), seen.end(), key) != seen.end())
            return "parameter '" + std::string(key) + "' given twice";
        seen.push_back(key);
        if (auto reason = apply_parameter(key, pair.substr(equals + 1), out); !reason.empty())
            return reason;
    }
    return {};
}

std::string parse(std::string_view rest, address& out) {
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) return "no subject (expected nats://HOST:PORT/SUBJECT)";
    std::string_view servers = rest.substr(0, slash);
    std::string_view path = rest.substr(slash + 1);
    std::string_view query;
    if (const auto mark = path.find('?'); mark != std::string_view::npos) {
        query = path.substr(mark + 1);
        path = path.substr(0, mark);
    }
    if (servers.empty()) return "no server (expected nats://HOST:PORT/SUBJECT)";
    while (true) {
        const auto comma = std::min(servers.find(','), servers.size());
        std::string url;
        if (auto reason = check_server(servers.substr(0, comma), url); !reason.empty())
            return reason;
        out.servers.push_back(std::move(url));
        if (comma == servers.size()) break;
        servers.remove_prefix(comma + 1);
    }
    if (auto reason = check_subject(path); !reason.empty()) return reason;
    out.subject = path;
    if (auto reason = parse_query(query, out); !reason.empty()) return reason;
    const bool derived = out.stream.empty();
    if (derived) out.stream = stream_of(out.subject);
    if (auto reason = check_name(out.stream, "the stream name"); !reason.empty())
        return derived ? reason + " (made from the subject; give ?stream=NAME)" : reason;
    if (out.durable.empty()) out.durable = std::string(durable_prefix) + out.stream;
    if (auto reason = check_name(out.durable, "the durable name"); !reason.empty()) return reason;
    return {};
}

} // namespace

std::string address::servers_text() const {
    std::string text;
    for (const auto& url : servers) {
        if (!text.empty()) text += ',';
        const auto at = url.find('@');
        text += at == std::string::npos ? url : "nats://" + url.substr(at + 1);
    }
    return text;
}

std::string without_passwords(std::string_view uri) {
    std::string text(uri);
    const auto servers_begin = text.find("://");
    if (servers_begin == std::string::npos) return text;
    const auto servers_end = std::min(text.find('/', servers_begin + 3), text.size());
    for (auto at = text.find('@', servers_begin); at < servers_end; at = text.find('@', at + 1)) {
        const auto start = text.find_last_of(",/", at) + 1; // the server's first character
        const auto colon = text.find(':', start);
        if (colon < at) {
            text.replace(colon + 1, at - colon - 1, "***");
            at = colon + 4;
        }
    }
    return text;
}

bool parse_address(std::string_view rest, address& out, std::string& why) {
    out = address{};
    why = parse(rest, out);
    return why.empty();
}

std::string check_address(std::string_view rest) {
    address ignored;
    std::string why;
    parse_address(rest, ignored, why);
    return why;
}

bool parse_endpoint(const endpoint& where, address& out, std::error_code& ec, std::string* why) {
    std::string reason;
    if (parse_address(where.name(), out, reason)) return true;
    ec = errc::invalid_endpoint;
    if (why) *why = without_passwords(where.uri()) + ": " + reason;
    return false;
}

} // namespace conveyor::nats::detail

// Endpoint parsing: every rejection names the URI and what is wrong with it.
#include "conveyor/endpoint.hpp"

#include "conveyor/error.hpp"
#include "nats/address.hpp"

#include <array>
#include <utility>

namespace conveyor {
namespace {

struct scheme_prefix {
    std::string_view prefix;
    scheme kind;
};

constexpr std::array<scheme_prefix, 7> prefixes{{
    {"shm://", scheme::shm},
    {"file://", scheme::file},
    {"topic://", scheme::topic},
    {"fifo://", scheme::fifo},
    {"pipe:", scheme::pipe},
    {"tcp://", scheme::tcp},
    {"nats://", scheme::nats},
}};

const char* scheme_text(scheme s) {
    switch (s) {
    case scheme::shm:
        return "shm";
    case scheme::fifo:
        return "fifo";
    case scheme::pipe:
        return "pipe";
    case scheme::tcp:
        return "tcp";
    case scheme::nats:
        return "nats";
    case scheme::file:
        return "file";
    case scheme::topic:
        return "topic";
    }
    return "?";
}

// Returns an empty string when the shm name is acceptable, else the reason.
std::string check_shm_name(std::string_view name) {
    if (name.empty()) return "the segment name is empty";
    if (name.find('/') != std::string_view::npos) return "the segment name contains '/'";
    if (name.size() > endpoint::max_shm_name)
        return "the segment name is longer than " + std::to_string(endpoint::max_shm_name) +
               " characters";
    if (name == "." || name == "..") return "the segment name cannot be '.' or '..'";
    if (name.front() == '.') return "the segment name cannot start with '.'";
    for (unsigned char c : name)
        if (c < 0x21 || c == 0x7f) return "the segment name contains a space or control character";
    return {};
}

// Returns an empty string when the path of a fifo:// or file:// endpoint is acceptable,
// else the reason. what: "FIFO" or "file"; example: a good URI of that scheme.
std::string check_path(std::string_view path, std::string_view what, std::string_view example) {
    const std::string the = "the " + std::string(what) + " path ";
    if (path.empty()) return the + "is empty (expected " + std::string(example) + ")";
    if (path.front() != '/')
        return the + "must be absolute (" + std::string(example) + ", with three slashes)";
    if (path.back() == '/') return the + "names a directory";
    if (path.find('\0') != std::string_view::npos) return the + "contains a NUL byte";
    return {};
}

} // namespace

bool is_supported(scheme s) noexcept {
    return s == scheme::shm || s == scheme::file || s == scheme::topic || s == scheme::fifo ||
           s == scheme::pipe || s == scheme::nats;
}

endpoint endpoint::parse(std::string_view uri, std::error_code& ec, std::string* why) {
    ec.clear();
    auto fail = [&](errc e, std::string reason) {
        ec = e;
        if (why) *why = "endpoint '" + std::string(uri) + "': " + std::move(reason);
        return endpoint{};
    };
    for (const auto& p : prefixes) {
        if (!uri.starts_with(p.prefix)) continue;
        endpoint result;
        result.kind_ = p.kind;
        result.name_ = std::string(uri.substr(p.prefix.size()));
        result.uri_ = std::string(uri);
        if (!is_supported(p.kind))
            return fail(errc::unsupported_scheme,
                        std::string(scheme_text(p.kind)) + ": transport not supported yet");
        std::string reason;
        if (p.kind == scheme::shm || p.kind == scheme::topic) reason = check_shm_name(result.name_);
        if (p.kind == scheme::fifo) reason = check_path(result.name_, "FIFO", "fifo:///tmp/f");
        if (p.kind == scheme::file)
            reason = check_path(result.name_, "file", "file:///var/lib/orders.queue");
        if (p.kind == scheme::nats) reason = nats::detail::check_address(result.name_);
        if (!reason.empty()) return fail(errc::invalid_endpoint, reason);
        if (p.kind == scheme::pipe && !result.name_.empty())
            return fail(errc::invalid_endpoint, "pipe: takes nothing after the colon");
        return result;
    }
    if (uri.empty()) return fail(errc::invalid_endpoint, "empty URI (expected e.g. shm://NAME)");
    auto colon = uri.find(':');
    if (colon == std::string_view::npos)
        return fail(errc::invalid_endpoint, "no scheme (expected e.g. shm://NAME)");
    const std::string_view given = uri.substr(0, colon);
    for (const auto& p : prefixes)
        if (given == scheme_text(p.kind))
            return fail(errc::invalid_endpoint, "malformed " + std::string(given) +
                                                    " URI (expected " + std::string(p.prefix) +
                                                    (p.kind == scheme::pipe ? "" : "...") + ")");
    return fail(errc::invalid_endpoint,
                "unknown scheme '" + std::string(given) +
                    "' (known: shm://, file://, topic://, fifo://, pipe:, nats://)");
}

endpoint endpoint::parse(std::string_view uri) {
    std::error_code ec;
    std::string why;
    endpoint result = parse(uri, ec, &why);
    if (ec) throw error(ec, why);
    return result;
}

} // namespace conveyor

// Endpoint parsing: every rejection names the URI and what is wrong with it.
#include "conveyor/endpoint.hpp"

#include "conveyor/error.hpp"

#include <array>
#include <utility>

namespace conveyor {
namespace {

struct scheme_prefix {
    std::string_view prefix;
    scheme kind;
};

constexpr std::array<scheme_prefix, 5> prefixes{{
    {"shm://", scheme::shm},
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

// Returns an empty string when the FIFO path is acceptable, else the reason.
std::string check_fifo_path(std::string_view path) {
    if (path.empty()) return "the FIFO path is empty (expected fifo:///abs/path)";
    if (path.front() != '/')
        return "the FIFO path must be absolute (fifo:///tmp/f, with three slashes)";
    if (path.back() == '/') return "the FIFO path names a directory";
    if (path.find('\0') != std::string_view::npos) return "the FIFO path contains a NUL byte";
    return {};
}

} // namespace

bool is_supported(scheme s) noexcept {
    return s == scheme::shm || s == scheme::fifo || s == scheme::pipe;
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
        if (p.kind == scheme::shm) {
            if (auto reason = check_shm_name(result.name_); !reason.empty())
                return fail(errc::invalid_endpoint, reason);
        }
        if (p.kind == scheme::fifo) {
            if (auto reason = check_fifo_path(result.name_); !reason.empty())
                return fail(errc::invalid_endpoint, reason);
        }
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
    return fail(errc::invalid_endpoint, "unknown scheme '" + std::string(given) +
                                            "' (known: shm://, fifo://, pipe:, tcp://, nats://)");
}

endpoint endpoint::parse(std::string_view uri) {
    std::error_code ec;
    std::string why;
    endpoint result = parse(uri, ec, &why);
    if (ec) throw error(ec, why);
    return result;
}

} // namespace conveyor

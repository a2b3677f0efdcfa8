// An endpoint names where messages go: "shm://NAME", "file:///abs/path", "topic://NAME",
// "fifo:///abs/path", "pipe:", "tcp://HOST:PORT" or "nats://HOST:PORT/SUBJECT".
#pragma once

#include <string>
#include <string_view>
#include <system_error>

namespace conveyor {

enum class scheme { shm, fifo, pipe, tcp, nats, file, topic };

class endpoint {
public:
    // The longest shm NAME: a file name in /dev/shm, leaving room for conveyor's suffixes.
    static constexpr std::size_t max_shm_name = 200;

    // Parses a URI; throws conveyor::error naming the URI and what is wrong with it.
    static endpoint parse(std::string_view uri);
    // As above; on failure sets ec and writes the reason to *why when given.
    static endpoint parse(std::string_view uri, std::error_code& ec, std::string* why = nullptr);

    scheme kind() const noexcept { return kind_; }
    // The scheme-specific part: the segment name for shm and topic, the path for fifo and
    // file, ...
    const std::string& name() const noexcept { return name_; }
    // The URI as given, for messages.
    const std::string& uri() const noexcept { return uri_; }

private:
    scheme kind_ = scheme::shm;
    std::string name_;
    std::string uri_;
};

// Whether this build carries messages over the scheme.
bool is_supported(scheme s) noexcept;

} // namespace conveyor

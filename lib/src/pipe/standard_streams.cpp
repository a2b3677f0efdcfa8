// The pipe: endpoint: frames on standard input and output, or to a spawned child.
#include "conveyor/error.hpp"
#include "conveyor/pipe/child.hpp"
#include "conveyor/pipe/stream.hpp"
#include "pipe/pipe_buffer.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace conveyor::pipe {
namespace {

// description: what the stream is, as error messages name it after the URI.
stream_options stream_options_of(const endpoint& where, const channel_options& options,
                                 const char* description) {
    return {options.lines ? framing::lines : framing::frames, options.max_message, nullptr,
            where.uri() + " (" + description + ")"};
}

// Takes over fd for the channel: a copy to keep, checked to be a pipe or socket, since a
// terminal or a file cannot be waited on with epoll.
int take_stream(int fd, const char* name, const endpoint& where, std::error_code& ec,
                std::string* why) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        ec = std::error_code(errno, std::system_category());
        if (why) *why = where.uri() + " (" + name + "): " + ec.message();
        return -1;
    }
    if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode)) {
        ec = errc::invalid_argument;
        if (why)
            *why = where.uri() + " (" + name + "): not a pipe (connect the apps with '|', or " +
                   "use --spawn)";
        return -1;
    }
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (copy < 0) {
        ec = std::error_code(errno, std::system_category());
        if (why) *why = where.uri() + " (" + name + "): " + ec.message();
    }
    return copy;
}

} // namespace

std::unique_ptr<stream_sender> open_pipe_sender(const endpoint& where,
                                                const channel_options& options, std::error_code& ec,
                                                std::string* why) {
    ec.clear();
    if (!options.spawn.empty()) {
        auto result = spawn_sender(
            options.spawn, where,
            stream_options_of(where, options, "the spawned command's standard input"), ec);
        if (ec && why) *why = where.uri() + " (starting '" + options.spawn + "'): " + ec.message();
        return result;
    }
    const int fd = take_stream(STDOUT_FILENO, "standard output", where, ec, why);
    if (fd < 0) return nullptr;
    detail::fit_pipe_buffer(fd, options.max_message);
    const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0) {
        ::dup2(null, STDOUT_FILENO);
        ::close(null);
    }
    return std::make_unique<stream_sender>(fd, where,
                                           stream_options_of(where, options, "standard output"));
}

std::unique_ptr<stream_receiver> open_pipe_receiver(const endpoint& where,
                                                    const channel_options& options,
                                                    std::error_code& ec, std::string* why) {
    ec.clear();
    const int fd = take_stream(STDIN_FILENO, "standard input", where, ec, why);
    if (fd < 0) return nullptr;
    detail::fit_pipe_buffer(fd, options.max_message);
    return std::make_unique<stream_receiver>(fd, where,
                                             stream_options_of(where, options, "standard input"));
}

} // namespace conveyor::pipe

// A child process connected to its parent by pipes: the parent writes to the child's
// standard input, reads its standard output, or both (full duplex over a pair of pipes).
#pragma once

#include "conveyor/pipe/stream.hpp"

#include <string>
#include <sys/types.h>
#include <system_error>
#include <vector>

namespace conveyor::pipe {

class child {
public:
    struct pipes {
        bool to_stdin = true;     // the parent writes, the child reads its standard input
        bool from_stdout = false; // the child writes its standard output, the parent reads
    };

    // Starts argv[0] (searched in PATH) with argv; the pipes asked for replace its standard
    // input and output, the rest is inherited. It runs in a process group of its own, so
    // that a terminal's Ctrl-C stops the parent, not the child it feeds. Throws
    // conveyor::error naming the program.
    child(const std::vector<std::string>& argv, pipes connect);
    child(const std::vector<std::string>& argv, pipes connect, std::error_code& ec);
    // /bin/sh -c command, as a shell runs one command line.
    static std::vector<std::string> shell(const std::string& command);

    ~child(); // closes the pipes and waits for the child
    child(const child&) = delete;
    child& operator=(const child&) = delete;

    pid_t pid() const noexcept { return pid_; }
    // The parent's pipe ends, handed over once each (-1 when not asked for or taken).
    int take_stdin() noexcept;
    int take_stdout() noexcept;

    // Waits for the child to end: its exit status, or 128 + N when signal N ended it.
    int wait();
    int wait(std::error_code& ec);

private:
    void start(const std::vector<std::string>& argv, pipes connect, std::error_code& ec);

    pid_t pid_ = -1;
    int stdin_ = -1;
    int stdout_ = -1;
    int status_ = -1;
};

// A sender writing frames to the standard input of `sh -c command`; closing it closes the
// pipe and waits for the child (see stream_sender::child_status).
std::unique_ptr<stream_sender> spawn_sender(const std::string& command, const endpoint& where,
                                            const stream_options& options, std::error_code& ec);

} // namespace conveyor::pipe

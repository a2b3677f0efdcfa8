// Runs a real program as a child process for integration tests: arguments, optional
// standard input, standard output and error captured in files, signals, exit status.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace conveyor::test {

// The status a sanitizer ends a process with after its first report (scripts/test sets it
// in ASAN_OPTIONS, UBSAN_OPTIONS and TSAN_OPTIONS); no app exits with it otherwise.
inline constexpr int sanitizer_exit_code = 86;

// Asks child_process to keep the child's standard input open until close_input(): a stream
// read from it lasts as long as the test wants, however fast the machine.
struct held_input_t {
    explicit held_input_t() = default;
};
inline constexpr held_input_t held_input{};

class child_process {
public:
    // Starts program with args; stdin_data is written to its standard input (then closed).
    // Standard output goes to stdout_path when given (e.g. /dev/full), else is captured.
    child_process(const std::string& program, const std::vector<std::string>& args,
                  const std::string& stdin_data = {}, const std::string& stdout_path = {});
    // Starts program with args and a standard input that write_input() feeds.
    child_process(held_input_t, const std::string& program, const std::vector<std::string>& args,
                  const std::string& stdout_path = {});
    ~child_process(); // kills and reaps the child if it still runs
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    pid_t pid() const noexcept { return pid_; }
    // With held_input only: writes data to the child's standard input, waiting while the
    // pipe is full (the child must be reading); close_input() ends that input.
    void write_input(std::string_view data);
    void close_input();
    void signal(int number) const;
    // Waits for the exit; kills the child and fails the test after timeout. Returns the exit
    // status, or 128 + signal number when a signal ended it. A child that exits with
    // sanitizer_exit_code fails the test, whatever status the test expects.
    int wait(std::chrono::seconds timeout = std::chrono::seconds(120));
    bool exited() const noexcept { return reaped_; }
    // Whether the child has ended, reaped or not; it is not reaped here (wait() does that).
    bool has_ended() const;

    // What the child wrote so far (all of it once wait returned).
    std::string out() const;
    std::string err() const;
    // Bytes of standard output so far, without reading them: for polling a child's progress.
    std::uintmax_t out_size() const;

private:
    // Forks and execs program; returns the write end of its standard input.
    int start(const std::string& program, const std::vector<std::string>& args,
              const std::string& stdout_path);
    void check_for_sanitizer_report() const;

    std::string command_; // the program and its arguments, for messages
    pid_t pid_ = -1;
    int input_ = -1; // the held standard input's write end
    bool reaped_ = false;
    int status_ = 0;
    std::string out_path_;
    std::string err_path_;
};

// Runs a program to completion and returns its exit status (see child_process::wait).
struct run_result {
    int status;
    std::string out;
    std::string err;
};
run_result run(const std::string& program, const std::vector<std::string>& args,
               const std::string& stdin_data = {});

// Polls condition every few milliseconds until it holds or timeout passes. The timeout only
// bounds a failing test: a minute, so that a loaded machine or a sanitizer build is never
// mistaken for a failure.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));
// eventually, for a condition on a count that a flow makes grow: waits as long as progress()
// keeps changing, and fails only once it has stood still for stall. A flow through several
// processes on a loaded machine may take minutes and still be right; one that stopped is not.
bool eventually_moving(const std::function<bool()>& condition,
                       const std::function<std::uint64_t()>& progress,
                       std::chrono::milliseconds stall = std::chrono::milliseconds(60000));
// eventually_moving for a count that must reach target: fails once it stood still for stall.
bool eventually_reaches(const std::function<std::uint64_t()>& count, std::uint64_t target,
                        std::chrono::milliseconds stall = std::chrono::milliseconds(60000));

} // namespace conveyor::test

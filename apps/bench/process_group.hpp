// The processes of one run: forked children that open their ends, wait at a barrier until
// all are ready, and report back to the parent through a pipe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <sys/types.h>
#include <type_traits>
#include <vector>

namespace conveyor::bench {

// CLOCK_MONOTONIC in nanoseconds: comparable across the processes of a run.
std::int64_t monotonic_ns();

// Faults in every page this process has mapped (queues and buffers included) and unlocks
// them again: the page faults of a fresh mapping are paid before the start, not timed.
void touch_memory() noexcept;

class process_group {
public:
    // A child that does not report within this long counts as hung.
    static constexpr int hang_ms = 120'000;

    process_group();
    ~process_group(); // kills and reaps the children still there
    process_group(const process_group&) = delete;
    process_group& operator=(const process_group&) = delete;

    // Forks a child that runs body() and exits: 0, or 1 when body throws (said on stderr).
    // body opens its ends, then calls started() and goes on once every child has started.
    void spawn(const std::function<void()>& body);

    // In a child: faults in its memory, says it is ready, waits for the start.
    void started();
    // In a child: sends report to the parent in one write.
    template <class Report> void send(const Report& report) {
        static_assert(std::is_trivially_copyable_v<Report> && sizeof(Report) <= 4096);
        write_report(&report, sizeof report);
    }

    // In the parent: waits for n more children to be ready; false if one died or hung.
    bool wait_ready(std::size_t n);
    // In the parent: starts every child at once; returns when, in monotonic_ns().
    std::int64_t start();
    // In the parent: the next report; false if the children died or hung.
    template <class Report> bool receive(Report& report) {
        return read_report(&report, sizeof report);
    }
    // Waits for every child; true when all exited with status 0.
    bool reap();

    // Why the last wait_ready() or receive() failed, and each child's state then:
    // "no word in 120 s; pid 123 running, pid 124 killed by signal 9, ...".
    const std::string& failure() const noexcept { return failure_; }

private:
    void write_report(const void* data, std::size_t n);
    bool read_report(void* data, std::size_t n);
    // Sets failure_ to why and the children's states, without reaping them.
    void describe_failure(const std::string& why);

    int ready_[2] = {-1, -1};   // children write a byte each when ready
    int go_[2] = {-1, -1};      // the parent closes it: the start
    int reports_[2] = {-1, -1}; // children's reports to the parent
    std::vector<pid_t> pids_;
    std::string failure_;
};

} // namespace conveyor::bench

// ECHO round trips: see echo_bench.hpp.
#include "echo_bench.hpp"

#include "calc.hpp"

#include <conveyor/error.hpp>
#include <conveyor/rpc/async_call.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace calc {
namespace {

using clock = std::chrono::steady_clock;

// The payload of call i: its bytes say which call it is, so a reply to another is caught.
data payload(std::uint64_t i, std::size_t size) {
    data bytes(size);
    for (std::size_t k = 0; k < size; ++k)
        bytes[k] = std::byte(static_cast<std::uint8_t>((i >> (8 * (k % 8))) + k));
    return bytes;
}

[[noreturn]] void mismatch(std::uint64_t i) {
    throw conveyor::error(make_error_code(conveyor::errc::corrupt_data),
                          "ECHO call " + std::to_string(i) + ": the reply differs from the call");
}

double percentile(std::vector<double>& sorted_us, double p) {
    if (sorted_us.empty()) return 0;
    const auto at = static_cast<std::size_t>(p * double(sorted_us.size() - 1));
    return sorted_us[at];
}

// Asynchronous calls, in_flight at a time, until `calls` have been answered.
void run_in_flight(conveyor::rpc::client& c, const conveyor::rpc::procedure_at<data, data>& echo,
                   std::uint64_t calls, std::size_t size, std::size_t in_flight,
                   std::chrono::nanoseconds timeout, std::vector<double>& rtt_us) {
    std::mutex mutex;
    std::condition_variable all_done;
    std::uint64_t started = 0, finished = 0;
    std::error_code failure;
    std::string failure_text;
    std::vector<data> sent(in_flight);

    // Each completion (on the client's reply thread) checks its reply and starts the next.
    // Call numbers are claimed under the mutex (started), so that no two lanes take the
    // last one; a lane's own payload (sent[lane]) is touched only by its chain of calls.
    std::function<void(std::size_t, std::uint64_t)> start = [&](std::size_t lane, std::uint64_t i) {
        sent[lane] = payload(i, size);
        const auto began = clock::now();
        conveyor::rpc::async_call(
            c, echo, sent[lane], timeout,
            [&, lane, i, began](boost::system::error_code ec, data reply) {
                const auto took = clock::now() - began;
                std::unique_lock lock(mutex);
                if (ec && !failure) {
                    failure = ec;
                    failure_text = "ECHO call " + std::to_string(i) + ": " + ec.message();
                } else if (!ec && reply != sent[lane] && !failure) {
                    failure = make_error_code(conveyor::errc::corrupt_data);
                    failure_text =
                        "ECHO call " + std::to_string(i) + ": the reply differs from the call";
                }
                rtt_us.push_back(std::chrono::duration<double, std::micro>(took).count());
                ++finished;
                if (!failure && started < calls) {
                    const std::uint64_t next = started++;
                    lock.unlock();
                    start(lane, next);
                    return;
                }
                all_done.notify_one();
            });
    };
    {
        std::unique_lock lock(mutex);
        for (std::size_t lane = 0; lane < in_flight && started < calls; ++lane) {
            const std::uint64_t i = started++;
            lock.unlock();
            start(lane, i);
            lock.lock();
        }
        all_done.wait(lock, [&] { return finished == started && (failure || started == calls); });
    }
    if (failure) throw conveyor::error(failure, failure_text);
}

} // namespace

echo_figures run_echo_bench(conveyor::rpc::client& c, std::uint64_t calls, std::size_t size,
                            std::size_t in_flight, std::chrono::nanoseconds timeout,
                            std::uint32_t program, std::uint32_t version, std::uint64_t warm_up) {
    const auto call = conveyor::rpc::with_program(echo, program, version);
    for (std::uint64_t i = 0; i < warm_up; ++i)
        if (c.call(call, payload(i, size), timeout) != payload(i, size)) mismatch(i);

    std::vector<double> rtt_us;
    rtt_us.reserve(calls);
    const auto began = clock::now();
    if (in_flight <= 1) {
        for (std::uint64_t i = 0; i < calls; ++i) {
            const auto sent = payload(i, size);
            const auto t0 = clock::now();
            const auto reply = c.call(call, sent, timeout);
            rtt_us.push_back(std::chrono::duration<double, std::micro>(clock::now() - t0).count());
            if (reply != sent) mismatch(i);
        }
    } else {
        run_in_flight(c, call, calls, size, in_flight, timeout, rtt_us);
    }
    echo_figures f;
    f.seconds = std::chrono::duration<double>(clock::now() - began).count();
    f.calls_per_s = f.seconds > 0 ? double(calls) / f.seconds : 0;
    std::sort(rtt_us.begin(), rtt_us.end());
    f.p50_us = percentile(rtt_us, 0.50);
    f.p99_us = percentile(rtt_us, 0.99);
    return f;
}

} // namespace calc

// Forks the processes of a run, starts them together and checks what they report. The
// creation of queues, the opening of ends and the first touch of their memory all happen
// before the start barrier, for every transport alike.
#include "harness.hpp"

#include "process_group.hpp"

#include "conveyor/generated_message.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace conveyor::bench {
namespace {

using clock = std::chrono::steady_clock; // CLOCK_MONOTONIC: comparable across processes

// Ping-pong round trips before these are warm-up, left out of the percentiles.
constexpr std::uint64_t warmup_round_trips = 100;

// What a consumer (or the ping-pong client) tells the parent, in one write to a pipe.
struct report {
    std::uint64_t messages = 0;
    std::uint64_t sequence_sum = 0; // with the count, catches a message lost and another doubled
    std::uint64_t lost = 0;
    std::uint64_t duplicated = 0;
    std::uint64_t corrupt = 0;
    std::uint64_t out_of_order = 0;
    std::int64_t end_ns = 0;
    double rtt_p50_us = 0;
    double rtt_p99_us = 0;
};

std::uint64_t sequence_of(std::span<const std::byte> message) {
    std::uint64_t sequence = 0; // generated_message.hpp: little-endian at offset 8
    if (message.size() < generated_header_size) return sequence;
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(&sequence, message.data() + 8, 8); // one load, on every message received
    } else {
        for (int i = 7; i >= 0; --i)
            sequence = (sequence << 8) | std::to_integer<std::uint64_t>(message[8 + i]);
    }
    return sequence;
}
// Receives and verifies a lane's messages until its stream ends.
// Copies what the verifier found into the report a process sends to the parent.
void record_verdict(const stream_verifier& verifier, report& r) {
    const auto s = verifier.result();
    r.messages = s.messages;
    r.lost = s.lost;
    r.duplicated = s.duplicated;
    r.corrupt = s.corrupt;
    r.out_of_order = s.out_of_order;
}

report consume(reader& in) {
    stream_verifier verifier;
    report r;
    while (auto message = in.receive()) {
        verifier.observe(*message);
        r.sequence_sum += sequence_of(*message);
    }
    r.end_ns = monotonic_ns();
    record_verdict(verifier, r);
    return r;
}

measurement fail(std::string why) {
    measurement m;
    m.failure = std::move(why);
    return m;
}

measurement run_throughput(transport& t, const config& setting, const workload& work) {
    const std::size_t ends = work.kind == pattern::four_to_four ? 4 : 1;
    const std::uint64_t per_producer = work.count / ends;
    lane_plan plan;
    plan.max_message = work.size;
    plan.lanes = t.shares_lanes() ? 1 : ends;
    plan.writers_per_lane = ends / plan.lanes;
    plan.readers_per_lane = ends / plan.lanes;
    plan.streaming = true;
    auto lanes = t.open(setting, plan);
    touch_memory();

    process_group group;
    // Consumers first: a queue's end of stream counts the producers that attach after them.
    for (std::size_t i = 0; i < ends; ++i)
        group.spawn([&, i] {
            auto in = lanes->open_reader(i % plan.lanes);
            lanes->forget();
            group.started();
            group.send(consume(*in));
        });
    if (!group.wait_ready(ends)) return fail("a consumer did not start: " + group.failure());
    for (std::size_t i = 0; i < ends; ++i)
        group.spawn([&, i] {
            auto out = lanes->open_writer(i % plan.lanes);
            lanes->forget();
            const message_generator generator(make_producer_id(), work.size, per_producer);
            group.started();
            for (std::uint64_t sequence = 0; sequence < per_producer; ++sequence) {
                generator.make(sequence, out->prepare(work.size));
                out->commit();
            }
            out->close();
        });
    lanes->forget();
    if (!group.wait_ready(ends)) return fail("a producer did not start: " + group.failure());
    const std::int64_t t0 = group.start();

    report total;
    std::int64_t end_ns = t0;
    for (std::size_t i = 0; i < ends; ++i) {
        report r;
        if (!group.receive(r)) return fail("a consumer died or hung: " + group.failure());
        total.messages += r.messages;
        total.sequence_sum += r.sequence_sum;
        total.duplicated += r.duplicated;
        total.corrupt += r.corrupt;
        total.out_of_order += r.out_of_order;
        end_ns = std::max(end_ns, r.end_ns);
    }
    if (!group.reap()) return fail("a process failed");

    const std::uint64_t sent = per_producer * ends;
    const std::uint64_t expected_sum = ends * (per_producer * (per_producer - 1) / 2);
    if (total.messages != sent || total.sequence_sum != expected_sum)
        return fail("received " + std::to_string(total.messages) + " of " + std::to_string(sent));
    if (total.duplicated + total.corrupt + total.out_of_order != 0)
        return fail(std::to_string(total.duplicated) + " duplicated, " +
                    std::to_string(total.corrupt) + " corrupt, " +
                    std::to_string(total.out_of_order) + " out of order");
    const double seconds = double(end_ns - t0) * 1e-9;
    measurement m;
    m.verified = true;
    m.msgs_per_s = double(sent) / seconds;
    m.mb_per_s = double(sent) * double(work.size) / seconds / 1e6;
    return m;
}

// One producer, fan_out_readers consumers that each must receive every message, in order.
// The rate is of messages published: each is delivered fan_out_readers times.
constexpr std::size_t fan_out_readers = 4;

measurement run_fan_out(transport& t, const config& setting, const workload& work) {
    lane_plan plan;
    plan.max_message = work.size;
    plan.lanes = t.shares_lanes() ? 1 : fan_out_readers;
    plan.readers_per_lane = fan_out_readers / plan.lanes;
    plan.streaming = true;
    plan.fan_out = true;
    auto lanes = t.open(setting, plan);
    touch_memory();

    process_group group;
    // Readers first: a topic's subscriber sees what is published after it subscribed.
    for (std::size_t i = 0; i < fan_out_readers; ++i)
        group.spawn([&, i] {
            auto in = lanes->open_reader(i % plan.lanes);
            lanes->forget();
            group.started();
            group.send(consume(*in));
        });
    if (!group.wait_ready(fan_out_readers))
        return fail("a consumer did not start: " + group.failure());
    group.spawn([&] {
        auto out = lanes->open_writer(0);
        lanes->forget();
        const message_generator generator(make_producer_id(), work.size, work.count);
        group.started();
        for (std::uint64_t sequence = 0; sequence < work.count; ++sequence) {
            generator.make(sequence, out->prepare(work.size));
            out->commit();
        }
        out->close();
    });
    lanes->forget();
    if (!group.wait_ready(1)) return fail("the producer did not start: " + group.failure());
    const std::int64_t t0 = group.start();

    std::int64_t end_ns = t0;
    const std::uint64_t expected_sum = work.count * (work.count - 1) / 2;
    for (std::size_t i = 0; i < fan_out_readers; ++i) {
        report r;
        if (!group.receive(r)) return fail("a consumer died or hung: " + group.failure());
        if (r.messages != work.count || r.sequence_sum != expected_sum)
            return fail("a consumer received " + std::to_string(r.messages) + " of " +
                        std::to_string(work.count));
        if (r.duplicated + r.corrupt + r.out_of_order != 0)
            return fail(std::to_string(r.duplicated) + " duplicated, " + std::to_string(r.corrupt) +
                        " corrupt, " + std::to_string(r.out_of_order) + " out of order");
        end_ns = std::max(end_ns, r.end_ns);
    }
    if (!group.reap()) return fail("a process failed");
    const double seconds = double(end_ns - t0) * 1e-9;
    measurement m;
    m.verified = true;
    m.msgs_per_s = double(work.count) / seconds;
    m.mb_per_s = double(work.count) * double(work.size) / seconds / 1e6;
    return m;
}

double percentile(std::vector<double>& values, double fraction) {
    if (values.empty()) return 0;
    const auto at = static_cast<std::size_t>(fraction * double(values.size() - 1));
    std::nth_element(values.begin(), values.begin() + std::ptrdiff_t(at), values.end());
    return values[at];
}

// Lane 0 carries the client's messages to the server, lane 1 the echoes back. Both know the
// number of round trips, so neither waits for an end of stream.
measurement run_pingpong(transport& t, const config& setting, const workload& work) {
    lane_plan plan;
    plan.max_message = work.size;
    plan.lanes = 2;
    auto lanes = t.open(setting, plan);
    touch_memory();

    process_group group;
    group.spawn([&] { // the server
        auto in = lanes->open_reader(0);
        auto out = lanes->open_writer(1);
        lanes->forget();
        group.started();
        for (std::uint64_t i = 0; i < work.count; ++i) {
            const auto message = in->receive();
            if (!message) throw std::runtime_error("ping-pong: the stream ended early");
            auto echo = out->prepare(message->size());
            std::memcpy(echo.data(), message->data(), message->size());
            out->commit();
        }
        out->close();
    });
    group.spawn([&] { // the client
        auto out = lanes->open_writer(0);
        auto in = lanes->open_reader(1);
        lanes->forget();
        const message_generator generator(make_producer_id(), work.size, work.count);
        std::vector<double> rtt_us;
        rtt_us.reserve(work.count);
        stream_verifier verifier;
        report r;
        group.started();
        for (std::uint64_t sequence = 0; sequence < work.count; ++sequence) {
            const auto sent_at = clock::now();
            generator.make(sequence, out->prepare(work.size));
            out->commit();
            const auto echo = in->receive();
            const auto back_at = clock::now();
            if (!echo) throw std::runtime_error("ping-pong: the echo stream ended early");
            if (sequence >= warmup_round_trips)
                rtt_us.push_back(
                    std::chrono::duration<double, std::micro>(back_at - sent_at).count());
            verifier.observe(*echo);
            r.sequence_sum += sequence_of(*echo);
        }
        r.end_ns = monotonic_ns();
        out->close();
        record_verdict(verifier, r);
        r.rtt_p50_us = percentile(rtt_us, 0.50);
        r.rtt_p99_us = percentile(rtt_us, 0.99);
        group.send(r);
    });
    lanes->forget();
    if (!group.wait_ready(2)) return fail("a ping-pong process did not start: " + group.failure());
    group.start();
    report r;
    if (!group.receive(r)) return fail("the ping-pong client died or hung: " + group.failure());
    if (!group.reap()) return fail("a process failed");
    if (r.messages != work.count || r.lost + r.duplicated + r.corrupt + r.out_of_order != 0)
        return fail("echoes: " + stream_verifier::describe({r.messages, 1, r.lost, r.duplicated,
                                                            r.corrupt, r.out_of_order}));
    measurement m;
    m.verified = true;
    m.rtt_p50_us = r.rtt_p50_us;
    m.rtt_p99_us = r.rtt_p99_us;
    return m;
}

} // namespace

const char* to_string(pattern p) noexcept {
    switch (p) {
    case pattern::one_to_one:
        return "1x1";
    case pattern::four_to_four:
        return "4x4";
    case pattern::pingpong:
        return "pingpong";
    case pattern::fan_out:
        return "1to4";
    case pattern::rpc_call:
        return "rpc";
    case pattern::rpc_16:
        return "rpc16";
    }
    return "?";
}

measurement run(transport& t, const config& setting, const workload& work) {
    switch (work.kind) {
    case pattern::pingpong:
        return run_pingpong(t, setting, work);
    case pattern::fan_out:
        return run_fan_out(t, setting, work);
    default:
        return run_throughput(t, setting, work);
    }
}

} // namespace conveyor::bench

// What the nats rows (conveyor-nats, nats-c) share: one nats-server with JetStream for the
// whole bench, and a way to run nats.c only in forked children. The bench forks its
// producers and consumers, and a process that forks after nats.c started its threads
// leaves the child with locks that no thread will ever release: the parent never calls
// nats.c, so that every child starts it afresh.
#pragma once

#include <functional>
#include <string>

namespace conveyor::bench {

// "nats://127.0.0.1:PORT" of the bench's server, started on first use in a folder of its
// own (R1, file storage) on a port the kernel picks, stopped when the bench exits or dies.
// Throws when nats-server cannot be run.
const std::string& bench_nats_url();

// Runs body in a forked child and waits for it; throws if it failed.
void in_child(const std::string& what, const std::function<void()>& body);

// The stream of one lane of a run: its name and subject.
struct nats_lane {
    std::string stream;
    std::string subject;
};
nats_lane make_nats_lane(const std::string& prefix);

} // namespace conveyor::bench

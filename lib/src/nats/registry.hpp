// Producers' attach and close, out of band: one record per producer in a JetStream key-value
// bucket beside the stream, so that every receiver of a shared durable sees them (a marker
// in the stream would reach only one). docs/nats.md, "End of stream", has the rules.
#pragma once

#include "nats/address.hpp"
#include "nats/connection.hpp"

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

namespace conveyor::nats::detail {

using registry_clock = std::chrono::steady_clock;

// A live producer rewrites its record this often.
inline constexpr std::chrono::seconds heartbeat_interval{1};
// An anonymous producer whose record a receiver has not seen change for this long has died.
// Long enough to ride out a reconnect and the election of the bucket's leader in a cluster
// (a few seconds), short enough that a consumer is not kept waiting long by a dead producer.
inline constexpr std::chrono::seconds heartbeat_expiry{10};

// The bucket of the producer records of a stream.
std::string registry_bucket(const address& where);

// A producer's own record: "open" from attach until close, rewritten every heartbeat by a
// thread of its own. A named producer's record is keyed by its name, so the next process
// under that name takes it over, and a dead one keeps the stream open.
class producer_record {
public:
    static std::unique_ptr<producer_record> attach(const connection& c, const address& where,
                                                   const std::string& name,
                                                   registry_clock::time_point give_up,
                                                   std::error_code& ec, std::string& why);
    // Stops the heartbeat and leaves the record as it is: the producer died, as far as the
    // receivers can tell.
    ~producer_record();
    producer_record(const producer_record&) = delete;
    producer_record& operator=(const producer_record&) = delete;

    // Stops the heartbeat and marks the record closed, trying until give_up. A record that
    // another process under the same name has taken over is left to it.
    bool close(registry_clock::time_point give_up, std::error_code& ec, std::string& why);

private:
    producer_record() = default;
    void beat();
    // Writes state over the record as this producer last wrote it; true when it is ours.
    bool rewrite(const char* state);
    std::string value(const char* state) const;
    void stop_heartbeat();

    kvStore* kv_ = nullptr;
    std::string key_;
    std::string instance_; // this process's mark in the record, to tell a successor apart
    std::string bucket_;
    std::uint64_t revision_ = 0; // of our last write; only the heartbeat thread or close()
    bool superseded_ = false;    // another process under our name took the record
    std::mutex mutex_;           // guards stop_
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread heartbeat_;
};

// A receiver's view of the producer records: which producers attached to its stream and
// whether all of them have closed or died.
class producer_watch {
public:
    static std::unique_ptr<producer_watch> open(const connection& c, const address& where,
                                                registry_clock::time_point give_up,
                                                std::error_code& ec, std::string& why);
    ~producer_watch();
    producer_watch(const producer_watch&) = delete;
    producer_watch& operator=(const producer_watch&) = delete;

    // Takes the changes that arrived since the last call (waiting a millisecond for them).
    void refresh();
    // The producers of this receiver's stream seen so far.
    std::size_t attached() const noexcept { return attached_; }
    // Whether each of them closed, or is anonymous and its heartbeat stopped.
    bool all_finished(registry_clock::time_point now) const;
    // Whether every record there was at the start has been read (a busy server may send
    // them late).
    bool complete() const noexcept { return complete_; }
    // The stream found at the start was over: its producers belong to it, not to this
    // receiver's stream, which begins with the next record written.
    void begin_next_stream();

private:
    producer_watch() = default;
    void take(kvEntry* entry);
    // Ages the records read at the start by the server's clock, if it answers.
    void date_records();

    struct record {
        bool named = false;
        bool closed = false;
        bool counted = false;               // attached to this receiver's stream
        std::int64_t written = 0;           // server time of its last write, ns since the epoch
        registry_clock::time_point changed; // when it last changed, by our clock
    };
    kvStore* kv_ = nullptr;
    kvWatcher* watcher_ = nullptr;
    std::map<std::string, record> records_;
    std::size_t attached_ = 0;
    bool complete_ = false;
};

} // namespace conveyor::nats::detail

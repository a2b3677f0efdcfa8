// The producer records of a stream in a key-value bucket: written by producers (attach, a
// heartbeat, close), watched by receivers.
#include "nats/registry.hpp"

#include "nats/failure.hpp"
#include "nats/setup.hpp"

#include <cstdio>
#include <optional>
#include <random>
#include <thread>
#include <unistd.h>

namespace conveyor::nats::detail {
namespace {

constexpr std::string_view bucket_prefix = "conveyor-producers-";
constexpr std::string_view open_state = "open";
constexpr std::string_view closed_state = "closed";
constexpr std::string_view named_prefix = "named.";
constexpr std::string_view anonymous_prefix = "anonymous.";
// Written by receivers to learn the server's time; not a producer.
constexpr std::string_view clock_key = "clock";
// Between attempts that the server did not take (a reconnect, a cluster electing leaders).
constexpr std::chrono::milliseconds retry_interval{100};
// A receiver's look for changes waits this long for one: nats.c's shortest wait.
constexpr std::chrono::milliseconds watch_poll{1};

std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    for (unsigned char c : bytes) {
        text += digits[c >> 4];
        text += digits[c & 15];
    }
    return text;
}

std::string random_instance() {
    std::random_device seed;
    std::mt19937_64 bits((std::uint64_t(seed()) << 32) ^ seed() ^ std::uint64_t(::getpid()));
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(bits()));
    return text;
}

// "STATE INSTANCE ...": the record's state and the instance that wrote it.
std::pair<std::string_view, std::string_view> parse_value(std::string_view value) {
    const auto space = value.find(' ');
    if (space == std::string_view::npos) return {value, {}};
    const auto rest = value.substr(space + 1);
    return {value.substr(0, space), rest.substr(0, rest.find(' '))};
}

// The stream behind a bucket, as nats.c names it.
std::string bucket_stream(const std::string& bucket) {
    return "KV_" + bucket;
}

// A bucket found or created may be one another opener is still making: its watch would
// never deliver (wait_until_serving). Buckets allow direct gets unless made by an old client.
bool bucket_serving(const connection& c, const std::string& bucket,
                    registry_clock::time_point give_up, std::error_code& ec, std::string& why) {
    const std::string stream = bucket_stream(bucket);
    jsStreamInfo* info = nullptr;
    if (js_GetStreamInfo(&info, c.js(), stream.c_str(), nullptr, nullptr) != NATS_OK)
        return true; // not answering now: the puts and the watch say what is wrong
    const bool direct = info->Config->AllowDirect;
    jsStreamInfo_Destroy(info);
    return !direct || wait_until_serving(c, stream, give_up, ec, why);
}

bool open_bucket(const connection& c, const address& where, registry_clock::time_point give_up,
                 kvStore*& kv, std::error_code& ec, std::string& why) {
    const std::string bucket = registry_bucket(where);
    bool raced = false; // a creation refused once, as another opener's was under way
    for (;;) {
        natsStatus s = js_KeyValue(&kv, c.js(), bucket.c_str());
        const bool creating = s == NATS_NOT_FOUND;
        if (creating) {
            kvConfig config;
            kvConfig_Init(&config);
            config.Bucket = bucket.c_str();
            config.History = 1;
            config.StorageType = js_FileStorage;
            config.Replicas = where.replicas;
            s = js_CreateKeyValue(&kv, c.js(), &config);
        }
        if (s == NATS_OK) return bucket_serving(c, bucket, give_up, ec, why);
        // Two openers that both found no bucket both create it: the server refuses the
        // second ("name in use", or "subjects overlap" while the first's is half made).
        // Look again once: the other's bucket is there now.
        if (creating && !raced) {
            raced = true;
            continue;
        }
        const bool transient = s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS;
        if (!transient || registry_clock::now() + retry_interval >= give_up) {
            ec = failure::refused;
            why = "producer registry " + bucket + " on " + c.server() + ": " + last_error_text(s);
            return false;
        }
        std::this_thread::sleep_for(retry_interval);
    }
}

// Where the records a bucket holds now end: its last sequence, 0 when it holds none; nullopt
// when it cannot be read.
std::optional<std::uint64_t> records_end(const connection& c, const std::string& bucket) {
    jsStreamInfo* info = nullptr;
    if (js_GetStreamInfo(&info, c.js(), bucket_stream(bucket).c_str(), nullptr, nullptr) != NATS_OK)
        return std::nullopt;
    const std::uint64_t end = info->State.Msgs == 0 ? 0 : info->State.LastSeq;
    jsStreamInfo_Destroy(info);
    return end;
}

} // namespace

std::string registry_bucket(const address& where) {
    return std::string(bucket_prefix) + where.stream;
}

std::unique_ptr<producer_record> producer_record::attach(const connection& c, const address& where,
                                                         const std::string& name,
                                                         registry_clock::time_point give_up,
                                                         std::error_code& ec, std::string& why) {
    std::unique_ptr<producer_record> record(new producer_record);
    if (!open_bucket(c, where, give_up, record->kv_, ec, why)) return nullptr;
    record->bucket_ = registry_bucket(where);
    record->instance_ = random_instance();
    // A name may hold any byte; keys may not: hex keeps them apart and valid.
    record->key_ = name.empty() ? std::string(anonymous_prefix) + record->instance_
                                : std::string(named_prefix) + hex(name);
    // Put, not create: a named producer takes the record of the one before it.
    const std::string value = record->value(open_state.data());
    natsStatus s;
    // A bucket made a moment ago may not take puts yet ("no responders"): asked again until
    // give_up, as the bucket's own creation is.
    while ((s = kvStore_PutString(&record->revision_, record->kv_, record->key_.c_str(),
                                  value.c_str())) != NATS_OK &&
           (s == NATS_NO_RESPONDERS || s == NATS_TIMEOUT) &&
           registry_clock::now() + retry_interval < give_up)
        std::this_thread::sleep_for(retry_interval);
    if (s != NATS_OK) {
        ec = failure::refused;
        why = "producer registry " + record->bucket_ + " on " + c.server() +
              ": attaching: " + last_error_text(s);
        return nullptr;
    }
    record->heartbeat_ = std::thread([r = record.get()] { r->beat(); });
    return record;
}

producer_record::~producer_record() {
    stop_heartbeat();
    kvStore_Destroy(kv_);
}

std::string producer_record::value(const char* state) const {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    return std::string(state) + " " + instance_ + " pid " + std::to_string(::getpid()) + " on " +
           host;
}

bool producer_record::rewrite(const char* state) {
    if (superseded_) return false;
    const std::string text = value(state);
    std::uint64_t revision = 0;
    if (kvStore_UpdateString(&revision, kv_, key_.c_str(), text.c_str(), revision_) == NATS_OK) {
        revision_ = revision;
        return true;
    }
    // Refused: either our last write landed but its answer was lost (the record is still
    // ours, at a newer revision), or another process under our name took it over.
    kvEntry* entry = nullptr;
    if (kvStore_Get(&entry, kv_, key_.c_str()) != NATS_OK) return false; // try again later
    const auto [found_state, found_instance] = parse_value(kvEntry_ValueString(entry));
    if (found_instance == instance_)
        revision_ = kvEntry_Revision(entry);
    else
        superseded_ = true;
    kvEntry_Destroy(entry);
    return false;
}

void producer_record::beat() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, heartbeat_interval, [this] { return stop_; })) {
        lock.unlock();
        // A beat that fails (a reconnect under way) is tried again at the next one; the
        // expiry is many beats long.
        rewrite(open_state.data());
        const bool done = superseded_;
        lock.lock();
        if (done) return;
    }
}

void producer_record::stop_heartbeat() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (heartbeat_.joinable()) heartbeat_.join();
}

bool producer_record::close(registry_clock::time_point give_up, std::error_code& ec,
                            std::string& why) {
    stop_heartbeat();
    while (!rewrite(closed_state.data())) {
        if (superseded_) return true; // the next process under our name owns the stream now
        if (registry_clock::now() + retry_interval >= give_up) {
            ec = failure::unconfirmed;
            why = "producer registry " + bucket_ +
                  ": marking this producer closed: " + last_error_text(NATS_TIMEOUT);
            return false;
        }
        std::this_thread::sleep_for(retry_interval);
    }
    return true;
}

std::unique_ptr<producer_watch> producer_watch::open(const connection& c, const address& where,
                                                     registry_clock::time_point give_up,
                                                     std::error_code& ec, std::string& why) {
    std::unique_ptr<producer_watch> watch(new producer_watch);
    if (!open_bucket(c, where, give_up, watch->kv_, ec, why)) return nullptr;
    const natsStatus s = kvStore_WatchAll(&watch->watcher_, watch->kv_, nullptr);
    if (s != NATS_OK) {
        ec = failure::refused;
        why = "producer registry " + registry_bucket(where) + " on " + c.server() +
              ": watching it: " + last_error_text(s);
        return nullptr;
    }
    // The records there already come first, in order of their sequence. nats.c ends them with
    // an empty entry placed by the watch's pending count at its creation, which a record
    // rewritten meanwhile (a heartbeat, another receiver's clock) makes wrong, as the bucket
    // keeps one revision: the entry can come before a live producer's record, which the
    // receiver would then not count. So the bucket's last sequence, read once the watch is
    // made, ends them: once an entry at or past it came, every record there was is in (one
    // rewritten during the look may come at its newer revision, with the next refresh()).
    // nats.c's entry counts only when that sequence cannot be read. A busy server may be slow
    // to send them: what has not come by the deadline comes with the next refresh().
    const auto end = records_end(c, registry_bucket(where));
    watch->complete_ = end == 0u;
    const auto until = std::max(give_up, registry_clock::now() + api_timeout);
    for (kvEntry* entry = nullptr; !watch->complete_;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - registry_clock::now());
        if (kvWatcher_Next(&entry, watch->watcher_, std::max<std::int64_t>(left.count(), 1)) !=
            NATS_OK)
            break;
        if (entry == nullptr) {
            watch->complete_ = !end;
            continue;
        }
        watch->complete_ = end && kvEntry_Revision(entry) >= *end;
        watch->take(entry);
    }
    // Without the server's time the records age from our first look: a dead producer is
    // then seen dead a little later, never sooner.
    watch->date_records();
    return watch;
}

void producer_watch::date_records() {
    // The server's clock now: the time it gives a write of ours. Our own clock would not
    // do: the records' times are the server's.
    std::uint64_t revision = 0;
    natsStatus s = kvStore_PutString(&revision, kv_, clock_key.data(), "");
    kvEntry* entry = nullptr;
    if (s == NATS_OK) s = kvStore_Get(&entry, kv_, clock_key.data());
    if (s != NATS_OK) return;
    const std::int64_t server_now = kvEntry_Created(entry);
    kvEntry_Destroy(entry);
    const auto now = registry_clock::now();
    for (auto& [key, r] : records_) {
        // A record last written long ago is as old as that, not as old as our first look:
        // a producer killed yesterday has died already.
        const auto age =
            std::chrono::nanoseconds(std::max<std::int64_t>(server_now - r.written, 0));
        r.changed =
            now - std::min<registry_clock::duration>(
                      std::chrono::duration_cast<registry_clock::duration>(age), heartbeat_expiry);
    }
}

producer_watch::~producer_watch() {
    kvWatcher_Destroy(watcher_);
    kvStore_Destroy(kv_);
}

void producer_watch::refresh() {
    kvEntry* entry = nullptr;
    while (kvWatcher_Next(&entry, watcher_, watch_poll.count()) == NATS_OK)
        if (entry != nullptr) take(entry);
}

void producer_watch::take(kvEntry* entry) {
    const std::string_view key(kvEntry_Key(entry));
    if (!key.starts_with(named_prefix) && !key.starts_with(anonymous_prefix)) {
        kvEntry_Destroy(entry); // a receiver asking the server's time (clock_key)
        return;
    }
    auto& r = records_[std::string(key)];
    r.named = key.starts_with(named_prefix);
    r.written = kvEntry_Created(entry);
    const auto op = kvEntry_Operation(entry);
    if (op == kvOp_Put) {
        const auto [state, instance] = parse_value(kvEntry_ValueString(entry));
        r.closed = state == closed_state;
        if (!r.counted) ++attached_;
        r.counted = true;
    } else {
        r.closed = true; // a record deleted or purged: that producer is gone
    }
    r.changed = registry_clock::now();
    kvEntry_Destroy(entry);
}

bool producer_watch::all_finished(registry_clock::time_point now) const {
    for (const auto& [key, r] : records_)
        if (r.counted && !r.closed && (r.named || now - r.changed < heartbeat_expiry)) return false;
    return true;
}

void producer_watch::begin_next_stream() {
    for (auto& [key, r] : records_)
        r.counted = false;
    attached_ = 0;
}

} // namespace conveyor::nats::detail

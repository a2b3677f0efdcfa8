// Finding or creating a channel's stream and durable, asking again while a cluster elects
// leaders; every refusal names the server, the stream and the cause.
#include "nats/setup.hpp"

#include "nats/failure.hpp"

#include <thread>

namespace conveyor::nats::detail {
namespace {

// Between two attempts at a request that a cluster answered "not now".
constexpr std::chrono::milliseconds retry_interval{250};
// The first look at a stream that another opener may be making (a few milliseconds' work)
// waits this long for its answer.
constexpr std::chrono::milliseconds first_serving_wait{10};

// What a server answers while it starts or while a cluster elects leaders: worth asking
// again.
bool transient(natsStatus s, jsErrCode e) {
    return s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS || s == NATS_CONNECTION_DISCONNECTED ||
           e == JSClusterNotAvailErr || e == JSClusterNotLeaderErr || e == JSStreamOfflineErr ||
           e == JSConsumerOfflineErr;
}

// Runs call(jerr) until it succeeds, fails for good, or give_up passes.
template <class Call>
natsStatus with_retries(setup_clock::time_point give_up, jsErrCode& jerr, Call call) {
    for (;;) {
        jerr = static_cast<jsErrCode>(0);
        const natsStatus s = call(jerr);
        if (s == NATS_OK || !transient(s, jerr) || setup_clock::now() + retry_interval >= give_up)
            return s;
        std::this_thread::sleep_for(retry_interval);
    }
}

std::string stream_text(const connection& c, const address& where) {
    return "stream " + where.stream + " on " + c.server();
}

bool fail(std::error_code& ec, std::string& why, failure f, std::string text) {
    ec = f;
    why = std::move(text);
    return false;
}

bool takes_subject(const jsStreamConfig& config, const std::string& subject) {
    if (config.SubjectsLen == 0) return subject == config.Name; // JetStream's own default
    for (int i = 0; i < config.SubjectsLen; ++i)
        if (subject_matches(config.Subjects[i], subject)) return true;
    return false;
}

std::string subjects_text(const jsStreamConfig& config) {
    std::string text;
    for (int i = 0; i < config.SubjectsLen; ++i)
        text += (i == 0 ? "" : ", ") + std::string(config.Subjects[i]);
    return text.empty() ? config.Name : text;
}

natsStatus create_stream(const connection& c, const address& where, jsErrCode& jerr) {
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    const char* subjects[] = {where.subject.c_str()};
    config.Name = where.stream.c_str();
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    // Kept on disk; consumed messages stay until the limits, so that any NATS client reads
    // the stream; at a limit a new message is refused rather than the oldest dropped.
    config.Storage = js_FileStorage;
    config.Retention = js_LimitsPolicy;
    config.Discard = js_DiscardNew;
    config.Replicas = where.replicas;
    config.Duplicates = std::chrono::nanoseconds(duplicate_window).count();
    // Also lets an opener tell a stream made in full from one half made (wait_until_serving).
    config.AllowDirect = true;
    if (where.max_bytes > 0) config.MaxBytes = where.max_bytes;
    if (where.max_msgs > 0) config.MaxMsgs = where.max_msgs;
    if (where.max_age.count() > 0) config.MaxAge = std::chrono::nanoseconds(where.max_age).count();
    return js_AddStream(nullptr, c.js(), &config, nullptr, &jerr);
}

} // namespace

bool subject_matches(std::string_view pattern, std::string_view subject) {
    while (!pattern.empty() && !subject.empty()) {
        const auto p_end = std::min(pattern.find('.'), pattern.size());
        const auto s_end = std::min(subject.find('.'), subject.size());
        const auto token = pattern.substr(0, p_end);
        if (token == ">") return true;
        if (token != "*" && token != subject.substr(0, s_end)) return false;
        pattern.remove_prefix(std::min(p_end + 1, pattern.size()));
        subject.remove_prefix(std::min(s_end + 1, subject.size()));
        if (pattern.empty() != subject.empty()) return false;
    }
    return pattern.empty() && subject.empty();
}

bool ensure_stream(const connection& c, const address& where, setup_clock::time_point give_up,
                   std::error_code& ec, std::string& why) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        jsStreamInfo* info = nullptr;
        jsErrCode jerr{};
        natsStatus s = with_retries(give_up, jerr, [&](jsErrCode& e) {
            return js_GetStreamInfo(&info, c.js(), where.stream.c_str(), nullptr, &e);
        });
        if (s == NATS_OK) {
            const bool takes = takes_subject(*info->Config, where.subject);
            const bool direct = info->Config->AllowDirect;
            const std::string subjects = subjects_text(*info->Config);
            jsStreamInfo_Destroy(info);
            // Found, perhaps while another opener makes it: it must be made in full before
            // the durable is made on it.
            if (takes) return !direct || wait_until_serving(c, where.stream, give_up, ec, why);
            return fail(ec, why, failure::stream_mismatch,
                        stream_text(c, where) + " exists and takes " + subjects + ", not " +
                            where.subject + " (give ?stream=NAME for a stream of its own)");
        }
        if (s != NATS_NOT_FOUND)
            return fail(ec, why, failure::refused,
                        stream_text(c, where) + ": asking for it: " + last_error_text(s));
        s = with_retries(give_up, jerr, [&](jsErrCode& e) { return create_stream(c, where, e); });
        // The server answers a second creation of the same stream at once, while the first
        // may still be making it.
        if (s == NATS_OK) return wait_until_serving(c, where.stream, give_up, ec, why);
        // Another opener was creating it at the same moment (the server then answers "name
        // in use", or "subjects overlap" while the other's is half made): take theirs. A
        // second time, the overlap is with a stream of another name.
        const bool raced = jerr == JSStreamNameExistErr || jerr == JSStreamSubjectOverlapErr;
        if (raced && attempt == 0) continue;
        return fail(ec, why, failure::refused,
                    stream_text(c, where) + ": creating it: " + last_error_text(s));
    }
    return fail(ec, why, failure::refused,
                stream_text(c, where) + ": created by another and deleted again while opening");
}

bool wait_until_serving(const connection& c, const std::string& stream,
                        setup_clock::time_point give_up, std::error_code& ec, std::string& why) {
    // A stream not listening yet leaves the request unanswered (the JetStream API's own
    // subscription takes it, so there is no "no responders"): a short wait, doubled each
    // time in case the server is only slow.
    std::chrono::milliseconds wait = first_serving_wait;
    for (;;) {
        jsOptions options;
        jsOptions_Init(&options);
        options.Wait = wait.count();
        // A sequence no stream reaches (and nats.c writes as a number): the answer is a short
        // "not found".
        jsDirectGetMsgOptions nowhere;
        jsDirectGetMsgOptions_Init(&nowhere);
        nowhere.Sequence = std::uint64_t{1} << 62;
        natsMsg* msg = nullptr;
        const natsStatus s = js_DirectGetMsg(&msg, c.js(), stream.c_str(), &options, &nowhere);
        natsMsg_Destroy(msg);
        // Any answer comes from the stream made in full.
        if (s != NATS_NO_RESPONDERS && s != NATS_TIMEOUT) return true;
        if (setup_clock::now() >= give_up)
            return fail(ec, why, failure::refused,
                        "stream " + stream + " on " + c.server() +
                            ": made by another opener and not answering yet: " +
                            last_error_text(s));
        if (s == NATS_NO_RESPONDERS) std::this_thread::sleep_for(wait);
        wait = std::min(2 * wait, api_timeout);
    }
}

bool ensure_durable(const connection& c, const address& where, setup_clock::time_point give_up,
                    std::int64_t& limit, std::error_code& ec, std::string& why) {
    const std::string named = "durable " + where.durable + " of " + stream_text(c, where);
    for (int attempt = 0; attempt < 2; ++attempt) {
        jsConsumerInfo* info = nullptr;
        jsErrCode jerr{};
        natsStatus s = with_retries(give_up, jerr, [&](jsErrCode& e) {
            return js_GetConsumerInfo(&info, c.js(), where.stream.c_str(), where.durable.c_str(),
                                      nullptr, &e);
        });
        if (s == NATS_OK) {
            const bool push = info->Config->DeliverSubject != nullptr;
            const bool explicit_ack = info->Config->AckPolicy == js_AckExplicit;
            limit = info->Config->MaxAckPending;
            jsConsumerInfo_Destroy(info);
            if (push || !explicit_ack)
                return fail(ec, why, failure::stream_mismatch,
                            named + " is not a pull consumer with explicit acknowledgement "
                                    "(give ?durable=NAME for one of conveyor's own)");
            return true;
        }
        if (s != NATS_NOT_FOUND)
            return fail(ec, why, failure::refused,
                        named + ": asking for it: " + last_error_text(s));
        jsConsumerConfig config;
        jsConsumerConfig_Init(&config);
        config.Durable = where.durable.c_str();
        config.AckPolicy = js_AckExplicit;
        config.AckWait = std::chrono::nanoseconds(where.ack_wait).count();
        config.MaxAckPending = max_ack_pending;
        config.DeliverPolicy = js_DeliverAll;
        config.FilterSubject = where.subject.c_str();
        s = with_retries(give_up, jerr, [&](jsErrCode& e) {
            return js_AddConsumer(nullptr, c.js(), where.stream.c_str(), &config, nullptr, &e);
        });
        if (s == NATS_OK) {
            limit = max_ack_pending;
            return true;
        }
        if (jerr == JSConsumerNameExistErr) continue;
        return fail(ec, why, failure::refused, named + ": creating it: " + last_error_text(s));
    }
    return fail(ec, why, failure::refused, named + ": created and deleted again while opening");
}

bool durable_backlog(const connection& c, const address& where, std::uint64_t& pending,
                     std::int64_t& unacknowledged, std::error_code& ec, std::string& why) {
    jsConsumerInfo* info = nullptr;
    jsErrCode jerr{};
    const natsStatus s = js_GetConsumerInfo(&info, c.js(), where.stream.c_str(),
                                            where.durable.c_str(), nullptr, &jerr);
    if (s != NATS_OK)
        return fail(ec, why, failure::refused,
                    "durable " + where.durable + " of " + stream_text(c, where) + ": " +
                        last_error_text(s));
    pending = info->NumPending;
    unacknowledged = info->NumAckPending;
    jsConsumerInfo_Destroy(info);
    return true;
}

} // namespace conveyor::nats::detail

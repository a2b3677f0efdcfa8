// Peer: raw nats.c on the bench's nats-server, as its examples (js-pub.c, js-sub.c) use it:
// asynchronous publishing (js_PublishAsync, then js_PublishAsyncComplete), a durable pull
// consumer fetched in batches with an ack per message. A ping-pong publishes synchronously
// (js_Publish) and fetches one message at a time. One stream and durable per lane. nats.c
// runs only in the children (nats_server.hpp).
//
// A fetch returns once its batch is full or it expires. nats.c 3.4.1's fetch writes past its
// array when more than half a batch of an expired request's messages wait at the next fetch,
// so a fetch here may wait long (fetch_timeout_ms): none expires while a stream flows. The
// end of a lane is an empty message (generated ones never are), sent a batch's worth of
// times so that the last fetch fills at once rather than waiting out its expiry.
//
// nats-c-msgid is the same with a message id on every message (jsPubOptions.MsgId), as
// conveyor-nats sends them for JetStream's duplicate window: what that costs JetStream
// itself.
#include "nats_peer.hpp"
#include "transport.hpp"

#include <nats/nats.h>

#include <stdexcept>

namespace conveyor::bench {
namespace {

// A fetch waits at most this long for its batch to fill.
constexpr std::int64_t fetch_timeout_ms = 1'000;
// js_PublishAsyncComplete gives up after this long.
constexpr std::int64_t complete_timeout_ms = 60'000;
constexpr const char* durable_name = "bench";

void check(natsStatus s, const char* what) {
    if (s == NATS_OK) return;
    const char* detail = nats_GetLastError(nullptr);
    throw std::runtime_error(std::string("nats-c: ") + what + ": " + natsStatus_GetText(s) + " (" +
                             (detail != nullptr ? detail : "") + ")");
}

class connection {
public:
    explicit connection(const std::string& url, std::int64_t max_pending = 0) {
        check(natsConnection_ConnectTo(&nc_, url.c_str()), "connect");
        jsOptions options;
        jsOptions_Init(&options);
        options.PublishAsync.MaxPending = max_pending;
        check(natsConnection_JetStream(&js_, nc_, &options), "JetStream");
    }
    ~connection() {
        jsCtx_Destroy(js_);
        natsConnection_Destroy(nc_);
    }
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    jsCtx* js() const { return js_; }

private:
    natsConnection* nc_ = nullptr;
    jsCtx* js_ = nullptr;
};

class nats_c_writer final : public writer {
public:
    nats_c_writer(const std::string& url, nats_lane lane, bool streaming, int batch,
                  bool message_ids)
        : c_(url), lane_(std::move(lane)), streaming_(streaming), batch_(batch),
          message_ids_(message_ids) {}
    std::span<std::byte> prepare(std::size_t n) override {
        buffer_.resize(n);
        return buffer_;
    }
    void commit() override {
        const auto* data = buffer_.data();
        const int n = static_cast<int>(buffer_.size());
        jsPubOptions options;
        jsPubOptions_Init(&options);
        std::string id;
        if (message_ids_) {
            id = std::to_string(sent_++);
            options.MsgId = id.c_str();
        }
        if (streaming_)
            check(js_PublishAsync(c_.js(), lane_.subject.c_str(), data, n, &options),
                  "js_PublishAsync");
        else
            check(js_Publish(nullptr, c_.js(), lane_.subject.c_str(), data, n, &options, nullptr),
                  "js_Publish");
    }
    void close() override {
        jsPubOptions options;
        jsPubOptions_Init(&options);
        options.MaxWait = complete_timeout_ms;
        for (int i = 0; i < batch_; ++i)
            check(js_PublishAsync(c_.js(), lane_.subject.c_str(), nullptr, 0, nullptr),
                  "js_PublishAsync (the end)");
        check(js_PublishAsyncComplete(c_.js(), &options), "js_PublishAsyncComplete");
    }

private:
    connection c_;
    nats_lane lane_;
    bool streaming_;
    int batch_; // the readers' fetch
    bool message_ids_;
    std::uint64_t sent_ = 0;
    std::vector<std::byte> buffer_;
};

class nats_c_reader final : public reader {
public:
    nats_c_reader(const std::string& url, const nats_lane& lane, int batch)
        : c_(url), batch_(batch) {
        jsStreamConfig stream;
        jsStreamConfig_Init(&stream);
        const char* subjects[] = {lane.subject.c_str()};
        stream.Name = lane.stream.c_str();
        stream.Subjects = subjects;
        stream.SubjectsLen = 1;
        stream.Storage = js_FileStorage; // as conveyor-nats makes its streams
        stream.Discard = js_DiscardNew;
        jsErrCode jerr{};
        check(js_AddStream(nullptr, c_.js(), &stream, nullptr, &jerr), "js_AddStream");
        jsConsumerConfig consumer;
        jsConsumerConfig_Init(&consumer);
        consumer.Durable = durable_name;
        consumer.AckPolicy = js_AckExplicit;
        check(js_AddConsumer(nullptr, c_.js(), lane.stream.c_str(), &consumer, nullptr, &jerr),
              "js_AddConsumer");
        jsSubOptions bind;
        jsSubOptions_Init(&bind);
        bind.Stream = lane.stream.c_str();
        bind.Consumer = durable_name;
        check(js_PullSubscribe(&sub_, c_.js(), lane.subject.c_str(), durable_name, nullptr, &bind,
                               &jerr),
              "js_PullSubscribe");
    }
    ~nats_c_reader() override {
        natsMsgList_Destroy(&list_);
        natsSubscription_Destroy(sub_);
    }
    std::optional<std::span<const std::byte>> receive() override {
        if (next_ == list_.Count) {
            natsMsgList_Destroy(&list_);
            list_ = {};
            next_ = 0;
            for (;;) {
                const natsStatus s =
                    natsSubscription_Fetch(&list_, sub_, batch_, fetch_timeout_ms, nullptr);
                if (s == NATS_OK && list_.Count > 0) break;
                if (s != NATS_TIMEOUT) check(s, "natsSubscription_Fetch");
            }
        }
        natsMsg* m = list_.Msgs[next_++];
        check(natsMsg_Ack(m, nullptr), "natsMsg_Ack");
        if (natsMsg_GetDataLength(m) == 0) return std::nullopt;
        return std::span<const std::byte>(reinterpret_cast<const std::byte*>(natsMsg_GetData(m)),
                                          static_cast<std::size_t>(natsMsg_GetDataLength(m)));
    }

private:
    connection c_;
    int batch_;
    natsSubscription* sub_ = nullptr;
    natsMsgList list_{};
    int next_ = 0;
};

class nats_c_channel final : public channel {
public:
    nats_c_channel(const config& setting, const lane_plan& plan, bool message_ids)
        : url_(bench_nats_url()), streaming_(plan.streaming),
          batch_(plan.streaming ? static_cast<int>(setting.value) : 1), message_ids_(message_ids) {
        for (std::size_t i = 0; i < plan.lanes; ++i)
            lanes_.push_back(make_nats_lane("nats-c-"));
    }
    ~nats_c_channel() override {
        try {
            remove_nats_streams(url_, lanes_, false);
        } catch (const std::exception&) {
            // The server's folder goes when the bench ends.
        }
    }
    std::unique_ptr<writer> open_writer(std::size_t lane) override {
        return std::make_unique<nats_c_writer>(url_, lanes_.at(lane), streaming_, batch_,
                                               message_ids_);
    }
    std::unique_ptr<reader> open_reader(std::size_t lane) override {
        return std::make_unique<nats_c_reader>(url_, lanes_.at(lane), batch_);
    }

private:
    std::string url_;
    bool streaming_;
    int batch_;
    bool message_ids_;
    std::vector<nats_lane> lanes_;
};

class nats_c_transport final : public transport {
public:
    explicit nats_c_transport(bool message_ids) : message_ids_(message_ids) {}
    std::string name() const override { return message_ids_ ? "nats-c-msgid" : "nats-c"; }
    bool shares_lanes() const override { return false; }
    std::vector<config> configs(std::size_t size) const override {
        if (size > max_nats_message) return {}; // above the server's max payload
        // A batch above the durable's max ack pending (1000) stalls until the fetch expires;
        // a smaller one runs into the nats.c bug above the sooner (100: within a run).
        return {{"fetch 1000", 1000}};
    }
    std::unique_ptr<channel> open(const config& setting, const lane_plan& plan) override {
        return std::make_unique<nats_c_channel>(setting, plan, message_ids_);
    }

private:
    bool message_ids_;
};

} // namespace

void remove_nats_streams(const std::string& url, const std::vector<nats_lane>& lanes,
                         bool registries) {
    in_child("removing the run's streams", [&] {
        connection c(url);
        for (const auto& lane : lanes) {
            jsErrCode jerr{};
            js_DeleteStream(c.js(), lane.stream.c_str(), nullptr, &jerr);
            if (registries)
                js_DeleteStream(c.js(), ("KV_conveyor-producers-" + lane.stream).c_str(), nullptr,
                                &jerr);
        }
    });
}

std::unique_ptr<transport> make_nats_c() {
    return std::make_unique<nats_c_transport>(false);
}

std::unique_ptr<transport> make_nats_c_msgid() {
    return std::make_unique<nats_c_transport>(true);
}

} // namespace conveyor::bench

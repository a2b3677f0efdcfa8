// Only tests include nats.h outside lib/src/nats: a NATS client that knows nothing of
// conveyor is what they check conveyor against.
#include "plain_client.hpp"

#include <nats/nats.h>

#include <boost/test/unit_test.hpp>

namespace conveyor::test {

struct plain_client::state {
    natsConnection* nc = nullptr;
    jsCtx* js = nullptr;
};

plain_client::plain_client(const std::string& url) : s_(new state) {
    BOOST_REQUIRE_EQUAL(natsConnection_ConnectTo(&s_->nc, url.c_str()), NATS_OK);
    BOOST_REQUIRE_EQUAL(natsConnection_JetStream(&s_->js, s_->nc, nullptr), NATS_OK);
}

plain_client::~plain_client() {
    jsCtx_Destroy(s_->js);
    natsConnection_Destroy(s_->nc);
    delete s_;
}

void plain_client::publish(const std::string& subject, const std::vector<std::string>& payloads) {
    for (const auto& p : payloads) {
        jsErrCode jerr{};
        BOOST_REQUIRE_EQUAL(js_Publish(nullptr, s_->js, subject.c_str(), p.data(),
                                       static_cast<int>(p.size()), nullptr, &jerr),
                            NATS_OK);
    }
}

std::vector<std::string> plain_client::read(const std::string& stream, std::size_t count) {
    // By sequence, from the stream itself: no consumer to set up or tear down.
    std::vector<std::string> payloads;
    for (std::uint64_t sequence = 1; payloads.size() < count; ++sequence) {
        natsMsg* m = nullptr;
        jsErrCode jerr{};
        BOOST_REQUIRE_EQUAL(js_GetMsg(&m, s_->js, stream.c_str(), sequence, nullptr, &jerr),
                            NATS_OK);
        payloads.emplace_back(natsMsg_GetData(m), natsMsg_GetDataLength(m));
        natsMsg_Destroy(m);
    }
    return payloads;
}

stream_facts plain_client::facts(const std::string& stream) {
    jsStreamInfo* info = nullptr;
    jsErrCode jerr{};
    BOOST_REQUIRE_EQUAL(js_GetStreamInfo(&info, s_->js, stream.c_str(), nullptr, &jerr), NATS_OK);
    stream_facts f;
    f.file_storage = info->Config->Storage == js_FileStorage;
    f.limits_retention = info->Config->Retention == js_LimitsPolicy;
    f.discard_new = info->Config->Discard == js_DiscardNew;
    f.replicas = info->Config->Replicas;
    f.messages = info->State.Msgs;
    if (info->Cluster != nullptr && info->Cluster->Leader != nullptr)
        f.leader = info->Cluster->Leader;
    jsStreamInfo_Destroy(info);
    return f;
}

std::string plain_client::durable_leader(const std::string& stream, const std::string& durable) {
    jsConsumerInfo* info = nullptr;
    jsErrCode jerr{};
    BOOST_REQUIRE_EQUAL(
        js_GetConsumerInfo(&info, s_->js, stream.c_str(), durable.c_str(), nullptr, &jerr),
        NATS_OK);
    std::string leader;
    if (info->Cluster != nullptr && info->Cluster->Leader != nullptr)
        leader = info->Cluster->Leader;
    jsConsumerInfo_Destroy(info);
    return leader;
}

void plain_client::remove(const std::string& stream) {
    jsErrCode jerr{};
    js_DeleteStream(s_->js, stream.c_str(), nullptr, &jerr);
    js_DeleteStream(s_->js, ("KV_conveyor-producers-" + stream).c_str(), nullptr, &jerr);
}

} // namespace conveyor::test

// A plain NATS client (nats.c, no conveyor) for the interoperability tests and for looking at
// what conveyor made: the stream's settings, its leaders in a cluster.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace conveyor::test {

struct stream_facts {
    bool file_storage = false;
    bool limits_retention = false;
    bool discard_new = false;
    std::int64_t replicas = 0;
    std::uint64_t messages = 0;
    std::string leader; // server name, in a cluster
};

class plain_client {
public:
    explicit plain_client(const std::string& url);
    ~plain_client();
    plain_client(const plain_client&) = delete;
    plain_client& operator=(const plain_client&) = delete;

    // Publishes each payload to subject through JetStream, waiting for each confirmation;
    // no headers, no message id.
    void publish(const std::string& subject, const std::vector<std::string>& payloads);
    // The first count messages of stream, as raw payloads.
    std::vector<std::string> read(const std::string& stream, std::size_t count);
    stream_facts facts(const std::string& stream);
    // The server leading durable of stream ("s1"...).
    std::string durable_leader(const std::string& stream, const std::string& durable);
    // Deletes stream and the producer registry beside it.
    void remove(const std::string& stream);

private:
    struct state;
    state* s_;
};

} // namespace conveyor::test

// One connection to the servers of a nats:// address with its JetStream context: connecting
// within a deadline, failing over between the servers, and the nats.c options behind it.
#pragma once

#include "nats/address.hpp"

#include <nats/nats.h>

#include <chrono>
#include <memory>
#include <string>
#include <system_error>

namespace conveyor::nats::detail {

// A JetStream request (stream info, a key-value put) that has no answer within this long
// failed: long enough for a cluster to elect a stream's leader.
inline constexpr std::chrono::milliseconds api_timeout{5'000};
// Between two rounds of connection attempts while no server answers.
inline constexpr std::chrono::milliseconds connect_retry_interval{250};
// Between two reconnection attempts to one server; other servers are tried at once.
inline constexpr std::chrono::milliseconds reconnect_wait{250};
// A connection whose server answers no ping within two of these is given up for another:
// a server that hangs (or a cut network) is noticed as soon as one that died.
inline constexpr std::chrono::milliseconds ping_interval{2'000};

class connection {
public:
    struct settings {
        std::chrono::milliseconds timeout{10'000}; // to connect, all attempts together
        // What to do with publishes while reconnecting: buffer them in nats.c and send them
        // once reconnected (a receiver's acks), or refuse them (a sender, which resends what
        // it must itself, in order; docs/nats.md, "Reconnects").
        bool buffer_while_reconnecting = true;
    };

    // Connects to the first server of where that answers, trying them all again every
    // connect_retry_interval until settings.timeout. Fails with failure::no_server or
    // failure::authentication_refused, why naming the servers and the cause.
    static std::unique_ptr<connection> open(const address& where, const settings& how,
                                            std::error_code& ec, std::string& why);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    natsConnection* get() const noexcept { return nc_; }
    jsCtx* js() const noexcept { return js_; }
    // The server connected to now, without credentials ("nats://127.0.0.1:4222").
    std::string server() const;
    // The largest message the server takes, headers included.
    std::int64_t max_payload() const noexcept;
    bool connected() const noexcept;

private:
    connection() = default;
    natsOptions* options_ = nullptr;
    natsConnection* nc_ = nullptr;
    jsCtx* js_ = nullptr;
};

} // namespace conveyor::nats::detail

// nats:// channels: a stream on NATS JetStream, published to asynchronously and taken
// through a durable pull consumer. docs/nats.md has the URI, its defaults and the promises.
#pragma once

#include "conveyor/channel.hpp"
#include "conveyor/channel_options.hpp"

#include <memory>
#include <string>
#include <system_error>

namespace conveyor::nats {

// The URI and its defaults in a few lines, for --help texts.
extern const char* const uri_help;

// A producer on the stream of where (nats://...), which it creates when missing. Waits up to
// options.connect_timeout for a server. options.producer_name makes it a named producer.
std::unique_ptr<sender> open_sender(const endpoint& where, const channel_options& options,
                                    std::error_code& ec, std::string* why = nullptr);
// A consumer through the durable of where, which it creates (with the stream) when missing.
// options.acknowledge: messages stay the durable's until ack(); options.min_producers as on
// every transport.
std::unique_ptr<receiver> open_receiver(const endpoint& where, const channel_options& options,
                                        std::error_code& ec, std::string* why = nullptr);

} // namespace conveyor::nats

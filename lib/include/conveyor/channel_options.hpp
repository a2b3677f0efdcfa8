// How a sender or receiver is opened: the sizes and mode of a channel the call creates, and
// the behaviour the caller asks of it. Every transport reads the fields that concern it.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace conveyor {

// When a durable queue (file://) has a sent message on disk; chosen by its creator.
enum class sync_policy {
    none,   // the kernel writes back when it likes; a power cut may lose the last messages
    batch,  // each send or send_batch returns once its messages are on disk
    always, // each message is on disk before the next is written
};

// What a broadcast ring (topic://) does with a subscriber a whole ring behind; chosen by its
// creator.
enum class slow_subscriber {
    block, // publishers wait for the slowest live subscriber
    drop,  // the slow subscriber loses the oldest messages and is told how many
};

struct channel_options {
    // Bytes of message storage, used when this call creates the channel (shm, file, topic).
    std::size_t capacity = 4u << 20;
    // The largest message, used when this call creates the channel; joiners take the
    // creator's value.
    std::size_t max_message = 64u << 10;
    // Permission bits of a channel this call creates.
    unsigned mode = 0600;
    // A receiver reports end of stream only once this many producers have attached since
    // it began waiting (and all of them have closed or died, and the channel is drained).
    std::size_t min_producers = 1;
    // Pipes and FIFOs: newline-delimited text instead of frames, for ordinary tools (echo,
    // cat); a message may then not contain a newline.
    bool lines = false;
    // pipe: senders only: write to the standard input of `sh -c spawn` instead of stdout.
    std::string spawn;
    // Receivers: take messages as leases that stay the channel's until receiver::ack(); a
    // receiver that dies or closes first gives them back, to be delivered again. Ignored by
    // transports that keep nothing (pipe:, fifo://).
    bool acknowledge = false;
    // Senders: a named producer. One that dies pauses its stream instead of ending it, and
    // the next sender opened under the same name takes its place. Empty: anonymous.
    std::string producer_name;
    // file:// created by this call: when a sent message is on disk. nats:// senders: when
    // the server has confirmed it (none: within a window, by close; docs/nats.md).
    sync_policy sync = sync_policy::batch;
    // topic:// created by this call: what happens to a subscriber that falls behind.
    slow_subscriber slow = slow_subscriber::block;
    // nats://: how long opening a channel (and closing a sender, which waits for the server
    // to confirm what it sent) may wait for a server to answer; the apps' --timeout sets it.
    std::chrono::milliseconds connect_timeout{10'000};
};

} // namespace conveyor

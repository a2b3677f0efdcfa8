// Opening a sender or receiver on any endpoint: the one entry point the apps use.
#pragma once

#include "conveyor/channel.hpp"

#include <memory>
#include <string>

namespace conveyor {

struct channel_options {
    // Bytes of message storage, used when this call creates the channel (shm).
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
};

std::unique_ptr<sender> open_sender(const endpoint& where, const channel_options& options = {});
// On failure sets ec and, when why is given, a sentence naming the endpoint and the cause.
std::unique_ptr<sender> open_sender(const endpoint& where, const channel_options& options,
                                    std::error_code& ec, std::string* why = nullptr);
std::unique_ptr<receiver> open_receiver(const endpoint& where, const channel_options& options = {});
std::unique_ptr<receiver> open_receiver(const endpoint& where, const channel_options& options,
                                        std::error_code& ec, std::string* why = nullptr);

} // namespace conveyor

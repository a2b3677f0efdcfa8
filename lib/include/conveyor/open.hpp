// Opening a sender or receiver on any endpoint: the one entry point the apps use.
#pragma once

#include "conveyor/channel.hpp"
#include "conveyor/channel_options.hpp"

#include <memory>

namespace conveyor {

std::unique_ptr<sender> open_sender(const endpoint& where, const channel_options& options = {});
// On failure sets ec and, when why is given, a sentence naming the endpoint and the cause.
std::unique_ptr<sender> open_sender(const endpoint& where, const channel_options& options,
                                    std::error_code& ec, std::string* why = nullptr);
std::unique_ptr<receiver> open_receiver(const endpoint& where, const channel_options& options = {});
std::unique_ptr<receiver> open_receiver(const endpoint& where, const channel_options& options,
                                        std::error_code& ec, std::string* why = nullptr);

} // namespace conveyor

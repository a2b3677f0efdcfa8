// Helper processes of the nats tests, run by this same executable (--child-...):
//   --child-acking-consumer URI    takes messages with acknowledgement, writes each with a
//                                  newline to stdout, acknowledges once written; exits 0 at
//                                  end of stream; "redelivered N" on stderr
//   --child-producer URI NAME N    sends N generated 64-byte messages as producer NAME ("-":
//                                  anonymous), prints "sent" on stdout, then closes and exits
//                                  0, or with "hold" after N waits to be killed
#pragma once

#include <string>
#include <vector>

namespace conveyor::test {

inline constexpr std::size_t child_message_size = 64;

int run_child(int argc, char** argv);

// The arguments that start a helper, for child_process.
std::vector<std::string> acking_consumer_args(const std::string& uri);
std::vector<std::string> producer_args(const std::string& uri, const std::string& name,
                                       std::size_t count, bool hold);

} // namespace conveyor::test

// Paths of the apps under test (set by CMake) and helpers to read what they report.
#pragma once

#include <conveyor/generated_message.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace conveyor::test {

inline const std::string producer_app = CONVEYOR_PRODUCER;
inline const std::string consumer_app = CONVEYOR_CONSUMER;
inline const std::string ctl_app = CONVEYOR_CTL;
inline const std::string bridge_app = CONVEYOR_BRIDGE;

// Feeds a consumer's standard output of generated messages of one size (each followed by
// a newline) to verifier; a partial record at the end, as a killed consumer leaves, is
// ignored. Returns the number of whole records.
std::uint64_t verify_output(std::string_view output, std::size_t message_size,
                            stream_verifier& verifier);

// The columns of the row of conveyor-ctl list's output (listing) whose first column is uri;
// empty when it is not listed.
std::vector<std::string> row_of(const std::string& listing, const std::string& uri);

inline bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

} // namespace conveyor::test

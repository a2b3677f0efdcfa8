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

// A paced producer's --generate and --rate for a stream that outlasts any test: at rate
// messages a second its count takes outlasting_seconds, four times ctest's longest limit for
// one test, so the stream is still running whenever the test acts on it, on a machine of any
// speed. The test ends it itself (SIGTERM, or a killed peer). A count is not made larger than
// that: a verifier keeps a bit per message of it.
inline constexpr std::uint64_t outlasting_seconds = 1000;
inline std::uint64_t outlasting_count(std::uint64_t rate) {
    return rate * outlasting_seconds;
}
inline std::vector<std::string> outlasting_stream(std::uint64_t rate) {
    return {"--generate", std::to_string(outlasting_count(rate)), "--rate", std::to_string(rate)};
}

// args followed by more (e.g. outlasting_stream's).
inline std::vector<std::string> with(std::vector<std::string> args,
                                     const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

// The number after the last "WORD " in text: an app's closing figures follow the figures it
// printed on SIGUSR1 ("so far sent 10 ...", then "sent 42 messages" → 42); -1 if none.
long long last_number_after(const std::string& text, const std::string& word);

inline bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

} // namespace conveyor::test

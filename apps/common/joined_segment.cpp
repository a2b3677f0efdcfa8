#include "common/joined_segment.hpp"

#include <conveyor/shm/segment.hpp>

#include <iostream>
#include <string>

namespace conveyor::cli {

sizes_given read_sizes_given(const boost::program_options::variables_map& values) {
    return {!values["capacity"].defaulted(), !values["max-message"].defaulted(),
            !values["slow"].defaulted()};
}

void note_joined_segment(const char* app, const endpoint& where, const channel_options& asked,
                         sizes_given given) {
    const bool topic = where.kind() == scheme::topic;
    if ((where.kind() != scheme::shm && !topic) ||
        !(given.capacity || given.max_message || (topic && given.slow)))
        return;
    std::error_code ec;
    const auto found = shm::inspect_segment(where.name(), ec);
    if (ec) return;
    if (topic && given.slow && found.drop != (asked.slow == slow_subscriber::drop))
        std::cerr << std::string(app) + ": " + where.uri() + " already exists with --slow " +
                         (found.drop ? "drop" : "block") +
                         "; --slow applies only when a call creates the topic\n";
    // A creator rounds the capacity up to the ring's 8-byte records.
    const std::uint64_t capacity_made = (std::uint64_t(asked.capacity) + 7) & ~std::uint64_t(7);
    const bool other_capacity = given.capacity && found.capacity != capacity_made;
    const bool other_max = given.max_message && found.max_message != asked.max_message;
    if (!other_capacity && !other_max) return;
    std::cerr << std::string(app) + ": " + where.uri() + " already exists with capacity " +
                     std::to_string(found.capacity) + " and max message " +
                     std::to_string(found.max_message) +
                     " bytes; --capacity and --max-message apply only when a call creates "
                     "the segment (conveyor-ctl rm it to make it anew)\n";
}

} // namespace conveyor::cli

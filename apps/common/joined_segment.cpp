#include "common/joined_segment.hpp"

#include <conveyor/shm/queue.hpp>
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
    const bool queue = where.kind() == scheme::shm || where.kind() == scheme::file;
    const bool topic = where.kind() == scheme::topic;
    if (!(queue || topic) || !(given.capacity || given.max_message || (topic && given.slow)))
        return;
    std::error_code ec;
    const auto found = shm::inspect_queue(where, ec);
    if (ec) return;
    if (topic && given.slow && found.drop != (asked.slow == slow_subscriber::drop))
        std::cerr << std::string(app) + ": " + where.uri() + " already exists with --slow " +
                         (found.drop ? "drop" : "block") +
                         "; --slow applies only when a call creates the topic\n";
    const bool other_capacity =
        given.capacity && found.capacity != shm::capacity_made(asked.capacity);
    const bool other_max = given.max_message && found.max_message != asked.max_message;
    if (!other_capacity && !other_max) return;
    std::cerr << std::string(app) + ": " + where.uri() + " already exists with capacity " +
                     std::to_string(found.capacity) + " and max message " +
                     std::to_string(found.max_message) +
                     " bytes; --capacity and --max-message apply only when a call creates "
                     "the queue (conveyor-ctl rm it to make it anew)\n";
}

namespace {

void say(const char* app, const std::string& recovery) {
    if (!recovery.empty()) std::cerr << std::string(app) + ": " + recovery + '\n';
}

} // namespace

void note_recovery(const char* app, const sender& channel) {
    if (const auto* queue = dynamic_cast<const shm::queue_sender*>(&channel))
        say(app, queue->recovery());
}

void note_recovery(const char* app, const receiver& channel) {
    if (const auto* queue = dynamic_cast<const shm::queue_receiver*>(&channel))
        say(app, queue->recovery());
}

} // namespace conveyor::cli

// Notices about the queue or topic an app joined: --capacity, --max-message or --slow that
// met one that already existed (those apply only when a call creates it, and joining keeps
// its own), and a durable queue recovered after a crash.
#pragma once

#include <conveyor/endpoint.hpp>
#include <conveyor/open.hpp>

#include <boost/program_options/variables_map.hpp>

namespace conveyor::cli {

// Which sizes the command line gave, as opposed to their defaults.
struct sizes_given {
    bool capacity = false;
    bool max_message = false;
    bool slow = false;
};
sizes_given read_sizes_given(const boost::program_options::variables_map& values);

// After opening where: if it is a segment whose sizes differ from those given, says so on
// stderr, naming the segment's sizes and how to get the ones asked for.
void note_joined_segment(const char* app, const endpoint& where, const channel_options& asked,
                         sizes_given given);

// If opening the channel recovered a durable queue that had lost records to a crash, says
// what was dropped, on stderr.
void note_recovery(const char* app, const sender& channel);
void note_recovery(const char* app, const receiver& channel);

} // namespace conveyor::cli

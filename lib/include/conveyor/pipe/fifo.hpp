// Named pipes (FIFOs) between unrelated processes: fifo:///abs/path. Many producers, one
// consumer at a time; docs/architecture.md, "FIFOs", has the rules and why.
#pragma once

#include "conveyor/channel_options.hpp"
#include "conveyor/pipe/stream.hpp"

#include <memory>
#include <string>
#include <vector>

namespace conveyor::pipe {

// Creates a FIFO at path with mode unless one is there; fails when path is something else.
// A FIFO it creates is recorded for list_fifos.
void make_fifo(const std::string& path, unsigned mode);
void make_fifo(const std::string& path, unsigned mode, std::error_code& ec);

// Removes the FIFO at path, whoever made it, and forgets it; refuses (errc::not_a_segment)
// a path that is something else.
void remove_fifo(const std::string& path);
void remove_fifo(const std::string& path, std::error_code& ec);

// A FIFO as conveyor-ctl list shows it.
struct fifo_info {
    std::string path;
    unsigned mode = 0;             // permission bits
    bool consumer_reading = false; // a consumer has claimed it (is reading it now)
    std::string owner;             // "root:nogroup"
    bool no_access = false;        // this process may neither read nor write it
};
// The FIFOs that conveyor processes created and that are still FIFOs: this user's in the
// order made (forgetting the others), then other users' whose lists this process may read.
// docs/architecture.md, "FIFOs", has where the lists live.
std::vector<fifo_info> list_fifos();

// A producer on the FIFO: it opens the write end at its first send, waiting (within that
// send's time) for a consumer to open the read end; frames never interleave with other
// producers'; errc::peer_gone once the consumer has gone.
std::unique_ptr<stream_sender> open_fifo_sender(const endpoint& where,
                                                const channel_options& options, std::error_code& ec,
                                                std::string* why = nullptr,
                                                boost::asio::io_context* io = nullptr);
// The consumer of the FIFO; refused (errc::too_many_attached) while another consumer has
// it open, and (errc::invalid_argument) in lines mode with min_producers above 1. Waits for
// producers; end of stream once options.min_producers have said hello, every writer has closed and
// the FIFO is drained.
std::unique_ptr<stream_receiver> open_fifo_receiver(const endpoint& where,
                                                    const channel_options& options,
                                                    std::error_code& ec, std::string* why = nullptr,
                                                    boost::asio::io_context* io = nullptr);

} // namespace conveyor::pipe

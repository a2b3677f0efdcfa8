// The endpoints on this machine, as conveyor-ctl shows them.
#include "ctl/endpoints.hpp"

#include <conveyor/pipe/fifo.hpp>

namespace conveyor::cli {
namespace {

endpoint_row segment_row(const shm::segment_info& s) {
    endpoint_row row;
    row.endpoint = (s.topic ? "topic://" : "shm://") + s.name;
    row.owner = s.owner;
    row.mode = s.mode;
    row.layout_version = s.layout_version;
    // Kinds whose figures cannot be read: rm takes them as shm:// all the same.
    if (s.layout_mismatch || s.no_access) {
        row.kind = s.no_access ? "no-access" : "other-layout";
        return row;
    }
    row.kind = s.topic ? "topic" : "queue";
    row.capacity = s.capacity;
    row.max_message = s.max_message;
    row.depth = s.depth_messages;
    row.depth_bytes = s.depth_bytes;
    row.producers = s.producers;
    row.consumers = s.consumers;
    row.sent = s.sent;
    row.received = s.received;
    row.creator_pid = s.creator_pid;
    if (s.topic) row.slow = s.drop ? "drop" : "block";
    row.subscribers = s.subscribers;
    return row;
}

} // namespace

std::vector<endpoint_row> take_snapshot() {
    std::vector<endpoint_row> rows;
    for (const auto& s : shm::list_segments())
        rows.push_back(segment_row(s));
    for (const auto& f : pipe::list_fifos()) {
        endpoint_row row;
        row.endpoint = "fifo://" + f.path;
        row.kind = "fifo";
        if (!f.no_access) row.consumers = f.consumer_reading ? 1 : 0;
        row.mode = f.mode;
        row.owner = f.owner;
        rows.push_back(std::move(row));
    }
    return rows;
}

} // namespace conveyor::cli

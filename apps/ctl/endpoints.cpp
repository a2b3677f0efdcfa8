// The endpoints on this machine, as conveyor-ctl shows them.
#include "ctl/endpoints.hpp"

#include <conveyor/pipe/fifo.hpp>

#include <pwd.h>
#include <sys/stat.h>

namespace conveyor::cli {
namespace {

std::string owner_of(const std::string& path) {
    struct stat file;
    if (::stat(path.c_str(), &file) != 0) return {};
    if (const passwd* user = ::getpwuid(file.st_uid)) return user->pw_name;
    return std::to_string(file.st_uid);
}

endpoint_row segment_row(const shm::segment_info& s) {
    endpoint_row row;
    row.endpoint = (s.topic ? "topic://" : "shm://") + s.name;
    row.owner = owner_of(std::string(shm::shm_directory) + "/" + s.name);
    row.layout_version = s.layout_version;
    if (s.layout_mismatch) {
        row.kind = "other-layout";
        row.endpoint = "shm://" + s.name; // its kind cannot be read: rm takes it as shm://
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
    row.mode = s.mode;
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
        row.consumers = f.consumer_reading ? 1 : 0;
        row.mode = f.mode;
        row.owner = owner_of(f.path);
        rows.push_back(std::move(row));
    }
    return rows;
}

} // namespace conveyor::cli

// The transports the bench compares, conveyor's first.
#include "transport.hpp"

#include <atomic>
#include <unistd.h>

namespace conveyor::bench {

std::vector<std::unique_ptr<transport>> all_transports() {
    std::vector<std::unique_ptr<transport>> all;
    all.push_back(make_conveyor_shm());
    all.push_back(make_conveyor_shm_ack());
    all.push_back(make_conveyor_shm_zerocopy());
    all.push_back(make_conveyor_file());
    all.push_back(make_conveyor_file_sync());
    all.push_back(make_conveyor_topic());
    all.push_back(make_conveyor_fifo());
    all.push_back(make_conveyor_pipe());
    all.push_back(make_pipe());
    all.push_back(make_fifo());
    all.push_back(make_uds());
    all.push_back(make_posix_mq());
    all.push_back(make_boost_mq());
    all.push_back(make_conveyor_nats());
    all.push_back(make_nats_c());
    all.push_back(make_nats_c_msgid());
    return all;
}

std::string unique_name(const std::string& prefix) {
    static std::atomic<unsigned> counter{0};
    return prefix + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

} // namespace conveyor::bench

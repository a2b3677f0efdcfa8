#include "support/temporary_names.hpp"

#include <conveyor/shm/segment.hpp>

#include <atomic>
#include <cstdio>
#include <unistd.h>

namespace conveyor::test {

scratch_segment::scratch_segment(const std::string& purpose) {
    static std::atomic<int> counter{0};
    name_ = "conveyor-test-" + purpose + "-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter++);
    std::remove(path().c_str());
}

scratch_segment::~scratch_segment() {
    std::remove(path().c_str());
}

} // namespace conveyor::test

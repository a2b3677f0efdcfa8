// Segment names unique to one test run, removed when the test ends.
#pragma once

#include <string>

namespace conveyor::test {

// A segment name no other test or run uses; its segment is removed on destruction.
class scratch_segment {
public:
    explicit scratch_segment(const std::string& purpose);
    ~scratch_segment();
    scratch_segment(const scratch_segment&) = delete;
    scratch_segment& operator=(const scratch_segment&) = delete;

    const std::string& name() const noexcept { return name_; }
    std::string uri() const { return "shm://" + name_; }
    // The same name as a topic: a segment made by topic:// is removed alike.
    std::string topic_uri() const { return "topic://" + name_; }
    std::string path() const { return "/dev/shm/" + name_; }

private:
    std::string name_;
};

} // namespace conveyor::test

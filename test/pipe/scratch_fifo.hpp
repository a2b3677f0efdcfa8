// A directory of its own for each test's FIFOs, removed with everything in it.
#pragma once

#include <string>

namespace conveyor::test {

class scratch_dir {
public:
    scratch_dir();
    ~scratch_dir();
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;

    // path/name, and its fifo:// URI.
    std::string path(const std::string& name) const { return dir_ + "/" + name; }
    std::string uri(const std::string& name) const { return "fifo://" + path(name); }

private:
    std::string dir_;
};

} // namespace conveyor::test

// A directory of its own for each test's FIFOs and queue files, removed with everything in
// it.
#pragma once

#include <string>

namespace conveyor::test {

class scratch_dir {
public:
    scratch_dir();
    ~scratch_dir();
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;

    // path/name, and its fifo:// and file:// URIs.
    std::string path(const std::string& name) const { return dir_ + "/" + name; }
    std::string uri(const std::string& name) const { return "fifo://" + path(name); }
    std::string file_uri(const std::string& name) const { return "file://" + path(name); }
    const std::string& path() const noexcept { return dir_; }

private:
    std::string dir_;
};

} // namespace conveyor::test

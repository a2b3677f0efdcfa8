#include "support/scratch_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace conveyor::test {

scratch_dir::scratch_dir() {
    char pattern[] = "/tmp/conveyor-test-XXXXXX";
    if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
}

scratch_dir::~scratch_dir() {
    std::error_code ignored; // a leftover directory in /tmp must not fail the test
    std::filesystem::remove_all(dir_, ignored);
}

} // namespace conveyor::test

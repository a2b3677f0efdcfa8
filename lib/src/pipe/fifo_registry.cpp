// The registry of FIFOs conveyor made: appended by make_fifo, pruned by list and rm.
#include "pipe/fifo_registry.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace conveyor::pipe::detail {
namespace {

// Per user: a registry others could write to would let them put paths in our listing; in
// /dev/shm beside the segments, with a dot so that segment listings pass it by.
std::string registry_path() {
    return "/dev/shm/.conveyor-fifos-" + std::to_string(::getuid());
}

// Opens the registry and takes its lock, exclusive for the whole read-change-write; the lock
// goes with the descriptor, so a process that dies holding it releases it.
int open_locked(int flags) {
    const int fd = ::open(registry_path().c_str(), flags | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    while (::flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            ::close(fd);
            return -1;
        }
    }
    return fd;
}

bool write_all(int fd, const std::string& text) {
    for (std::size_t done = 0; done < text.size();) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

std::string read_all(int fd) {
    std::string text;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return text;
        text.append(buffer, static_cast<std::size_t>(n));
    }
}

} // namespace

void register_fifo(const std::string& path) noexcept {
    if (path.find('\n') != std::string::npos) return; // one path a line: not listable
    try {
        const int fd = open_locked(O_WRONLY | O_APPEND | O_CREAT);
        if (fd < 0) return;
        write_all(fd, path + '\n');
        ::close(fd);
    } catch (...) { // no memory for the line: the FIFO is simply not listed
    }
}

std::vector<std::string>
keep_registered_fifos(const std::function<bool(const std::string&)>& keep) {
    std::vector<std::string> kept;
    const int fd = open_locked(O_RDWR);
    if (fd < 0) return kept;
    const std::string text = read_all(fd);
    std::string rewritten;
    for (std::size_t begin = 0, end; begin < text.size(); begin = end + 1) {
        end = std::min(text.find('\n', begin), text.size());
        std::string path = text.substr(begin, end - begin);
        if (path.empty() || std::find(kept.begin(), kept.end(), path) != kept.end() || !keep(path))
            continue;
        rewritten += path + '\n';
        kept.push_back(std::move(path));
    }
    if (rewritten != text && ::ftruncate(fd, 0) == 0 && ::lseek(fd, 0, SEEK_SET) == 0)
        write_all(fd, rewritten);
    ::close(fd);
    return kept;
}

} // namespace conveyor::pipe::detail

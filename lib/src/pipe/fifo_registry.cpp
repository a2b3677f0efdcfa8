// The registry of FIFOs conveyor made: appended by make_fifo, pruned by list and rm.
#include "pipe/fifo_registry.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <dirent.h>
#include <fcntl.h>
#include <string_view>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace conveyor::pipe::detail {
namespace {

// In /dev/shm beside the segments, with a dot so that segment listings pass it by.
constexpr const char* registry_prefix = ".conveyor-fifos-";
// Per user: a registry others could write to would let them put paths in our listing.
// Readable by all, so that another user's conveyor-ctl lists these FIFOs too (as "no
// access" where it may not open them), as /dev/shm shows everybody's segments.
constexpr mode_t registry_mode = 0644;

std::string registry_path(uid_t uid) {
    return "/dev/shm/" + std::string(registry_prefix) + std::to_string(uid);
}

// Opens the registry of uid without following a symlink (another user may have put one
// there: /dev/shm is writable by all) and takes its lock: shared to read, exclusive for
// the whole read-change-write. The lock goes with the descriptor, so a process that dies
// holding it releases it. -1 when it is missing, or is not a file that uid owns.
int open_locked(uid_t uid, int flags, int lock) {
    const int fd =
        ::open(registry_path(uid).c_str(), flags | O_CLOEXEC | O_NOFOLLOW, registry_mode);
    if (fd < 0) return -1;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != uid) {
        ::close(fd);
        return -1;
    }
    // Made under a umask, or 0600 by an older build: readable by all from now on.
    if (uid == ::geteuid() && (st.st_mode & 0777) != registry_mode) ::fchmod(fd, registry_mode);
    while (::flock(fd, lock) != 0) {
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
        const int fd = open_locked(::geteuid(), O_WRONLY | O_APPEND | O_CREAT, LOCK_EX);
        if (fd < 0) return;
        write_all(fd, path + '\n');
        ::close(fd);
    } catch (...) { // no memory for the line: the FIFO is simply not listed
    }
}

std::vector<std::string>
keep_registered_fifos(const std::function<bool(const std::string&)>& keep) {
    std::vector<std::string> kept;
    const int fd = open_locked(::geteuid(), O_RDWR, LOCK_EX);
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

std::vector<registry> other_registries() {
    std::vector<registry> found;
    DIR* dir = ::opendir("/dev/shm");
    if (!dir) return found;
    const std::string_view prefix = registry_prefix;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string_view name = entry->d_name;
        if (!name.starts_with(prefix)) continue;
        const std::string_view digits = name.substr(prefix.size());
        uid_t uid = 0;
        const auto parsed = std::from_chars(digits.data(), digits.data() + digits.size(), uid);
        if (digits.empty() || parsed.ec != std::errc{} ||
            parsed.ptr != digits.data() + digits.size() || uid == ::geteuid())
            continue;
        const int fd = open_locked(uid, O_RDONLY, LOCK_SH);
        if (fd < 0) continue; // not readable here, or not uid's
        const std::string text = read_all(fd);
        ::close(fd);
        registry r{uid, {}};
        for (std::size_t begin = 0, end; begin < text.size(); begin = end + 1) {
            end = std::min(text.find('\n', begin), text.size());
            if (end > begin) r.paths.push_back(text.substr(begin, end - begin));
        }
        found.push_back(std::move(r));
    }
    ::closedir(dir);
    std::sort(found.begin(), found.end(),
              [](const registry& a, const registry& b) { return a.owner < b.owner; });
    return found;
}

} // namespace conveyor::pipe::detail

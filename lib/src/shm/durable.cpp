// Boot and file identity of durable queues, and syncing mapped bytes to disk.
#include "shm/durable.hpp"

#include <cstdio>
#include <cstring>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace conveyor::shm::detail {
namespace {

// The kernel's random id of this boot, as two words; zeros if it cannot be read.
struct boot_words {
    std::uint64_t high = 0;
    std::uint64_t low = 0;
};

boot_words this_boot() noexcept {
    static const boot_words cached = [] {
        boot_words words;
        if (std::FILE* f = std::fopen("/proc/sys/kernel/random/boot_id", "re")) {
            char text[64] = {};
            if (std::fgets(text, sizeof text, f)) {
                std::uint8_t bytes[16] = {};
                unsigned n = 0;
                for (const char* p = text; *p && n < 32; ++p) {
                    int digit = -1;
                    if (*p >= '0' && *p <= '9') digit = *p - '0';
                    if (*p >= 'a' && *p <= 'f') digit = *p - 'a' + 10;
                    if (digit < 0) continue;
                    bytes[n / 2] = static_cast<std::uint8_t>(bytes[n / 2] << 4 | digit);
                    ++n;
                }
                std::memcpy(&words.high, bytes, 8);
                std::memcpy(&words.low, bytes + 8, 8);
            }
            std::fclose(f);
        }
        return words;
    }();
    return cached;
}

} // namespace

constexpr auto relaxed = std::memory_order_relaxed; // changed only with the file's flock held

void stamp_identity(queue_control& control, int fd) noexcept {
    const auto boot = this_boot();
    control.boot_id[0].store(boot.high, relaxed);
    control.boot_id[1].store(boot.low, relaxed);
    struct stat file {};
    ::fstat(fd, &file);
    control.file_device.store(file.st_dev, relaxed);
    control.file_inode.store(file.st_ino, relaxed);
}

bool identity_changed(const queue_control& control, int fd) noexcept {
    const auto boot = this_boot();
    struct stat file {};
    ::fstat(fd, &file);
    return control.boot_id[0].load(relaxed) != boot.high ||
           control.boot_id[1].load(relaxed) != boot.low ||
           control.file_device.load(relaxed) != file.st_dev ||
           control.file_inode.load(relaxed) != file.st_ino;
}

bool sync_range(const std::byte* begin, const std::byte* end) noexcept {
    static const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto first = reinterpret_cast<std::uintptr_t>(begin) & ~(page - 1);
    const auto last = reinterpret_cast<std::uintptr_t>(end);
    if (last <= first) return true;
    return ::msync(reinterpret_cast<void*>(first), last - first, MS_SYNC) == 0;
}

} // namespace conveyor::shm::detail

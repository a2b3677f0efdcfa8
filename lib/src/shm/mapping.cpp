// Creating, joining and checking segments. A creator builds the whole segment under a
// private name and publishes it with link(2), which fails if the name exists: a joiner
// never sees a half-built segment, two creators at the same instant agree on one, and a
// creator killed mid-way leaves only its private file, removed by the next opener of the
// name or by remove_segment.
#include "shm/mapping.hpp"

#include "conveyor/error.hpp"
#include "conveyor/shm/segment.hpp"

#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <new>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace conveyor::shm::detail {
namespace bip = boost::interprocess;
namespace {

// Bounds a segment's size so that a typo does not reserve the machine's memory.
constexpr std::uint64_t max_capacity = std::uint64_t(64) << 30;

std::string path_of(const std::string& name) {
    return std::string(shm_directory) + "/" + name;
}

std::error_code native_error(const bip::interprocess_exception& e) {
    int code = e.get_native_error();
    return {code != 0 ? code : EIO, std::system_category()};
}

bool fail(std::error_code& ec, std::string& why, std::error_code cause, std::string reason) {
    ec = cause;
    why = std::move(reason);
    return false;
}

// Checks what a joiner found, reading the magic before trusting any other field.
bool check_header(const std::string& name, const void* base, std::uint64_t file_size,
                  std::error_code& ec, std::string& why) {
    const std::string where = "shm://" + name + ": ";
    if (file_size < sizeof(segment_header))
        return fail(ec, why, errc::not_a_segment,
                    where + path_of(name) + " is not a conveyor segment (too small for a header)");
    const auto& header = *static_cast<const segment_header*>(base);
    if (header.magic != segment_magic)
        return fail(ec, why, errc::not_a_segment,
                    where + path_of(name) + " is not a conveyor segment (no conveyor magic)");
    if (header.layout_version != layout_version)
        return fail(ec, why, errc::layout_mismatch,
                    where + "segment has layout version " + std::to_string(header.layout_version) +
                        " but this build of conveyor reads version " +
                        std::to_string(layout_version) +
                        "; remove it (conveyor-ctl rm) or use "
                        "a matching build");
    const bool sizes_agree = header.total_size == file_size &&
                             header.data_offset == data_offset() &&
                             header.capacity % record_alignment == 0 &&
                             header.data_offset + header.capacity == header.total_size &&
                             min_capacity(header.max_message) <= header.capacity;
    if (!sizes_agree)
        return fail(ec, why, errc::not_a_segment,
                    where + "segment header is inconsistent with the file's size " +
                        std::to_string(file_size) + "; it is damaged or not conveyor's");
    return true;
}

void lay_out(void* base, std::uint64_t total, std::uint64_t capacity,
             const segment_request& request) {
    std::memset(base, 0, data_offset());
    auto* header = static_cast<segment_header*>(base);
    header->layout_version = layout_version;
    header->data_offset = static_cast<std::uint32_t>(data_offset());
    header->total_size = total;
    header->capacity = capacity;
    header->max_message = request.max_message;
    header->creator_pid = ::getpid();
    header->mode = request.mode;
    header->created_unix_ns =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    auto* control = new (static_cast<std::byte*>(base) + control_offset()) queue_control;
    control->producer_lock.initialise();
    control->consumer_lock.initialise();
    // The magic goes last: a file with it is complete. (Publication is by link(2) anyway.)
    header->magic = segment_magic;
}

} // namespace

std::string creation_name(const std::string& name, int pid) {
    return "." + name + ".creating." + std::to_string(pid);
}

void remove_abandoned_creations(const std::string& name) {
    const std::string prefix = "." + name + ".creating.";
    DIR* dir = ::opendir(std::string(shm_directory).c_str());
    if (!dir) return;
    while (const dirent* entry = ::readdir(dir)) {
        std::string_view file = entry->d_name;
        if (!file.starts_with(prefix)) continue;
        const int pid = std::atoi(entry->d_name + prefix.size());
        if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH)
            bip::shared_memory_object::remove(std::string(file).c_str());
    }
    ::closedir(dir);
}

std::uint32_t stored_layout_version(const std::string& name) {
    const int fd = ::open(path_of(name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    segment_header header{};
    const bool read = ::pread(fd, &header, sizeof header, 0) == static_cast<ssize_t>(sizeof header);
    ::close(fd);
    // Every layout's header starts with the magic and the version; only those are read.
    return read && header.magic == segment_magic ? header.layout_version : 0;
}

mapping::mapping(std::unique_ptr<bip::mapped_region> region)
    : region_(std::move(region)), base_(region_->get_address()) {}

mapping::~mapping() = default;

std::unique_ptr<mapping> mapping::open(const std::string& name, access mode, std::error_code& ec,
                                       std::string& why) {
    const bip::mode_t bip_mode = mode == access::read_write ? bip::read_write : bip::read_only;
    try {
        bip::shared_memory_object object(bip::open_only, name.c_str(), bip_mode);
        bip::offset_t size = 0;
        if (!object.get_size(size)) {
            fail(ec, why, {errno, std::system_category()}, "shm://" + name + ": cannot stat");
            return nullptr;
        }
        if (size < static_cast<bip::offset_t>(sizeof(segment_header))) {
            fail(ec, why, errc::not_a_segment,
                 "shm://" + name + ": " + path_of(name) +
                     " is not a conveyor segment (too small for a header)");
            return nullptr;
        }
        auto region = std::make_unique<bip::mapped_region>(object, bip_mode);
        if (!check_header(name, region->get_address(), static_cast<std::uint64_t>(size), ec, why))
            return nullptr;
        return std::unique_ptr<mapping>(new mapping(std::move(region)));
    } catch (const bip::interprocess_exception& e) {
        auto cause = native_error(e);
        if (cause == std::errc::no_such_file_or_directory) {
            fail(ec, why, errc::no_such_endpoint, "shm://" + name + ": no such segment");
        } else if (cause == std::errc::permission_denied) {
            fail(ec, why, cause,
                 "shm://" + name +
                     ": permission denied (the segment belongs to another user "
                     "or was created with a narrower mode)");
        } else {
            fail(ec, why, cause, "shm://" + name + ": cannot open: " + cause.message());
        }
        return nullptr;
    }
}

std::unique_ptr<mapping> mapping::open_or_create(const std::string& name,
                                                 const segment_request& request,
                                                 std::error_code& ec, std::string& why) {
    const std::string where = "shm://" + name + ": ";
    if (request.max_message > 0xFFFF'FF00u) {
        fail(ec, why, errc::invalid_argument, where + "max message must be below 4 GiB");
        return nullptr;
    }
    const std::uint64_t capacity =
        (std::uint64_t(request.capacity) + record_alignment - 1) & ~(record_alignment - 1);
    if (capacity < min_capacity(request.max_message) || capacity > max_capacity) {
        fail(ec, why, errc::invalid_argument,
             where + "capacity " + std::to_string(request.capacity) +
                 " bytes must hold two largest messages (" +
                 std::to_string(min_capacity(request.max_message)) +
                 " bytes with their record headers) and be at most 64 GiB");
        return nullptr;
    }
    // Join when it exists; otherwise build, publish, and on losing a race join the winner.
    for (int attempt = 0; attempt < 16; ++attempt) {
        auto joined = open(name, access::read_write, ec, why);
        if (joined) {
            // A creator killed mid-way while another published name leaves its file, pages
            // reserved, beside a live segment: the sweep before creating never sees it.
            remove_abandoned_creations(name);
            return joined;
        }
        if (ec != errc::no_such_endpoint) return nullptr;
        ec.clear();
        why.clear();

        remove_abandoned_creations(name);
        const std::string building = creation_name(name, ::getpid());
        const std::uint64_t total = data_offset() + capacity;
        try {
            bip::shared_memory_object::remove(building.c_str());
            bip::shared_memory_object object(bip::create_only, building.c_str(), bip::read_write,
                                             bip::permissions(request.mode));
            // shm_open applies the umask: set exactly the mode asked for.
            ::fchmod(object.get_mapping_handle().handle, request.mode);
            object.truncate(static_cast<bip::offset_t>(total));
            // Reserve the pages now: a full /dev/shm must fail here, not as SIGBUS later.
            if (int rc = ::posix_fallocate(object.get_mapping_handle().handle, 0,
                                           static_cast<off_t>(total));
                rc != 0) {
                bip::shared_memory_object::remove(building.c_str());
                fail(ec, why, {rc, std::system_category()},
                     where + "cannot reserve " + std::to_string(total) + " bytes in " +
                         std::string(shm_directory) + ": " + std::strerror(rc));
                return nullptr;
            }
            auto region = std::make_unique<bip::mapped_region>(object, bip::read_write);
            lay_out(region->get_address(), total, capacity, request);
            const int linked = ::link(path_of(building).c_str(), path_of(name).c_str());
            const int link_errno = errno;
            bip::shared_memory_object::remove(building.c_str());
            if (linked == 0) return std::unique_ptr<mapping>(new mapping(std::move(region)));
            if (link_errno != EEXIST) {
                fail(ec, why, {link_errno, std::system_category()},
                     where + "cannot publish the new segment: " + std::strerror(link_errno));
                return nullptr;
            }
        } catch (const bip::interprocess_exception& e) {
            bip::shared_memory_object::remove(building.c_str());
            auto cause = native_error(e);
            fail(ec, why, cause,
                 where + "cannot create segment of " + std::to_string(total) +
                     " bytes: " + cause.message());
            return nullptr;
        }
    }
    fail(ec, why, {EAGAIN, std::system_category()},
         where + "segment keeps appearing and vanishing; gave up joining it");
    return nullptr;
}

} // namespace conveyor::shm::detail

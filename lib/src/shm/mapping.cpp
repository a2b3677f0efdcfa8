// Creating, joining and checking segments. A creator builds the whole segment under a
// private name and publishes it with link(2), which fails if the name exists: a joiner
// never sees a half-built segment, two creators at the same instant agree on one, and a
// creator killed mid-way leaves only its private file, removed by the next opener of the
// name or by remove_segment.
#include "shm/mapping.hpp"

#include "conveyor/channel_options.hpp"
#include "conveyor/endpoint.hpp"
#include "conveyor/error.hpp"
#include "conveyor/shm/segment.hpp"
#include "detail/file_owner.hpp"
#include "shm/durable.hpp"
#include "shm/topic_layout.hpp"

#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/file_mapping.hpp>
#include <boost/interprocess/mapped_region.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <new>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace conveyor::shm::detail {
namespace bip = boost::interprocess;
namespace {

// Bounds a segment's size so that a typo does not reserve the machine's memory.
constexpr std::uint64_t max_capacity = std::uint64_t(64) << 30;
// The largest max_message whose record size, header and padding included, fits the record
// header's 32-bit size field with room to spare.
constexpr std::uint64_t largest_max_message = 0xFFFF'FF00u;
// How often a creator that lost the race to publish tries to join the winner before it
// gives up: only a name that keeps appearing and vanishing exhausts this.
constexpr int publish_attempts = 16;

// The smallest file that holds a header and a control block of either kind.
constexpr std::uint64_t smallest_segment = std::min(data_offset(), topic_data_offset());

std::uint64_t data_offset_of(bool topic) noexcept {
    return topic ? topic_data_offset() : data_offset();
}

bool fail(std::error_code& ec, std::string& why, std::error_code cause, std::string reason) {
    ec = cause;
    why = std::move(reason);
    return false;
}

std::error_code last_error() noexcept {
    return {errno, std::system_category()};
}

std::error_code native_error(const bip::interprocess_exception& e) {
    const int code = e.get_native_error();
    return {code != 0 ? code : EIO, std::system_category()};
}

// "shm://orders is a topic; open it as topic://orders", and the other way round.
std::string other_kind(const segment_location& where, bool topic) {
    return where.uri + " is a " + (topic ? "topic" : "queue") + "; open it as " +
           (topic ? "topic://" : "shm://") + where.file;
}

std::string not_ours(const segment_location& where, const char* detail) {
    return where.uri + ": " + where.path() + " is not a conveyor " +
           (where.durable ? "queue file" : "segment") + " (" + detail + ")";
}

// Checks what a joiner found, reading the magic before trusting any other field, and copies
// the sizes it checked. A durable queue's file may be shorter than its header says (cut by
// a crash or a copy): short is set, and the caller extends it.
bool check_header(const segment_location& where, const void* base, std::uint64_t file_size,
                  segment_shape& shape, bool& short_file, std::error_code& ec, std::string& why) {
    const auto& header = *static_cast<const segment_header*>(base);
    if (header.magic != segment_magic)
        return fail(ec, why, errc::not_a_segment, not_ours(where, "no conveyor magic"));
    if (header.layout_version != layout_version)
        return fail(
            ec, why, errc::layout_mismatch,
            where.uri + ": segment has layout version " + std::to_string(header.layout_version) +
                " but this build of conveyor reads version " + std::to_string(layout_version) +
                "; remove it (conveyor-ctl rm) or use a matching build");
    const std::uint32_t flags = header.flags;
    shape.topic = (flags & topic_flag) != 0;
    shape.drop = (flags & drop_flag) != 0;
    if ((flags & ~known_flags) == 0 && !where.durable &&
        ((where.kind == segment_kind::queue && shape.topic) ||
         (where.kind == segment_kind::topic && !shape.topic)))
        return fail(ec, why, errc::kind_mismatch, other_kind(where, shape.topic));
    shape.capacity = header.capacity;
    shape.max_message = header.max_message;
    shape.data_offset = header.data_offset;
    shape.total_size = header.total_size;
    shape.durable = (flags & durable_flag) != 0;
    shape.sync = header.sync;
    short_file = where.durable && file_size < shape.total_size && file_size >= data_offset();
    // A topic is never durable, and only a topic drops.
    const bool flags_agree = (flags & ~known_flags) == 0 && !(shape.topic && shape.durable) &&
                             (shape.topic || !shape.drop);
    const bool sizes_agree =
        flags_agree && (shape.total_size == file_size || short_file) &&
        shape.data_offset == data_offset_of(shape.topic) &&
        shape.capacity % record_alignment == 0 && shape.capacity <= max_capacity &&
        shape.data_offset + shape.capacity == shape.total_size &&
        shape.max_message <= largest_max_message &&
        min_capacity(shape.max_message) <= shape.capacity && shape.durable == where.durable &&
        shape.sync <= static_cast<std::uint32_t>(sync_policy::always);
    if (!sizes_agree)
        return fail(ec, why, errc::not_a_segment,
                    where.uri + ": segment header is inconsistent with the file's size " +
                        std::to_string(file_size) + "; it is damaged or not conveyor's");
    return true;
}

void lay_out(void* base, std::uint64_t total, std::uint64_t capacity,
             const segment_request& request, const segment_location& where, int fd) {
    const bool topic = where.kind == segment_kind::topic;
    std::memset(base, 0, data_offset_of(topic));
    auto* header = static_cast<segment_header*>(base);
    header->layout_version = layout_version;
    header->data_offset = static_cast<std::uint32_t>(data_offset_of(topic));
    header->total_size = total;
    header->capacity = capacity;
    header->max_message = request.max_message;
    header->creator_pid = ::getpid();
    header->mode = request.mode;
    header->created_unix_ns =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    header->flags = where.durable ? std::uint32_t{durable_flag}
                    : topic       ? std::uint32_t{topic_flag} | (request.drop ? drop_flag : 0u)
                                  : 0u;
    header->sync = request.sync;
    std::byte* control = static_cast<std::byte*>(base) + control_offset();
    if (topic) {
        new (control) topic_control;
    } else {
        auto* queue = new (control) queue_control;
        if (where.durable) stamp_identity(*queue, fd);
    }
    // The magic goes last: a file with it is complete. (Publication is by link(2) anyway.)
    header->magic = segment_magic;
}

std::string creation_prefix(const segment_location& where) {
    return "." + where.file + ".creating.";
}

// The private name this thread builds a new segment under: the pid tells a later opener
// whether its creator lives; the thread id keeps two threads of one process apart.
std::string creation_file(const segment_location& where) {
    return creation_prefix(where) + std::to_string(::getpid()) + "." +
           std::to_string(::syscall(SYS_gettid));
}

} // namespace

segment_location segment_location::shm(const std::string& name) {
    return {"shm://" + name, std::string(shm_directory), name, false, segment_kind::any};
}

segment_location segment_location::of(const endpoint& where) {
    if (where.kind() != scheme::file) {
        auto shm_location = shm(where.name());
        shm_location.uri = where.uri();
        shm_location.kind =
            where.kind() == scheme::topic ? segment_kind::topic : segment_kind::queue;
        return shm_location;
    }
    const std::string& path = where.name(); // absolute, not ending in '/'
    const auto slash = path.rfind('/');
    return {where.uri(), slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1), true,
            segment_kind::queue};
}

void remove_abandoned_creations(const segment_location& where) {
    const std::string prefix = creation_prefix(where);
    DIR* dir = ::opendir(where.directory.c_str());
    if (!dir) return;
    while (const dirent* entry = ::readdir(dir)) {
        std::string_view file = entry->d_name;
        if (!file.starts_with(prefix)) continue;
        const int pid = std::atoi(entry->d_name + prefix.size());
        if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH)
            ::unlink((where.directory + "/" + std::string(file)).c_str());
    }
    ::closedir(dir);
}

std::uint32_t stored_layout_version(const segment_location& where) {
    const int fd = ::open(where.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    segment_header header{};
    const bool read = ::pread(fd, &header, sizeof header, 0) == static_cast<ssize_t>(sizeof header);
    ::close(fd);
    // Every layout's header starts with the magic and the version; only those are read.
    return read && header.magic == segment_magic ? header.layout_version : 0;
}

mapping::mapping(std::unique_ptr<bip::mapped_region> region, int fd, const segment_shape& shape,
                 segment_location where)
    : region_(std::move(region)), base_(region_->get_address()), fd_(fd), shape_(shape),
      location_(std::move(where)) {}

mapping::~mapping() {
    region_.reset();
    ::close(fd_);
}

namespace {

std::unique_ptr<bip::mapped_region> map_whole(int fd, bip::mode_t mode, std::uint64_t size) {
    // A file_mapping of our own descriptor: Boost maps what we opened and checked, not
    // whatever the path names by the time it opens it again.
    struct descriptor_mapping {
        int fd;
        bip::mode_t mode;
        bip::mapping_handle_t get_mapping_handle() const noexcept {
            bip::mapping_handle_t handle;
            handle.handle = fd;
            handle.is_xsi = false; // a file descriptor, not a System V segment
            return handle;
        }
        bip::mode_t get_mode() const noexcept { return mode; }
    };
    return std::make_unique<bip::mapped_region>(descriptor_mapping{fd, mode}, mode, 0,
                                                static_cast<std::size_t>(size));
}

std::string open_failure(const segment_location& where, const std::error_code& cause) {
    if (cause == std::errc::permission_denied)
        return where.uri + ": permission denied: " + conveyor::detail::access_refusal(where.path());
    return where.uri + ": cannot open " + where.path() + ": " + cause.message();
}

} // namespace

std::unique_ptr<mapping> mapping::open(const segment_location& where, access mode,
                                       std::error_code& ec, std::string& why) {
    const bool writable = mode == access::read_write;
    const int fd = ::open(where.path().c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC |
                                                    (where.durable ? 0 : O_NOFOLLOW));
    if (fd < 0) {
        const auto cause = last_error();
        if (cause == std::errc::no_such_file_or_directory)
            fail(ec, why, errc::no_such_endpoint,
                 where.uri + (where.durable ? ": no such queue file" : ": no such segment"));
        else
            fail(ec, why, cause, open_failure(where, cause));
        return nullptr;
    }
    auto give_up = [&](const char* detail) {
        ::close(fd);
        fail(ec, why, errc::not_a_segment, not_ours(where, detail));
        return nullptr;
    };
    struct stat file;
    if (::fstat(fd, &file) != 0) return give_up("cannot stat it");
    if (!S_ISREG(file.st_mode)) return give_up("not a regular file");
    const auto size = static_cast<std::uint64_t>(file.st_size);
    if (size < smallest_segment) return give_up("too small for a header");
    try {
        const bip::mode_t bip_mode = writable ? bip::read_write : bip::read_only;
        segment_shape shape;
        bool short_file = false;
        {
            auto header_region = map_whole(fd, bip::read_only, sizeof(segment_header));
            if (!check_header(where, header_region->get_address(), size, shape, short_file, ec,
                              why)) {
                ::close(fd);
                return nullptr;
            }
        }
        if (short_file && !writable) return give_up("shorter than its header says");
        if (short_file && (::ftruncate(fd, static_cast<off_t>(shape.total_size)) != 0 ||
                           ::posix_fallocate(fd, 0, static_cast<off_t>(shape.total_size)) != 0)) {
            const auto cause = last_error();
            ::close(fd);
            fail(ec, why, cause,
                 where.uri +
                     ": the file is shorter than its header says and cannot be "
                     "extended back: " +
                     cause.message());
            return nullptr;
        }
        auto region = map_whole(fd, bip_mode, shape.total_size);
        std::unique_ptr<mapping> result(new mapping(std::move(region), fd, shape, where));
        result->extended_ = short_file;
        return result;
    } catch (const bip::interprocess_exception& e) {
        ::close(fd);
        const auto cause = native_error(e);
        fail(ec, why, cause, where.uri + ": cannot map " + where.path() + ": " + cause.message());
        return nullptr;
    }
}

namespace {

// Builds a whole segment in a private file of where's directory; returns its descriptor, or
// -1 with ec and why set.
int build(const segment_location& where, const std::string& building,
          const segment_request& request, std::uint64_t capacity, std::error_code& ec,
          std::string& why) {
    const std::string path = where.directory + "/" + building;
    const std::uint64_t total = data_offset_of(where.kind == segment_kind::topic) + capacity;
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, request.mode);
    if (fd < 0) {
        const auto cause = last_error();
        fail(ec, why, cause,
             where.uri + ": cannot create " + path + ": " + cause.message() +
                 (cause == std::errc::permission_denied ? " (may this user write there?)" : ""));
        return -1;
    }
    auto abandon = [&](std::error_code cause, const std::string& reason) {
        ::close(fd);
        ::unlink(path.c_str());
        fail(ec, why, cause, reason);
        return -1;
    };
    // open applies the umask: set exactly the mode asked for.
    ::fchmod(fd, request.mode);
    if (::ftruncate(fd, static_cast<off_t>(total)) != 0)
        return abandon(last_error(),
                       where.uri + ": cannot size " + path + ": " + last_error().message());
    // Reserve the pages or blocks now: a full /dev/shm or disk must fail here, not as SIGBUS
    // when a mapped page is first written.
    if (const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(total)); rc != 0)
        return abandon({rc, std::system_category()},
                       where.uri + ": cannot reserve " + std::to_string(total) + " bytes in " +
                           where.directory + ": " + std::strerror(rc));
    try {
        auto region = map_whole(fd, bip::read_write, total);
        lay_out(region->get_address(), total, capacity, request, where, fd);
        // A durable queue is on disk before its name is: a crash leaves no named half-file.
        if (where.durable &&
            (::msync(region->get_address(), data_offset(), MS_SYNC) != 0 || ::fdatasync(fd) != 0))
            return abandon(last_error(),
                           where.uri + ": cannot write " + path + ": " + last_error().message());
    } catch (const bip::interprocess_exception& e) {
        return abandon(native_error(e),
                       where.uri + ": cannot map " + path + ": " + native_error(e).message());
    }
    return fd;
}

// Makes a new link in a durable queue's directory survive a crash.
void sync_directory(const std::string& directory) {
    const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return;
    ::fsync(dir);
    ::close(dir);
}

} // namespace

std::unique_ptr<mapping> mapping::open_or_create(const segment_location& where,
                                                 const segment_request& request,
                                                 std::error_code& ec, std::string& why) {
    if (request.max_message > largest_max_message) {
        fail(ec, why, errc::invalid_argument, where.uri + ": max message must be below 4 GiB");
        return nullptr;
    }
    const std::uint64_t capacity =
        (std::uint64_t(request.capacity) + record_alignment - 1) & ~(record_alignment - 1);
    if (capacity < min_capacity(request.max_message) || capacity > max_capacity) {
        fail(ec, why, errc::invalid_argument,
             where.uri + ": capacity " + std::to_string(request.capacity) +
                 " bytes must hold two largest messages (" +
                 std::to_string(min_capacity(request.max_message)) +
                 " bytes with their record headers) and be at most 64 GiB");
        return nullptr;
    }
    // Join when it exists; otherwise build, publish, and on losing a race join the winner.
    for (int attempt = 0; attempt < publish_attempts; ++attempt) {
        auto joined = open(where, access::read_write, ec, why);
        if (joined) {
            // A creator killed mid-way while another published the name leaves its file,
            // pages reserved, beside a live segment: the sweep before creating never sees it.
            remove_abandoned_creations(where);
            return joined;
        }
        if (ec != errc::no_such_endpoint) return nullptr;
        ec.clear();
        why.clear();

        remove_abandoned_creations(where);
        const std::string building = creation_file(where);
        const int fd = build(where, building, request, capacity, ec, why);
        if (fd < 0) return nullptr;
        const std::string built = where.directory + "/" + building;
        const int linked = ::link(built.c_str(), where.path().c_str());
        const int link_errno = errno;
        ::unlink(built.c_str());
        ::close(fd);
        if (linked == 0) {
            if (where.durable) sync_directory(where.directory);
            continue; // joins what it built, as any other opener would
        }
        if (link_errno != EEXIST) {
            fail(ec, why, {link_errno, std::system_category()},
                 where.uri + ": cannot publish the new segment: " + std::strerror(link_errno));
            return nullptr;
        }
    }
    fail(ec, why, {EAGAIN, std::system_category()},
         where.uri + ": segment keeps appearing and vanishing; gave up joining it");
    return nullptr;
}

} // namespace conveyor::shm::detail

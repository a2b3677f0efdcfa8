// FIFO endpoints: creation, the one-consumer claim, producers that wait for a consumer.
#include "conveyor/pipe/fifo.hpp"

#include "conveyor/error.hpp"
#include "conveyor/pipe/child.hpp" // stream_sender's optional child must be complete here
#include "detail/file_owner.hpp"
#include "pipe/fifo_registry.hpp"
#include "pipe/pipe_buffer.hpp"
#include "pipe/reader.hpp"
#include "pipe/writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace conveyor::pipe {
namespace {

std::error_code last_error() {
    return std::error_code(errno, std::system_category());
}

// The consumer's claim: an open-file-description read lock on byte 0. Another consumer's
// lock shows up in F_OFD_GETLK; producers lock with flock, which does not interact.
bool claim_for_reading(int fd, bool check_others, std::error_code& ec) {
    struct flock lock {};
    lock.l_type = F_RDLCK;
    lock.l_whence = SEEK_SET;
    lock.l_len = 1;
    if (::fcntl(fd, F_OFD_SETLK, &lock) != 0) {
        ec = last_error();
        return false;
    }
    if (!check_others) return true;
    struct flock probe {};
    probe.l_type = F_WRLCK;
    probe.l_whence = SEEK_SET;
    probe.l_len = 1;
    if (::fcntl(fd, F_OFD_GETLK, &probe) != 0) {
        ec = last_error();
        return false;
    }
    // Two consumers opening at the same instant both see each other and both give up:
    // never two readers splitting one stream.
    if (probe.l_type != F_UNLCK) ec = errc::too_many_attached;
    return !ec;
}

int open_fifo(const std::string& path, int flags, std::error_code& ec) {
    const int fd = ::open(path.c_str(), flags | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) ec = last_error();
    return fd;
}

// "fifo:///tmp/x: opening the FIFO: Permission denied", and whose it is when that is why.
std::string describe(const endpoint& where, const std::string& what, std::error_code ec) {
    std::string text = where.uri() + ": " + what + ": " + ec.message();
    if (ec == std::errc::permission_denied)
        text += ": " + conveyor::detail::access_refusal(where.name());
    return text;
}

// Gives the FIFO just made at path the mode asked for, which the umask took bits from. Not
// chmod(path): the path may have been replaced since mkfifo (by a symlink to something
// else, say). An O_PATH descriptor opens neither end, so no waiting producer takes it for a
// consumer; chmod through /proc/self/fd then changes the file it found, and nothing else.
void set_mode(const std::string& path, unsigned mode, std::error_code& ec) {
    const int fd = ::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        ec = last_error();
        return;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        ec = last_error();
    else if (!S_ISFIFO(st.st_mode))
        ec = errc::not_a_segment;
    else if (::chmod(("/proc/self/fd/" + std::to_string(fd)).c_str(), mode) != 0)
        ec = last_error();
    ::close(fd);
}

// Whether some process holds an open-file-description lock on the FIFO st describes: a
// consumer's claim. /proc/locks shows it without opening the FIFO, which would look like a
// reader to a waiting producer, or like a writer that left to a waiting consumer.
bool claimed(const struct stat& st) {
    std::ifstream locks("/proc/locks");
    char id[64];
    std::snprintf(id, sizeof id, "%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev),
                  static_cast<unsigned long long>(st.st_ino));
    for (std::string line; std::getline(locks, line);) {
        std::istringstream words(line);
        std::string word;
        bool ofd = false;
        while (words >> word) {
            if (word == "OFDLCK") ofd = true;
            if (ofd && word == id) return true;
        }
    }
    return false;
}

} // namespace

void make_fifo(const std::string& path, unsigned mode, std::error_code& ec) {
    ec.clear();
    if (::mkfifo(path.c_str(), static_cast<mode_t>(mode)) == 0) {
        set_mode(path, mode, ec);
        if (!ec) detail::register_fifo(path);
        return;
    }
    if (errno != EEXIST) {
        ec = last_error();
        return;
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        ec = last_error();
    else if (!S_ISFIFO(st.st_mode))
        ec = errc::not_a_segment; // something else is there: never write into it
}

void make_fifo(const std::string& path, unsigned mode) {
    std::error_code ec;
    make_fifo(path, mode, ec);
    if (ec == errc::not_a_segment) throw error(ec, path + ": exists and is not a FIFO");
    if (ec) throw_error(ec, "creating FIFO " + path);
}

void remove_fifo(const std::string& path, std::error_code& ec) {
    ec.clear();
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
        ec = last_error();
    else if (!S_ISFIFO(st.st_mode))
        ec = errc::not_a_segment;
    else if (::unlink(path.c_str()) != 0)
        ec = last_error();
    if (!ec || ec == std::errc::no_such_file_or_directory)
        detail::keep_registered_fifos([&](const std::string& p) { return p != path; });
}

void remove_fifo(const std::string& path) {
    std::error_code ec;
    remove_fifo(path, ec);
    if (ec == errc::not_a_segment) throw error(ec, path + ": not a FIFO; left alone");
    if (ec == std::errc::operation_not_permitted || ec == std::errc::permission_denied)
        throw error(ec, "removing FIFO " + path + ": " + ec.message() + ": " +
                            conveyor::detail::removal_refusal(path));
    if (ec) throw_error(ec, "removing FIFO " + path);
}

namespace {

// What list_fifos shows of path; false when it is no longer a FIFO.
bool describe_fifo(const std::string& path, fifo_info& info) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISFIFO(st.st_mode)) return false;
    info.path = path;
    info.mode = static_cast<unsigned>(st.st_mode & 07777);
    info.consumer_reading = claimed(st);
    info.owner = conveyor::detail::owner_text(st.st_uid, st.st_gid);
    info.no_access = !conveyor::detail::may_read(path) && !conveyor::detail::may_write(path);
    return true;
}

} // namespace

std::vector<fifo_info> list_fifos() {
    std::vector<fifo_info> result;
    detail::keep_registered_fifos([&](const std::string& path) {
        fifo_info info;
        if (!describe_fifo(path, info)) return false;
        result.push_back(std::move(info));
        return true;
    });
    // Others' lists are theirs to prune: a path that is gone is only left out here.
    for (const auto& other : detail::other_registries())
        for (const auto& path : other.paths) {
            const bool listed = std::any_of(result.begin(), result.end(),
                                            [&](const fifo_info& f) { return f.path == path; });
            fifo_info info;
            if (!listed && describe_fifo(path, info)) result.push_back(std::move(info));
        }
    return result;
}

std::unique_ptr<stream_sender> open_fifo_sender(const endpoint& where,
                                                const channel_options& options, std::error_code& ec,
                                                std::string* why, boost::asio::io_context* io) {
    make_fifo(where.name(), options.mode, ec);
    if (ec) {
        if (why)
            *why = ec == errc::not_a_segment ? where.uri() + ": exists and is not a FIFO"
                                             : describe(where, "creating the FIFO", ec);
        return nullptr;
    }
    // The write end opens at the first send, whose error says only "Permission denied":
    // another user's FIFO is refused here, with whose it is.
    if (!conveyor::detail::may_write(where.name()) && errno == EACCES) {
        ec = std::error_code(EACCES, std::system_category());
        if (why) *why = describe(where, "opening the FIFO to write", ec);
        return nullptr;
    }
    const framing how = options.lines ? framing::lines : framing::frames;
    const detail::frame_writer::settings settings{how, options.max_message, true,
                                                  how == framing::frames};
    auto connect = [path = where.name(), most = options.max_message](std::error_code& e) {
        e.clear();
        const int fd = open_fifo(path, O_WRONLY, e);    // ENXIO while no consumer has it open
        if (fd >= 0) detail::fit_pipe_buffer(fd, most); // for readers that did not
        return fd;
    };
    return std::make_unique<stream_sender>(
        std::make_unique<detail::frame_writer>(-1, settings, io, connect), where);
}

std::unique_ptr<stream_receiver> open_fifo_receiver(const endpoint& where,
                                                    const channel_options& options,
                                                    std::error_code& ec, std::string* why,
                                                    boost::asio::io_context* io) {
    const framing how = options.lines ? framing::lines : framing::frames;
    if (how == framing::lines && options.min_producers > 1) {
        ec = errc::invalid_argument;
        if (why)
            *why = where.uri() + ": lines carry no hello, so a consumer cannot count producers;"
                                 " waiting for more than one needs frames";
        return nullptr;
    }
    make_fifo(where.name(), options.mode, ec);
    if (ec) {
        if (why)
            *why = ec == errc::not_a_segment ? where.uri() + ": exists and is not a FIFO"
                                             : describe(where, "creating the FIFO", ec);
        return nullptr;
    }
    // Non-blocking open: it succeeds with no writer, and the reader waits for one.
    const int fd = open_fifo(where.name(), O_RDONLY, ec);
    if (fd < 0) {
        if (why) *why = describe(where, "opening the FIFO", ec);
        return nullptr;
    }
    if (!claim_for_reading(fd, true, ec)) {
        ::close(fd);
        if (why)
            *why = ec == errc::too_many_attached
                       ? where.uri() + ": another consumer is reading this FIFO; a FIFO has one "
                                       "consumer at a time (use shm:// for several)"
                       : describe(where, "locking the FIFO", ec);
        return nullptr;
    }
    detail::fit_pipe_buffer(fd, options.max_message); // the FIFO's buffer lives while fd does
    const std::size_t wanted = how == framing::frames ? options.min_producers : 0;
    // At end of input before enough producers said hello, wait for the next writer on a
    // fresh descriptor: the old one would report the hang-up forever. The new one is open
    // before the old closes, so bytes a writer left in the FIFO stay there.
    auto at_end = [path = where.name(), wanted](std::size_t seen, std::error_code& e) {
        if (seen >= wanted) return -1;
        const int next = open_fifo(path, O_RDONLY, e);
        if (next >= 0 && !claim_for_reading(next, false, e)) {
            ::close(next);
            return -1;
        }
        return next;
    };
    return std::make_unique<stream_receiver>(
        std::make_unique<detail::frame_reader>(fd, how, options.max_message, io, at_end), where,
        options.max_message);
}

} // namespace conveyor::pipe

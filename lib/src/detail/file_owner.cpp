#include "detail/file_owner.hpp"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace conveyor::detail {
namespace {

// The _r look-ups: another thread of the process may be asking too. Their buffer grows
// until the entry fits (a group with many members needs more than a page).
constexpr std::size_t first_buffer = 1024;
constexpr std::size_t largest_buffer = 1 << 20;

std::string user_name(uid_t uid) {
    for (std::size_t size = first_buffer; size <= largest_buffer; size *= 4) {
        std::vector<char> buffer(size);
        passwd entry{};
        passwd* found = nullptr;
        const int rc = ::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found);
        if (rc == ERANGE) continue;
        if (rc == 0 && found) return found->pw_name;
        break;
    }
    return std::to_string(uid);
}

std::string group_name(gid_t gid) {
    for (std::size_t size = first_buffer; size <= largest_buffer; size *= 4) {
        std::vector<char> buffer(size);
        group entry{};
        group* found = nullptr;
        const int rc = ::getgrgid_r(gid, &entry, buffer.data(), buffer.size(), &found);
        if (rc == ERANGE) continue;
        if (rc == 0 && found) return found->gr_name;
        break;
    }
    return std::to_string(gid);
}

std::string octal(mode_t bits) {
    char text[16];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(bits & 07777));
    return text;
}

std::string directory_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

} // namespace

std::string owner_text(uid_t uid, gid_t gid) {
    return user_name(uid) + ":" + group_name(gid);
}

std::string access_refusal(const std::string& path) {
    struct stat st {};
    const std::string me = "this process runs as " + owner_text(::geteuid(), ::getegid());
    if (::stat(path.c_str(), &st) != 0) return me;
    return path + " belongs to " + owner_text(st.st_uid, st.st_gid) + " with mode " +
           octal(st.st_mode) + ", and " + me +
           " (to share it, its creator gives --mode 0660 and a group both users are in: "
           "docs/architecture.md, \"Another user\")";
}

std::string removal_refusal(const std::string& path) {
    const std::string directory = directory_of(path);
    struct stat file {
    }, dir{};
    const bool sticky = ::stat(directory.c_str(), &dir) == 0 && (dir.st_mode & S_ISVTX) != 0;
    if (sticky && ::lstat(path.c_str(), &file) == 0 && file.st_uid != ::geteuid())
        return path + " belongs to " + owner_text(file.st_uid, file.st_gid) + " and " + directory +
               " is sticky: only its owner or root may remove it";
    return "this process (" + owner_text(::geteuid(), ::getegid()) + ") may not change " +
           directory;
}

bool may_read(const std::string& path) {
    return ::faccessat(AT_FDCWD, path.c_str(), R_OK, AT_EACCESS) == 0;
}

bool may_write(const std::string& path) {
    return ::faccessat(AT_FDCWD, path.c_str(), W_OK, AT_EACCESS) == 0;
}

} // namespace conveyor::detail

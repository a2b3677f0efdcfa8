// conveyor-ctl: lists the segments and FIFOs conveyor made and removes them.
#include "common/exit_codes.hpp"
#include "common/options.hpp"

#include <conveyor/error.hpp>
#include <conveyor/pipe/fifo.hpp>
#include <conveyor/shm/segment.hpp>

#include <cstdio>
#include <iostream>
#include <string_view>

using namespace conveyor;

namespace {

const char* help_text =
    "Usage: conveyor-ctl COMMAND [ARGS]\n\n"
    "Commands:\n"
    "  list             the segments conveyor made: capacity, largest message, depth,\n"
    "                   producers and consumers attached (alive), messages sent and taken,\n"
    "                   mode and owner (a segment of another layout version: that version\n"
    "                   only; one this user may not read: 'no access', its owner and mode);\n"
    "                   then the FIFOs conveyor apps made that are still there: mode,\n"
    "                   whether a consumer is reading now, owner ('no access' when this\n"
    "                   user may neither read nor write it)\n"
    "  rm ENDPOINT...   remove segments (shm://NAME) and FIFOs (fifo:///PATH). A file in\n"
    "                   /dev/shm that is not a conveyor segment is refused, and so is a\n"
    "                   path that is not a FIFO; a FIFO is removed whoever made it, where\n"
    "                   this user may remove it (in /dev/shm and /tmp, which are sticky,\n"
    "                   only its owner or root may). Attached processes keep working until\n"
    "                   they detach. rm shm://NAME also removes what creators of NAME\n"
    "                   killed mid-way left behind.\n"
    "  help, --help     this text\n";

int list() {
    const auto segments = shm::list_segments();
    std::printf("%-24s %9s %8s %10s %11s %9s %9s %12s %12s %7s %5s %s\n", "ENDPOINT", "CAPACITY",
                "MAX_MSG", "DEPTH", "DEPTH_BYTES", "PRODUCERS", "CONSUMERS", "SENT", "RECEIVED",
                "CREATOR", "MODE", "OWNER");
    for (const auto& s : segments) {
        const std::string uri = "shm://" + s.name;
        if (s.no_access) {
            std::printf("%-24s no access: owner %s, mode %05o\n", uri.c_str(), s.owner.c_str(),
                        s.mode);
            continue;
        }
        if (s.layout_mismatch) {
            std::printf("%-24s layout v%u: another conveyor build's, its figures unreadable "
                        "here (rm removes it)\n",
                        uri.c_str(), static_cast<unsigned>(s.layout_version));
            continue;
        }
        std::printf("%-24s %9s %8s %10llu %11llu %9u %9u %12llu %12llu %7d %05o %s\n", uri.c_str(),
                    cli::size_text(s.capacity).c_str(), cli::size_text(s.max_message).c_str(),
                    static_cast<unsigned long long>(s.depth_messages),
                    static_cast<unsigned long long>(s.depth_bytes), s.producers, s.consumers,
                    static_cast<unsigned long long>(s.sent),
                    static_cast<unsigned long long>(s.received), s.creator_pid, s.mode,
                    s.owner.c_str());
    }
    const auto fifos = pipe::list_fifos();
    if (fifos.empty()) return cli::exit_ok;
    std::printf("\n%-24s %5s %8s %s\n", "ENDPOINT", "MODE", "CONSUMER", "OWNER");
    for (const auto& f : fifos)
        std::printf("%-24s %05o %8s %s%s\n", ("fifo://" + f.path).c_str(), f.mode,
                    f.consumer_reading ? "reading" : "none", f.owner.c_str(),
                    f.no_access ? " no access" : "");
    return cli::exit_ok;
}

int remove(int count, char** uris) {
    if (count == 0) throw cli::usage_error("rm: name at least one ENDPOINT (e.g. shm://orders)");
    int status = cli::exit_ok;
    for (int i = 0; i < count; ++i) {
        const endpoint where = cli::parse_endpoint(uris[i]);
        if (where.kind() != scheme::shm && where.kind() != scheme::fifo)
            throw cli::usage_error(where.uri() + ": rm takes shm:// and fifo:// endpoints");
        try {
            if (where.kind() == scheme::fifo)
                pipe::remove_fifo(where.name());
            else
                shm::remove_segment(where.name());
        } catch (const error& e) {
            std::cerr << "conveyor-ctl: " << e.what() << '\n';
            status = cli::exit_failure;
        }
    }
    return status;
}

} // namespace

int main(int argc, char** argv) {
    try {
        if (argc < 2) throw cli::usage_error("missing COMMAND (list or rm)");
        const std::string_view command = argv[1];
        if (command == "help" || command == "--help" || command == "-h") {
            std::cout << help_text << cli::exit_code_help();
            return cli::exit_ok;
        }
        if (command == "list") {
            if (argc > 2) throw cli::usage_error("list takes no arguments");
            return list();
        }
        if (command == "rm") return remove(argc - 2, argv + 2);
        throw cli::usage_error("unknown command '" + std::string(command) + "' (list or rm)");
    } catch (const cli::usage_error& e) {
        std::cerr << "conveyor-ctl: " << e.what() << "\n(see conveyor-ctl --help)\n";
        return cli::exit_usage;
    }
}

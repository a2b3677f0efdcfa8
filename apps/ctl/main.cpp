// conveyor-ctl: lists the segments, topics and FIFOs conveyor made, watches them, and
// removes them.
#include "common/exit_codes.hpp"
#include "common/options.hpp"
#include "ctl/views.hpp"

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
    "                   user may neither read nor write it). Topics (topic://NAME) count\n"
    "                   subscribers as consumers, and each subscriber is listed below\n"
    "                   with how far behind it is\n"
    "  list --json      the same as a JSON array, one object per endpoint (docs/ctl.md)\n"
    "  top [--once]     every second: depth, messages in and out per second, producers\n"
    "                   and consumers alive, of every segment, topic and FIFO; --once\n"
    "                   prints one frame (rates from two samples a second apart) and\n"
    "                   exits\n"
    "  rm ENDPOINT...   remove segments and topics (shm://NAME, topic://NAME) and FIFOs\n"
    "                   (fifo:///PATH). A file in /dev/shm that is not a conveyor\n"
    "                   segment is refused, and so is a path that is not a FIFO; a FIFO\n"
    "                   is removed whoever made it, where this user may remove it (in\n"
    "                   /dev/shm and /tmp, which are sticky, only its owner or root may).\n"
    "                   Attached processes keep working until they detach. rm shm://NAME\n"
    "                   also removes what creators of NAME killed mid-way left behind.\n"
    "  help, --help     this text\n";

// Each topic's subscribers: how far behind each is (messages published since it subscribed
// that it has not read yet) and what it lost, a ring behind, in drop mode.
void list_subscribers(const std::vector<shm::segment_info>& segments) {
    bool any = false;
    for (const auto& s : segments) {
        for (const auto& sub : s.subscribers) {
            if (!any)
                std::printf("\n%-24s %5s %10s %10s %12s %12s %12s\n", "TOPIC", "SLOW", "SUBSCRIBER",
                            "BEHIND", "BEHIND_BYTES", "RECEIVED", "DROPPED");
            any = true;
            std::printf("%-24s %5s %10d %10llu %12llu %12llu %12llu\n",
                        ("topic://" + s.name).c_str(), s.drop ? "drop" : "block", sub.pid,
                        static_cast<unsigned long long>(sub.behind_messages),
                        static_cast<unsigned long long>(sub.behind_bytes),
                        static_cast<unsigned long long>(sub.received),
                        static_cast<unsigned long long>(sub.dropped));
        }
    }
}

int list() {
    const auto segments = shm::list_segments();
    std::printf("%-24s %9s %8s %10s %11s %9s %9s %12s %12s %7s %5s %s\n", "ENDPOINT", "CAPACITY",
                "MAX_MSG", "DEPTH", "DEPTH_BYTES", "PRODUCERS", "CONSUMERS", "SENT", "RECEIVED",
                "CREATOR", "MODE", "OWNER");
    for (const auto& s : segments) {
        const std::string uri = (s.topic ? "topic://" : "shm://") + s.name;
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
    list_subscribers(segments);
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
        if (where.kind() != scheme::shm && where.kind() != scheme::topic &&
            where.kind() != scheme::fifo)
            throw cli::usage_error(where.uri() +
                                   ": rm takes shm://, topic:// and fifo:// endpoints");
        try {
            if (where.kind() == scheme::fifo)
                pipe::remove_fifo(where.name());
            else
                shm::remove_segment(where);
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
        if (argc < 2) throw cli::usage_error("missing COMMAND (list, top or rm)");
        const std::string_view command = argv[1];
        if (command == "help" || command == "--help" || command == "-h") {
            std::cout << help_text << cli::exit_code_help();
            return cli::exit_ok;
        }
        if (command == "list") {
            if (argc == 3 && std::string_view(argv[2]) == "--json") {
                cli::print_json(stdout, cli::take_snapshot());
                return cli::exit_ok;
            }
            if (argc > 2)
                throw cli::usage_error("list takes --json or nothing, not '" +
                                       std::string(argv[2]) + "'");
            return list();
        }
        if (command == "top") {
            const bool once = argc == 3 && std::string_view(argv[2]) == "--once";
            if (argc > 3 || (argc == 3 && !once))
                throw cli::usage_error("top takes --once or nothing, not '" +
                                       std::string(argv[argc - 1]) + "'");
            return cli::run_top(once);
        }
        if (command == "rm") return remove(argc - 2, argv + 2);
        throw cli::usage_error("unknown command '" + std::string(command) + "' (list, top or rm)");
    } catch (const cli::usage_error& e) {
        std::cerr << "conveyor-ctl: " << e.what() << "\n(see conveyor-ctl --help)\n";
        return cli::exit_usage;
    }
}

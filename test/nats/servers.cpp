#include "servers.hpp"

#include "support/child_process.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace conveyor::test {
namespace {

const std::string script = std::string(CONVEYOR_SOURCE_DIR) + "/scripts/nats-cluster";

std::string unique_dir() {
    static std::atomic<int> counter{0};
    const char* tmp = std::getenv("TMPDIR");
    return std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/conveyor-nats-test-" +
           std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

} // namespace

bool process_gone(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string pid_field, command, state;
    return !(stat >> pid_field >> command >> state) || state == "Z";
}

nats_servers::nats_servers(int count, const std::vector<std::string>& extra) : dir_(unique_dir()) {
    std::vector<std::string> args{"start", std::to_string(count), "--dir", dir_};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto started = run(script, args);
    BOOST_REQUIRE_MESSAGE(started.status == 0, "nats-cluster start: " << started.err);
    std::istringstream lines(started.out);
    for (std::string line; std::getline(lines, line);)
        if (line.starts_with("nats://")) urls_.push_back(line);
    BOOST_REQUIRE_EQUAL(urls_.size(), std::size_t(count));
}

nats_servers::~nats_servers() {
    run(script, {"stop", "--dir", dir_});
}

std::string nats_servers::host_port(std::size_t i) const {
    return url(i).substr(std::string("nats://").size());
}

std::string nats_servers::uri(const std::string& subject, std::size_t first,
                              const std::string& query) const {
    std::string servers = host_port(first);
    for (std::size_t i = 0; i < size(); ++i)
        if (i != first) servers += "," + host_port(i);
    return "nats://" + servers + "/" + subject + (query.empty() ? "" : "?" + query);
}

pid_t nats_servers::pid(std::size_t i) const {
    std::ifstream file(dir_ + "/s" + std::to_string(i + 1) + ".pid");
    pid_t pid = -1;
    file >> pid;
    BOOST_REQUIRE_MESSAGE(pid > 0, "no pid recorded for server " << i + 1 << " in " << dir_);
    return pid;
}

void nats_servers::signal(std::size_t i, int number) const {
    BOOST_REQUIRE_EQUAL(::kill(pid(i), number), 0);
}

void nats_servers::restart(std::size_t i) {
    // A killed server is gone once its pid is: the script refuses to start it beside itself.
    const pid_t old = pid(i);
    BOOST_REQUIRE(eventually([&] { return process_gone(old); }));
    const auto restarted = run(script, {"restart", std::to_string(i + 1), "--dir", dir_});
    BOOST_REQUIRE_MESSAGE(restarted.status == 0, "nats-cluster restart: " << restarted.err);
}

std::string unique_subject(const std::string& purpose) {
    static std::atomic<int> counter{0};
    return "conveyor-test." + purpose + "." + std::to_string(::getpid()) + "-" +
           std::to_string(counter++);
}

} // namespace conveyor::test

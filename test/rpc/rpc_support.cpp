// The RPC tests' shared helpers: see rpc_support.hpp.
#include "rpc_support.hpp"

#include "support/child_process.hpp"

#include <conveyor/rpc/client.hpp>
#include <conveyor/rpc/rpcbind.hpp>
#include <conveyor/shm/segment.hpp>

#include <atomic>
#include <csignal>
#include <memory>
#include <mutex>
#include <sstream>
#include <unistd.h>

namespace conveyor::test {
namespace {

constexpr const char* rpcbind_program = "/usr/sbin/rpcbind";
constexpr auto rpcbind_start_limit = std::chrono::seconds(10);

bool rpcbind_answers() {
    std::error_code ec;
    rpc::rpcbind::dump("127.0.0.1", std::chrono::seconds(2), ec);
    return !ec;
}

// The rpcbind this process started, stopped (SIGTERM, so that it removes its socket) when
// the process ends; never one that was running before.
struct started_rpcbind {
    std::unique_ptr<child_process> child;
    ~started_rpcbind() {
        if (!child) return;
        child->signal(SIGTERM);
        child->wait(std::chrono::seconds(10));
    }
};

} // namespace

std::uint32_t unique_program() {
    static std::atomic<std::uint32_t> counter{0};
    constexpr std::uint32_t transient = 0x4000'0000;
    return transient + ((static_cast<std::uint32_t>(::getpid()) % 0x10'0000) << 8) +
           (counter++ % 0x100);
}

served_calc::served_calc(const std::vector<std::string>& endpoints,
                         const rpc::server_options& options,
                         const std::function<void(rpc::server&)>& extra, std::uint32_t program)
    : server_(options) {
    calc_.serve_on(server_, program);
    if (extra) extra(server_);
    for (const auto& e : endpoints)
        uris_.push_back(server_.listen(e));
    runner_ = std::thread([this] { server_.run(); });
}

served_calc::~served_calc() {
    server_.stop();
    runner_.join();
}

bool rpcbind_available() {
    static std::mutex mutex;
    static started_rpcbind ours;
    const std::lock_guard lock(mutex);
    if (rpcbind_answers()) return true;
    if (ours.child || ::access(rpcbind_program, X_OK) != 0) return false;
    ours.child = std::make_unique<child_process>(rpcbind_program, std::vector<std::string>{"-f"});
    if (eventually(rpcbind_answers, rpcbind_start_limit)) return true;
    // It could not start (not root, or port 111 taken by something else): no rpcbind tests.
    ours.child->signal(SIGKILL);
    ours.child->wait();
    ours.child.reset();
    return false;
}

boost::test_tools::assertion_result
rpcbind_precondition::operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result available(rpcbind_available());
    if (!available) available.message() << "no rpcbind on 127.0.0.1 and none could be started";
    return available;
}

server_process::server_process(const std::string& program, const std::vector<std::string>& args,
                               std::size_t lines)
    : child_(std::make_unique<child_process>(program, args)) {
    const bool ready = eventually([&] {
        lines_ = lines_of(child_->out());
        return lines_.size() >= lines || child_->has_ended();
    });
    BOOST_REQUIRE_MESSAGE(ready && lines_.size() >= lines,
                          program << " did not say it serves; stderr: " << child_->err());
}

server_process::~server_process() = default;

std::string scratch_rpc_name(const std::string& purpose) {
    static std::atomic<int> counter{0};
    return "conveyor-test-rpc-" + purpose + "-" + std::to_string(::getpid()) + "-" +
           std::to_string(counter++);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

std::uint16_t port_of(const std::string& uri) {
    return static_cast<std::uint16_t>(std::stoul(uri.substr(uri.rfind(':') + 1)));
}

} // namespace conveyor::test

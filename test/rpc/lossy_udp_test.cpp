// udp through a relay that drops 20 % of the datagrams, duplicates 10 % and reorders others,
// each way: every call is answered, and the duplicate-request cache makes each run once.
#include "rpc_support.hpp"

#include <conveyor/rpc/async_call.hpp>
#include <conveyor/rpc/client.hpp>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <future>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <random>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace conveyor;
using namespace std::chrono_literals;

namespace {

// Between a client and a udp server: the client sends to the relay's port; the relay
// forwards to the server from a socket of its own, and the replies back. Each datagram, in
// either direction, is dropped, sent twice, held back behind the next one, or sent, as a
// seeded generator decides.
class lossy_relay {
public:
    static constexpr double drop = 0.20;
    static constexpr double duplicate = 0.10;
    static constexpr double reorder = 0.10;
    // A datagram held back goes out after the next one, or after this long without one.
    static constexpr auto hold_limit = 2ms;

    lossy_relay(std::uint16_t server_port, unsigned seed)
        : random_(seed), client_side_(bound_socket()), server_side_(bound_socket()),
          stop_(::eventfd(0, EFD_CLOEXEC)) {
        sockaddr_in server = loopback(server_port);
        BOOST_REQUIRE(
            ::connect(server_side_, reinterpret_cast<sockaddr*>(&server), sizeof server) == 0);
        runner_ = std::thread([this] { run(); });
    }

    ~lossy_relay() {
        const std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(stop_, &one, sizeof one);
        runner_.join();
        ::close(client_side_);
        ::close(server_side_);
        ::close(stop_);
    }

    std::string uri() const {
        sockaddr_in at{};
        socklen_t size = sizeof at;
        ::getsockname(client_side_, reinterpret_cast<sockaddr*>(&at), &size);
        return "udp://127.0.0.1:" + std::to_string(ntohs(at.sin_port));
    }

    std::atomic<int> dropped{0}, duplicated{0}, reordered{0};

private:
    struct direction {
        std::optional<std::vector<char>> held;
        std::chrono::steady_clock::time_point held_since;
    };

    static sockaddr_in loopback(std::uint16_t port) {
        sockaddr_in at{};
        at.sin_family = AF_INET;
        at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        at.sin_port = htons(port);
        return at;
    }

    static int bound_socket() {
        const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in at = loopback(0);
        BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0);
        return fd;
    }

    void run() {
        std::vector<char> buffer(65536);
        for (;;) {
            pollfd fds[3] = {
                {client_side_, POLLIN, 0}, {server_side_, POLLIN, 0}, {stop_, POLLIN, 0}};
            ::poll(fds, 3, 1);
            if (fds[2].revents) return;
            if (fds[0].revents & POLLIN) {
                socklen_t size = sizeof client_;
                const auto n = ::recvfrom(client_side_, buffer.data(), buffer.size(), 0,
                                          reinterpret_cast<sockaddr*>(&client_), &size);
                if (n >= 0) pass({buffer.begin(), buffer.begin() + n}, to_server_, true);
            }
            if (fds[1].revents & POLLIN) {
                const auto n = ::recv(server_side_, buffer.data(), buffer.size(), 0);
                if (n >= 0) pass({buffer.begin(), buffer.begin() + n}, to_client_, false);
            }
            release_if_stale(to_server_, true);
            release_if_stale(to_client_, false);
        }
    }

    void pass(std::vector<char> datagram, direction& d, bool to_server) {
        const double roll = std::uniform_real_distribution<double>(0, 1)(random_);
        if (roll < drop) {
            ++dropped;
            return;
        }
        if (roll < drop + reorder && !d.held) {
            ++reordered;
            d.held = std::move(datagram);
            d.held_since = std::chrono::steady_clock::now();
            return;
        }
        send(datagram, to_server);
        if (roll < drop + reorder + duplicate) {
            ++duplicated;
            send(datagram, to_server);
        }
        if (d.held) {
            send(*d.held, to_server);
            d.held.reset();
        }
    }

    void release_if_stale(direction& d, bool to_server) {
        if (d.held && std::chrono::steady_clock::now() - d.held_since >= hold_limit) {
            send(*d.held, to_server);
            d.held.reset();
        }
    }

    void send(const std::vector<char>& datagram, bool to_server) {
        if (to_server)
            ::send(server_side_, datagram.data(), datagram.size(), 0);
        else
            ::sendto(client_side_, datagram.data(), datagram.size(), 0,
                     reinterpret_cast<const sockaddr*>(&client_), sizeof client_);
    }

    std::mt19937 random_;
    int client_side_;
    int server_side_;
    int stop_;
    sockaddr_in client_{};
    direction to_server_, to_client_;
    std::thread runner_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(rpc_lossy_udp)

BOOST_AUTO_TEST_CASE(ten_thousand_counts_through_a_lossy_relay_run_once_each) {
    constexpr std::uint64_t calls = 10'000;
    constexpr std::size_t in_flight = 32;
    test::served_calc served({"udp://127.0.0.1:0"});
    lossy_relay relay(test::port_of(served.uri()), 20'240'611);

    rpc::client_options options;
    options.retransmit_min = 2ms;
    options.retransmit_max = 50ms;
    rpc::client c(relay.uri(), options);

    std::mutex mutex;
    std::vector<int> seen(calls + 1, 0);
    std::uint64_t started = 0, answered = 0, failed = 0;
    std::promise<void> all;
    std::function<void()> next = [&] {
        rpc::async_call(c, calc::count, 60s, [&](boost::system::error_code ec, std::uint64_t n) {
            std::unique_lock lock(mutex);
            if (ec || n == 0 || n > calls)
                ++failed;
            else
                ++seen[n];
            if (++answered == calls) all.set_value();
            if (started < calls) {
                ++started;
                lock.unlock();
                next();
            }
        });
    };
    {
        std::unique_lock lock(mutex);
        started = in_flight;
    }
    for (std::size_t i = 0; i < in_flight; ++i)
        next();
    all.get_future().wait();

    BOOST_TEST_MESSAGE("relay: " << relay.dropped << " dropped, " << relay.duplicated
                                 << " duplicated, " << relay.reordered << " held back");
    BOOST_TEST(failed == 0u);
    BOOST_TEST(std::count(seen.begin() + 1, seen.end(), 1) == static_cast<long>(calls));
    BOOST_TEST(served.counter() == calls);
    BOOST_TEST(relay.dropped > 0);
    BOOST_TEST(relay.duplicated > 0);
    BOOST_TEST(relay.reordered > 0);
}

BOOST_AUTO_TEST_SUITE_END()

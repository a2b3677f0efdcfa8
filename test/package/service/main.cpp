// Sends one message through a shared-memory queue and takes it back, with the blocking
// calls and with the async ones; exit 0 when both match.
#include <conveyor/conveyor.hpp>
#include <conveyor/shm/async.hpp>

#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <string>
#include <unistd.h>

int main() {
    const std::string name = "conveyor-package-check-" + std::to_string(::getpid());
    const auto where = conveyor::endpoint::parse("shm://" + name);
    const std::string text = "installed and linked";
    bool same = false;
    {
        auto out = conveyor::open_sender(where);
        auto in = conveyor::open_receiver(where);
        out->send(std::as_bytes(std::span(text)));
        out->close();
        std::vector<std::byte> got;
        same = in->receive(got) == conveyor::receive_status::message &&
               std::string(reinterpret_cast<const char*>(got.data()), got.size()) == text;
    }
    {
        boost::asio::io_context io;
        conveyor::shm::async_receiver in(io.get_executor(), conveyor::open_receiver(where));
        auto out = conveyor::open_sender(where);
        std::vector<std::byte> got;
        bool received = false;
        in.async_receive(got, [&](boost::system::error_code ec, conveyor::receive_status status) {
            received = !ec && status == conveyor::receive_status::message;
        });
        out->send(std::as_bytes(std::span(text)));
        io.run();
        same = same && received &&
               std::string(reinterpret_cast<const char*>(got.data()), got.size()) == text;
    }
    conveyor::shm::remove_segment(name);
    std::puts(same ? "ok" : "mismatch");
    return same ? 0 : 1;
}

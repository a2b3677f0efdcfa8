// Sends one message through a shared-memory queue and takes it back; exit 0 when it matches.
#include <conveyor/conveyor.hpp>

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
    conveyor::shm::remove_segment(name);
    std::puts(same ? "ok" : "mismatch");
    return same ? 0 : 1;
}

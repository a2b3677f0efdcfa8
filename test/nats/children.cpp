#include "children.hpp"

#include <conveyor/error.hpp>
#include <conveyor/generated_message.hpp>
#include <conveyor/open.hpp>

#include <cerrno>
#include <iostream>
#include <thread>
#include <unistd.h>

namespace conveyor::test {
namespace {

// Messages a helper consumer takes per visit, as conveyor-consumer does.
constexpr std::size_t consumer_batch = 256;
constexpr auto consumer_poll = std::chrono::milliseconds(100);

bool write_all(const std::string& bytes) {
    for (std::size_t done = 0; done < bytes.size();) {
        const ssize_t n = ::write(STDOUT_FILENO, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

int acking_consumer(const std::string& uri) {
    channel_options options;
    options.acknowledge = true;
    auto in = open_receiver(endpoint::parse(uri), options);
    message_batch batch;
    std::uint64_t redelivered = 0;
    std::string out;
    for (;;) {
        const auto status = in->receive_batch(batch, consumer_batch, consumer_poll);
        if (status == receive_status::end_of_stream) break;
        if (status == receive_status::empty) continue;
        out.clear();
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const auto m = batch[i];
            out.append(reinterpret_cast<const char*>(m.data()), m.size());
            out += '\n';
            redelivered += batch.redelivered(i) ? 1 : 0;
        }
        // Acknowledged only once written: a kill between the two delivers them again.
        if (!write_all(out)) return 70;
        in->ack();
    }
    std::cerr << "redelivered " << redelivered << '\n';
    return 0;
}

int producer(const std::string& uri, const std::string& name, std::size_t count, bool hold) {
    channel_options options;
    if (name != "-") options.producer_name = name;
    auto out = open_sender(endpoint::parse(uri), options);
    const message_generator make(make_producer_id(), child_message_size, count);
    std::vector<std::byte> message(child_message_size);
    for (std::size_t i = 0; i < count; ++i) {
        make.make(i, message);
        out->send(message);
    }
    if (hold) {
        // Each send returned once the server confirmed it (sync_policy::batch): a kill from
        // here on loses nothing.
        std::cout << "sent" << std::endl;
        for (;;)
            std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    out->close();
    std::cout << "sent" << std::endl;
    return 0;
}

} // namespace

int run_child(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (args[0] == "--child-acking-consumer" && args.size() == 2)
            return acking_consumer(args[1]);
        if (args[0] == "--child-producer" && args.size() >= 4)
            return producer(args[1], args[2], std::stoul(args[3]),
                            args.size() == 5 && args[4] == "hold");
    } catch (const std::exception& e) {
        std::cerr << args[0] << ": " << e.what() << '\n';
        return 70;
    }
    std::cerr << "unknown helper: " << args[0] << '\n';
    return 64;
}

std::vector<std::string> acking_consumer_args(const std::string& uri) {
    return {"--child-acking-consumer", uri};
}

std::vector<std::string> producer_args(const std::string& uri, const std::string& name,
                                       std::size_t count, bool hold) {
    std::vector<std::string> args{"--child-producer", uri, name, std::to_string(count)};
    if (hold) args.push_back("hold");
    return args;
}

} // namespace conveyor::test

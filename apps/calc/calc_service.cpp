// The calc procedures (calc.x): ADD wraps around as C's unsigned arithmetic does, ECHO
// returns its bytes, COUNT counts, SLEEP replies after a timer.
#include "calc_service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>

namespace calc {

void service::serve_on(conveyor::rpc::server& s, std::uint32_t program) {
    using conveyor::rpc::with_program;
    const std::uint32_t version = program_v1::version;
    s.on(with_program(null, program, version), [] {});
    s.on(with_program(add, program, version), [](const add_args& args) {
        return static_cast<std::int32_t>(static_cast<std::uint32_t>(args.a) +
                                         static_cast<std::uint32_t>(args.b));
    });
    s.on(with_program(echo, program, version), [](const data& bytes) { return bytes; });
    s.on(with_program(count, program, version),
         [this] { return counter_.fetch_add(1, std::memory_order_relaxed) + 1; });
    auto& io = s.context();
    s.on_async(with_program(sleep, program, version), [&io](const std::uint32_t& ms,
                                                            conveyor::rpc::responder<void> reply) {
        auto timer = std::make_shared<boost::asio::steady_timer>(io, std::chrono::milliseconds(ms));
        timer->async_wait(
            [timer, r = std::move(reply)](boost::system::error_code) mutable { r.reply(); });
    });
}

} // namespace calc

// rpc::client: the public face of the engine (engine.hpp).
#include "conveyor/rpc/client.hpp"

#include "conveyor/error.hpp"
#include "conveyor/rpc/error.hpp"
#include "engine.hpp"

#include <cstdio>

namespace conveyor::rpc {
std::string describe(const call_target& target) {
    char text[128];
    std::snprintf(text, sizeof text, "procedure %u of program 0x%x version %u", target.procedure,
                  target.program, target.version);
    return target.name && *target.name ? std::string(target.name) + " (" + text + ")" : text;
}

client::client(std::string_view uri, const client_options& options)
    : client(address::parse(uri), options) {}

client::client(const address& where, const client_options& options)
    : engine_(std::make_shared<detail::engine>(where, options)) {}

client::~client() {
    engine_->shut_down();
}

const address& client::where() const noexcept {
    return engine_->where();
}

void client::call_raw(const call_target& target, bytes_view args, wait_duration timeout,
                      detail::reply_message& reply, std::error_code& ec, std::string* why) {
    engine_->call(target, args, timeout, reply, ec, why);
}

void client::call_raw(const call_target& target, bytes_view args, wait_duration timeout,
                      detail::reply_message& reply) {
    std::error_code ec;
    std::string why;
    call_raw(target, args, timeout, reply, ec, &why);
    if (ec) fail(ec, why);
}

void client::start_call(const call_target& target, std::vector<std::byte>&& args,
                        wait_duration timeout, detail::raw_completion&& completion) {
    engine_->start(target, args, timeout, std::move(completion));
}

std::string client::describe_bad_results(const call_target& target, const char* cause) const {
    return where().uri + ": " + describe(target) + ": the results could not be decoded (" + cause +
           ")";
}

void client::fail(std::error_code ec, const std::string& why) {
    throw error(ec, why.empty() ? ec.message() : why);
}

} // namespace conveyor::rpc

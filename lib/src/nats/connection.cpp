// Connecting to NATS with nats.c: the library's set-up once per process, then one connection
// per channel, with the options that make failover transparent to the caller.
#include "nats/connection.hpp"

#include "nats/failure.hpp"

#include <algorithm>
#include <csignal>
#include <mutex>
#include <thread>
#include <vector>

namespace conveyor::nats::detail {
namespace {

using clock = std::chrono::steady_clock;

// One connection attempt to one server (TCP connect and handshake) gives up after this.
constexpr std::chrono::milliseconds attempt_timeout{2'000};
// Pings a connection may leave unanswered before it counts as lost (see ping_interval).
constexpr int max_pings_out = 2;

// nats_Open ignores SIGPIPE for the whole process; nats.c sends with MSG_NOSIGNAL anyway,
// so the caller's disposition is put back (conveyor leaves signal dispositions alone).
void open_library() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction before {};
        ::sigaction(SIGPIPE, nullptr, &before);
        nats_Open(-1);
        ::sigaction(SIGPIPE, &before, nullptr);
    });
}

// A URL as messages show it: without USER:PASSWORD@.
std::string without_credentials(const std::string& url) {
    const auto scheme_end = url.find("://");
    const auto at = url.rfind('@');
    if (scheme_end == std::string::npos || at == std::string::npos) return url;
    return url.substr(0, scheme_end + 3) + url.substr(at + 1);
}

// Failures that another attempt may mend: nobody listening yet, a server starting.
bool worth_retrying(natsStatus s) {
    return s == NATS_NO_SERVER || s == NATS_TIMEOUT || s == NATS_IO_ERROR ||
           s == NATS_CONNECTION_CLOSED || s == NATS_STALE_CONNECTION;
}

natsStatus set_options(natsOptions* o, const address& where, const connection::settings& how) {
    std::vector<const char*> urls;
    for (const auto& url : where.servers)
        urls.push_back(url.c_str());
    const auto attempt = std::clamp(how.timeout, std::chrono::milliseconds(1), attempt_timeout);
    natsStatus s = natsOptions_SetServers(o, urls.data(), static_cast<int>(urls.size()));
    // Servers are tried in the order given: the first is the one preferred.
    if (s == NATS_OK) s = natsOptions_SetNoRandomize(o, true);
    if (s == NATS_OK) s = natsOptions_SetTimeout(o, attempt.count());
    // Reconnects go on as long as the channel lives: transparent but for time.
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, -1);
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(o, reconnect_wait.count());
    if (s == NATS_OK) s = natsOptions_SetPingInterval(o, ping_interval.count());
    if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(o, max_pings_out);
    if (s == NATS_OK && !how.buffer_while_reconnecting) s = natsOptions_SetReconnectBufSize(o, 0);
    if (s == NATS_OK && !where.creds.empty())
        s = natsOptions_SetUserCredentialsFromFiles(o, where.creds.c_str(), nullptr);
    return s;
}

std::string seconds_text(std::chrono::milliseconds d) {
    const auto ms = d.count();
    return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

} // namespace

std::unique_ptr<connection> connection::open(const address& where, const settings& how,
                                             std::error_code& ec, std::string& why) {
    open_library();
    std::unique_ptr<connection> result(new connection);
    natsStatus s = natsOptions_Create(&result->options_);
    if (s == NATS_OK) s = set_options(result->options_, where, how);
    if (s != NATS_OK) {
        ec = failure::refused;
        why = where.servers_text() + ": setting up the NATS client: " + last_error_text(s);
        return nullptr;
    }
    const auto give_up = clock::now() + how.timeout;
    for (;;) {
        s = natsConnection_Connect(&result->nc_, result->options_);
        if (s == NATS_OK) break;
        const std::string cause = last_error_text(s);
        if (s == NATS_CONNECTION_AUTH_FAILED || s == NATS_NOT_PERMITTED) {
            ec = failure::authentication_refused;
            why = where.servers_text() + ": the server refused the connection: " + cause +
                  (where.creds.empty() ? " (give USER:PASSWORD@ before the host, or ?creds=FILE)"
                                       : " (with the credentials of " + where.creds + ")");
            return nullptr;
        }
        if (!worth_retrying(s)) {
            ec = failure::refused;
            why = where.servers_text() + ": connecting: " + cause;
            return nullptr;
        }
        if (clock::now() + connect_retry_interval >= give_up) {
            ec = failure::no_server;
            why = "no NATS server answered at " + where.servers_text() + " within " +
                  seconds_text(how.timeout) + " (" + cause +
                  "; is nats-server running there, with JetStream on: -js?)";
            return nullptr;
        }
        std::this_thread::sleep_for(connect_retry_interval);
    }
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.Wait = api_timeout.count();
    s = natsConnection_JetStream(&result->js_, result->nc_, &js_options);
    if (s != NATS_OK) {
        ec = failure::refused;
        why = result->server() + ": opening JetStream: " + last_error_text(s);
        return nullptr;
    }
    return result;
}

connection::~connection() {
    jsCtx_Destroy(js_);
    // Destroy closes the connection: what nats.c still buffers is flushed first.
    natsConnection_Destroy(nc_);
    natsOptions_Destroy(options_);
}

std::string connection::server() const {
    char url[512] = {};
    if (natsConnection_GetConnectedUrl(nc_, url, sizeof url) != NATS_OK || url[0] == '\0')
        return "(no server)";
    return without_credentials(url);
}

std::int64_t connection::max_payload() const noexcept {
    return natsConnection_GetMaxPayload(nc_);
}

bool connection::connected() const noexcept {
    return natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
}

} // namespace conveyor::nats::detail

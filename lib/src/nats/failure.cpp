// The "nats" error category: one sentence per cause, in words a user can act on.
#include "nats/failure.hpp"

namespace conveyor::nats::detail {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "nats"; }

    std::string message(int value) const override {
        switch (static_cast<failure>(value)) {
        case failure::no_server:
            return "no NATS server answered";
        case failure::authentication_refused:
            return "the NATS server refused the credentials";
        case failure::stream_full:
            return "the stream is full (at its byte or message limit; it discards new messages)";
        case failure::refused:
            return "the NATS server refused the request";
        case failure::unconfirmed:
            return "the NATS server did not confirm every message sent";
        case failure::stream_mismatch:
            return "the stream does not take the subject";
        }
        return "unknown nats error";
    }
};

} // namespace

const std::error_category& failure_category() noexcept {
    static const category instance;
    return instance;
}

std::string last_error_text(natsStatus status) {
    natsStatus last = NATS_OK;
    const char* found = nats_GetLastError(&last);
    std::string_view text = found != nullptr && last == status ? found : "";
    // nats.c starts its text with where in its sources it was made: "(conn.c:2088): ".
    if (text.starts_with('(')) {
        const auto end = text.find("): ");
        if (end != std::string_view::npos) text.remove_prefix(end + 3);
    }
    return std::string(text.empty() ? natsStatus_GetText(status) : text);
}

} // namespace conveyor::nats::detail

// The conveyor error category: one sentence per cause, in words a user can act on.
#include "conveyor/error.hpp"

namespace conveyor {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "conveyor"; }

    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::invalid_endpoint:
            return "invalid endpoint";
        case errc::unsupported_scheme:
            return "transport not supported yet";
        case errc::not_a_segment:
            return "not a conveyor segment";
        case errc::layout_mismatch:
            return "segment has another layout version";
        case errc::no_such_endpoint:
            return "no such endpoint";
        case errc::message_too_large:
            return "message larger than the channel's maximum";
        case errc::invalid_argument:
            return "invalid argument";
        case errc::too_many_attached:
            return "too many producers or consumers attached";
        case errc::closed:
            return "sender already closed";
        case errc::peer_gone:
            return "the consumer went away"; // only senders see it: the reader closed or died
        case errc::corrupt_data:
            return "corrupt data";
        case errc::unsupported_format:
            return "typed message in an unsupported envelope format";
        case errc::unknown_message_type:
            return "typed message of an unexpected type";
        case errc::length_mismatch:
            return "typed message length does not match its header";
        case errc::checksum_mismatch:
            return "typed message fails its CRC-32C check";
        case errc::segment_corrupt:
            return "segment is corrupt";
        case errc::name_in_use:
            return "a producer of that name is attached";
        case errc::too_many_leases:
            return "too many messages taken without ack(); acknowledge first";
        case errc::kind_mismatch:
            return "segment is of the other kind (a topic opened as a queue, or a queue as a "
                   "topic)";
        }
        return "unknown conveyor error";
    }
};

} // namespace

const std::error_category& conveyor_category() noexcept {
    static const category instance;
    return instance;
}

void throw_error(std::error_code ec, const std::string& context) {
    throw error(ec, context.empty() ? ec.message() : context + ": " + ec.message());
}

} // namespace conveyor

// Generated messages in the typed envelope: XDR variable-length opaque data.
#include "conveyor/codec/generated_xdr.hpp"

#include "conveyor/codec/envelope.hpp"
#include "conveyor/error.hpp"

#include <boost/serialization/vector.hpp>

namespace conveyor {

std::size_t generated_xdr_size(std::size_t size) noexcept {
    return envelope_header_size + 4 + (size + 3) / 4 * 4;
}

std::size_t generated_xdr_capacity(std::size_t max_message) noexcept {
    const std::size_t overhead = envelope_header_size + 4;
    return max_message < overhead ? 0 : (max_message - overhead) / 4 * 4;
}

void encode_generated(bytes_view message, std::uint64_t sequence, std::vector<std::byte>& out) {
    out.assign(envelope_header_size, std::byte{0});
    {
        xdr_oarchive archive(out, xdr_mode::pure);
        const boost::serialization::collection_size_type count(message.size());
        archive << count << boost::serialization::make_array(message.data(), message.size());
    }
    seal_envelope_in_place(generated_message_type_id, sequence, xdr_mode::pure, out);
}

void decode_generated(bytes_view wire, std::vector<std::byte>& message, std::error_code& ec,
                      std::string& why) {
    try {
        const envelope e = open_envelope(wire);
        if (e.type_id != generated_message_type_id) {
            ec = errc::unknown_message_type;
            why = "typed message " + std::to_string(e.sequence) + " has type id " +
                  std::to_string(e.type_id) + ", not that of generated messages";
            return;
        }
        from_xdr(e.payload, message, e.mode);
        ec.clear();
    } catch (const std::exception& failure) {
        why = failure.what();
        detail::translate_read_failure(ec);
    }
}

} // namespace conveyor

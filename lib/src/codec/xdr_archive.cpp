// The XDR archives' primitives: big-endian words, padded opaque data, bounds checks, and how
// Boost.Serialization's class information maps onto the stream (docs/codec.md).
#include "conveyor/codec/xdr_archive.hpp"

#include "conveyor/error.hpp"

#include <boost/archive/archive_exception.hpp>
#include <boost/archive/detail/archive_serializer_map.hpp>
#include <boost/archive/impl/archive_serializer_map.ipp>

#include <bit>
#include <cstring>
#include <limits>
#include <utility>

namespace conveyor {
namespace {

constexpr std::size_t padding(std::size_t size) noexcept {
    return (4 - size % 4) % 4;
}

[[noreturn]] void corrupt(const std::string& why) {
    throw error(make_error_code(errc::corrupt_data), "XDR data: " + why);
}

// The name boost/serialization/unordered_collections_*_imp.hpp give the bucket count.
bool is_bucket_count(const char* name) noexcept {
    return name != nullptr && std::strcmp(name, "bucket_count") == 0;
}

std::uint32_t checked_length(std::size_t size, const char* what) {
    if (size > std::numeric_limits<std::uint32_t>::max()) {
        const std::string why = std::string("XDR: ") + what + " of " + std::to_string(size) +
                                " is beyond XDR's 4-byte length";
        throw error(make_error_code(errc::message_too_large), why);
    }
    return static_cast<std::uint32_t>(size);
}

} // namespace

// ---- writing ----

// no_header: a message carries no archive header; the envelope says which format it is in.
xdr_oarchive::xdr_oarchive(std::vector<std::byte>& out, xdr_mode mode)
    : base(boost::archive::no_header), out_(out), mode_(mode) {}

void xdr_oarchive::put_u32(std::uint32_t value) {
    const std::byte word[4] = {std::byte(value >> 24), std::byte(value >> 16),
                               std::byte(value >> 8), std::byte(value)};
    out_.insert(out_.end(), word, word + 4);
}

void xdr_oarchive::put_u64(std::uint64_t value) {
    put_u32(static_cast<std::uint32_t>(value >> 32));
    put_u32(static_cast<std::uint32_t>(value));
}

void xdr_oarchive::save_binary(const void* data, std::size_t size) {
    const auto* bytes = static_cast<const std::byte*>(data);
    out_.insert(out_.end(), bytes, bytes + size);
    out_.insert(out_.end(), padding(size), std::byte{0});
}

void xdr_oarchive::save(float value) {
    static_assert(std::numeric_limits<float>::is_iec559);
    put_u32(std::bit_cast<std::uint32_t>(value));
}

void xdr_oarchive::save(double value) {
    static_assert(std::numeric_limits<double>::is_iec559);
    put_u64(std::bit_cast<std::uint64_t>(value));
}

void xdr_oarchive::save(const std::string& value) {
    put_u32(checked_length(value.size(), "a string"));
    save_binary(value.data(), value.size());
}

void xdr_oarchive::refuse_in_pure_mode(const char* what) const {
    throw error(make_error_code(errc::invalid_argument),
                std::string("pure XDR cannot carry ") + what +
                    "; use xdr_mode::class_info or serialize by value");
}

// Class information, in class_info mode only: versions, class ids and object ids are XDR
// unsigned or int; tracking is an XDR bool; class names are XDR strings.
void xdr_oarchive::save(const boost::archive::version_type& v) {
    if (mode_ == xdr_mode::class_info) put_u32(v);
}

void xdr_oarchive::save(const boost::archive::tracking_type& t) {
    if (mode_ == xdr_mode::class_info) save(t.t);
}

void xdr_oarchive::save(const boost::archive::class_id_type& id) {
    if (mode_ == xdr_mode::pure) refuse_in_pure_mode("pointers");
    save(static_cast<std::int32_t>(static_cast<std::int_least16_t>(id)));
}

void xdr_oarchive::save(const boost::archive::class_id_reference_type& id) {
    save(static_cast<const boost::archive::class_id_type&>(id));
}

void xdr_oarchive::save(const boost::archive::object_id_type& id) {
    if (mode_ == xdr_mode::pure) refuse_in_pure_mode("tracked objects");
    put_u32(id);
}

void xdr_oarchive::save(const boost::archive::object_reference_type& id) {
    save(static_cast<const boost::archive::object_id_type&>(id));
}

void xdr_oarchive::save(const boost::archive::class_name_type& name) {
    if (mode_ == xdr_mode::pure) refuse_in_pure_mode("exported class names");
    save(std::string(name));
}

void xdr_oarchive::save(const boost::serialization::collection_size_type& count) {
    put_u32(checked_length(count, "a collection"));
}

void xdr_oarchive::save(const boost::serialization::item_version_type& v) {
    if (mode_ == xdr_mode::class_info) put_u32(v);
}

// class_info mode keeps it, so that the layout stays Boost's; readers ignore it.
void xdr_oarchive::save_override(
    const boost::serialization::nvp<const boost::serialization::collection_size_type>& t) {
    if (mode_ == xdr_mode::class_info || !is_bucket_count(t.name())) save(t.const_value());
}

// ---- reading ----

xdr_iarchive::xdr_iarchive(bytes_view in, xdr_mode mode, xdr_source source)
    : base(boost::archive::no_header), in_(in), mode_(mode), source_(source) {}

const std::byte* xdr_iarchive::take(std::size_t size, const char* what) {
    if (size > remaining())
        corrupt(std::string(what) + " of " + std::to_string(size) + " bytes at offset " +
                std::to_string(at_) + " runs past the end (" + std::to_string(remaining()) +
                " bytes left)");
    const std::byte* at = in_.data() + at_;
    at_ += size;
    return at;
}

std::uint32_t xdr_iarchive::get_u32() {
    const std::byte* p = take(4, "a 4-byte word");
    return std::uint32_t(std::to_integer<std::uint8_t>(p[0])) << 24 |
           std::uint32_t(std::to_integer<std::uint8_t>(p[1])) << 16 |
           std::uint32_t(std::to_integer<std::uint8_t>(p[2])) << 8 |
           std::uint32_t(std::to_integer<std::uint8_t>(p[3]));
}

std::uint64_t xdr_iarchive::get_u64() {
    const std::uint64_t high = get_u32();
    return high << 32 | get_u32();
}

// Padding must be zero (RFC 4506, 3): other bytes there mean the stream is not what we think.
const std::byte* xdr_iarchive::take_opaque(std::size_t size, const char* what) {
    const std::byte* p = take(size + padding(size), what);
    for (std::size_t i = size; i < size + padding(size); ++i)
        if (p[i] != std::byte{0}) corrupt("non-zero padding at offset " + std::to_string(at_));
    return p;
}

void xdr_iarchive::load_binary(void* data, std::size_t size) {
    const std::byte* p = take_opaque(size, "opaque data");
    if (size != 0) std::memcpy(data, p, size);
}

void xdr_iarchive::load(bool& value) {
    const std::uint32_t word = get_u32();
    if (word > 1) corrupt("a bool of " + std::to_string(word) + " (XDR bools are 0 or 1)");
    value = word == 1;
}

void xdr_iarchive::load(float& value) {
    value = std::bit_cast<float>(get_u32());
}

void xdr_iarchive::load(double& value) {
    value = std::bit_cast<double>(get_u64());
}

void xdr_iarchive::load(std::string& value) {
    const std::uint32_t size = get_u32();
    value.assign(reinterpret_cast<const char*>(take_opaque(size, "a string")), size);
}

void xdr_iarchive::refuse_unless_trusted(const char* what) const {
    if (mode_ == xdr_mode::pure) corrupt(std::string("pure XDR cannot carry ") + what);
    if (source_ == xdr_source::untrusted)
        corrupt(std::string(what) + " in data from an untrusted source");
}

// Boost 1.81 no longer refuses a version newer than the program's (iserializer.hpp has the
// check under #if 0), and a serialize() that does not know the newer layout misreads it.
void xdr_iarchive::load(boost::archive::version_type& v) {
    const auto ours = std::exchange(pending_version_, std::nullopt);
    if (mode_ == xdr_mode::pure) {
        v = boost::archive::version_type(ours.value_or(0));
        return;
    }
    const std::uint32_t theirs = get_u32();
    if (ours && theirs > *ours)
        corrupt("class version " + std::to_string(theirs) + " is newer than this program's " +
                std::to_string(*ours));
    v = boost::archive::version_type(theirs);
}

void xdr_iarchive::load(boost::archive::tracking_type& t) {
    t = boost::archive::tracking_type(false);
    if (mode_ == xdr_mode::class_info) load(t.t);
}

void xdr_iarchive::load(boost::archive::class_id_type& id) {
    refuse_unless_trusted("pointers");
    pending_version_.reset(); // a preamble that follows is the target's, of a class unknown here
    std::int32_t value = 0;
    load(value);
    // Boost's class ids are 16-bit; -1 is its null pointer.
    if (value < -1 || value > std::numeric_limits<std::int_least16_t>::max())
        corrupt("a class id of " + std::to_string(value));
    id = boost::archive::class_id_type(static_cast<int>(value));
}

void xdr_iarchive::load(boost::archive::class_id_reference_type& id) {
    load(static_cast<boost::archive::class_id_type&>(id));
}

void xdr_iarchive::load(boost::archive::object_id_type& id) {
    refuse_unless_trusted("tracked objects");
    id = boost::archive::object_id_type(get_u32());
}

void xdr_iarchive::load(boost::archive::object_reference_type& id) {
    load(static_cast<boost::archive::object_id_type&>(id));
}

void xdr_iarchive::load(boost::archive::class_name_type& name) {
    refuse_unless_trusted("exported class names");
    std::string text;
    load(text);
    if (text.size() >= BOOST_SERIALIZATION_MAX_KEY_SIZE || text.find('\0') != std::string::npos)
        corrupt("an unusable class name of " + std::to_string(text.size()) + " bytes");
    std::memcpy(static_cast<char*>(name), text.c_str(), text.size() + 1);
}

void xdr_iarchive::load(boost::serialization::collection_size_type& count) {
    // The next collection may be of wider elements: an opaque array's bound must not stay.
    const std::size_t element_bytes = std::exchange(element_bytes_, default_element_bytes);
    const std::uint32_t value = get_u32();
    if (value > remaining() / element_bytes)
        corrupt("a collection of " + std::to_string(value) + " elements in " +
                std::to_string(remaining()) + " bytes");
    count = boost::serialization::collection_size_type(value);
}

void xdr_iarchive::load(boost::serialization::item_version_type& v) {
    v = boost::serialization::item_version_type(mode_ == xdr_mode::class_info ? get_u32() : 0);
}

// Boost rehashes to the count it is given: 0 lets the table grow with the elements instead.
void xdr_iarchive::load_override(
    const boost::serialization::nvp<boost::serialization::collection_size_type>& t) {
    if (!is_bucket_count(t.name())) {
        load(t.value());
        return;
    }
    if (mode_ == xdr_mode::class_info) get_u32();
    t.value() = boost::serialization::collection_size_type(0);
}

namespace detail {

void throw_left_over(std::size_t bytes) {
    corrupt(std::to_string(bytes) + " bytes left over after the value");
}

// A read fails by conveyor::error from the archive (versions newer than this program's among
// them), or by Boost's own exceptions (unknown class names); all of them mean the bytes are
// wrong.
void translate_read_failure(std::error_code& ec) {
    try {
        throw;
    } catch (const error& e) {
        ec = e.code();
    } catch (const boost::archive::archive_exception&) {
        ec = make_error_code(errc::corrupt_data);
    } catch (const std::exception&) {
        ec = make_error_code(errc::corrupt_data);
    }
}

} // namespace detail
} // namespace conveyor

// Pointers to exported classes find their serializers through these maps.
template class boost::archive::detail::archive_serializer_map<conveyor::xdr_oarchive>;
template class boost::archive::detail::archive_serializer_map<conveyor::xdr_iarchive>;

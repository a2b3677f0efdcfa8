// Boost.Serialization archives that write and read XDR (RFC 4506), the byte order and sizes
// every machine reads the same way. docs/codec.md maps each C++ type onto XDR.
#pragma once

#include "conveyor/channel.hpp"
#include "conveyor/error.hpp"

#include <boost/archive/basic_archive.hpp>
#include <boost/archive/detail/common_iarchive.hpp>
#include <boost/archive/detail/common_oarchive.hpp>
#include <boost/archive/detail/register_archive.hpp>
#include <boost/mpl/bool.hpp>
#include <boost/serialization/array_optimization.hpp>
#include <boost/serialization/array_wrapper.hpp>
#include <boost/serialization/collection_size_type.hpp>
#include <boost/serialization/item_version_type.hpp>
#include <boost/serialization/level.hpp>
#include <boost/serialization/nvp.hpp>
#include <boost/serialization/split_free.hpp>
#include <boost/serialization/version.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

namespace conveyor {

// What the stream carries besides the values.
enum class xdr_mode {
    // Boost.Serialization's class information too: class versions travel, so a reader
    // sees the version the writer had; pointers and tracked objects work.
    class_info,
    // The values only, as a C program's xdr_* calls write them: both sides must agree on the
    // types and their versions; pointers and tracked objects are refused.
    pure,
};

// Whether a reader follows Boost's records of pointers and tracked objects. Boost trusts the
// class and object ids in them (a forged id makes it index past its tables), so only bytes
// from a trusted source may carry them; from any other, the reader refuses them.
enum class xdr_source { untrusted, trusted };

namespace detail {
// Element types whose arrays are XDR opaque data (bytes, padded) rather than 4 bytes each.
template <class T>
inline constexpr bool is_xdr_byte =
    std::is_same_v<T, char> || std::is_same_v<T, signed char> || std::is_same_v<T, unsigned char> ||
    std::is_same_v<T, std::byte>;
} // namespace detail

// Writes XDR to the end of a byte vector.
class xdr_oarchive : public boost::archive::detail::common_oarchive<xdr_oarchive> {
public:
    explicit xdr_oarchive(std::vector<std::byte>& out, xdr_mode mode = xdr_mode::class_info);

    // Fixed-length opaque data: the bytes, then zero padding to a multiple of 4.
    void save_binary(const void* data, std::size_t size);

    // Arrays of bytes go out as opaque data (see is_xdr_byte), others element by element.
    struct use_array_optimization {
        template <class T> struct apply : boost::mpl::bool_<detail::is_xdr_byte<T>> {};
    };
    template <class T>
    void save_array(const boost::serialization::array_wrapper<T>& a, unsigned int) {
        save_binary(a.address(), a.count());
    }

private:
    friend class boost::archive::detail::interface_oarchive<xdr_oarchive>;
    friend class boost::archive::save_access;
    using base = boost::archive::detail::common_oarchive<xdr_oarchive>;

    // Built-in arrays (and so std::array) are XDR fixed-length arrays: no length goes out.
    template <class T> void save_override(const T& t) {
        if constexpr (std::is_array_v<T>)
            *this << boost::serialization::make_array(&t[0], std::extent_v<T>);
        else
            base::save_override(t);
    }

    void save(bool value) { put_u32(value ? 1 : 0); }
    // 8-, 16- and 32-bit integers are XDR int or unsigned int (sign-extended as xdr_char and
    // xdr_short do); 64-bit ones are hyper or unsigned hyper.
    template <class T>
    requires std::is_integral_v<T>
    void save(T value) {
        if constexpr (sizeof(T) > 4)
            put_u64(static_cast<std::uint64_t>(value));
        else if constexpr (std::is_signed_v<T>)
            put_u32(static_cast<std::uint32_t>(static_cast<std::int32_t>(value)));
        else
            put_u32(static_cast<std::uint32_t>(value));
    }
    void save(float value);
    void save(double value);
    void save(long double) = delete; // XDR quadruple has no C counterpart in libtirpc
    void save(const std::string& value);
    void save(const std::wstring&) = delete;

    void save(const boost::archive::version_type& v);
    void save(const boost::archive::tracking_type& t);
    void save(const boost::archive::class_id_type& id);
    void save(const boost::archive::class_id_optional_type&) {}
    void save(const boost::archive::class_id_reference_type& id);
    void save(const boost::archive::object_id_type& id);
    void save(const boost::archive::object_reference_type& id);
    void save(const boost::archive::class_name_type& name);
    void save(const boost::serialization::collection_size_type& count);
    void save(const boost::serialization::item_version_type& v);

    // Boost writes an unordered container's bucket count, a hint for the reader's hash table,
    // between its count and its elements; only its name tells it from a count. Pure XDR has
    // no place for it.
    void save_override(
        const boost::serialization::nvp<const boost::serialization::collection_size_type>& t);

    void put_u32(std::uint32_t value);
    void put_u64(std::uint64_t value);
    [[noreturn]] void refuse_in_pure_mode(const char* what) const;

    std::vector<std::byte>& out_;
    xdr_mode mode_;
};

// Reads XDR from a byte range; never reads past it. Malformed input throws conveyor::error
// with errc::corrupt_data, whose message says what was wrong and where.
class xdr_iarchive : public boost::archive::detail::common_iarchive<xdr_iarchive> {
public:
    explicit xdr_iarchive(bytes_view in, xdr_mode mode = xdr_mode::class_info,
                          xdr_source source = xdr_source::untrusted);

    void load_binary(void* data, std::size_t size);
    // Bytes not read yet; a whole message leaves 0.
    std::size_t remaining() const noexcept { return in_.size() - at_; }

    using use_array_optimization = xdr_oarchive::use_array_optimization;
    template <class T> void load_array(boost::serialization::array_wrapper<T>& a, unsigned int) {
        load_binary(a.address(), a.count());
    }

private:
    friend class boost::archive::detail::interface_iarchive<xdr_iarchive>;
    friend class boost::archive::load_access;
    using base = boost::archive::detail::common_iarchive<xdr_iarchive>;

    template <class T> void load_override(T& t) {
        if constexpr (std::is_array_v<T>) {
            auto elements = boost::serialization::make_array(&t[0], std::extent_v<T>);
            *this >> elements;
            return;
        } else {
            // This program's version of the class, for its preamble, which Boost reads right
            // after this: a pure stream carries none, and a class_info one must not be newer.
            if constexpr (boost::serialization::implementation_level<T>::value ==
                          boost::serialization::object_class_info)
                // (a copy: BOOST_CLASS_VERSION's value has no definition to bind a reference to)
                pending_version_ =
                    static_cast<unsigned int>(boost::serialization::version<T>::value);
            // A vector's count is checked against the bytes left before the vector is sized,
            // so that a forged count cannot make the reader allocate without bound: every
            // element takes 4 bytes or more, but for byte arrays, 1.
            if constexpr (is_vector<T>::value)
                element_bytes_ = detail::is_xdr_byte<typename T::value_type> ? 1 : 4;
            base::load_override(t);
        }
    }
    template <class V> struct is_vector : std::false_type {};
    template <class E, class A> struct is_vector<std::vector<E, A>> : std::true_type {};

    void load(bool& value);
    template <class T>
    requires std::is_integral_v<T>
    void load(T& value) {
        if constexpr (sizeof(T) > 4)
            value = static_cast<T>(get_u64());
        else if constexpr (std::is_signed_v<T>)
            value = static_cast<T>(static_cast<std::int32_t>(get_u32()));
        else
            value = static_cast<T>(get_u32());
    }
    void load(float& value);
    void load(double& value);
    void load(long double&) = delete;
    void load(std::string& value);
    void load(std::wstring&) = delete;

    void load(boost::archive::version_type& v);
    void load(boost::archive::tracking_type& t);
    void load(boost::archive::class_id_type& id);
    void load(boost::archive::class_id_optional_type&) {}
    void load(boost::archive::class_id_reference_type& id);
    void load(boost::archive::object_id_type& id);
    void load(boost::archive::object_reference_type& id);
    void load(boost::archive::class_name_type& name);
    void load(boost::serialization::collection_size_type& count);
    void load(boost::serialization::item_version_type& v);
    // The bucket count (see xdr_oarchive): never believed, so a forged one sizes nothing.
    void
    load_override(const boost::serialization::nvp<boost::serialization::collection_size_type>& t);

    std::uint32_t get_u32();
    std::uint64_t get_u64();
    const std::byte* take(std::size_t size, const char* what);
    const std::byte* take_opaque(std::size_t size, const char* what);
    void refuse_unless_trusted(const char* what) const;

    bytes_view in_;
    std::size_t at_ = 0;
    xdr_mode mode_;
    xdr_source source_;
    // This program's version of the class whose preamble comes next; none when that is a
    // pointer's target, whose class only the stream names.
    std::optional<unsigned int> pending_version_;
    // The fewest bytes an element of the collection whose count comes next takes; set for
    // that one count only.
    static constexpr std::size_t default_element_bytes = 4;
    std::size_t element_bytes_ = default_element_bytes;
};

// Replaces out with value in XDR.
template <class T>
void to_xdr(const T& value, std::vector<std::byte>& out, xdr_mode mode = xdr_mode::class_info) {
    out.clear();
    xdr_oarchive archive(out, mode);
    archive << value;
}
// Fails with invalid_argument (pointers in pure mode) or message_too_large (a length beyond
// 4 bytes).
template <class T>
void to_xdr(const T& value, std::vector<std::byte>& out, xdr_mode mode, std::error_code& ec) {
    ec.clear();
    try {
        to_xdr(value, out, mode);
    } catch (const error& e) {
        ec = e.code();
    }
}

namespace detail {
[[noreturn]] void throw_left_over(std::size_t bytes);
void translate_read_failure(std::error_code& ec);
} // namespace detail

// Reads value from in, which must hold exactly one value in XDR.
template <class T> void from_xdr(bytes_view in, T& value, xdr_mode mode = xdr_mode::class_info) {
    xdr_iarchive archive(in, mode);
    archive >> value;
    if (archive.remaining() != 0) detail::throw_left_over(archive.remaining());
}
template <class T> void from_xdr(bytes_view in, T& value, xdr_mode mode, std::error_code& ec) {
    ec.clear();
    try {
        from_xdr(in, value, mode);
    } catch (...) {
        detail::translate_read_failure(ec);
    }
}

} // namespace conveyor

BOOST_SERIALIZATION_REGISTER_ARCHIVE(conveyor::xdr_oarchive)
BOOST_SERIALIZATION_REGISTER_ARCHIVE(conveyor::xdr_iarchive)
BOOST_SERIALIZATION_USE_ARRAY_OPTIMIZATION(conveyor::xdr_oarchive)
BOOST_SERIALIZATION_USE_ARRAY_OPTIMIZATION(conveyor::xdr_iarchive)

// std::optional as XDR optional-data (RFC 4506, 4.19): a bool, then the value if present.
namespace boost::serialization {

template <class Archive, class T>
void save(Archive& ar, const std::optional<T>& t, const unsigned int) {
    const bool present = t.has_value();
    ar << make_nvp("present", present);
    if (present) ar << make_nvp("value", *t);
}

template <class Archive, class T> void load(Archive& ar, std::optional<T>& t, const unsigned int) {
    bool present = false;
    ar >> make_nvp("present", present);
    if (!present) {
        t.reset();
        return;
    }
    if (!t) t.emplace();
    ar >> make_nvp("value", *t);
}

template <class Archive, class T>
void serialize(Archive& ar, std::optional<T>& t, const unsigned int version) {
    split_free(ar, t, version);
}

// An optional is its contents: no class information of its own, never tracked.
template <class T> struct implementation_level_impl<const std::optional<T>> {
    using tag = mpl::integral_c_tag;
    using type = mpl::int_<object_serializable>;
    BOOST_STATIC_CONSTANT(int, value = type::value);
};
template <class T> struct tracking_level_impl<const std::optional<T>> {
    using tag = mpl::integral_c_tag;
    using type = mpl::int_<track_never>;
    BOOST_STATIC_CONSTANT(int, value = type::value);
};

} // namespace boost::serialization

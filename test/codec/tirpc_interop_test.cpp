// conveyor's XDR against libtirpc's: for every XDR type and for structs of them, over
// thousands of random and edge values, both write the same bytes and each reads the other's.
#include <conveyor/codec/xdr_archive.hpp>

#include <boost/serialization/array.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <boost/test/unit_test.hpp>

#include <rpc/xdr.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <random>

using namespace conveyor;

namespace {

constexpr int random_values = 3000;
constexpr u_int no_limit = std::numeric_limits<u_int>::max();

enum class side : int { buy = 1, sell = -1, cross = 0x7fffffff };

struct point {
    float x = 0;
    double y = 0;
    template <class Archive> void serialize(Archive& ar, unsigned) { ar& x& y; }
};

// A struct of every XDR type, as a C program would declare it in an .x file.
struct record {
    std::int32_t i = 0;
    std::uint32_t u = 0;
    std::int16_t s = 0;
    unsigned char c = 0;
    bool b = false;
    side e = side::buy;
    std::int64_t h = 0;
    std::uint64_t uh = 0;
    float f = 0;
    double d = 0;
    std::string text;
    std::vector<std::byte> blob;
    std::array<unsigned char, 5> tag{};
    std::array<std::int32_t, 3> triple{};
    std::vector<std::uint32_t> ids;
    std::optional<std::int64_t> maybe;
    std::vector<point> points;
    std::map<std::string, std::int32_t> table;
    template <class Archive> void serialize(Archive& ar, unsigned) {
        ar& i& u& s& c& b& e& h& uh& f& d& text& blob& tag& triple& ids& maybe& points& table;
    }
};

// ---- libtirpc's side: the xdr_* calls a C program makes, for the C++ types ----

bool xdr_of(XDR* x, std::int32_t& v) {
    return xdr_int(x, &v);
}
bool xdr_of(XDR* x, std::uint32_t& v) {
    return xdr_u_int(x, &v);
}
bool xdr_of(XDR* x, std::int16_t& v) {
    return xdr_short(x, &v);
}
bool xdr_of(XDR* x, std::uint16_t& v) {
    return xdr_u_short(x, &v);
}
bool xdr_of(XDR* x, char& v) {
    return xdr_char(x, &v);
}
bool xdr_of(XDR* x, unsigned char& v) {
    return xdr_u_char(x, &v);
}
bool xdr_of(XDR* x, std::int64_t& v) {
    return xdr_hyper(x, reinterpret_cast<quad_t*>(&v));
}
bool xdr_of(XDR* x, std::uint64_t& v) {
    return xdr_u_hyper(x, reinterpret_cast<u_quad_t*>(&v));
}
bool xdr_of(XDR* x, float& v) {
    return xdr_float(x, &v);
}
bool xdr_of(XDR* x, double& v) {
    return xdr_double(x, &v);
}

bool xdr_of(XDR* x, bool& v) {
    bool_t b = v;
    if (!xdr_bool(x, &b)) return false;
    v = b != 0;
    return true;
}

bool xdr_of(XDR* x, side& v) {
    enum_t e = static_cast<enum_t>(v);
    if (!xdr_enum(x, &e)) return false;
    v = static_cast<side>(e);
    return true;
}

bool xdr_of(XDR* x, std::string& v) {
    if (x->x_op == XDR_ENCODE) {
        char* p = v.data();
        return xdr_string(x, &p, no_limit);
    }
    char* p = nullptr;
    if (!xdr_string(x, &p, no_limit)) return false;
    v = p;
    std::free(p);
    return true;
}

bool xdr_of(XDR* x, std::vector<std::byte>& v) {
    u_int size = static_cast<u_int>(v.size());
    char* p = reinterpret_cast<char*>(v.data());
    if (x->x_op == XDR_ENCODE) return xdr_bytes(x, &p, &size, no_limit);
    p = nullptr;
    if (!xdr_bytes(x, &p, &size, no_limit)) return false;
    v.assign(reinterpret_cast<std::byte*>(p), reinterpret_cast<std::byte*>(p) + size);
    std::free(p);
    return true;
}

template <std::size_t N> bool xdr_of(XDR* x, std::array<unsigned char, N>& v) {
    return xdr_opaque(x, reinterpret_cast<char*>(v.data()), N);
}

template <std::size_t N> bool xdr_of(XDR* x, std::array<std::int32_t, N>& v) {
    return xdr_vector(x, reinterpret_cast<char*>(v.data()), N, sizeof(std::int32_t),
                      reinterpret_cast<xdrproc_t>(xdr_int));
}

bool xdr_of(XDR* x, std::vector<std::uint32_t>& v) {
    u_int size = static_cast<u_int>(v.size());
    char* p = reinterpret_cast<char*>(v.data());
    if (x->x_op == XDR_ENCODE)
        return xdr_array(x, &p, &size, no_limit, sizeof(u_int),
                         reinterpret_cast<xdrproc_t>(xdr_u_int));
    p = nullptr;
    if (!xdr_array(x, &p, &size, no_limit, sizeof(u_int), reinterpret_cast<xdrproc_t>(xdr_u_int)))
        return false;
    v.assign(reinterpret_cast<std::uint32_t*>(p), reinterpret_cast<std::uint32_t*>(p) + size);
    std::free(p);
    return true;
}

bool xdr_of(XDR* x, std::optional<std::int64_t>& v) {
    quad_t value = v.value_or(0);
    quad_t* p = v ? &value : nullptr;
    if (x->x_op == XDR_ENCODE)
        return xdr_pointer(x, reinterpret_cast<char**>(&p), sizeof(quad_t),
                           reinterpret_cast<xdrproc_t>(xdr_hyper));
    p = nullptr;
    if (!xdr_pointer(x, reinterpret_cast<char**>(&p), sizeof(quad_t),
                     reinterpret_cast<xdrproc_t>(xdr_hyper)))
        return false;
    v.reset();
    if (p) v = *p;
    std::free(p);
    return true;
}

// As rpcgen writes it for `struct point { float x; double y; };`.
extern "C" bool_t xdr_point(XDR* x, point* p) {
    return xdr_float(x, &p->x) && xdr_double(x, &p->y);
}

bool xdr_of(XDR* x, std::vector<point>& v) {
    u_int size = static_cast<u_int>(v.size());
    char* p = reinterpret_cast<char*>(v.data());
    if (x->x_op == XDR_ENCODE)
        return xdr_array(x, &p, &size, no_limit, sizeof(point),
                         reinterpret_cast<xdrproc_t>(xdr_point));
    p = nullptr;
    if (!xdr_array(x, &p, &size, no_limit, sizeof(point), reinterpret_cast<xdrproc_t>(xdr_point)))
        return false;
    v.assign(reinterpret_cast<point*>(p), reinterpret_cast<point*>(p) + size);
    std::free(p);
    return true;
}

// A map is a variable-length array of key/value structs.
bool xdr_of(XDR* x, std::map<std::string, std::int32_t>& v) {
    u_int size = static_cast<u_int>(v.size());
    if (!xdr_u_int(x, &size)) return false;
    if (x->x_op == XDR_ENCODE) {
        for (auto& [key, value] : v) {
            std::string k = key;
            if (!xdr_of(x, k) || !xdr_of(x, value)) return false;
        }
        return true;
    }
    v.clear();
    for (u_int n = 0; n < size; ++n) {
        std::string key;
        std::int32_t value = 0;
        if (!xdr_of(x, key) || !xdr_of(x, value)) return false;
        v[key] = value;
    }
    return true;
}

bool xdr_of(XDR* x, record& r) {
    return xdr_of(x, r.i) && xdr_of(x, r.u) && xdr_of(x, r.s) && xdr_of(x, r.c) && xdr_of(x, r.b) &&
           xdr_of(x, r.e) && xdr_of(x, r.h) && xdr_of(x, r.uh) && xdr_of(x, r.f) &&
           xdr_of(x, r.d) && xdr_of(x, r.text) && xdr_of(x, r.blob) && xdr_of(x, r.tag) &&
           xdr_of(x, r.triple) && xdr_of(x, r.ids) && xdr_of(x, r.maybe) && xdr_of(x, r.points) &&
           xdr_of(x, r.table);
}

// ---- the comparison ----

template <class T> std::vector<std::byte> conveyor_writes(const T& value) {
    std::vector<std::byte> out;
    to_xdr(value, out, xdr_mode::pure);
    return out;
}

template <class T> std::vector<std::byte> tirpc_writes(T value, std::size_t room) {
    std::vector<std::byte> out(room);
    XDR x;
    xdrmem_create(&x, reinterpret_cast<char*>(out.data()), static_cast<u_int>(room), XDR_ENCODE);
    BOOST_REQUIRE(xdr_of(&x, value));
    out.resize(xdr_getpos(&x));
    xdr_destroy(&x);
    return out;
}

template <class T> T tirpc_reads(std::vector<std::byte> in) {
    T value{};
    XDR x;
    xdrmem_create(&x, reinterpret_cast<char*>(in.data()), static_cast<u_int>(in.size()),
                  XDR_DECODE);
    BOOST_REQUIRE(xdr_of(&x, value));
    BOOST_REQUIRE_EQUAL(xdr_getpos(&x), in.size());
    xdr_destroy(&x);
    return value;
}

// Both write the same bytes; each reads the other's back to the value, judged by its bytes
// (XDR encodings are one-to-one, and NaN compares unequal to itself).
template <class T> void check_both_ways(const T& value) {
    const auto ours = conveyor_writes(value);
    const auto theirs = tirpc_writes(value, ours.size() + 64);
    BOOST_REQUIRE(ours == theirs);
    BOOST_REQUIRE(conveyor_writes(tirpc_reads<T>(ours)) == ours);
    T back{};
    from_xdr(theirs, back, xdr_mode::pure);
    BOOST_REQUIRE(conveyor_writes(back) == theirs);
}

std::mt19937_64& random_source() {
    static std::mt19937_64 source(20261125);
    return source;
}

template <class T> T random_bits() {
    if constexpr (std::is_same_v<T, bool>) {
        return random_source()() & 1;
    } else {
        std::uint64_t bits = random_source()();
        T value;
        std::memcpy(&value, &bits, sizeof value);
        return value;
    }
}

template <class T> std::vector<T> edges() {
    using limits = std::numeric_limits<T>;
    std::vector<T> values{T(0), T(1), limits::min(), limits::max(), limits::lowest()};
    if constexpr (std::is_signed_v<T>) values.push_back(T(-1));
    if constexpr (std::is_floating_point_v<T>)
        values.insert(values.end(),
                      {limits::quiet_NaN(), -limits::quiet_NaN(), limits::signaling_NaN(),
                       limits::infinity(), -limits::infinity(), limits::denorm_min(), T(-0.0)});
    return values;
}

template <class T> void check_scalar() {
    for (T v : edges<T>())
        check_both_ways(v);
    for (int n = 0; n < random_values; ++n)
        check_both_ways(random_bits<T>());
}

// Strings without NUL (xdr_string stops at one), of every length up to 40 and some long ones.
std::string random_text(std::size_t size) {
    std::string text(size, ' ');
    for (char& c : text)
        c = static_cast<char>(1 + random_source()() % 255);
    return text;
}

std::size_t random_size() {
    const auto r = random_source()();
    return r % 8 == 0 ? r % 5000 : r % 41;
}

template <class T> T random_element() {
    if constexpr (std::is_same_v<T, point>)
        return {random_bits<float>(), random_bits<double>()};
    else
        return random_bits<T>();
}

template <class T> std::vector<T> random_vector(std::size_t size) {
    std::vector<T> v(size);
    for (auto& e : v)
        e = random_element<T>();
    return v;
}

record random_record() {
    record r;
    r.i = random_bits<std::int32_t>();
    r.u = random_bits<std::uint32_t>();
    r.s = random_bits<std::int16_t>();
    r.c = random_bits<unsigned char>();
    r.b = random_bits<bool>();
    r.e = std::array{side::buy, side::sell, side::cross}[random_source()() % 3];
    r.h = random_bits<std::int64_t>();
    r.uh = random_bits<std::uint64_t>();
    r.f = random_bits<float>();
    r.d = random_bits<double>();
    r.text = random_text(random_size());
    r.blob = random_vector<std::byte>(random_size());
    r.tag = {random_bits<unsigned char>(), 0, 255, random_bits<unsigned char>(), 1};
    r.triple = {random_bits<std::int32_t>(), -1, std::numeric_limits<std::int32_t>::min()};
    r.ids = random_vector<std::uint32_t>(random_source()() % 9);
    if (random_source()() & 1) r.maybe = random_bits<std::int64_t>();
    r.points = random_vector<point>(random_source()() % 4);
    for (auto n = random_source()() % 4; n > 0; --n)
        r.table[random_text(random_source()() % 7)] = random_bits<std::int32_t>();
    return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(tirpc_interop)

BOOST_AUTO_TEST_CASE(ints_and_unsigned_ints_match_libtirpc) {
    check_scalar<std::int32_t>();
    check_scalar<std::uint32_t>();
    check_scalar<std::int16_t>();
    check_scalar<std::uint16_t>();
    check_scalar<char>();
    check_scalar<unsigned char>();
}

BOOST_AUTO_TEST_CASE(hypers_match_libtirpc) {
    check_scalar<std::int64_t>();
    check_scalar<std::uint64_t>();
}

BOOST_AUTO_TEST_CASE(floats_and_doubles_match_libtirpc_bit_for_bit) {
    check_scalar<float>();
    check_scalar<double>();
}

BOOST_AUTO_TEST_CASE(bools_and_enums_match_libtirpc) {
    check_both_ways(true);
    check_both_ways(false);
    for (side s : {side::buy, side::sell, side::cross})
        check_both_ways(s);
    // Any int is a value of an enum with int beneath it, and xdr_enum takes any int.
    for (std::int32_t v : edges<std::int32_t>())
        check_both_ways(static_cast<side>(v));
    for (int n = 0; n < random_values; ++n)
        check_both_ways(static_cast<side>(random_bits<std::int32_t>()));
}

BOOST_AUTO_TEST_CASE(strings_of_every_length_match_libtirpc) {
    for (std::size_t size = 0; size < 40; ++size)
        check_both_ways(random_text(size));
    for (int n = 0; n < random_values; ++n)
        check_both_ways(random_text(random_size()));
}

BOOST_AUTO_TEST_CASE(opaque_data_fixed_and_variable_matches_libtirpc) {
    for (std::size_t size = 0; size < 40; ++size)
        check_both_ways(random_vector<std::byte>(size));
    for (int n = 0; n < random_values; ++n) {
        check_both_ways(random_vector<std::byte>(random_size()));
        check_both_ways(std::array<unsigned char, 5>{random_bits<unsigned char>(), 0, 1, 2, 255});
    }
}

BOOST_AUTO_TEST_CASE(arrays_and_optional_data_match_libtirpc) {
    check_both_ways(std::vector<std::uint32_t>{});
    check_both_ways(std::optional<std::int64_t>{});
    for (int n = 0; n < random_values; ++n) {
        check_both_ways(random_vector<std::uint32_t>(random_size()));
        check_both_ways(std::array<std::int32_t, 3>{random_bits<std::int32_t>(), 0, -1});
        check_both_ways(std::optional<std::int64_t>{random_bits<std::int64_t>()});
        check_both_ways(random_vector<point>(random_source()() % 5));
    }
}

BOOST_AUTO_TEST_CASE(structs_of_every_type_match_libtirpc) {
    check_both_ways(record{});
    for (int n = 0; n < random_values; ++n)
        check_both_ways(random_record());
}

BOOST_AUTO_TEST_SUITE_END()

// libFuzzer target for the readers of typed messages: the envelope, then the XDR archives in
// both modes, on whatever bytes arrive. A crash, an overflow or a leak is a finding.
#include <conveyor/codec/envelope.hpp>
#include <conveyor/codec/generated_xdr.hpp>
#include <conveyor/codec/xdr_archive.hpp>

#include <boost/serialization/array.hpp>
#include <boost/serialization/list.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/set.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/unique_ptr.hpp>
#include <boost/serialization/unordered_map.hpp>
#include <boost/serialization/vector.hpp>

#include <array>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

namespace {

// Every kind of value the archives read: scalars, strings, opaque data, fixed and variable
// arrays, optional data, maps, nested structs.
struct leaf {
    std::int16_t small = 0;
    double real = 0;
    template <class Archive> void serialize(Archive& ar, unsigned) { ar& small& real; }
};

// Pointers, which an untrusted source may not send (xdr_source).
struct chain {
    int value = 0;
    std::unique_ptr<chain> next;
    template <class Archive> void serialize(Archive& ar, unsigned) { ar& value& next; }
};

struct sample {
    bool flag = false;
    std::uint64_t big = 0;
    std::string text;
    std::vector<std::byte> blob;
    std::array<unsigned char, 3> tag{};
    std::vector<std::vector<std::int32_t>> grid;
    std::optional<float> maybe;
    std::map<std::string, leaf> leaves;
    template <class Archive> void serialize(Archive& ar, unsigned) {
        ar& flag& big& text& blob& tag& grid& maybe& leaves;
    }
};

// Collections built node by node, and a class past version 0 (whose version a class_info
// stream must not exceed): apart from sample, so that its seeds still read whole.
struct versioned {
    std::vector<char> bytes; // its opaque bound must not carry over to the list
    std::list<std::int32_t> numbers;
    std::set<std::string> names;
    std::unordered_map<std::int32_t, leaf> by_id;
    std::int32_t added = 0; // from version 2
    template <class Archive> void serialize(Archive& ar, unsigned version) {
        ar& bytes& numbers& names& by_id;
        if (version >= 2) ar& added;
    }
};

template <class T> void read(conveyor::bytes_view in, conveyor::xdr_mode mode) {
    T value;
    std::error_code ec;
    conveyor::from_xdr(in, value, mode, ec);
}

} // namespace

BOOST_CLASS_VERSION(versioned, 2)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const conveyor::bytes_view in(reinterpret_cast<const std::byte*>(data), size);
    std::error_code ec;
    const auto e = conveyor::open_envelope(in, ec);
    // Past the envelope the payload is what the fuzzer chose: the CRC only guards against
    // accidents, so the payload is also read as if the envelope had been fine.
    const auto payload = ec ? in : e.payload;
    read<sample>(payload, conveyor::xdr_mode::pure);
    read<sample>(payload, conveyor::xdr_mode::class_info);
    read<chain>(payload, conveyor::xdr_mode::class_info);
    read<versioned>(payload, conveyor::xdr_mode::pure);
    read<versioned>(payload, conveyor::xdr_mode::class_info);
    std::vector<std::byte> message;
    std::string why;
    conveyor::decode_generated(in, message, ec, why);
    return 0;
}

// The XDR archives on their own: exact bytes, class information, versions, and input that
// must be refused without reading past the end or allocating without bound.
#include <conveyor/codec/xdr_archive.hpp>
#include <conveyor/codec/xdr_plain.hpp>
#include <conveyor/error.hpp>

#include <boost/serialization/array.hpp>
#include <boost/serialization/list.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/unique_ptr.hpp>
#include <boost/serialization/unordered_map.hpp>
#include <boost/serialization/unordered_set.hpp>
#include <boost/serialization/vector.hpp>
#include <boost/test/unit_test.hpp>

#include <array>
#include <cmath>
#include <list>
#include <map>
#include <memory>
#include <unordered_map>
#include <unordered_set>

using namespace conveyor;

namespace {

std::vector<std::byte> bytes(std::initializer_list<int> values) {
    std::vector<std::byte> out;
    for (int v : values)
        out.push_back(static_cast<std::byte>(v));
    return out;
}

template <class T> std::vector<std::byte> encode(const T& value, xdr_mode mode = xdr_mode::pure) {
    std::vector<std::byte> out;
    to_xdr(value, out, mode);
    return out;
}

struct order {
    std::uint32_t id = 0;
    std::string item;
    std::optional<double> limit;
    std::vector<std::int64_t> fills;
    std::map<std::string, int> tags;
    bool operator==(const order&) const = default;
    template <class Archive> void serialize(Archive& ar, unsigned) {
        ar& id& item& limit& fills& tags;
    }
};

struct book {
    std::string name;
    std::vector<order> orders;
    std::array<std::int16_t, 3> levels{};
    bool operator==(const book&) const = default;
    template <class Archive> void serialize(Archive& ar, unsigned) { ar& name& orders& levels; }
};

// Two versions of one record: version 2 added a field.
struct quote_v1 {
    std::int32_t price = 0;
    template <class Archive> void serialize(Archive& ar, unsigned) { ar& price; }
};
struct quote_v2 {
    std::int32_t price = 0;
    std::int32_t size = -1; // unknown in version 1
    unsigned seen_version = 0;
    template <class Archive> void serialize(Archive& ar, unsigned version) {
        seen_version = version;
        ar& price;
        if (version >= 2) ar& size;
    }
};

struct node {
    int value = 0;
    std::unique_ptr<node> next;
    template <class Archive> void serialize(Archive& ar, unsigned) { ar& value& next; }
};

// Read through a pointer, so tracked: kept apart from the quotes, which are not.
struct pointed_quote {
    std::int32_t price = 0;
    template <class Archive> void serialize(Archive& ar, unsigned) { ar& price; }
};

// Two quote_v1 by value, then a bare pointer (a unique_ptr would bring a preamble of its
// own) to a class at a higher version: the target's preamble comes after a quote_v1 whose
// version was not read again.
struct quotes_and_pointer {
    quote_v1 first, second;
    std::unique_ptr<pointed_quote> newer;
    template <class Archive> void serialize(Archive& ar, unsigned) {
        ar& first& second;
        pointed_quote* target = newer.get();
        ar& target;
        if (target != newer.get()) newer.reset(target);
    }
};

struct blob_then_list {
    std::vector<char> blob;
    std::list<std::int32_t> numbers;
    template <class Archive> void serialize(Archive& ar, unsigned) { ar& blob& numbers; }
};

template <class T> std::error_code read_error(const std::vector<std::byte>& in, xdr_mode mode) {
    T value{};
    std::error_code ec;
    from_xdr(in, value, mode, ec);
    return ec;
}

} // namespace

BOOST_CLASS_VERSION(quote_v1, 1)
BOOST_CLASS_VERSION(quote_v2, 2)
BOOST_CLASS_VERSION(pointed_quote, 2)

BOOST_AUTO_TEST_SUITE(xdr_archive)

BOOST_AUTO_TEST_CASE(scalars_are_big_endian_words_of_rfc_4506) {
    BOOST_TEST(encode(std::int32_t{-1}) == bytes({0xff, 0xff, 0xff, 0xff}));
    BOOST_TEST(encode(std::uint16_t{0x1234}) == bytes({0, 0, 0x12, 0x34}));
    BOOST_TEST(encode(char{-2}) == bytes({0xff, 0xff, 0xff, 0xfe}));
    BOOST_TEST(encode(true) == bytes({0, 0, 0, 1}));
    BOOST_TEST(encode(std::int64_t{-2}) == bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}));
    BOOST_TEST(encode(1.0) == bytes({0x3f, 0xf0, 0, 0, 0, 0, 0, 0}));
    BOOST_TEST(encode(-2.0f) == bytes({0xc0, 0, 0, 0}));
}

BOOST_AUTO_TEST_CASE(strings_and_opaque_data_are_padded_to_four_bytes) {
    BOOST_TEST(encode(std::string("abcde")) ==
               bytes({0, 0, 0, 5, 'a', 'b', 'c', 'd', 'e', 0, 0, 0}));
    BOOST_TEST(encode(std::string()) == bytes({0, 0, 0, 0}));
    BOOST_TEST(encode(std::vector<unsigned char>{1, 2}) == bytes({0, 0, 0, 2, 1, 2, 0, 0}));
    BOOST_TEST(encode(std::array<unsigned char, 3>{7, 8, 9}) == bytes({7, 8, 9, 0}));
}

BOOST_AUTO_TEST_CASE(fixed_arrays_have_no_length_and_variable_ones_do) {
    BOOST_TEST(encode(std::array<std::int32_t, 2>{1, 2}) == bytes({0, 0, 0, 1, 0, 0, 0, 2}));
    BOOST_TEST(encode(std::vector<std::int32_t>{3}) == bytes({0, 0, 0, 1, 0, 0, 0, 3}));
    BOOST_TEST(encode(std::optional<std::int32_t>{}) == bytes({0, 0, 0, 0}));
    BOOST_TEST(encode(std::optional<std::int32_t>{5}) == bytes({0, 0, 0, 1, 0, 0, 0, 5}));
}

BOOST_AUTO_TEST_CASE(nested_structs_round_trip_in_both_modes) {
    book b{"tsla", {}, {1, -2, 3}};
    b.orders.push_back({1, "buy", 12.5, {1, -1, INT64_MIN}, {{"desk", 4}, {"", -7}}});
    b.orders.push_back({2, std::string(1001, 'x'), std::nullopt, {}, {}});
    for (auto mode : {xdr_mode::pure, xdr_mode::class_info}) {
        book back;
        from_xdr(encode(b, mode), back, mode);
        BOOST_TEST((back == b));
    }
}

BOOST_AUTO_TEST_CASE(class_info_mode_puts_tracking_and_version_before_a_class_first_seen) {
    // the vector: tracking false, version 0; count 2, item version 1 (quote_v1's); quote_v1
    // first seen: tracking false, version 1; then the two prices
    const std::vector<quote_v1> two{{5}, {6}};
    BOOST_TEST(encode(two, xdr_mode::class_info) ==
               bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1,
                      0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 6}));
    BOOST_TEST(encode(two, xdr_mode::pure) == bytes({0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 6}));
}

BOOST_AUTO_TEST_CASE(class_info_mode_lets_a_newer_reader_see_the_writers_version) {
    quote_v2 back;
    from_xdr(encode(quote_v1{42}, xdr_mode::class_info), back, xdr_mode::class_info);
    BOOST_TEST(back.seen_version == 1u);
    BOOST_TEST(back.price == 42);
    BOOST_TEST(back.size == -1);
}

BOOST_AUTO_TEST_CASE(class_info_mode_refuses_a_version_newer_than_this_programs) {
    // quote_v2 and quote_v1 stand for one class at two versions: write 2, read as 1
    quote_v1 back;
    BOOST_CHECK_EXCEPTION(
        from_xdr(encode(quote_v2{42, 9, 0}, xdr_mode::class_info), back, xdr_mode::class_info),
        error, [](const error& e) {
            return e.code() == errc::corrupt_data &&
                   std::string(e.what()).find("class version 2 is newer than this program's 1") !=
                       std::string::npos;
        });
    BOOST_TEST(read_error<std::vector<quote_v1>>(
                   encode(std::vector<quote_v2>{{1, 2, 0}}, xdr_mode::class_info),
                   xdr_mode::class_info) == errc::corrupt_data);
    quote_v2 same;
    from_xdr(encode(quote_v2{42, 9, 0}, xdr_mode::class_info), same, xdr_mode::class_info);
    BOOST_TEST(same.size == 9);
}

BOOST_AUTO_TEST_CASE(a_pointers_target_is_not_held_to_the_version_of_the_class_before_it) {
    quotes_and_pointer value{{1}, {2}, std::make_unique<pointed_quote>(pointed_quote{3})};
    const auto stream = encode(value, xdr_mode::class_info);
    quotes_and_pointer back;
    xdr_iarchive trusting(stream, xdr_mode::class_info, xdr_source::trusted);
    trusting >> back;
    BOOST_REQUIRE(back.newer);
    BOOST_TEST(back.newer->price == 3);
}

BOOST_AUTO_TEST_CASE(pure_mode_reads_a_class_as_the_version_this_program_has) {
    quote_v2 back;
    from_xdr(encode(quote_v2{42, 9, 0}), back, xdr_mode::pure);
    BOOST_TEST(back.seen_version == 2u);
    BOOST_TEST(back.size == 9);
    std::vector<quote_v2> many;
    from_xdr(encode(std::vector<quote_v2>{{1, 2, 0}, {3, 4, 0}}), many, xdr_mode::pure);
    BOOST_REQUIRE(many.size() == 2u);
    BOOST_TEST(many[1].seen_version == 2u);
    BOOST_TEST(many[1].size == 4);
}

BOOST_AUTO_TEST_CASE(pointers_travel_in_class_info_mode_and_are_refused_in_pure_mode) {
    node list{1, std::make_unique<node>(node{2, nullptr})};
    node back;
    const auto stream = encode(list, xdr_mode::class_info);
    xdr_iarchive trusting(stream, xdr_mode::class_info, xdr_source::trusted);
    trusting >> back;
    BOOST_REQUIRE(back.next);
    BOOST_TEST(back.next->value == 2);
    BOOST_TEST(!back.next->next);
    std::vector<std::byte> out;
    BOOST_CHECK_EXCEPTION(to_xdr(list, out, xdr_mode::pure), error, [](const error& e) {
        return e.code() == errc::invalid_argument &&
               std::string(e.what()).find("pure XDR cannot carry") != std::string::npos;
    });
}

BOOST_AUTO_TEST_CASE(pointers_from_an_untrusted_source_are_refused) {
    std::error_code ec;
    node back;
    from_xdr(encode(node{1, std::make_unique<node>()}, xdr_mode::class_info), back,
             xdr_mode::class_info, ec);
    BOOST_TEST(ec == errc::corrupt_data);
}

BOOST_AUTO_TEST_CASE(nan_and_infinities_keep_their_bits) {
    const double values[] = {std::nan("0x5"), -INFINITY, -0.0};
    for (double v : values) {
        double back = 0;
        from_xdr(encode(v), back, xdr_mode::pure);
        BOOST_TEST(std::bit_cast<std::uint64_t>(back) == std::bit_cast<std::uint64_t>(v));
    }
}

BOOST_AUTO_TEST_CASE(every_truncation_of_a_message_is_refused_as_corrupt) {
    book b{"x", {{7, "abc", 1.5, {1, 2}, {{"k", 1}}}}, {1, 2, 3}};
    for (auto mode : {xdr_mode::pure, xdr_mode::class_info}) {
        const auto whole = encode(b, mode);
        for (std::size_t n = 0; n < whole.size(); ++n) {
            const std::vector<std::byte> part(whole.begin(), whole.begin() + n);
            BOOST_TEST(read_error<book>(part, mode) == errc::corrupt_data, "prefix " << n);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_forged_count_is_refused_before_anything_is_allocated) {
    // 0xffffffff elements of a vector, of a string, of bytes: the reader must not believe it
    const auto huge = bytes({0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0});
    BOOST_TEST(read_error<std::vector<std::uint64_t>>(huge, xdr_mode::pure) == errc::corrupt_data);
    BOOST_TEST(read_error<std::string>(huge, xdr_mode::pure) == errc::corrupt_data);
    BOOST_TEST(read_error<std::vector<std::byte>>(huge, xdr_mode::pure) == errc::corrupt_data);
    using table = std::map<int, int>;
    BOOST_TEST(read_error<table>(huge, xdr_mode::pure) == errc::corrupt_data);
}

BOOST_AUTO_TEST_CASE(an_opaque_arrays_bound_does_not_carry_over_to_the_next_collection) {
    // an empty vector<char>, then a list claiming 8 elements where 8 bytes hold only 2
    const auto forged = bytes({0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 2});
    blob_then_list back;
    BOOST_CHECK_EXCEPTION(from_xdr(forged, back, xdr_mode::pure), error, [](const error& e) {
        return std::string(e.what()).find("a collection of 8 elements in 8 bytes") !=
               std::string::npos;
    });
}

BOOST_AUTO_TEST_CASE(unordered_containers_are_count_and_elements_in_pure_mode) {
    const std::unordered_map<std::int32_t, std::int32_t> map{{1, 2}};
    BOOST_TEST(encode(map) == bytes({0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2}));
    const std::unordered_set<std::string> set{"a", "bc", "def"};
    for (auto mode : {xdr_mode::pure, xdr_mode::class_info}) {
        std::unordered_map<std::int32_t, std::int32_t> map_back;
        from_xdr(encode(map, mode), map_back, mode);
        BOOST_TEST((map_back == map));
        std::unordered_set<std::string> set_back;
        from_xdr(encode(set, mode), set_back, mode);
        BOOST_TEST((set_back == set));
    }
}

BOOST_AUTO_TEST_CASE(a_forged_bucket_count_sizes_nothing) {
    // class_info mode keeps Boost's bucket count, after the count: make it 0xffffffff
    auto stream = encode(std::unordered_set<std::int32_t>{5}, xdr_mode::class_info);
    BOOST_REQUIRE(stream.size() > 16u);
    std::fill(stream.begin() + 12, stream.begin() + 16, std::byte{0xff});
    std::unordered_set<std::int32_t> back;
    from_xdr(stream, back, xdr_mode::class_info);
    BOOST_TEST(back.count(5) == 1u);
    BOOST_TEST(back.bucket_count() < 1000u);
}

BOOST_AUTO_TEST_CASE(bad_bools_padding_and_left_over_bytes_are_corrupt) {
    BOOST_TEST(read_error<bool>(bytes({0, 0, 0, 2}), xdr_mode::pure) == errc::corrupt_data);
    BOOST_TEST(read_error<std::string>(bytes({0, 0, 0, 1, 'a', 0, 1, 0}), xdr_mode::pure) ==
               errc::corrupt_data);
    BOOST_TEST(read_error<std::int32_t>(bytes({0, 0, 0, 1, 0}), xdr_mode::pure) ==
               errc::corrupt_data);
    std::int32_t value = 0;
    BOOST_CHECK_EXCEPTION(
        from_xdr(bytes({0, 0, 1}), value, xdr_mode::pure), error, [](const error& e) {
            return std::string(e.what()).find("runs past the end") != std::string::npos;
        });
}

BOOST_AUTO_TEST_SUITE_END()

// codec/xdr_plain.hpp: what RPC encodes without an archive is byte for byte what the archive
// writes in pure mode, and reads back with the archive's refusals.
BOOST_AUTO_TEST_SUITE(xdr_plain)

template <class T> void expect_same_bytes(const T& value) {
    std::vector<std::byte> plain;
    detail::append_plain_xdr(value, plain);
    BOOST_TEST((plain == encode(value)));
    T back{};
    detail::read_plain_xdr(plain, back);
    BOOST_TEST((back == value));
}

BOOST_AUTO_TEST_CASE(plain_values_are_written_as_the_pure_archive_writes_them) {
    expect_same_bytes(std::int32_t{-5});
    expect_same_bytes(std::uint32_t{0xDEADBEEF});
    expect_same_bytes(std::int16_t{-2});
    expect_same_bytes(std::uint8_t{200});
    expect_same_bytes(std::int64_t{-1234567890123});
    expect_same_bytes(std::uint64_t{0xFEDCBA9876543210});
    expect_same_bytes(true);
    expect_same_bytes(false);
    expect_same_bytes(1.5f);
    expect_same_bytes(-2.25);
    expect_same_bytes(std::string("hello"));
    expect_same_bytes(std::string());
    for (std::size_t n : {0, 1, 3, 4, 5, 64, 1001})
        expect_same_bytes(std::vector<std::byte>(n, std::byte{0x5A}));
}

BOOST_AUTO_TEST_CASE(plain_values_refuse_what_the_archive_refuses) {
    auto refused = [](bytes_view in, auto value) {
        try {
            detail::read_plain_xdr(in, value);
        } catch (const error& e) {
            BOOST_TEST_MESSAGE("refused: " << e.what());
            return e.code() == errc::corrupt_data;
        }
        return false;
    };
    BOOST_TEST(refused(bytes({0, 0, 1}), std::uint32_t{}));             // short
    BOOST_TEST(refused(bytes({0, 0, 0, 1, 0}), std::uint32_t{}));       // left over
    BOOST_TEST(refused(bytes({0, 0, 0, 2}), bool{}));                   // not 0 or 1
    BOOST_TEST(refused(bytes({0, 0, 0, 1, 0, 0, 0}), std::uint64_t{})); // short hyper
    BOOST_TEST(refused(bytes({0, 0, 0, 9, 1, 2, 3, 4}), std::vector<std::byte>{})); // too long
    BOOST_TEST(refused(bytes({0, 0, 0, 1, 7, 0, 0, 1}), std::vector<std::byte>{})); // padding
    BOOST_TEST(refused(bytes({0, 0, 0, 1, 7, 0, 0}), std::string{}));               // unpadded
    BOOST_TEST(refused(bytes({0xFF, 0xFF, 0xFF, 0xFF}), std::vector<std::byte>{}));  // 4 GiB
    BOOST_TEST(refused(bytes({0, 0}), std::vector<std::byte>{}));                    // no length
}

BOOST_AUTO_TEST_SUITE_END()

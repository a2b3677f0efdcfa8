// conveyor-codec-bench: encode and decode speed of the XDR archive against Boost's native
// binary archive, for a small struct and for 1 MiB of opaque data. Prints medians of
// repeated batches; each operation builds its archive, as sending one message does.
#include <conveyor/codec/xdr_archive.hpp>

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>

namespace {

struct tick {
    std::uint32_t id = 7;
    std::int64_t price = -123456789;
    double quantity = 12.5;
    std::string symbol = "ACME";
    bool buy = true;
    template <class Archive> void serialize(Archive& ar, unsigned) {
        ar& id& price& quantity& symbol& buy;
    }
};

using opaque = std::vector<unsigned char>;
constexpr auto flags = boost::archive::no_header;
constexpr int batches = 15;

// Median over batches of the time one call of operation takes, in nanoseconds.
template <class Operation> double median_ns(int per_batch, Operation operation) {
    std::vector<double> times;
    for (int b = 0; b < batches; ++b) {
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < per_batch; ++i)
            operation();
        const std::chrono::duration<double, std::nano> took =
            std::chrono::steady_clock::now() - start;
        times.push_back(took.count() / per_batch);
    }
    std::nth_element(times.begin(), times.begin() + batches / 2, times.end());
    return times[batches / 2];
}

template <class T> void compare(const char* name, const T& value, int per_batch) {
    std::vector<std::byte> xdr;
    std::stringstream binary;
    const double xdr_encode = median_ns(per_batch, [&] {
        xdr.clear();
        conveyor::xdr_oarchive archive(xdr, conveyor::xdr_mode::pure);
        archive << value;
    });
    const double xdr_decode = median_ns(per_batch, [&] {
        T back;
        conveyor::xdr_iarchive archive(xdr, conveyor::xdr_mode::pure);
        archive >> back;
    });
    // Both sides reuse their buffers: the vector keeps its capacity, the stream is rewound.
    const double binary_encode = median_ns(per_batch, [&] {
        binary.seekp(0);
        boost::archive::binary_oarchive archive(binary, flags);
        archive << value;
    });
    const std::size_t binary_size = binary.str().size();
    const double binary_decode = median_ns(per_batch, [&] {
        binary.clear();
        binary.seekg(0);
        T back;
        boost::archive::binary_iarchive archive(binary, flags);
        archive >> back;
    });
    std::printf("%-12s xdr: %zu bytes, encode %10.0f ns, decode %10.0f ns\n", name, xdr.size(),
                xdr_encode, xdr_decode);
    std::printf("%-12s binary: %zu bytes, encode %10.0f ns, decode %10.0f ns\n", "", binary_size,
                binary_encode, binary_decode);
}

} // namespace

int main() {
    compare("small struct", tick{}, 20000);
    opaque mebibyte(1 << 20);
    for (std::size_t i = 0; i < mebibyte.size(); ++i)
        mebibyte[i] = static_cast<unsigned char>(i * 31);
    compare("1 MiB opaque", mebibyte, 40);
}

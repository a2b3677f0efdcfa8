// libFuzzer target for the RPC server's decoding: the same bytes as a tcp stream cut into
// records (in reads of the sizes the input's last byte picks), as a udp datagram through
// the duplicate-request cache, and as a reply a client reads. Each call goes to the
// dispatcher with calc's handlers (ADD, ECHO, COUNT, and SLEEP answered later), so the
// arguments are decoded by the XDR archive as a server decodes them. A crash, an overflow,
// a leak or an allocation beyond -malloc_limit_mb is a finding.
#include "rpc/dispatcher.hpp"
#include "rpc/record_marking.hpp"
#include "rpc/reply_cache.hpp"

#include "calc.hpp"

#include <conveyor/checksum.hpp>

#include <memory>

namespace {

using namespace conveyor::rpc;

// A deferred reply that goes nowhere: the fuzzer only checks that making one is sound.
struct dropped_reply final : detail::deferred_reply {
    using deferred_reply::deferred_reply;
    void send(std::vector<std::byte>&&) override {}
};

struct maker final : detail::reply_maker {
    std::unique_ptr<detail::deferred_reply> defer(std::uint32_t xid) override {
        return std::make_unique<dropped_reply>(xid);
    }
};

const detail::dispatcher& calc_dispatcher() {
    static const detail::dispatcher d = [] {
        detail::dispatcher made;
        made.add(target_of(calc::add), detail::make_handler<decltype(calc::add)>(
                                           [](const calc::add_args& a) { return a.a ^ a.b; }));
        made.add(target_of(calc::echo),
                 detail::make_handler<decltype(calc::echo)>([](const calc::data& d) { return d; }));
        made.add(target_of(calc::count),
                 detail::make_handler<decltype(calc::count)>([] { return std::uint64_t(7); }));
        made.add(target_of(calc::sleep), detail::make_async_handler<decltype(calc::sleep)>(
                                             [](std::uint32_t ms, responder<void> r) {
                                                 if (ms % 2) r.reply();
                                             }));
        return made;
    }();
    return d;
}

void serve(conveyor::bytes_view message, std::vector<std::byte>& out) {
    call_header header;
    const auto decoded = decode_call(message, header);
    maker m;
    out.clear();
    calc_dispatcher().handle(message, decoded, header, out, m);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const conveyor::bytes_view in(reinterpret_cast<const std::byte*>(data), size);
    std::vector<std::byte> out;

    // A stream, as a tcp connection reads it: records of at most 64 KiB.
    detail::record_reader reader(64 << 10);
    const std::size_t chunk = size == 0 ? 1 : 1 + data[size - 1] % 64;
    for (std::size_t at = 0; at < size; at += chunk) {
        const std::size_t n = std::min(chunk, size - at);
        const auto space = reader.space();
        std::memcpy(space.data(), data + at, n);
        reader.commit(n);
        conveyor::bytes_view record;
        std::error_code ec;
        while (reader.next(record, ec))
            serve(record, out);
        if (ec) break; // the connection would close here
    }

    // A datagram, through the cache as a udp server takes it.
    static detail::reply_cache cache(std::chrono::seconds(1), 64, 1 << 16);
    call_header header;
    const auto decoded = decode_call(in, header);
    if (decoded.status == call_status::ok) {
        const detail::reply_cache_key key{"fuzz", header.xid, header.program, header.version,
                                          header.procedure};
        const std::vector<std::byte>* cached = nullptr;
        const auto now = detail::reply_cache::clock::now();
        const auto args = in.subspan(decoded.arguments);
        if (cache.admit(key, conveyor::crc32c(args), now, cached) ==
            detail::reply_cache::verdict::run) {
            serve(in, out);
            cache.finish(key, out, now);
        }
    }

    // A reply, as a client reads it.
    reply_header reply;
    std::error_code ec;
    const auto results = decode_reply(in, reply, ec);
    if (!ec && reply.stat == reply_stat::accepted && reply.accepted == accept_stat::success) {
        calc::data echoed;
        try {
            detail::decode_value(in.subspan(results), echoed);
        } catch (const std::system_error&) {
        }
    }
    return 0;
}

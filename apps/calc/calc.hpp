// The calc program of calc.x, declared once for conveyor's RPC: the types as rpcgen's C
// declares them (int, opaque<>, unsigned hyper, unsigned int) and the five procedures.
#pragma once

#include <conveyor/rpc/program.hpp>

#include <boost/serialization/vector.hpp>

#include <cstdint>
#include <vector>

namespace calc {

struct add_args {
    std::int32_t a = 0;
    std::int32_t b = 0;
    template <class Archive> void serialize(Archive& ar, unsigned) { ar& a& b; }
};

using data = std::vector<std::byte>; // calc_data: opaque<>

struct program_v1 : conveyor::rpc::program<0x2C0FFEE0, 1> {};

using conveyor::rpc::procedure;
inline constexpr procedure<program_v1, 0> null{"CALC_NULL"};
inline constexpr procedure<program_v1, 1, add_args, std::int32_t> add{"ADD"};
inline constexpr procedure<program_v1, 2, data, data> echo{"ECHO"};
inline constexpr procedure<program_v1, 3, void, std::uint64_t> count{"COUNT"}; // not idempotent
inline constexpr procedure<program_v1, 4, std::uint32_t> sleep{"SLEEP"};       // milliseconds

// The largest ECHO over udp that libtirpc's peers take: its UDP buffer is 8,800 bytes.
inline constexpr std::size_t max_udp_echo = 8'000;

} // namespace calc

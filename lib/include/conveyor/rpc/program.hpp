// Declaring an RPC program once, in C++: its number and version, and each procedure with its
// number and its argument and result types (void, or types Boost.Serialization serializes,
// carried as pure XDR: what rpcgen's C code writes for the same .x declaration).
//
//   struct calc_v1 : conveyor::rpc::program<0x2C0FFEE0, 1> {};
//   inline constexpr conveyor::rpc::procedure<calc_v1, 1, add_args, std::int32_t> add{"ADD"};
#pragma once

#include "conveyor/channel.hpp"
#include "conveyor/codec/xdr_archive.hpp"
#include "conveyor/codec/xdr_plain.hpp"

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace conveyor::rpc {

template <std::uint32_t Number, std::uint32_t Version> struct program {
    static constexpr std::uint32_t number = Number;
    static constexpr std::uint32_t version = Version;
};

template <class Program, std::uint32_t Number, class Args = void, class Result = void>
struct procedure {
    using program_type = Program;
    using args_type = Args;
    using result_type = Result;
    static constexpr std::uint32_t program = Program::number;
    static constexpr std::uint32_t version = Program::version;
    static constexpr std::uint32_t number = Number;

    constexpr explicit procedure(const char* procedure_name) : name(procedure_name) {}
    const char* name; // as the .x file spells it, for messages
};

// What a call is addressed to, without its types.
struct call_target {
    std::uint32_t program = 0;
    std::uint32_t version = 0;
    std::uint32_t procedure = 0;
    const char* name = "";
};

template <class Procedure> constexpr call_target target_of(const Procedure& p) noexcept {
    return {Procedure::program, Procedure::version, Procedure::number, p.name};
}

// A procedure under a program number chosen at run time: the same interface served or
// called under another number (a test's own, so as not to meet another's in rpcbind).
template <class Args, class Result> struct procedure_at {
    using args_type = Args;
    using result_type = Result;
    call_target target;
};

template <class Args, class Result>
constexpr call_target target_of(const procedure_at<Args, Result>& p) noexcept {
    return p.target;
}

template <class Procedure>
constexpr auto with_program(const Procedure& p, std::uint32_t program, std::uint32_t version)
    -> procedure_at<typename Procedure::args_type, typename Procedure::result_type> {
    call_target t = target_of(p);
    t.program = program;
    t.version = version;
    return {t};
}

namespace detail {

// Appends value as pure XDR; void appends nothing. Integers, opaque<> and strings, the
// commonest arguments and results, skip the archive (codec/xdr_plain.hpp: the same bytes).
template <class T> void encode_value(const T& value, std::vector<std::byte>& out) {
    if constexpr (conveyor::detail::is_plain_xdr<T>) {
        conveyor::detail::append_plain_xdr(value, out);
    } else {
        xdr_oarchive archive(out, xdr_mode::pure);
        archive << value;
    }
}

// Reads value from exactly the bytes of in; throws conveyor::error (corrupt_data) when they
// are not one value of T.
template <class T> void decode_value(bytes_view in, T& value) {
    if constexpr (conveyor::detail::is_plain_xdr<T>)
        conveyor::detail::read_plain_xdr(in, value);
    else
        from_xdr(in, value, xdr_mode::pure);
}

// An empty result or argument list: void in the declaration.
struct nothing {};

template <class T> using value_or_nothing = std::conditional_t<std::is_void_v<T>, nothing, T>;

inline void encode_value(const nothing&, std::vector<std::byte>&) {}
inline void decode_value(bytes_view in, nothing&) {
    if (!in.empty())
        throw error(make_error_code(conveyor::errc::corrupt_data),
                    "XDR data: " + std::to_string(in.size()) + " bytes where there are none");
}

} // namespace detail
} // namespace conveyor::rpc

// Command-line helpers every app shares: numbers (counts, sizes, seconds, rates, modes) in
// one strict form each, endpoints, channel options.
#pragma once

#include <conveyor/endpoint.hpp>
#include <conveyor/open.hpp>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace conveyor::cli {

// A mistake in how the app was called: reported with --help's hint and exit_usage.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Every numeric option is declared as a string in program_options and read with one of the
// parsers below, so that one grammar decides, not program_options' own number parsing
// (which takes "-5" for 2^64 - 5). A refusal names the option and the value as given, e.g.
// "--generate '-5': not a count ...", and is a usage_error.

// The bounds of a count or a size, inclusive; --help states them (bounds_help).
struct whole_bounds {
    std::uint64_t min = 1;
    std::uint64_t max = std::numeric_limits<std::uint64_t>::max(); // the largest: no bound
};
// The bounds of seconds or a rate, inclusive.
struct decimal_bounds {
    double min;
    double max;
};

// Seconds: beyond 31 years is a typo, and steady_clock's nanoseconds hold it with room.
inline constexpr double max_seconds = 1e9;
inline constexpr decimal_bounds seconds_bounds{0, max_seconds};
// Messages per second: a slower pace (one per 1000 s) is a stopped stream; a faster one is
// no pace at all.
inline constexpr decimal_bounds rate_bounds{0.001, 1e9};
// Permission bits: 0600 and up, so that the owner can use its own channel; setuid, setgid
// and sticky bits mean nothing on a segment or a FIFO.
inline constexpr whole_bounds mode_bounds{0600, 0777};

// What a channel this app creates may ask for: the library's own bounds, repeated here so
// that a refusal names the option. A segment holds at most 64 GiB (max_capacity in
// lib/src/shm/mapping.cpp); a message's length is 32 bits in records and frames, and the
// ring needs room for its headers beside it. A channel below 1 KiB holds next to nothing.
inline constexpr whole_bounds capacity_bounds{std::uint64_t(1) << 10, std::uint64_t(64) << 30};
inline constexpr whole_bounds max_message_bounds{1, std::uint64_t(4095) << 20};

// Counts and sizes: digits, optionally followed by one of K, M or G (x1024), nothing else:
// "1000", "64K", "4M". Refused: signs, spaces, fractions, exponents, hex, lower-case or
// other units ("64k", "64KiB"), empty, anything beyond bounds or 2^64 - 1.
std::uint64_t parse_count(const std::string& option, const std::string& text,
                          whole_bounds bounds = {});
// As parse_count; the value is bytes.
std::uint64_t parse_size(const std::string& option, const std::string& text,
                         whole_bounds bounds = {});
// Seconds and rates: digits with an optional fraction, "2", "0.5"; no sign, exponent,
// hex, inf or nan.
double parse_seconds(const std::string& option, const std::string& text,
                     decimal_bounds bounds = seconds_bounds);
// Messages per second, in the form of parse_seconds.
double parse_rate(const std::string& option, const std::string& text,
                  decimal_bounds bounds = rate_bounds);
// Octal permission bits: "0600", "0660"; octal digits only.
unsigned parse_mode(const std::string& option, const std::string& text,
                    whole_bounds bounds = mode_bounds);

// "64G", "1M", "4K" or plain digits: the largest unit that divides bytes exactly.
std::string size_text(std::uint64_t bytes);
// "at least 1" / "at least 1K, at most 64G" for an option's --help line.
std::string bounds_help(whole_bounds bounds, bool size = false);
std::string bounds_help(decimal_bounds bounds);
std::string mode_bounds_help(whole_bounds bounds = mode_bounds);

// --format: raw bytes, or typed XDR messages (conveyor/codec/generated_xdr.hpp).
enum class message_format { raw, xdr };
message_format parse_format(const std::string& text);
// --sync: none, batch or always; throws usage_error naming the option.
sync_policy parse_sync(const std::string& text);
// An endpoint URI; throws usage_error with the parser's reason.
endpoint parse_endpoint(const std::string& uri);
// Whether the transport at where keeps what a consumer takes until it acknowledges it
// (shm://, file://, nats://), where pipes and FIFOs hand messages out for good.
bool keeps_until_acknowledged(const endpoint& where);

// --capacity, --max-message, --mode, --lines, --sync: how a channel this app creates is made.
void add_channel_options(boost::program_options::options_description& options);
channel_options read_channel_options(const boost::program_options::variables_map& values);

// Parses argv against options with one positional ENDPOINT; throws usage_error.
boost::program_options::variables_map
parse_command_line(int argc, char** argv,
                   const boost::program_options::options_description& options,
                   const char* positional_name);
// The same with several positional arguments, named in order.
boost::program_options::variables_map
parse_command_line(int argc, char** argv,
                   const boost::program_options::options_description& options,
                   const std::vector<std::string>& positional_names);

} // namespace conveyor::cli

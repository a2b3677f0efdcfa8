// Command-line helpers every app shares: byte sizes with units, endpoints, channel options.
#pragma once

#include <conveyor/endpoint.hpp>
#include <conveyor/open.hpp>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace conveyor::cli {

// A mistake in how the app was called: reported with --help's hint and exit_usage.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// "4096", "64K", "1M", "2G" (binary units) → bytes; throws usage_error naming the option.
std::uint64_t parse_size(const std::string& option, const std::string& text);
// A non-negative number of seconds ("2", "0.5"); throws usage_error naming the option.
double parse_seconds(const std::string& option, const std::string& text);
// --format: raw bytes, or typed XDR messages (conveyor/codec/generated_xdr.hpp).
enum class message_format { raw, xdr };
message_format parse_format(const std::string& text);
// --sync: none, batch or always; throws usage_error naming the option.
sync_policy parse_sync(const std::string& text);
// An endpoint URI; throws usage_error with the parser's reason.
endpoint parse_endpoint(const std::string& uri);

// --capacity, --max-message, --mode, --lines, --sync: how a channel this app creates is made.
void add_channel_options(boost::program_options::options_description& options);
channel_options read_channel_options(const boost::program_options::variables_map& values);

// Parses argv against options with one positional ENDPOINT; throws usage_error.
boost::program_options::variables_map
parse_command_line(int argc, char** argv,
                   const boost::program_options::options_description& options,
                   const char* positional_name);

} // namespace conveyor::cli

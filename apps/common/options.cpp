// Option parsing shared by the apps: every rejection names the option and the value.
#include "common/options.hpp"

#include <conveyor/error.hpp>

#include <boost/program_options/parsers.hpp>
#include <boost/program_options/positional_options.hpp>
#include <boost/program_options/value_semantic.hpp>

#include <charconv>

namespace po = boost::program_options;

namespace conveyor::cli {
namespace {

// "--generate '-5'": how every refusal begins, so that the option and the value as given
// (spaces, empty) are plain to see.
std::string named(const std::string& option, const std::string& text) {
    return "--" + option + " '" + text + "'";
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::size_t leading_digits(const std::string& text, std::size_t from = 0) {
    std::size_t n = from;
    while (n < text.size() && is_digit(text[n]))
        ++n;
    return n - from;
}

std::string decimal_text(double value) {
    char text[64];
    const auto end = std::to_chars(text, text + sizeof text, value, std::chars_format::fixed).ptr;
    return std::string(text, end);
}

std::string octal_text(std::uint64_t bits) {
    char text[32] = {'0'};
    const auto end = std::to_chars(text + 1, text + sizeof text, bits, 8).ptr;
    return std::string(text, end);
}

// Digits and an optional K, M or G: a count, or with size a number of bytes.
std::uint64_t parse_whole(const std::string& option, const std::string& text, whole_bounds bounds,
                          bool size) {
    const std::size_t digits = leading_digits(text);
    unsigned shift = 0;
    const bool unit = text.size() == digits + 1;
    if (unit && text.back() == 'K') shift = 10;
    if (unit && text.back() == 'M') shift = 20;
    if (unit && text.back() == 'G') shift = 30;
    if (digits == 0 || (unit && shift == 0) || text.size() > digits + 1)
        throw usage_error(named(option, text) + ": not " + (size ? "a size in bytes" : "a count") +
                          ": digits, optionally followed by K, M or G (x1024), e.g. " +
                          (size ? "4096 or 64K" : "1000 or 1M"));
    const auto shown = [size](std::uint64_t v) { return size ? size_text(v) : std::to_string(v); };
    std::uint64_t value = 0;
    const auto parsed = std::from_chars(text.data(), text.data() + digits, value);
    const bool overflows = parsed.ec == std::errc::result_out_of_range ||
                           value > (std::numeric_limits<std::uint64_t>::max() >> shift);
    if (!overflows && (value << shift) < bounds.min)
        throw usage_error(named(option, text) + ": at least " + shown(bounds.min));
    if (overflows || (value << shift) > bounds.max)
        throw usage_error(named(option, text) + ": at most " + shown(bounds.max));
    return value << shift;
}

// Digits with an optional fraction; what and example complete "not a number of seconds".
double parse_decimal(const std::string& option, const std::string& text, decimal_bounds bounds,
                     const char* what, const char* example) {
    const std::size_t whole = leading_digits(text);
    const bool point = whole < text.size() && text[whole] == '.';
    const std::size_t fraction = point ? leading_digits(text, whole + 1) : 0;
    if (whole == 0 || (point && fraction == 0) || whole + point + fraction != text.size())
        throw usage_error(named(option, text) + ": not " + what +
                          ": digits with an optional fraction, e.g. " + example);
    double value = 0;
    const auto parsed =
        std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
    // Beyond a double: huge when the whole part is not all zeros, else tiny (taken as 0).
    if (parsed.ec == std::errc::result_out_of_range)
        value = text.find_first_not_of('0') < whole ? std::numeric_limits<double>::infinity() : 0;
    if (value < bounds.min)
        throw usage_error(named(option, text) + ": at least " + decimal_text(bounds.min));
    if (value > bounds.max)
        throw usage_error(named(option, text) + ": at most " + decimal_text(bounds.max));
    return value;
}

} // namespace

std::uint64_t parse_count(const std::string& option, const std::string& text, whole_bounds bounds) {
    return parse_whole(option, text, bounds, false);
}

std::uint64_t parse_size(const std::string& option, const std::string& text, whole_bounds bounds) {
    return parse_whole(option, text, bounds, true);
}

double parse_seconds(const std::string& option, const std::string& text, decimal_bounds bounds) {
    return parse_decimal(option, text, bounds, "a number of seconds", "2 or 0.5");
}

double parse_rate(const std::string& option, const std::string& text, decimal_bounds bounds) {
    return parse_decimal(option, text, bounds, "a rate in messages per second", "1000 or 0.5");
}

unsigned parse_mode(const std::string& option, const std::string& text, whole_bounds bounds) {
    const std::size_t digits = leading_digits(text);
    const bool octal = digits == text.size() && text.find_first_of("89") == std::string::npos;
    if (digits == 0 || !octal)
        throw usage_error(named(option, text) +
                          ": not a permission mode: octal digits, e.g. 0600 or 0660");
    std::uint64_t value = 0;
    const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value, 8);
    if (parsed.ec == std::errc::result_out_of_range || value > bounds.max)
        throw usage_error(named(option, text) + ": at most " + octal_text(bounds.max));
    if (value < bounds.min)
        throw usage_error(named(option, text) + ": at least " + octal_text(bounds.min) +
                          " (the owner reads and writes)");
    return static_cast<unsigned>(value);
}

std::string size_text(std::uint64_t bytes) {
    for (const auto& [shift, unit] : {std::pair{30u, 'G'}, {20u, 'M'}, {10u, 'K'}})
        if (bytes != 0 && bytes % (std::uint64_t(1) << shift) == 0)
            return std::to_string(bytes >> shift) + unit;
    return std::to_string(bytes);
}

std::string bounds_help(whole_bounds bounds, bool size) {
    const auto shown = [size](std::uint64_t v) { return size ? size_text(v) : std::to_string(v); };
    std::string text = "at least " + shown(bounds.min);
    if (bounds.max != std::numeric_limits<std::uint64_t>::max())
        text += ", at most " + shown(bounds.max);
    return text;
}

std::string mode_bounds_help(whole_bounds bounds) {
    return "at least " + octal_text(bounds.min) + ", at most " + octal_text(bounds.max);
}

std::string bounds_help(decimal_bounds bounds) {
    return "at least " + decimal_text(bounds.min) + ", at most " + decimal_text(bounds.max);
}

message_format parse_format(const std::string& text) {
    if (text == "raw") return message_format::raw;
    if (text == "xdr") return message_format::xdr;
    throw usage_error("--format " + text + ": expected raw or xdr");
}

endpoint parse_endpoint(const std::string& uri) {
    std::error_code ec;
    std::string why;
    endpoint result = endpoint::parse(uri, ec, &why);
    if (ec) throw usage_error(why);
    return result;
}

bool keeps_until_acknowledged(const endpoint& where) {
    return where.kind() == scheme::shm || where.kind() == scheme::file ||
           where.kind() == scheme::nats;
}

void add_channel_options(po::options_description& options) {
    const std::string capacity_help =
        "message storage of a segment this call creates (K, M, G units); " +
        bounds_help(capacity_bounds, true) + ", and room for two largest messages";
    const std::string max_message_help =
        "largest message of a segment this call creates; " + bounds_help(max_message_bounds, true) +
        ", and up to half the capacity minus 16 (e.g. --max-message 1M --capacity 8M)";
    const std::string mode_help = "permission bits of a segment or FIFO this call creates; " +
                                  mode_bounds_help() + " (0660: its group too)";
    options.add_options()("capacity",
                          po::value<std::string>()->value_name("BYTES")->default_value("4M"),
                          capacity_help.c_str())(
        "max-message", po::value<std::string>()->value_name("BYTES")->default_value("64K"),
        max_message_help.c_str())(
        "mode", po::value<std::string>()->value_name("OCTAL")->default_value("0600"),
        mode_help.c_str())(
        "lines", "on fifo:// and pipe: only, newline-delimited text instead of frames, to "
                 "talk with ordinary tools (echo, cat)")(
        "sync", po::value<std::string>()->value_name("POLICY")->default_value("batch"),
        "file:// queue this call creates: when a sent message is on disk: none (when the "
        "kernel writes back; a power cut may lose the last ones), batch (before each send "
        "or batch returns), always (each message before the next)")(
        "slow", po::value<std::string>()->value_name("block|drop")->default_value("block"),
        "topic:// this call creates: a subscriber a whole ring behind holds publishers back "
        "(block), or loses the oldest messages and is told how many (drop)");
}

sync_policy parse_sync(const std::string& text) {
    if (text == "none") return sync_policy::none;
    if (text == "batch") return sync_policy::batch;
    if (text == "always") return sync_policy::always;
    throw usage_error("--sync: '" + text + "' is not none, batch or always");
}

channel_options read_channel_options(const po::variables_map& values) {
    channel_options options;
    options.capacity =
        parse_size("capacity", values["capacity"].as<std::string>(), capacity_bounds);
    options.max_message =
        parse_size("max-message", values["max-message"].as<std::string>(), max_message_bounds);
    options.mode = parse_mode("mode", values["mode"].as<std::string>());
    options.lines = values.count("lines") != 0;
    options.sync = parse_sync(values["sync"].as<std::string>());
    const auto& slow = values["slow"].as<std::string>();
    if (slow != "block" && slow != "drop")
        throw usage_error("--slow: '" + slow + "' is neither block nor drop");
    options.slow = slow == "drop" ? slow_subscriber::drop : slow_subscriber::block;
    return options;
}

po::variables_map parse_command_line(int argc, char** argv, const po::options_description& options,
                                     const char* positional_name) {
    return parse_command_line(argc, argv, options, std::vector<std::string>{positional_name});
}

po::variables_map parse_command_line(int argc, char** argv, const po::options_description& options,
                                     const std::vector<std::string>& positional_names) {
    po::positional_options_description positional;
    for (const auto& name : positional_names)
        positional.add(name.c_str(), 1);
    po::variables_map values;
    try {
        po::store(po::command_line_parser(argc, argv).options(options).positional(positional).run(),
                  values);
        po::notify(values);
    } catch (const po::error& e) {
        throw usage_error(e.what());
    }
    return values;
}

} // namespace conveyor::cli

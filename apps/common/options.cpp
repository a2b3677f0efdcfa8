// Option parsing shared by the apps: every rejection names the option and the value.
#include "common/options.hpp"

#include <conveyor/error.hpp>

#include <boost/program_options/parsers.hpp>
#include <boost/program_options/positional_options.hpp>

#include <cmath>
#include <limits>

namespace po = boost::program_options;

namespace conveyor::cli {

std::uint64_t parse_size(const std::string& option, const std::string& text) {
    std::size_t used = 0;
    unsigned long long value = 0;
    try {
        if (!text.empty() && text.front() == '-') throw std::invalid_argument("negative");
        value = std::stoull(text, &used);
    } catch (const std::exception&) {
        throw usage_error("--" + option + ": '" + text + "' is not a size (e.g. 4096, 64K, 1M)");
    }
    std::string unit = text.substr(used);
    unsigned shift = 0;
    if (unit == "" || unit == "B")
        shift = 0;
    else if (unit == "K" || unit == "k" || unit == "KiB")
        shift = 10;
    else if (unit == "M" || unit == "MiB")
        shift = 20;
    else if (unit == "G" || unit == "GiB")
        shift = 30;
    else
        throw usage_error("--" + option + ": unknown unit '" + unit + "' in '" + text +
                          "' (use K, M or G)");
    if (value > (std::numeric_limits<std::uint64_t>::max() >> shift))
        throw usage_error("--" + option + ": '" + text + "' is too large");
    return std::uint64_t(value) << shift;
}

message_format parse_format(const std::string& text) {
    if (text == "raw") return message_format::raw;
    if (text == "xdr") return message_format::xdr;
    throw usage_error("--format " + text + ": expected raw or xdr");
}

double parse_seconds(const std::string& option, const std::string& text) {
    std::size_t used = 0;
    double value = -1;
    try {
        value = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || !(value >= 0) || !std::isfinite(value) || value > 1e9)
        throw usage_error("--" + option + ": '" + text + "' is not a number of seconds");
    return value;
}

endpoint parse_endpoint(const std::string& uri) {
    std::error_code ec;
    std::string why;
    endpoint result = endpoint::parse(uri, ec, &why);
    if (ec) throw usage_error(why);
    return result;
}

void add_channel_options(po::options_description& options) {
    options.add_options()("capacity",
                          po::value<std::string>()->value_name("BYTES")->default_value("4M"),
                          "message storage of a segment this call creates (K, M, G units)")(
        "max-message", po::value<std::string>()->value_name("BYTES")->default_value("64K"),
        "largest message of a segment this call creates; up to half the capacity minus 16 "
        "(e.g. --max-message 1M --capacity 8M)")(
        "mode", po::value<std::string>()->value_name("OCTAL")->default_value("0600"),
        "permission bits of a segment or FIFO this call creates")(
        "lines", "on fifo:// and pipe: only, newline-delimited text instead of frames, to "
                 "talk with ordinary tools (echo, cat)")(
        "slow", po::value<std::string>()->value_name("block|drop")->default_value("block"),
        "topic:// this call creates: a subscriber a whole ring behind holds publishers back "
        "(block), or loses the oldest messages and is told how many (drop)");
}

channel_options read_channel_options(const po::variables_map& values) {
    channel_options options;
    options.capacity = parse_size("capacity", values["capacity"].as<std::string>());
    options.max_message = parse_size("max-message", values["max-message"].as<std::string>());
    const auto& mode = values["mode"].as<std::string>();
    std::size_t used = 0;
    unsigned long bits = 0;
    try {
        bits = std::stoul(mode, &used, 8);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != mode.size() || bits > 0777)
        throw usage_error("--mode: '" + mode + "' is not an octal permission like 0600 or 0660");
    options.mode = static_cast<unsigned>(bits);
    options.lines = values.count("lines") != 0;
    const auto& slow = values["slow"].as<std::string>();
    if (slow != "block" && slow != "drop")
        throw usage_error("--slow: '" + slow + "' is neither block nor drop");
    options.slow = slow == "drop" ? slow_subscriber::drop : slow_subscriber::block;
    return options;
}

po::variables_map parse_command_line(int argc, char** argv, const po::options_description& options,
                                     const char* positional_name) {
    po::positional_options_description positional;
    positional.add(positional_name, 1);
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

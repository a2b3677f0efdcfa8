#include "common/app_main.hpp"

#include "common/exit_codes.hpp"
#include "common/options.hpp"

#include <conveyor/error.hpp>

#include <cctype>
#include <iostream>

namespace conveyor::cli {

int run_app(int argc, char** argv, const app_description& app,
            const boost::program_options::options_description& options,
            const std::function<int(const boost::program_options::variables_map&)>& body) {
    return run_app(argc, argv, app, {"endpoint"}, options, body);
}

int run_app(int argc, char** argv, const app_description& app,
            const std::vector<std::string>& operands,
            const boost::program_options::options_description& options,
            const std::function<int(const boost::program_options::variables_map&)>& body) {
    try {
        const auto values = parse_command_line(argc, argv, options, operands);
        if (values.count("help")) {
            std::string usage;
            for (const auto& operand : operands)
                for (char c : " " + operand)
                    usage += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            std::cout << "Usage: " << app.name << usage << " [options]\n\n"
                      << app.description << "\n\n"
                      << options << "\nExample: " << app.example << '\n'
                      << exit_code_help();
            return exit_ok;
        }
        return body(values);
    } catch (const usage_error& e) {
        std::cerr << app.name << ": " << e.what() << "\n(see " << app.name << " --help)\n";
        return exit_usage;
    } catch (const error& e) {
        return report_failure(app.name, e);
    }
}

int report_failure(const char* app, const error& e, std::size_t max_message) {
    std::string line = std::string(app) + ": " + e.what();
    if (e.code() == errc::corrupt_data)
        line += " (a damaged or truncated frame, or plain text: --lines reads text)";
    if (e.code() == errc::message_too_large && max_message > 0)
        line += ": " + std::to_string(max_message) +
                " bytes here (give both sides the same --max-message)";
    else if (e.code() == errc::message_too_large)
        line += " (give both sides the same --max-message)";
    std::cerr << line + '\n'; // one write: another app may print beside it
    if (e.code() == errc::peer_gone) return exit_peer_gone;
    const bool caller_asked_wrong =
        e.code() == errc::invalid_argument || e.code() == errc::message_too_large;
    return caller_asked_wrong ? exit_usage : exit_failure;
}

} // namespace conveyor::cli

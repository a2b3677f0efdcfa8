// The shape every endpoint app shares: parse the command line, answer --help, run, and
// turn every failure into one line on stderr and an exit code.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace conveyor {
class error;
}

namespace conveyor::cli {

struct app_description {
    const char* name;        // "conveyor-producer"
    const char* description; // paragraphs for --help, after the usage line
    const char* example;     // one command line
};

// Prints a failure of the channel as one line on stderr, with a hint where one helps, and
// returns its exit code. max_message: the app's channel's, when it has one open.
int report_failure(const char* app, const error& e, std::size_t max_message = 0);

// Runs body with the parsed options; the positional argument is "endpoint".
int run_app(int argc, char** argv, const app_description& app,
            const boost::program_options::options_description& options,
            const std::function<int(const boost::program_options::variables_map&)>& body);
// The same for an app of several positional arguments, named in order by operands (each is
// read as the option of that name; --help's usage line shows them in upper case).
int run_app(int argc, char** argv, const app_description& app,
            const std::vector<std::string>& operands,
            const boost::program_options::options_description& options,
            const std::function<int(const boost::program_options::variables_map&)>& body);

} // namespace conveyor::cli

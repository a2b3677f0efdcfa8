#include "common/exit_codes.hpp"

namespace conveyor::cli {

const char* exit_code_help() {
    return "Exit status: 0 done, 1 verification failed, 2 timed out, 3 consumer went away,\n"
           "64 bad usage, 70 channel failure.\n";
}

} // namespace conveyor::cli

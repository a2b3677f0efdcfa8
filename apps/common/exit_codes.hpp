// Exit codes shared by every conveyor app; the README lists them for scripts.
#pragma once

namespace conveyor::cli {

enum exit_code : int {
    exit_ok = 0,
    exit_verify_failed = 1, // --verify found lost, duplicated, corrupt or reordered messages
    exit_timed_out = 2,     // --timeout passed with nothing to do
    exit_peer_gone = 3,     // the consumer went away (pipes and FIFOs)
    exit_usage = 64,        // a bad option, value or endpoint
    exit_failure = 70,      // the channel failed: unreadable segment, full disk, ...
};

// "exit codes: 0 ok, 1 ..." for --help texts.
const char* exit_code_help();

} // namespace conveyor::cli

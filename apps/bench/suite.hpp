// The whole comparison: every transport, pattern and size, each transport in each of its
// settings, the best verified one kept.
#pragma once

#include "harness.hpp"

#include <functional>
#include <string>
#include <vector>

namespace conveyor::bench {

struct suite_options {
    std::uint64_t count_small = 1'000'000; // 64 B messages per run
    std::uint64_t count_page = 100'000;    // 4 KiB
    std::uint64_t count_large = 1'000;     // 1 MiB
    std::uint64_t round_trips = 20'000;
    bool every_setting = true;     // else the first setting the system allows
    int repeats = 3;               // runs of the best setting; its median is reported
    std::vector<std::string> only; // transport names; empty for all
};

struct row {
    std::string transport;
    pattern kind = pattern::one_to_one;
    std::size_t size = 0;
    measurement result;  // verified only when every run of every setting was
    std::string setting; // the best one's label
};

// Runs the comparison. progress(line, keep) shows what runs next (keep false: the next
// line may replace it) or what went wrong (keep true).
std::vector<row> run_suite(const suite_options& options,
                           const std::function<void(const std::string&, bool)>& progress);

} // namespace conveyor::bench

// The results as a table for people and as JSON for scripts/plot-bench.
#pragma once

#include "suite.hpp"

#include <iosfwd>
#include <vector>

namespace conveyor::bench {

// One line per row with its setting, and how many times conveyor-shm's figure is better
// than the row's (throughput over throughput, round trip over round trip).
void print_table(std::ostream& out, const std::vector<row>& rows);

// An array of objects with exactly the keys transport, pattern, size, msgs_per_s,
// mb_per_s, rtt_p50_us, rtt_p99_us (null where not measured) and verified.
void print_json(std::ostream& out, const std::vector<row>& rows);

} // namespace conveyor::bench

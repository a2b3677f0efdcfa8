// conveyor-ctl list --json and conveyor-ctl top: the endpoint snapshot (ctl/endpoints.hpp)
// for scripts and for people watching. docs/ctl.md documents both outputs.
#pragma once

#include "ctl/endpoints.hpp"

#include <chrono>
#include <cstdio>
#include <vector>

namespace conveyor::cli {

// One JSON array, one object per endpoint, then a newline.
void print_json(std::FILE* out, const std::vector<endpoint_row>& rows);

// One frame of top: a header line, then a line per endpoint of after, with the rates of
// messages in and out between before and after, taken elapsed apart.
void print_top_frame(std::FILE* out, const std::vector<endpoint_row>& before,
                     const std::vector<endpoint_row>& after, std::chrono::duration<double> elapsed);

// How often top samples, and so the span its rates cover.
inline constexpr std::chrono::seconds top_interval{1};

// conveyor-ctl top: a frame every top_interval until interrupted; once: a single frame from
// two samples top_interval apart, without clearing the screen.
int run_top(bool once);

} // namespace conveyor::cli

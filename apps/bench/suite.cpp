// Tries each transport in each of its settings and keeps the best, so that every peer is
// shown as a user tuning it would run it.
#include "suite.hpp"

#include <algorithm>
#include <exception>
#include <functional>

namespace conveyor::bench {
namespace {

struct step {
    transport* t;
    workload work;
    std::vector<config> settings;
};

// Higher is better: throughput, or for ping-pong the inverse of the median round trip.
double score(const measurement& m) {
    if (!m.verified) return -1;
    if (m.msgs_per_s) return *m.msgs_per_s;
    return m.rtt_p50_us && *m.rtt_p50_us > 0 ? 1 / *m.rtt_p50_us : 0;
}

std::string size_label(std::size_t size) {
    if (size >= (1u << 20)) return std::to_string(size >> 20) + " MiB";
    if (size >= (1u << 10)) return std::to_string(size >> 10) + " KiB";
    return std::to_string(size) + " B";
}

// "[done/total] what, setting" (appended piecewise: GCC 12 warns falsely on chains of
// operator+ on temporaries).
std::string status(std::size_t done, std::size_t total, const std::string& what,
                   const std::string& setting) {
    std::string line = "[";
    line += std::to_string(done);
    line += '/';
    line += std::to_string(total);
    line += "] ";
    line += what;
    line += ", ";
    line += setting;
    return line;
}

// The median of runs by score; figures of one run, not mixed.
measurement median(std::vector<measurement> runs) {
    std::sort(runs.begin(), runs.end(),
              [](const measurement& a, const measurement& b) { return score(a) < score(b); });
    return runs[runs.size() / 2];
}

} // namespace

std::vector<row> run_suite(const suite_options& options,
                           const std::function<void(const std::string&, bool)>& progress) {
    const auto transports = all_transports();
    std::vector<step> steps;
    std::size_t total_runs = 0;
    for (const auto& t : transports) {
        if (!options.only.empty() &&
            std::find(options.only.begin(), options.only.end(), t->name()) == options.only.end())
            continue;
        for (pattern kind :
             {pattern::one_to_one, pattern::four_to_four, pattern::pingpong, pattern::fan_out}) {
            if (!t->runs(kind)) continue;
            for (std::size_t size : {std::size_t(64), std::size_t(4) << 10, std::size_t(1) << 20}) {
                if (kind == pattern::pingpong && size != 64) continue;
                if (kind == pattern::fan_out && size > (std::size_t(4) << 10)) continue;
                workload work{kind, size, options.count_small};
                if (kind == pattern::pingpong)
                    work.count = options.round_trips;
                else if (size == (std::size_t(4) << 10))
                    work.count = options.count_page;
                else if (size == (std::size_t(1) << 20))
                    work.count = options.count_large;
                auto settings = t->configs(size);
                total_runs += (options.every_setting ? settings.size() : 1) +
                              std::size_t(options.repeats - 1);
                steps.push_back({t.get(), work, std::move(settings)});
            }
        }
    }

    std::vector<row> rows;
    std::size_t done = 0;
    for (const auto& s : steps) {
        row r{s.t->name(), s.work.kind, s.work.size, {}, {}};
        std::string what = r.transport;
        what += ' ';
        what += to_string(s.work.kind);
        what += ' ';
        what += size_label(s.work.size);
        bool all_verified = true;
        std::string failure;
        const config* best = nullptr;
        measurement best_result;
        for (const auto& setting : s.settings) {
            progress(status(++done, total_runs, what, setting.label), false);
            measurement m;
            try {
                m = run(*s.t, setting, s.work);
            } catch (const std::exception& e) {
                // The system refused this setting: not a result, and not a failure. With one
                // setting wanted, the next takes its place in the count.
                progress("skipped " + what + ", " + setting.label + ": " + e.what(), true);
                if (!options.every_setting) --done;
                continue;
            }
            if (!m.verified) {
                all_verified = false;
                failure = setting.label + ": " + m.failure;
            } else if (!best || score(m) > score(best_result)) {
                best = &setting;
                best_result = m;
            }
            if (!options.every_setting) break;
        }
        if (best) {
            std::vector<measurement> runs{best_result};
            for (int i = 1; i < options.repeats; ++i) {
                progress(status(++done, total_runs, what, best->label + " again"), false);
                runs.push_back(run(*s.t, *best, s.work));
                if (!runs.back().verified) {
                    all_verified = false;
                    failure = best->label + ": " + runs.back().failure;
                }
            }
            r.result = median(runs);
            r.setting = best->label;
        } else {
            done += std::size_t(options.repeats - 1);
        }
        if (!all_verified) {
            r.result.verified = false;
            r.result.failure = failure;
            progress("FAILED " + what + ": " + failure, true);
        }
        if (best || !all_verified) rows.push_back(std::move(r));
    }
    return rows;
}

} // namespace conveyor::bench

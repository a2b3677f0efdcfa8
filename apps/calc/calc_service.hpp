// The calc program's procedures, served by a conveyor RPC server: conveyor-calc-server, the
// tests and the bench serve the same code.
#pragma once

#include "calc.hpp"

#include <conveyor/rpc/server.hpp>

#include <atomic>
#include <cstdint>

namespace calc {

class service {
public:
    // Serves the procedures on s under program (calc's own number unless a caller needs
    // another); SLEEP waits on a timer of s.context(), holding no thread.
    void serve_on(conveyor::rpc::server& s, std::uint32_t program = program_v1::number);

    std::uint64_t counter() const noexcept { return counter_.load(std::memory_order_relaxed); }

private:
    // COUNT's counter; relaxed is enough: each increment's result is the only thing read.
    std::atomic<std::uint64_t> counter_{0};
};

} // namespace calc

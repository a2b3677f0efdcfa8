// Derives a throwing call from its std::error_code& form.
#pragma once

#include "conveyor/endpoint.hpp"
#include "conveyor/error.hpp"

#include <system_error>

namespace conveyor::detail {

// Calls call(ec) and throws conveyor::error, naming the endpoint, if it failed.
template <class Call> auto or_throw(const endpoint& where, Call call) {
    std::error_code ec;
    auto result = call(ec);
    if (ec) throw_error(ec, where.uri());
    return result;
}

} // namespace conveyor::detail

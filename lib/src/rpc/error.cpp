// The "conveyor.rpc" category: one phrase per cause, as a user reads it after the endpoint.
#include "conveyor/rpc/error.hpp"

#include <string>

namespace conveyor::rpc {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "conveyor.rpc"; }

    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::program_unavailable:
            return "the server does not serve this program (PROG_UNAVAIL)";
        case errc::program_mismatch:
            return "the server does not serve this version of the program (PROG_MISMATCH)";
        case errc::procedure_unavailable:
            return "the server does not serve this procedure (PROC_UNAVAIL)";
        case errc::garbage_arguments:
            return "the server could not decode the arguments (GARBAGE_ARGS)";
        case errc::system_error:
            return "the procedure failed on the server (SYSTEM_ERR)";
        case errc::rpc_mismatch:
            return "the server speaks another RPC version (RPC_MISMATCH)";
        case errc::authentication_error:
            return "the server refused the credentials (AUTH_ERROR)";
        case errc::bad_reply:
            return "the reply could not be decoded";
        case errc::server_gone:
            return "the server went away before it replied";
        case errc::record_too_large:
            return "a message beyond the size this side accepts";
        case errc::not_registered:
            return "rpcbind knows no port for this program, version and protocol";
        case errc::already_registered:
            return "rpcbind maps this program to a live server already";
        }
        return "unknown RPC error";
    }
};

} // namespace

const std::error_category& rpc_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace conveyor::rpc

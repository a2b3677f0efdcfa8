// The nats test executable: real nats-server processes, the library and the apps. Started
// with --child-..., it is instead one of the helper processes that its tests start and kill.
#define BOOST_TEST_MODULE conveyor nats tests
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include "children.hpp"

#include <string_view>

int main(int argc, char** argv) {
    if (argc >= 2 && std::string_view(argv[1]).starts_with("--child-"))
        return conveyor::test::run_child(argc, argv);
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}

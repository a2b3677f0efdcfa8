// The RPC test executable.
#define BOOST_TEST_MODULE conveyor rpc tests
#include <boost/test/unit_test.hpp>

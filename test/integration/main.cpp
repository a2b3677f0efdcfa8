// The integration-test executable: the real apps run as separate processes.
#define BOOST_TEST_MODULE conveyor integration tests
#include <boost/test/unit_test.hpp>

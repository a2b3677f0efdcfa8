// The typed-message test executable.
#define BOOST_TEST_MODULE conveyor codec tests
#include <boost/test/unit_test.hpp>

// The unit-test executable: the library exercised inside this process.
#define BOOST_TEST_MODULE conveyor unit tests
#include <boost/test/unit_test.hpp>

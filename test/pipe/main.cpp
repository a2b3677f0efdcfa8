// The pipe test executable: pipes, FIFOs, child processes and signals, for real.
#define BOOST_TEST_MODULE conveyor pipe tests
#include <boost/test/unit_test.hpp>

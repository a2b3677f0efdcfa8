// notify() and signal_handlers with real signals delivered to this process and a child.
#include <conveyor/error.hpp>
#include <conveyor/pipe/child.hpp>
#include <conveyor/signals.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <unistd.h>

using namespace conveyor;

BOOST_AUTO_TEST_SUITE(signals)

BOOST_AUTO_TEST_CASE(a_handler_attached_to_an_io_context_runs_once_per_delivery) {
    boost::asio::io_context io;
    signal_handlers handlers(io);
    int seen = 0;
    handlers.on(SIGUSR1, [&](int signal) {
        BOOST_TEST(signal == SIGUSR1);
        if (++seen < 3)
            notify(::getpid(), SIGUSR1); // the next delivery, after this one was handled
        else
            io.stop();
    });
    notify(::getpid(), SIGUSR1);
    io.run();
    BOOST_TEST(seen == 3);
}

BOOST_AUTO_TEST_CASE(notify_ends_a_child_with_the_signal_given) {
    pipe::child sleeper({"sleep", "infinity"}, {.to_stdin = false}); // ends only by a signal
    notify(sleeper.pid(), SIGTERM);
    BOOST_TEST(sleeper.wait() == 128 + SIGTERM);
}

BOOST_AUTO_TEST_CASE(notify_names_the_process_and_the_cause) {
    pid_t gone;
    {
        pipe::child done({"true"}, {.to_stdin = false});
        gone = done.pid();
    } // reaped: its pid is free
    std::error_code ec;
    notify(gone, SIGTERM, ec);
    BOOST_TEST((ec == std::errc::no_such_process));
    notify(0, SIGTERM, ec);
    BOOST_TEST((ec == errc::invalid_argument));
    try {
        notify(gone, SIGTERM);
        BOOST_FAIL("no error");
    } catch (const conveyor::error& e) {
        BOOST_TEST(std::string(e.what()).find("process " + std::to_string(gone)) !=
                       std::string::npos,
                   e.what());
    }
}

BOOST_AUTO_TEST_SUITE_END()

// A parent and its child over anonymous pipes: one way, both ways, exit status, failures.
#include <conveyor/error.hpp>
#include <conveyor/pipe/child.hpp>

#include <boost/test/unit_test.hpp>

using namespace conveyor;
using namespace conveyor::pipe;

BOOST_AUTO_TEST_SUITE(pipe_child)

BOOST_AUTO_TEST_CASE(frames_sent_to_cat_come_back_whole_over_a_pair_of_pipes) {
    child cat({"cat"}, {.to_stdin = true, .from_stdout = true});
    const auto where = endpoint::parse("pipe:");
    stream_sender to_child(cat.take_stdin(), where);
    stream_receiver from_child(cat.take_stdout(), where);
    std::vector<std::byte> message;
    for (std::size_t size : {0u, 1u, 3000u, 60000u}) {
        const std::vector<std::byte> sent(size, std::byte(size % 251));
        to_child.send(sent);
        BOOST_REQUIRE((from_child.receive(message) == receive_status::message));
        BOOST_TEST((message == sent));
    }
    to_child.close();
    BOOST_TEST((from_child.receive(message) == receive_status::end_of_stream));
    BOOST_TEST(cat.wait() == 0);
}

BOOST_AUTO_TEST_CASE(closing_a_spawned_sender_waits_for_the_child_and_keeps_its_status) {
    std::error_code ec;
    stream_options options;
    options.how = framing::lines;
    auto out = spawn_sender("grep -q needle", endpoint::parse("pipe:"), options, ec);
    BOOST_REQUIRE(!ec);
    out->send(std::as_bytes(std::span("hay\nneedle", 10)), ec);
    BOOST_TEST((ec == errc::invalid_argument)); // lines mode: one line per message
    out->send(std::as_bytes(std::span("needle", 6)));
    out->close();
    BOOST_TEST(out->child_status() == 0);

    auto missing = spawn_sender("exit 7", endpoint::parse("pipe:"), options, ec);
    BOOST_REQUIRE(!ec);
    missing->close();
    BOOST_TEST(missing->child_status() == 7);
}

BOOST_AUTO_TEST_CASE(a_program_that_does_not_exist_is_an_error_naming_it) {
    std::error_code ec;
    child nothing({"/nonexistent/conveyor-program"}, {}, ec);
    BOOST_TEST((ec == std::errc::no_such_file_or_directory));
    try {
        child again({"/nonexistent/conveyor-program"}, {});
        BOOST_FAIL("no error");
    } catch (const conveyor::error& e) {
        BOOST_TEST(std::string(e.what()).find("conveyor-program") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_SUITE_END()

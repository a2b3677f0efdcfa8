// The async calls on shared memory (conveyor/shm/async.hpp): one thread serving many
// queues with one helper thread per process, every completion token, cancellation, and
// objects or contexts that go away with operations pending.
#include "shm/async_waiter.hpp"
#include "support/child_process.hpp"
#include "support/scratch_dir.hpp"
#include "support/temporary_names.hpp"

#include <conveyor/error.hpp>
#include <conveyor/generated_message.hpp>
#include <conveyor/open.hpp>
#include <conveyor/pipe/stream.hpp>
#include <conveyor/shm/async.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace conveyor;
using namespace std::chrono_literals;
using conveyor::test::scratch_segment;
namespace asio = boost::asio;

namespace {

std::vector<std::byte> bytes_of(const std::string& text) {
    const auto view = std::as_bytes(std::span(text.data(), text.size()));
    return {view.begin(), view.end()};
}

std::string text_of(const std::vector<std::byte>& bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

channel_options sized(std::size_t capacity, std::size_t max_message = 1024) {
    channel_options options;
    options.capacity = capacity;
    options.max_message = max_message;
    return options;
}

// Threads of this process now, as the kernel lists them.
std::size_t threads_now() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& task : std::filesystem::directory_iterator("/proc/self/task"))
        ++n;
    return n;
}

std::size_t parked() {
    return shm::detail::async_waiter::instance().parked();
}

// Runs io until condition holds (handlers run in between); false after 20 s.
bool run_until(asio::io_context& io, const std::function<bool()>& condition) {
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > give_up) return false;
        io.run_for(1ms);
        io.restart();
    }
    return true;
}

struct queue_fixture {
    explicit queue_fixture(const char* purpose, const channel_options& options = {})
        : segment(purpose), where(endpoint::parse(segment.uri())),
          in(io.get_executor(), open_receiver(where, options)), out(open_sender(where, options)) {}
    scratch_segment segment;
    endpoint where;
    asio::io_context io;
    shm::async_receiver in;
    std::unique_ptr<sender> out;
};

// Receives generated messages from one queue until its end, verifying them.
struct verifying_reader {
    verifying_reader(asio::io_context& io, const endpoint& where, const channel_options& options)
        : in(io.get_executor(), open_receiver(where, options)) {}
    void start() {
        in.async_receive_batch(
            batch, 64, [this](boost::system::error_code ec, receive_status s) { on_batch(ec, s); });
    }
    void on_batch(boost::system::error_code ec, receive_status status) {
        if (ec) {
            failure = ec.message();
            return;
        }
        if (status == receive_status::end_of_stream) {
            ended = true;
            return;
        }
        for (std::size_t i = 0; i < batch.size(); ++i)
            verifier.observe(batch[i]);
        start();
    }
    shm::async_receiver in;
    message_batch batch;
    stream_verifier verifier;
    bool ended = false;
    std::string failure;
};

} // namespace

BOOST_AUTO_TEST_SUITE(shm_async)

BOOST_AUTO_TEST_CASE(a_receive_waits_without_blocking_and_completes_on_the_callers_thread) {
    queue_fixture q("async-wait");
    std::vector<std::byte> got;
    std::thread::id ran_on;
    receive_status status = receive_status::empty;
    boost::system::error_code failed = asio::error::would_block;
    q.in.async_receive(got, [&](boost::system::error_code ec, receive_status s) {
        failed = ec;
        status = s;
        ran_on = std::this_thread::get_id();
    });
    BOOST_REQUIRE(run_until(q.io, [] { return parked() == 1; })); // nothing there: it waits
    BOOST_TEST(ran_on == std::thread::id());
    std::thread peer([&] { q.out->send(bytes_of("hello")); });
    BOOST_REQUIRE(run_until(q.io, [&] { return ran_on != std::thread::id(); }));
    peer.join();
    BOOST_TEST(!failed);
    BOOST_TEST((status == receive_status::message));
    BOOST_TEST(text_of(got) == "hello");
    BOOST_TEST((ran_on == std::this_thread::get_id())); // the thread that ran io
}

// Readers of queues generated messages each, one io_context on this thread, and a producer
// process sending to them all round robin; checks every message and counts threads.
void serve_from_one_thread(std::size_t queues, std::uint64_t per_queue) {
    const auto options = sized(64u << 10); // 80-byte records: 64 KiB holds about 800
    std::vector<std::unique_ptr<scratch_segment>> segments;
    std::vector<endpoint> where;
    asio::io_context io;
    std::vector<std::unique_ptr<verifying_reader>> readers;
    for (std::size_t i = 0; i < queues; ++i) {
        segments.push_back(std::make_unique<scratch_segment>("async-many"));
        where.push_back(endpoint::parse(segments.back()->uri()));
        readers.push_back(std::make_unique<verifying_reader>(io, where.back(), options));
    }
    const pid_t child = ::fork();
    if (child == 0) { // blocking sends; the end of the stream is the process's
        std::vector<std::unique_ptr<sender>> out;
        std::vector<message_generator> makers;
        for (const auto& w : where) {
            out.push_back(open_sender(w, options));
            makers.emplace_back(make_producer_id(), 64, per_queue);
        }
        std::vector<std::byte> message(64);
        for (std::uint64_t n = 0; n < per_queue; ++n)
            for (std::size_t i = 0; i < queues; ++i) {
                makers[i].make(n, message);
                out[i]->send(message);
            }
        ::_exit(0);
    }
    for (auto& r : readers)
        r->start();
    std::size_t most_threads = 0;
    std::size_t most_parked = 0;
    BOOST_TEST(run_until(io, [&] {
        most_threads = std::max(most_threads, threads_now());
        most_parked = std::max(most_parked, parked());
        return std::all_of(readers.begin(), readers.end(),
                           [](const auto& r) { return r->ended || !r->failure.empty(); });
    }));
    int status = 0;
    BOOST_TEST(::waitpid(child, &status, 0) == child);
    BOOST_TEST(status == 0);
    BOOST_TEST_MESSAGE(queues << " queues: " << most_threads
                              << " threads at most (this one and the helper); " << most_parked
                              << " receives parked at once at most");
    // One thread (this one) ran every handler; the process held it and the helper only.
    BOOST_TEST(most_threads == 2u);
    BOOST_TEST(most_parked > 1u); // they did wait, together, on the one helper
    for (const auto& r : readers) {
        BOOST_TEST(r->failure.empty(), r->failure);
        const auto summary = r->verifier.result();
        BOOST_TEST(summary.messages == per_queue);
        BOOST_TEST(summary.ok(), stream_verifier::describe(summary));
    }
}

BOOST_AUTO_TEST_CASE(one_thread_serves_100_queues_with_one_helper_thread_in_the_process) {
    serve_from_one_thread(100, 2000);
}

// futex_waitv watches 128 words at most: past that the helper looks at them all every
// millisecond instead, as it does where the kernel has no futex_waitv.
BOOST_AUTO_TEST_CASE(past_what_futex_waitv_watches_the_helper_polls_and_loses_nothing) {
    serve_from_one_thread(150, 1000);
}

BOOST_AUTO_TEST_CASE(a_full_queue_holds_an_async_send_until_an_async_receive_takes) {
    queue_fixture q("async-full", sized(1024, 100));
    shm::async_sender out(q.io.get_executor(), std::move(q.out));
    constexpr int total = 500; // a 1 KiB ring holds 9 of them: the sender waits again and again
    int sent = 0;
    std::vector<std::byte> message(96);
    std::function<void(boost::system::error_code)> next = [&](boost::system::error_code ec) {
        BOOST_REQUIRE(!ec);
        if (++sent == total) return out.channel().close();
        std::memcpy(message.data(), &sent, sizeof sent);
        out.async_send(message, next);
    };
    std::memcpy(message.data(), &sent, sizeof sent);
    out.async_send(message, next);
    std::vector<std::byte> got;
    std::vector<int> numbers;
    bool ended = false;
    std::function<void(boost::system::error_code, receive_status)> take =
        [&](boost::system::error_code ec, receive_status status) {
            BOOST_REQUIRE(!ec);
            if (status == receive_status::end_of_stream) {
                ended = true;
                return;
            }
            int n = 0;
            std::memcpy(&n, got.data(), sizeof n);
            numbers.push_back(n);
            q.in.async_receive(got, take);
        };
    q.in.async_receive(got, take);
    q.io.run(); // returns once nothing is pending: both streams are done
    BOOST_TEST(ended);
    BOOST_REQUIRE(numbers.size() == std::size_t(total));
    for (int i = 0; i < total; ++i)
        BOOST_REQUIRE(numbers[i] == i);
}

BOOST_AUTO_TEST_CASE(an_operation_cancelled_through_its_slot_completes_aborted_alone) {
    queue_fixture q("async-cancel");
    asio::cancellation_signal signal;
    std::vector<std::byte> first, second;
    boost::system::error_code first_ec, second_ec;
    bool first_done = false, second_done = false;
    q.in.async_receive(first, asio::bind_cancellation_slot(
                                  signal.slot(), [&](boost::system::error_code ec, receive_status) {
                                      first_ec = ec;
                                      first_done = true;
                                  }));
    BOOST_REQUIRE(run_until(q.io, [] { return parked() == 1; }));
    signal.emit(asio::cancellation_type::terminal);
    BOOST_REQUIRE(run_until(q.io, [&] { return first_done; }));
    BOOST_TEST((first_ec == asio::error::operation_aborted));
    BOOST_TEST(parked() == 0u);

    q.in.async_receive(second, [&](boost::system::error_code ec, receive_status) {
        second_ec = ec;
        second_done = true;
    });
    q.out->send(bytes_of("after"));
    BOOST_REQUIRE(run_until(q.io, [&] { return second_done; }));
    BOOST_TEST(!second_ec);
    BOOST_TEST(text_of(second) == "after");

    bool third_done = false;
    q.in.async_receive(second, [&](boost::system::error_code ec, receive_status) {
        second_ec = ec;
        third_done = true;
    });
    BOOST_REQUIRE(run_until(q.io, [] { return parked() == 1; }));
    q.in.cancel(); // every pending operation
    BOOST_REQUIRE(run_until(q.io, [&] { return third_done; }));
    BOOST_TEST((second_ec == asio::error::operation_aborted));
}

BOOST_AUTO_TEST_CASE(a_receiver_destroyed_with_an_operation_pending_completes_it_aborted) {
    scratch_segment s("async-destroyed");
    const auto where = endpoint::parse(s.uri());
    auto out = open_sender(where);
    asio::io_context io;
    auto message = std::make_unique<std::vector<std::byte>>();
    boost::system::error_code failed;
    bool done = false;
    {
        shm::async_receiver in(io.get_executor(), open_receiver(where));
        in.async_receive(*message, [&](boost::system::error_code ec, receive_status) {
            failed = ec;
            done = true;
        });
        BOOST_REQUIRE(run_until(io, [] { return parked() == 1; }));
    }
    message.reset(); // the buffer may go with its receiver: nothing writes it any more
    out->send(bytes_of("too late"));
    BOOST_REQUIRE(run_until(io, [&] { return done; }));
    BOOST_TEST((failed == asio::error::operation_aborted));
    BOOST_TEST(parked() == 0u);
}

BOOST_AUTO_TEST_CASE(a_context_destroyed_with_an_operation_pending_destroys_its_handler_uncalled) {
    scratch_segment s("async-context-gone");
    const auto where = endpoint::parse(s.uri());
    auto out = open_sender(where);
    auto io = std::make_unique<asio::io_context>();
    auto in = std::make_unique<shm::async_receiver>(io->get_executor(), open_receiver(where));
    std::vector<std::byte> got;
    const auto witness = std::make_shared<int>(0);
    bool called = false;
    in->async_receive(
        got, [&called, w = witness](boost::system::error_code, receive_status) { called = true; });
    BOOST_REQUIRE(run_until(*io, [] { return parked() == 1; }));
    BOOST_TEST(witness.use_count() == 2);
    io.reset(); // the handler goes with its context, uncalled
    BOOST_TEST(witness.use_count() == 1);
    BOOST_TEST(parked() == 0u);
    out->send(bytes_of("nobody listens")); // wakes nothing that is gone
    in.reset();                            // after its context: touches nothing of it
    BOOST_TEST(!called);
}

BOOST_AUTO_TEST_CASE(use_future_use_awaitable_and_deferred_all_complete) {
    queue_fixture q("async-tokens");
    for (const char* text : {"one", "two", "three", "four"})
        q.out->send(bytes_of(text));
    q.out->close();

    // use_future: the context runs on another thread, this one waits on the future.
    std::vector<std::byte> got;
    auto work = asio::make_work_guard(q.io);
    std::thread runner([&] { q.io.run(); });
    auto future = q.in.async_receive(got, asio::use_future);
    BOOST_TEST((future.get() == receive_status::message));
    BOOST_TEST(text_of(got) == "one");
    work.reset();
    runner.join();
    q.io.restart();

    // deferred: nothing starts until the deferred operation is given its handler.
    auto deferred = q.in.async_receive(got, asio::deferred);
    receive_status status = receive_status::empty;
    std::move(deferred)([&](boost::system::error_code ec, receive_status s) {
        BOOST_TEST(!ec);
        status = s;
    });
    q.io.run();
    q.io.restart();
    BOOST_TEST((status == receive_status::message));
    BOOST_TEST(text_of(got) == "two");

    // use_awaitable: a coroutine reads the rest to the end.
    std::vector<std::string> rest;
    asio::co_spawn(
        q.io,
        [&]() -> asio::awaitable<void> {
            std::vector<std::byte> message;
            while (co_await q.in.async_receive(message, asio::use_awaitable) ==
                   receive_status::message)
                rest.push_back(text_of(message));
        },
        asio::detached);
    q.io.run();
    BOOST_TEST(rest == (std::vector<std::string>{"three", "four"}));
}

BOOST_AUTO_TEST_CASE(use_future_carries_conveyor_errors_as_exceptions) {
    queue_fixture q("async-future-error", sized(4096, 100));
    shm::async_sender out(q.io.get_executor(), std::move(q.out));
    const std::vector<std::byte> too_large(101);
    auto future = out.async_send(too_large, asio::use_future);
    q.io.run();
    try {
        future.get();
        BOOST_FAIL("no exception");
    } catch (const boost::system::system_error& e) {
        BOOST_TEST((std::error_code(e.code()) == errc::message_too_large), e.what());
    }
}

BOOST_AUTO_TEST_CASE(a_topic_and_a_file_queue_serve_async_calls_too) {
    scratch_segment s("async-topic");
    conveyor::test::scratch_dir dir;
    asio::io_context io;
    const auto topic = endpoint::parse(s.topic_uri());
    const auto file = endpoint::parse(dir.file_uri("q"));
    shm::async_receiver first(io.get_executor(), open_receiver(topic)),
        second(io.get_executor(), open_receiver(topic)),
        durable(io.get_executor(), open_receiver(file));
    auto publisher = open_sender(topic);
    auto producer = open_sender(file);
    std::vector<std::byte> a, b, c;
    int done = 0;
    auto count = [&](boost::system::error_code ec, receive_status status) {
        BOOST_TEST(!ec);
        BOOST_TEST((status == receive_status::message));
        ++done;
    };
    first.async_receive(a, count);
    second.async_receive(b, count);
    durable.async_receive(c, count);
    BOOST_REQUIRE(run_until(io, [] { return parked() == 3; }));
    publisher->send(bytes_of("to all"));
    producer->send(bytes_of("kept"));
    BOOST_REQUIRE(run_until(io, [&] { return done == 3; }));
    BOOST_TEST(text_of(a) == "to all");
    BOOST_TEST(text_of(b) == "to all");
    BOOST_TEST(text_of(c) == "kept");
}

BOOST_AUTO_TEST_CASE(a_pipe_is_refused_with_the_calls_it_has_instead) {
    int fds[2];
    BOOST_REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    ::close(fds[1]);
    asio::io_context io;
    auto pipe_end = std::make_unique<pipe::stream_receiver>(fds[0], endpoint::parse("pipe:"));
    try {
        shm::async_receiver in(io.get_executor(), std::move(pipe_end));
        BOOST_FAIL("no exception");
    } catch (const error& e) {
        BOOST_TEST((e.code() == errc::invalid_argument));
        BOOST_TEST(std::string(e.what()).find("conveyor/pipe/stream.hpp") != std::string::npos);
    }
}

BOOST_AUTO_TEST_SUITE_END()

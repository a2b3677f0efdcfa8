// The async calls on shared-memory channels (conveyor/shm/async.hpp): operations that try
// on their executor, park with the process's waiter (shm/async_waiter.hpp) when there is
// nothing to do, and complete through their handler's executor. docs/architecture.md,
// "Async calls", has the protocol.
#include "conveyor/shm/async.hpp"

#include "conveyor/error.hpp"
#include "conveyor/shm/queue.hpp"
#include "conveyor/shm/topic.hpp"
#include "shm/async_waiter.hpp"
#include "shm/wait.hpp"
#include "shm/wait_hooks.hpp"

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>

#include <list>

namespace conveyor::shm::detail {
namespace asio = boost::asio;

namespace {

using clock = async_waiter::clock;

// An operation that found nothing but what looks ready (a peer holds a lock for a moment)
// tries again this soon rather than waiting for a notification that may have gone by.
constexpr std::chrono::microseconds busy_retry{200};

boost::system::error_code aborted() {
    return asio::error::operation_aborted;
}

} // namespace

class async_operation;

// Per execution context: the operations of its executors, so that they die with it.
class async_service final : public asio::execution_context::service {
public:
    static inline asio::execution_context::id id;
    explicit async_service(asio::execution_context& context)
        : asio::execution_context::service(context) {}
    // The context is going away: its operations are dropped, their handlers destroyed
    // without being called (as the context's own queued handlers are).
    void shutdown() override;

    std::list<std::shared_ptr<async_operation>> operations; // the waiter's mutex held
};

// What the operations of one async_receiver or async_sender share: the channel (null once
// the object went away) and its hooks.
class async_core {
public:
    async_core(conveyor::receiver* in, conveyor::sender* out, wait_hooks hooks)
        : receiver(in), sender(out), hooks(std::move(hooks)) {}

    // The waiter's mutex guards the fields below.
    conveyor::receiver* receiver;
    conveyor::sender* sender;
    wait_hooks hooks;
    std::list<std::shared_ptr<async_operation>> operations;
    // Between sleeps at most every liveness_interval, as a blocking wait does.
    clock::time_point last_sweep{};

    // Cancels every operation, or (closing) also forgets the channel, which may go now.
    void cancel_all(bool closing);
};

// One operation: tries on its executor, parks while there is nothing to do, completes once.
class async_operation : public parked_operation,
                        public std::enable_shared_from_this<async_operation> {
public:
    enum class state { trying, parked, done };

    async_operation(std::shared_ptr<async_core> core, const asio::any_io_executor& executor)
        : core_(std::move(core)),
          work_(asio::prefer(executor, asio::execution::outstanding_work.tracked)),
          service_(
              &asio::use_service<async_service>(asio::query(executor, asio::execution::context))) {}

    // Registers, connects cancellation and posts the first try (never run inline: the
    // initiating function returns first).
    void start();
    // The waiter's mutex held: stop waiting (cancel, close); completes with aborted.
    void cancel_locked();
    // The waiter's mutex held: the context is going away; the handler must die uncalled.
    void drop_locked(std::vector<std::shared_ptr<async_operation>>& dropped);
    void forget_handler() noexcept {
        discard();
        work_ = {};
    }

protected:
    // One try of the channel call without waiting: true once it is over (ec may be set).
    virtual bool try_once(std::error_code& ec) = 0;
    // Calls the handler through its executor with the outcome.
    virtual void complete(boost::system::error_code ec) = 0;
    virtual void discard() noexcept = 0;
    virtual asio::cancellation_slot slot() noexcept = 0;
    const asio::any_io_executor& io_executor() const noexcept { return work_; }
    async_core& core() noexcept { return *core_; }

private:
    void wake(bool timed_out) noexcept override;
    // The waiter's mutex held: cancelled, or the object went away.
    bool stopped_locked() const noexcept {
        return cancelled_ || (!core_->receiver && !core_->sender);
    }
    void post_try();
    void run();
    void finish(boost::system::error_code ec);

    std::shared_ptr<async_core> core_;
    asio::any_io_executor work_; // keeps the context's run() going while this is pending
    async_service* service_;
    // The waiter's mutex guards these.
    state state_ = state::trying;
    bool cancelled_ = false;
    bool timed_out_ = false;
};

void async_service::shutdown() {
    std::vector<std::shared_ptr<async_operation>> dropped;
    {
        const std::lock_guard<std::mutex> lock(async_waiter::instance().mutex());
        for (auto& op : operations)
            op->drop_locked(dropped);
        operations.clear();
    }
    for (auto& op : dropped)
        op->forget_handler(); // outside the mutex: a handler's destructor may call in
}

void async_core::cancel_all(bool closing) {
    const std::lock_guard<std::mutex> lock(async_waiter::instance().mutex());
    if (closing) {
        receiver = nullptr;
        sender = nullptr;
    }
    for (auto& op : operations)
        op->cancel_locked();
}

void async_operation::start() {
    auto self = shared_from_this();
    {
        const std::lock_guard<std::mutex> lock(async_waiter::instance().mutex());
        core_->operations.push_back(self);
        service_->operations.push_back(self);
    }
    if (auto cancellation = slot(); cancellation.is_connected()) {
        cancellation.assign([weak = std::weak_ptr<async_operation>(self)](asio::cancellation_type) {
            // Nothing is ever half done: every kind of cancellation is honoured alike.
            if (auto op = weak.lock()) {
                const std::lock_guard<std::mutex> lock(async_waiter::instance().mutex());
                op->cancel_locked();
            }
        });
    }
    post_try();
}

void async_operation::post_try() {
    asio::post(work_, [self = shared_from_this()] { self->run(); });
}

void async_operation::cancel_locked() {
    if (state_ == state::done || cancelled_) return;
    cancelled_ = true;
    if (state_ != state::parked) return; // the try under way sees it before it parks
    async_waiter::instance().unpark(this);
    core_->hooks.ev->disarm();
    state_ = state::trying;
    post_try();
}

void async_operation::drop_locked(std::vector<std::shared_ptr<async_operation>>& dropped) {
    if (state_ == state::done) return;
    if (state_ == state::parked) {
        async_waiter::instance().unpark(this);
        core_->hooks.ev->disarm();
    }
    state_ = state::done;
    core_->operations.remove(shared_from_this());
    dropped.push_back(shared_from_this());
}

void async_operation::wake(bool timed_out) noexcept {
    // The waiter's mutex is held, so the channel is still there: closing unparks first.
    core_->hooks.ev->disarm();
    state_ = state::trying;
    timed_out_ = timed_out;
    post_try();
}

void async_operation::run() {
    auto& waiter = async_waiter::instance();
    bool stop = false;
    bool sweep = false;
    {
        const std::lock_guard<std::mutex> lock(waiter.mutex());
        if (state_ == state::done) return;
        stop = stopped_locked();
        const auto now = clock::now();
        sweep = !stop && timed_out_ && now - core_->last_sweep >= liveness_interval;
        if (sweep) core_->last_sweep = now;
        timed_out_ = false;
    }
    // Stopped: the channel may be gone already, and is not touched.
    if (stop) return finish(aborted());
    // The channel is this object's executor's: nothing else calls it meanwhile, and it
    // stays until the object's destructor, which runs there too.
    auto& hooks = core_->hooks;
    if (sweep && hooks.between_sleeps) hooks.between_sleeps();
    // Armed before the try: a peer's change after the try's last look either shows in the
    // try or moves the event's sequence past the ticket (shm/event.hpp).
    const auto ticket = hooks.ev->arm();
    std::error_code ec;
    if (try_once(ec)) {
        hooks.ev->disarm();
        return finish(ec);
    }
    const bool busy = hooks.looks_ready && hooks.looks_ready();
    {
        const std::lock_guard<std::mutex> lock(waiter.mutex());
        stop = stopped_locked();
        if (!stop) {
            state_ = state::parked;
            const auto wait =
                busy ? clock::duration(busy_retry) : clock::duration(liveness_interval);
            waiter.park(shared_from_this(), &hooks.ev->sequence, ticket, clock::now() + wait);
            return;
        }
    }
    hooks.ev->disarm();
    finish(aborted());
}

void async_operation::finish(boost::system::error_code ec) {
    {
        const std::lock_guard<std::mutex> lock(async_waiter::instance().mutex());
        if (state_ == state::done) return;
        state_ = state::done;
        core_->operations.remove(shared_from_this());
        service_->operations.remove(shared_from_this());
    }
    if (auto cancellation = slot(); cancellation.is_connected()) cancellation.clear();
    complete(ec);
    work_ = {};
}

namespace {

// A receive: message, empty (nothing yet: park) or end_of_stream.
template <class Call> class receive_operation final : public async_operation {
public:
    using handler_type = asio::any_completion_handler<async_receiver::receive_signature>;
    receive_operation(std::shared_ptr<async_core> core, const asio::any_io_executor& executor,
                      handler_type handler, Call call)
        : async_operation(std::move(core), executor), handler_(std::move(handler)),
          call_(std::move(call)) {}

private:
    bool try_once(std::error_code& ec) override {
        status_ = call_(*core().receiver, ec);
        return ec || status_ != receive_status::empty;
    }
    void complete(boost::system::error_code ec) override {
        const auto status = ec ? receive_status::empty : status_;
        auto executor = asio::get_associated_executor(handler_, io_executor());
        asio::dispatch(executor, [handler = std::move(handler_), ec, status]() mutable {
            std::move(handler)(ec, status);
        });
    }
    void discard() noexcept override { handler_ = nullptr; }
    asio::cancellation_slot slot() noexcept override {
        return handler_ ? asio::get_associated_cancellation_slot(handler_)
                        : asio::cancellation_slot();
    }

    handler_type handler_;
    Call call_;
    receive_status status_ = receive_status::empty;
};

class send_operation final : public async_operation {
public:
    using handler_type = asio::any_completion_handler<async_sender::send_signature>;
    send_operation(std::shared_ptr<async_core> core, const asio::any_io_executor& executor,
                   handler_type handler, bytes_view message)
        : async_operation(std::move(core), executor), handler_(std::move(handler)),
          message_(message) {}

private:
    bool try_once(std::error_code& ec) override {
        return core().sender->try_send(message_, ec) || ec;
    }
    void complete(boost::system::error_code ec) override {
        auto executor = asio::get_associated_executor(handler_, io_executor());
        asio::dispatch(executor,
                       [handler = std::move(handler_), ec]() mutable { std::move(handler)(ec); });
    }
    void discard() noexcept override { handler_ = nullptr; }
    asio::cancellation_slot slot() noexcept override {
        return handler_ ? asio::get_associated_cancellation_slot(handler_)
                        : asio::cancellation_slot();
    }

    handler_type handler_;
    bytes_view message_;
};

template <class Call>
void start_receive_operation(
    const std::shared_ptr<async_core>& core, const asio::any_io_executor& executor,
    asio::any_completion_handler<async_receiver::receive_signature> handler, Call call) {
    std::make_shared<receive_operation<Call>>(core, executor, std::move(handler), std::move(call))
        ->start();
}

[[noreturn]] void refuse(const std::string& what) {
    throw error(errc::invalid_argument,
                what + ": the async calls of conveyor/shm/async.hpp serve shm://, file:// and "
                       "topic://; pipes and FIFOs have their own (conveyor/pipe/stream.hpp)");
}

std::shared_ptr<async_core> core_for(conveyor::receiver& in) {
    if (auto* queue = dynamic_cast<queue_receiver*>(&in))
        return std::make_shared<async_core>(&in, nullptr, queue->hooks_for_async());
    if (auto* topic = dynamic_cast<topic_receiver*>(&in))
        return std::make_shared<async_core>(&in, nullptr, topic->hooks_for_async());
    refuse(in.describe());
}

std::shared_ptr<async_core> core_for(conveyor::sender& out) {
    if (auto* queue = dynamic_cast<queue_sender*>(&out))
        return std::make_shared<async_core>(nullptr, &out, queue->hooks_for_async());
    if (auto* topic = dynamic_cast<topic_sender*>(&out))
        return std::make_shared<async_core>(nullptr, &out, topic->hooks_for_async());
    refuse(out.describe());
}

} // namespace
} // namespace conveyor::shm::detail

namespace conveyor::shm {

// ---- async_receiver ----

async_receiver::async_receiver(executor_type executor, std::unique_ptr<conveyor::receiver> channel)
    : executor_(std::move(executor)), channel_(std::move(channel)) {
    if (!channel_) throw error(errc::invalid_argument, "async_receiver: no channel");
    core_ = detail::core_for(*channel_);
}

async_receiver::async_receiver(async_receiver&&) noexcept = default;

async_receiver& async_receiver::operator=(async_receiver&& other) noexcept {
    if (this != &other) {
        close();
        executor_ = std::move(other.executor_);
        channel_ = std::move(other.channel_);
        core_ = std::move(other.core_);
    }
    return *this;
}

async_receiver::~async_receiver() {
    close();
}

void async_receiver::close() noexcept {
    if (core_) core_->cancel_all(true); // before the channel goes: no try touches it after
    core_.reset();
    channel_.reset();
}

void async_receiver::cancel() {
    if (core_) core_->cancel_all(false);
}

void async_receiver::start_receive(boost::asio::any_completion_handler<receive_signature> handler,
                                   std::vector<std::byte>* message) {
    detail::start_receive_operation(core_, executor_, std::move(handler),
                                    [message](conveyor::receiver& in, std::error_code& ec) {
                                        return in.try_receive(*message, ec);
                                    });
}

void async_receiver::start_receive_batch(
    boost::asio::any_completion_handler<receive_signature> handler, message_batch* batch,
    std::size_t max) {
    detail::start_receive_operation(core_, executor_, std::move(handler),
                                    [batch, max](conveyor::receiver& in, std::error_code& ec) {
                                        return in.receive_batch(*batch, max, no_wait, ec);
                                    });
}

// ---- async_sender ----

async_sender::async_sender(executor_type executor, std::unique_ptr<conveyor::sender> channel)
    : executor_(std::move(executor)), channel_(std::move(channel)) {
    if (!channel_) throw error(errc::invalid_argument, "async_sender: no channel");
    core_ = detail::core_for(*channel_);
}

async_sender::async_sender(async_sender&&) noexcept = default;

async_sender& async_sender::operator=(async_sender&& other) noexcept {
    if (this != &other) {
        close();
        executor_ = std::move(other.executor_);
        channel_ = std::move(other.channel_);
        core_ = std::move(other.core_);
    }
    return *this;
}

async_sender::~async_sender() {
    close();
}

void async_sender::close() noexcept {
    if (core_) core_->cancel_all(true);
    core_.reset();
    channel_.reset();
}

void async_sender::cancel() {
    if (core_) core_->cancel_all(false);
}

void async_sender::start_send(boost::asio::any_completion_handler<send_signature> handler,
                              bytes_view message) {
    std::make_shared<detail::send_operation>(core_, executor_, std::move(handler), message)
        ->start();
}

} // namespace conveyor::shm

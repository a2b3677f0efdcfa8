// The shared-memory queue: a bounded ring of variable-size records in a named segment,
// guarded by a robust process-shared mutex. Many producers and many consumers; each message
// goes to one consumer; one producer's messages arrive in order. docs/architecture.md has
// the commit and crash-recovery protocol and the end-of-stream rules.
#pragma once

#include "conveyor/channel.hpp"
#include "conveyor/open.hpp"

#include <memory>
#include <string>

namespace conveyor::shm {
namespace detail {
class attachment;
}

// A producer attached to shm://NAME. Creates the segment with options when it does not
// exist, else joins it (options.capacity and max_message are then ignored).
class queue_sender final : public conveyor::sender {
public:
    explicit queue_sender(const endpoint& where, const channel_options& options = {});
    static std::unique_ptr<queue_sender> open(const endpoint& where, const channel_options& options,
                                              std::error_code& ec, std::string* why = nullptr);
    ~queue_sender() override; // closes the stream if close() was not called

    std::size_t max_message() const noexcept override;
    const endpoint& where() const noexcept override;

protected:
    bool do_send(bytes_view message, wait_duration wait, std::error_code& ec) override;
    void do_close(std::error_code& ec) override;

private:
    explicit queue_sender(std::unique_ptr<detail::attachment> attached);
    std::unique_ptr<detail::attachment> attached_;
};

// A consumer attached to shm://NAME, creating the segment when it does not exist.
class queue_receiver final : public conveyor::receiver {
public:
    explicit queue_receiver(const endpoint& where, const channel_options& options = {});
    static std::unique_ptr<queue_receiver> open(const endpoint& where,
                                                const channel_options& options, std::error_code& ec,
                                                std::string* why = nullptr);
    ~queue_receiver() override;

    std::size_t max_message() const noexcept override;
    const endpoint& where() const noexcept override;

protected:
    receive_status do_receive(std::vector<std::byte>& message, wait_duration wait,
                              std::error_code& ec) override;

private:
    explicit queue_receiver(std::unique_ptr<detail::attachment> attached);
    std::unique_ptr<detail::attachment> attached_;
    std::size_t min_producers_ = 1;
};

} // namespace conveyor::shm

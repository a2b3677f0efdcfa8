// Frame encoding and decoding; the format is described in docs/architecture.md, "Pipes".
#include "conveyor/pipe/framing.hpp"

#include "conveyor/checksum.hpp"
#include "conveyor/error.hpp"

#include <algorithm>
#include <cstring>

namespace conveyor::pipe {
namespace {

constexpr std::byte kind_data{'D'};
constexpr std::byte kind_hello{'H'};
constexpr std::byte newline{'\n'};

void put_u32(std::byte* at, std::uint32_t value) {
    for (int i = 0; i < 4; ++i)
        at[i] = std::byte(value >> (8 * i));
}

std::uint32_t get_u32(const std::byte* at) {
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i)
        value |= std::uint32_t(at[i]) << (8 * i);
    return value;
}

// Appends a header and room for payload.size() bytes behind it; returns the room. One
// resize a frame: the writer frames a round into one reused buffer.
std::byte* append_header(std::vector<std::byte>& out, std::byte kind, bytes_view payload) {
    const std::size_t at = out.size();
    out.resize(at + frame_header_size + payload.size());
    std::byte* h = out.data() + at;
    h[0] = std::byte{'C'};
    h[1] = std::byte{'N'};
    h[2] = std::byte{'V'};
    h[3] = kind;
    put_u32(h + 4, static_cast<std::uint32_t>(payload.size()));
    put_u32(h + 8, crc32c(payload));
    return h + frame_header_size;
}

} // namespace

void append_frame(std::vector<std::byte>& out, bytes_view message, framing how,
                  std::error_code& ec) {
    ec.clear();
    if (how == framing::lines) {
        if (std::find(message.begin(), message.end(), newline) != message.end()) {
            ec = errc::invalid_argument; // the reader would see two messages
            return;
        }
        out.insert(out.end(), message.begin(), message.end());
        out.push_back(newline);
        return;
    }
    std::byte* payload = append_header(out, kind_data, message);
    if (!message.empty()) std::memcpy(payload, message.data(), message.size());
}

void append_hello(std::vector<std::byte>& out, framing how) {
    if (how == framing::frames) append_header(out, kind_hello, {});
}

frame_decoder::frame_decoder(framing how, std::size_t max_message)
    : how_(how), max_message_(max_message) {}

std::span<std::byte> frame_decoder::prepare(std::size_t n) {
    if (begin_ == end_) begin_ = end_ = 0;
    if (buffer_.size() - end_ < n) {
        // Move the unread tail to the front before growing: frames are consumed in order.
        std::copy(buffer_.begin() + begin_, buffer_.begin() + end_, buffer_.begin());
        end_ -= begin_;
        begin_ = 0;
        if (buffer_.size() - end_ < n) buffer_.resize(end_ + n);
    }
    return {buffer_.data() + end_, buffer_.size() - end_};
}

bool frame_decoder::next(std::vector<std::byte>& message, std::error_code& ec) {
    bytes_view view;
    if (!next(view, ec)) return false;
    message.assign(view.begin(), view.end());
    return true;
}

bool frame_decoder::next(bytes_view& message, std::error_code& ec) {
    ec.clear();
    const std::byte* data = buffer_.data() + begin_;
    const std::size_t available = end_ - begin_;
    if (how_ == framing::lines) {
        const auto* found = std::find(data, data + available, newline);
        const std::size_t length = static_cast<std::size_t>(found - data);
        if (length > max_message_) {
            ec = errc::message_too_large;
            return false;
        }
        if (found == data + available) return false;
        message = bytes_view(data, length);
        begin_ += length + 1;
        return true;
    }
    while (end_ - begin_ >= frame_header_size) {
        data = buffer_.data() + begin_;
        const bool tagged = data[0] == std::byte{'C'} && data[1] == std::byte{'N'} &&
                            data[2] == std::byte{'V'} &&
                            (data[3] == kind_data || data[3] == kind_hello);
        const std::uint32_t length = get_u32(data + 4);
        if (!tagged || (data[3] == kind_hello && length != 0)) {
            ec = errc::corrupt_data;
            return false;
        }
        if (length > max_message_) { // a producer with a larger --max-message
            ec = errc::message_too_large;
            return false;
        }
        if (end_ - begin_ < frame_header_size + length) return false;
        const bytes_view payload(data + frame_header_size, length);
        if (crc32c(payload) != get_u32(data + 8)) {
            ec = errc::corrupt_data;
            return false;
        }
        begin_ += frame_header_size + length;
        if (data[3] == kind_hello) {
            ++hellos_;
            continue;
        }
        message = payload;
        return true;
    }
    return false;
}

bool frame_decoder::finish(std::vector<std::byte>& message, std::error_code& ec) {
    bytes_view view;
    if (!finish(view, ec)) return false;
    message.assign(view.begin(), view.end());
    return true;
}

bool frame_decoder::finish(bytes_view& message, std::error_code& ec) {
    ec.clear();
    if (begin_ == end_) return false;
    if (how_ == framing::lines) {
        message = bytes_view(buffer_.data() + begin_, end_ - begin_);
        begin_ = end_;
        return true;
    }
    ec = errc::corrupt_data; // a truncated frame: its writer died or closed mid-frame
    begin_ = end_;
    return false;
}

} // namespace conveyor::pipe

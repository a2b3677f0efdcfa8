// Record marking: reading fragments within a bound, writing single-fragment records.
#include "record_marking.hpp"

#include "conveyor/rpc/error.hpp"
#include "xdr_words.hpp"

#include <algorithm>
#include <cstring>

namespace conveyor::rpc::detail {

record_reader::record_reader(std::size_t max_record) : max_record_(max_record) {}

std::span<std::byte> record_reader::space() {
    // Move what is left to the front once the consumed part dominates, so that the buffer
    // does not creep; grow it when what is left fills it (a record up to max_record + mark).
    if (begin_ > 0 && (begin_ == end_ || begin_ > buffer_.size() / 2)) {
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    const std::size_t least = initial_buffer / 4;
    if (buffer_.size() - end_ < least) {
        const std::size_t limit = max_record_ + 2 * record_mark_size + initial_buffer;
        const std::size_t grown = std::max(initial_buffer, 2 * buffer_.size());
        buffer_.resize(std::min(grown, std::max(limit, end_ + least)));
    }
    return {buffer_.data() + end_, buffer_.size() - end_};
}

bool record_reader::next(bytes_view& record, std::error_code& ec) {
    ec.clear();
    while (end_ - begin_ >= record_mark_size) {
        const std::uint32_t mark = get_u32_at(buffer_.data() + begin_);
        const std::size_t length = mark & ~last_fragment;
        const bool last = (mark & last_fragment) != 0;
        // The bound counts what is gathered so far: many fragments may not add up past it.
        const std::size_t so_far = gathering_ ? gathered_.size() : 0;
        if (length > max_record_ - so_far) {
            ec = make_error_code(errc::record_too_large);
            return false;
        }
        if (end_ - begin_ - record_mark_size < length) {
            // A fragment still arriving: make sure the buffer can take all of it.
            if (buffer_.size() - begin_ < record_mark_size + length) {
                std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
                end_ -= begin_;
                begin_ = 0;
                if (buffer_.size() < record_mark_size + length)
                    buffer_.resize(record_mark_size + length);
            }
            return false;
        }
        const std::byte* fragment = buffer_.data() + begin_ + record_mark_size;
        begin_ += record_mark_size + length;
        if (!gathering_ && last) {
            record = {fragment, length};
            return true;
        }
        if (!gathering_) gathered_.clear();
        gathering_ = true;
        gathered_.insert(gathered_.end(), fragment, fragment + length);
        if (last) {
            gathering_ = false;
            record = gathered_;
            return true;
        }
    }
    return false;
}

void append_record(std::vector<std::byte>& out, bytes_view message) {
    put_u32(out, last_fragment | static_cast<std::uint32_t>(message.size()));
    out.insert(out.end(), message.begin(), message.end());
}

} // namespace conveyor::rpc::detail

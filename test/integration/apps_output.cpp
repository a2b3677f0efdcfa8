#include "support/apps.hpp"

#include <boost/test/unit_test.hpp>

#include <iterator>
#include <sstream>

namespace conveyor::test {

std::uint64_t verify_output(std::string_view output, std::size_t message_size,
                            stream_verifier& verifier) {
    const std::size_t stride = message_size + 1;
    std::uint64_t records = 0;
    for (std::size_t at = 0; at + stride <= output.size(); at += stride, ++records) {
        BOOST_REQUIRE_MESSAGE(output[at + message_size] == '\n',
                              "record " << records << " unframed");
        verifier.observe(std::as_bytes(std::span(output.data() + at, message_size)));
    }
    return records;
}

long long last_number_after(const std::string& text, const std::string& word) {
    const auto at = text.rfind(word + " ");
    return at == std::string::npos ? -1 : std::stoll(text.substr(at + word.size() + 1));
}

std::vector<std::string> row_of(const std::string& listing, const std::string& uri) {
    std::istringstream lines(listing);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::vector<std::string> columns{std::istream_iterator<std::string>(words),
                                         std::istream_iterator<std::string>()};
        if (!columns.empty() && columns[0] == uri) return columns;
    }
    return {};
}

} // namespace conveyor::test

// Fuzz target: request bytes through the HTTP codec, as a connection feeds them. The first byte
// chooses how the rest is split into reads; the same bytes parsed whole and in those pieces must
// give the same requests and the same refusal, every refusal a 4xx or 5xx the host sends, and
// nothing kept past its limit. Each complete request's answer is encoded too.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "http/http_codec.h"

namespace {

using busbar::host::ParserLimits;
using busbar::host::RequestParser;

struct Outcome {
  std::vector<std::string> requests;  // method, target, version, body
  int refused = 0;                    // the refusal's status, 0 when none
};

void check(bool condition) {
  if (!condition) std::abort();
}

Outcome parse(const std::string& stream, size_t piece, const ParserLimits& limits) {
  RequestParser parser(limits);
  Outcome outcome;
  size_t offset = 0;
  while (offset < stream.size() || parser.paused()) {
    const size_t end = piece == 0 ? stream.size() : std::min(stream.size(), offset + piece);
    size_t used = 0;
    const auto event = parser.parse(stream.data() + offset, end - offset, &used);
    check(used <= end - offset);
    offset += used;
    check(parser.head().target.size() <= limits.max_header_bytes);
    check(parser.head().content_type.size() <= limits.max_header_bytes);
    if (event == RequestParser::Event::kError) {
      const int status = parser.problem().status;
      check(status == 400 || status == 413 || status == 431 || status == 501 || status == 505);
      check(!parser.problem().message.empty());
      outcome.refused = status;
      return outcome;
    }
    if (event == RequestParser::Event::kComplete) {
      const auto& head = parser.head();
      std::string body = parser.takeBody();
      check(body.size() <= limits.max_body);
      outcome.requests.push_back(std::string(head.method) + " " + head.target + " " +
                                 std::to_string(head.minor_version) + " " + body);
      busbar::HttpResponse response;
      response.body = body;
      std::string out;
      busbar::host::appendResponse(out, head.minor_version, response, head.keep_alive,
                                   head.method == "HEAD");
    }
    if (event == RequestParser::Event::kNeedMore && end == stream.size()) break;
  }
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  ParserLimits limits;
  limits.max_header_bytes = 512;
  limits.max_headers = 16;
  limits.max_body = 1024;
  const size_t piece = 1 + data[0] % 17;
  const std::string stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Outcome whole = parse(stream, 0, limits);
  const Outcome pieces = parse(stream, piece, limits);
  check(whole.requests == pieces.requests);
  check(whole.refused == pieces.refused);
  return 0;
}

#include "http/http_codec.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <sstream>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPResponse.h>

namespace busbar::host {
namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// `text` for a message: control and non-ASCII bytes as \xNN, cut at 100 characters.
std::string printable(std::string_view text) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    if (out.size() >= 100) return out + "...";
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// The line of `data` that holds `at`, without its line break.
std::string_view lineAround(const char* data, size_t size, const char* at) {
  if (at == nullptr || at < data || at > data + size) at = data;
  const char* begin = at;
  while (begin > data && begin[-1] != '\n') --begin;
  const char* end = at;
  while (end < data + size && *end != '\r' && *end != '\n') ++end;
  return {begin, static_cast<size_t>(end - begin)};
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Why a request line llhttp refused is wrong, as precisely as the line shows it.
HttpProblem describeRequestLine(std::string_view line, llhttp_errno_t error, const char* reason) {
  const std::string shown = "'" + printable(line) + "'";
  const std::string expected = "; expected METHOD /path HTTP/1.1";
  const size_t first = line.find(' ');
  const size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos) {
    return {400, "malformed request line " + shown + expected};
  }
  const std::string_view method = line.substr(0, first);
  const std::string_view target = line.substr(first + 1, second - first - 1);
  const std::string_view version = line.substr(second + 1);
  const bool http_version = version.size() == 8 && version.substr(0, 5) == "HTTP/" &&
                            isDigit(version[5]) && version[6] == '.' && isDigit(version[7]);
  if (!http_version) {
    return {400, "malformed request line " + shown + ": '" + printable(version) +
                     "' is not an HTTP version" + expected};
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    return {505, "HTTP version " + std::string(version) + " is not supported; use HTTP/1.1"};
  }
  if (error == HPE_INVALID_METHOD) {
    return {501, "method '" + printable(method) + "' is not implemented by this server"};
  }
  if (error == HPE_INVALID_URL) {
    return {400, "malformed request target '" + printable(target) +
                     "': expected a path such as /users/u1, without spaces or control characters"};
  }
  return {400, "malformed request after the request line " + shown + ": " + reason};
}

// The Date header's value, formatted once a second per thread.
const std::string& httpDate() {
  thread_local std::time_t formatted_second = -1;
  thread_local std::string text;
  const std::time_t now = std::time(nullptr);
  if (now != formatted_second) {
    formatted_second = now;
    text = Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(now),
                                           Poco::DateTimeFormat::HTTP_FORMAT);
  }
  return text;
}

}  // namespace

const llhttp_settings_t& RequestParser::settings() {
  static const llhttp_settings_t kSettings = [] {
    llhttp_settings_t settings;
    llhttp_settings_init(&settings);
    settings.on_message_begin = &RequestParser::onMessageBegin;
    settings.on_url = &RequestParser::onUrl;
    settings.on_header_field = &RequestParser::onHeaderField;
    settings.on_header_field_complete = &RequestParser::onHeaderFieldComplete;
    settings.on_header_value = &RequestParser::onHeaderValue;
    settings.on_header_value_complete = &RequestParser::onHeaderValueComplete;
    settings.on_headers_complete = &RequestParser::onHeadersComplete;
    settings.on_chunk_header = &RequestParser::onChunkHeader;
    settings.on_chunk_extension_name = &RequestParser::onChunkExtension;
    settings.on_chunk_extension_value = &RequestParser::onChunkExtension;
    settings.on_body = &RequestParser::onBody;
    settings.on_message_complete = &RequestParser::onMessageComplete;
    return settings;
  }();
  return kSettings;
}

RequestParser::RequestParser(const ParserLimits& limits) : limits_(limits) {
  llhttp_init(&parser_, HTTP_REQUEST, &settings());
  parser_.data = this;
}

RequestParser::Event RequestParser::parse(const char* data, size_t size, size_t* used) {
  *used = 0;
  if (phase_ == Phase::kComplete) {
    line_.clear();
    line_done_ = false;
  }
  if (phase_ != Phase::kParsing) {
    phase_ = Phase::kParsing;
    llhttp_resume(&parser_);
  }
  size_t skipped = 0;
  if (!in_request_ && line_error_ == HPE_OK) {
    // Line breaks before a request are skipped here, as llhttp would, so that what counts against
    // the head's limit starts at the request's first byte however the bytes arrive.
    while (skipped < size && (data[skipped] == '\r' || data[skipped] == '\n')) ++skipped;
    data += skipped;
    size -= skipped;
  }
  *used = skipped;
  if (!line_done_) recordRequestLine(data, size);
  if (line_error_ != HPE_OK) {
    const Event event = awaitLineEnd(size, used);
    *used += skipped;
    return event;
  }
  llhttp_errno_t error = HPE_OK;
  const size_t consumed = execute(data, size, &error);
  *used = skipped + consumed;
  if (in_request_ && !head_done_) head_bytes_ += consumed;
  if (trailer_bytes_ > limits_.max_header_bytes) {
    problem_ = {431, "request trailer fields (after the last chunk) are over the limit of " +
                         std::to_string(limits_.max_header_bytes) +
                         " bytes ([http] max_header_bytes)"};
    return Event::kError;
  }
  const bool failed = error != HPE_OK && error != HPE_PAUSED;
  if (failed && in_request_ && !head_done_ && headOverLimit()) {
    // The limit came before what llhttp refused: the same answer however the bytes arrive.
    return refuseHead();
  }
  if (error == HPE_PAUSED && phase_ == Phase::kHeadDone) {
    head_bytes_ += consumed;
    return headOverLimit() ? refuseHead() : Event::kHead;
  }
  if (error == HPE_PAUSED && phase_ == Phase::kComplete) return Event::kComplete;
  if (error == HPE_OK) return headOverLimit() ? refuseHead() : Event::kNeedMore;
  if (refused_) return Event::kError;
  if (!head_done_ && headers_ == 0 && field_.empty() && error != HPE_INVALID_HEADER_TOKEN) {
    // The request line is wrong; its message quotes all of it, however it arrives.
    line_error_ = error;
    const Event event = awaitLineEnd(size, used);
    *used += skipped;
    return event;
  }
  problem_ = describe(error, data, size, llhttp_get_error_pos(&parser_));
  return Event::kError;
}

size_t RequestParser::execute(const char* data, size_t size, llhttp_errno_t* error) {
  size_t consumed = 0;
  for (;;) {
    const bool trailers = in_trailers_;
    *error = llhttp_execute(&parser_, data + consumed, size - consumed);
    const size_t used = *error == HPE_OK
                            ? size - consumed
                            : static_cast<size_t>(llhttp_get_error_pos(&parser_) - data) - consumed;
    consumed += used;
    if (trailers) trailer_bytes_ += used;
    if (*error != HPE_PAUSED || !last_chunk_) return consumed;
    // What follows the last chunk's size line is the trailer section, counted from here.
    last_chunk_ = false;
    in_trailers_ = true;
    llhttp_resume(&parser_);
  }
}

RequestParser::Event RequestParser::awaitLineEnd(size_t size, size_t* used) {
  *used = size;
  const size_t limit = limits_.max_header_bytes;
  if (!line_done_) {
    // A CR just past the limit may be the line's end: the next byte says.
    const bool cr_at_the_limit = line_.size() == limit + 1 && line_.back() == '\r';
    if (line_.size() <= limit || cr_at_the_limit) return Event::kNeedMore;
  }
  // A line longer than the limit is refused as such, whatever else is wrong in it, so that the
  // answer does not depend on how its bytes arrive.
  if (line_.size() > limit) return refuseHead();
  problem_ = describeRequestLine(line_, line_error_, llhttp_get_error_reason(&parser_));
  return Event::kError;
}

RequestParser::Event RequestParser::refuseHead() {
  problem_ = {431, "request head (request line and header fields) is over the limit of " +
                       std::to_string(limits_.max_header_bytes) +
                       " bytes ([http] max_header_bytes)"};
  return Event::kError;
}

RequestParser::Event RequestParser::finish() {
  if (!in_request_ || !head_done_) return Event::kNeedMore;
  const uint64_t received = dropping_body_ ? body_bytes_ : body_.size();
  if (head_.chunked) {
    problem_ = {400, "request body ended after " + std::to_string(received) +
                         " bytes, before its last chunk (a chunked body ends with a chunk of "
                         "size 0)"};
  } else {
    problem_ = {400, "request body ended after " + std::to_string(received) + " of its " +
                         std::to_string(head_.content_length.value_or(0)) +
                         " bytes (Content-Length)"};
  }
  return Event::kError;
}

void RequestParser::recordRequestLine(const char* data, size_t size) {
  if (line_.empty()) {  // empty lines before a request are skipped
    while (size > 0 && (*data == '\r' || *data == '\n')) {
      ++data;
      --size;
    }
  }
  const auto* end = static_cast<const char*>(std::memchr(data, '\n', size));
  const size_t length = end == nullptr ? size : static_cast<size_t>(end - data);
  // Up to the limit and two bytes more: a CR and the line break after it, or the sign that the
  // line is longer than the limit.
  const size_t room = limits_.max_header_bytes + 2;
  line_.append(data, std::min(length, room - std::min(line_.size(), room)));
  if (end != nullptr) {
    line_done_ = true;
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  }
}

int RequestParser::refuse(int status, std::string message) {
  problem_ = {status, std::move(message)};
  refused_ = true;
  return HPE_USER;
}

HttpProblem RequestParser::describe(llhttp_errno_t error, const char* data, size_t size,
                                    const char* at) const {
  const char* reason = llhttp_get_error_reason(&parser_);
  if (reason == nullptr) reason = llhttp_errno_name(error);
  const std::string_view line = lineAround(data, size, at);
  switch (error) {
    case HPE_INVALID_CONTENT_LENGTH: {
      // The whole header line is in this read, or its value began in earlier ones.
      const size_t colon = line.find(':');
      const std::string value = colon == std::string_view::npos
                                    ? value_ + std::string(line)
                                    : std::string(line.substr(colon + 1));
      return {400, "invalid Content-Length '" + printable(trim(value)) +
                       "': it must be a number of bytes, digits only"};
    }
    case HPE_INVALID_TRANSFER_ENCODING:
    case HPE_UNEXPECTED_CONTENT_LENGTH:
      return {400, "request body framing refused (" + std::string(reason) +
                       "); send one Content-Length or Transfer-Encoding: chunked"};
    case HPE_INVALID_CHUNK_SIZE:
      return {400, "malformed chunked body: chunk size line '" + printable(line) +
                       "' is not a hexadecimal size"};
    default:
      break;
  }
  if (head_done_) return {400, "malformed chunked body: " + std::string(reason)};
  return {400, "malformed header line '" + printable(line) + "': " + reason};
}

int RequestParser::onMessageBegin(llhttp_t* parser) {
  auto& self = *static_cast<RequestParser*>(parser->data);
  self.in_request_ = true;
  self.head_done_ = false;
  self.dropping_body_ = false;
  self.head_.target.clear();
  self.head_.content_type.clear();
  self.head_.content_length.reset();
  self.head_.expects_continue = false;
  self.head_.chunked = false;
  self.head_.request_id.clear();
  self.head_.authorization.clear();
  self.body_.clear();
  self.body_bytes_ = 0;
  self.head_bytes_ = 0;
  self.headers_ = 0;
  self.last_chunk_ = false;
  self.in_trailers_ = false;
  self.trailer_bytes_ = 0;
  self.extension_bytes_ = 0;
  self.field_.clear();
  self.value_.clear();
  self.content_lengths_ = 0;
  self.transfer_encodings_ = 0;
  self.authorizations_ = 0;
  self.transfer_encoding_.clear();
  return HPE_OK;
}

int RequestParser::refuseHeadOver(size_t held) {
  if (held <= limits_.max_header_bytes) return HPE_OK;
  refuseHead();
  refused_ = true;
  return HPE_USER;
}

int RequestParser::onUrl(llhttp_t* parser, const char* at, size_t length) {
  auto& self = *static_cast<RequestParser*>(parser->data);
  if (self.refuseHeadOver(self.head_.target.size() + length) != HPE_OK) return HPE_USER;
  self.head_.target.append(at, length);
  return HPE_OK;
}

int RequestParser::onHeaderField(llhttp_t* parser, const char* at, size_t length) {
  auto& self = *static_cast<RequestParser*>(parser->data);
  if (self.in_trailers_) return HPE_OK;  // counted as they are used, and dropped
  if (self.refuseHeadOver(self.field_.size() + length) != HPE_OK) return HPE_USER;
  self.field_.append(at, length);
  return HPE_OK;
}

int RequestParser::onHeaderFieldComplete(llhttp_t* parser) {
  auto& self = *static_cast<RequestParser*>(parser->data);
  if (++self.headers_ > self.limits_.max_headers) {
    return self.refuse(431, "request has more than " + std::to_string(self.limits_.max_headers) +
                                " header fields ([http] max_headers)");
  }
  self.field_kind_ = Field::kOther;
  if (self.in_trailers_) return HPE_OK;  // a trailer changes nothing the host uses
  if (equalsIgnoreCase(self.field_, "content-type")) {
    self.field_kind_ = Field::kContentType;
  } else if (equalsIgnoreCase(self.field_, "content-length")) {
    self.field_kind_ = Field::kContentLength;
    if (++self.content_lengths_ > 1) {
      return self.refuse(400, "request has more than one Content-Length header; send exactly one");
    }
  } else if (equalsIgnoreCase(self.field_, "transfer-encoding")) {
    self.field_kind_ = Field::kTransferEncoding;
    if (++self.transfer_encodings_ > 1) {
      return self.refuse(400,
                         "request has more than one Transfer-Encoding header; only a single "
                         "'chunked' is accepted");
    }
  } else if (equalsIgnoreCase(self.field_, "expect")) {
    self.field_kind_ = Field::kExpect;
  } else if (equalsIgnoreCase(self.field_, "x-request-id")) {
    self.field_kind_ = Field::kRequestId;
  } else if (equalsIgnoreCase(self.field_, "authorization")) {
    self.field_kind_ = Field::kAuthorization;
    if (++self.authorizations_ > 1) {
      return self.refuse(400, "request has more than one Authorization header; send one");
    }
  }
  if (self.content_lengths_ > 0 && self.transfer_encodings_ > 0) {
    return self.refuse(400, "request has both Content-Length and Transfer-Encoding; send one");
  }
  return HPE_OK;
}

int RequestParser::onHeaderValue(llhttp_t* parser, const char* at, size_t length) {
  auto& self = *static_cast<RequestParser*>(parser->data);
  if (self.field_kind_ == Field::kOther) return HPE_OK;
  if (self.refuseHeadOver(self.value_.size() + length) != HPE_OK) return HPE_USER;
  self.value_.append(at, length);
  return HPE_OK;
}

int RequestParser::onHeaderValueComplete(llhttp_t* parser) {
  auto& self = *static_cast<RequestParser*>(parser->data);
  const std::string_view value = trim(self.value_);
  switch (self.field_kind_) {
    case Field::kContentType:
      self.head_.content_type.assign(value);
      break;
    case Field::kTransferEncoding:
      self.transfer_encoding_.assign(value);
      break;
    case Field::kExpect:
      self.head_.expects_continue = equalsIgnoreCase(value, "100-continue");
      break;
    case Field::kRequestId:
      // One the client cannot make usable is replaced by the server's own, not refused.
      if (RequestId::acceptable(value)) {
        self.head_.request_id.assign(value);
      } else {
        self.head_.request_id.clear();
      }
      break;
    case Field::kAuthorization:
      self.head_.authorization.assign(value);
      break;
    case Field::kContentLength:  // llhttp parses and checks it
    case Field::kOther:
      break;
  }
  self.field_.clear();
  self.value_.clear();
  return HPE_OK;
}

int RequestParser::onHeadersComplete(llhttp_t* parser) {
  auto& self = *static_cast<RequestParser*>(parser->data);
  RequestHead& head = self.head_;
  if (parser->http_major != 1 || parser->http_minor > 1) {
    return self.refuse(505, "HTTP version HTTP/" + std::to_string(parser->http_major) + "." +
                                std::to_string(parser->http_minor) +
                                " is not supported; use HTTP/1.1");
  }
  if (self.transfer_encodings_ > 0 && !equalsIgnoreCase(self.transfer_encoding_, "chunked")) {
    return self.refuse(400, "unsupported Transfer-Encoding '" + printable(self.transfer_encoding_) +
                                "'; only a single 'chunked' is accepted");
  }
  head.method_code = static_cast<llhttp_method_t>(parser->method);
  head.method = llhttp_method_name(head.method_code);
  head.minor_version = parser->http_minor;
  head.keep_alive = llhttp_should_keep_alive(parser) != 0;
  head.chunked = (parser->flags & F_CHUNKED) != 0;
  if ((parser->flags & F_CONTENT_LENGTH) != 0) head.content_length = parser->content_length;
  // Answered as HTTP/1.1 whatever the request asks to switch to (CONNECT, Upgrade: h2c...).
  parser->upgrade = 0;
  self.head_done_ = true;
  self.phase_ = Phase::kHeadDone;
  return HPE_PAUSED;
}

int RequestParser::onChunkHeader(llhttp_t* parser) {
  auto& self = *static_cast<RequestParser*>(parser->data);
  if (parser->content_length != 0) return HPE_OK;
  self.last_chunk_ = true;  // execute() counts the trailer section from here
  return HPE_PAUSED;
}

int RequestParser::onChunkExtension(llhttp_t* parser, const char*, size_t length) {
  auto& self = *static_cast<RequestParser*>(parser->data);
  self.extension_bytes_ += length;
  if (self.extension_bytes_ <= self.limits_.max_header_bytes) return HPE_OK;
  return self.refuse(400, "request chunk extensions (after a chunk's size) are over the limit of " +
                              std::to_string(self.limits_.max_header_bytes) +
                              " bytes in a request ([http] max_header_bytes); busbar uses none");
}

int RequestParser::onBody(llhttp_t* parser, const char* at, size_t length) {
  auto& self = *static_cast<RequestParser*>(parser->data);
  self.body_bytes_ += length;
  if (self.body_bytes_ > self.limits_.max_body) {
    return self.refuse(413, "request body is over the limit of " +
                                std::to_string(self.limits_.max_body) + " bytes ([http] max_body)");
  }
  if (!self.dropping_body_) self.body_.append(at, length);
  return HPE_OK;
}

int RequestParser::onMessageComplete(llhttp_t* parser) {
  auto& self = *static_cast<RequestParser*>(parser->data);
  self.in_request_ = false;
  self.in_trailers_ = false;
  self.phase_ = Phase::kComplete;
  return HPE_PAUSED;
}

std::string errorBody(const std::string& message) {
  Poco::JSON::Object body;
  body.set("error", message);
  std::ostringstream out;
  body.stringify(out);
  return out.str();
}

HttpResponse errorResponse(int status, const std::string& message) {
  HttpResponse response;
  response.status = status;
  response.body = errorBody(message);
  return response;
}

void appendResponse(std::string& out, int minor_version, const HttpResponse& response,
                    bool keep_alive, bool head_only, const RequestId* request_id) {
  const auto status = static_cast<Poco::Net::HTTPResponse::HTTPStatus>(response.status);
  const bool has_content =
      response.status >= 200 && response.status != 204 && response.status != 304;
  out.reserve(out.size() + 200 + response.body.size());
  out.append(minor_version == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out.append(std::to_string(response.status)).append(" ");
  out.append(Poco::Net::HTTPResponse::getReasonForStatus(status)).append("\r\n");
  out.append("Date: ").append(httpDate()).append("\r\nServer: busbar\r\n");
  if (has_content) {
    out.append("Content-Type: ");
    if (response.content_type == "application/json") {
      out.append("application/json; charset=utf-8");
    } else {
      out.append(response.content_type);
    }
    out.append("\r\nContent-Length: ").append(std::to_string(response.body.size())).append("\r\n");
  }
  if (request_id != nullptr && !request_id->empty()) out.append(request_id->headerLine());
  for (const auto& [name, value] : response.headers) {
    out.append(name).append(": ").append(value).append("\r\n");
  }
  if (!keep_alive) {
    out.append("Connection: close\r\n");
  } else if (minor_version == 0) {
    out.append("Connection: Keep-Alive\r\n");
  }
  out.append("\r\n");
  if (has_content && !head_only) out.append(response.body);
}

std::optional<size_t> firstInvalidUtf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  size_t i = 0;
  while (i < size) {
    const unsigned char lead = bytes[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;   // no overlong forms
      if (lead == 0xED) high = 0x9F;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;   // no overlong forms
      if (lead == 0xF4) high = 0x8F;  // nothing above U+10FFFF
    } else {
      return i;
    }
    if (i + length > size) return i;
    if (bytes[i + 1] < low || bytes[i + 1] > high) return i;
    for (size_t k = 2; k < length; ++k) {
      if (bytes[i + k] < 0x80 || bytes[i + k] > 0xBF) return i;
    }
    i += length;
  }
  return std::nullopt;
}

}  // namespace busbar::host

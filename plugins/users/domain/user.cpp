#include "domain/user.h"

#include <algorithm>

namespace busbar::users {

std::optional<size_t> countUtf8(const std::string& text) {
  size_t count = 0;
  size_t i = 0;
  const size_t size = text.size();
  while (i < size) {
    const auto lead = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    uint32_t code = 0;
    if (lead < 0x80) {
      length = 1;
      code = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      code = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      code = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      code = lead & 0x07;
    } else {
      return std::nullopt;
    }
    if (i + length > size) return std::nullopt;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return std::nullopt;
      code = (code << 6) | (next & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static const uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return std::nullopt;
    }
    i += length;
    ++count;
  }
  return count;
}

std::string checkUserId(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdLength) {
    return "user id must be 1-64 characters of [A-Za-z0-9_.-]";
  }
  bool valid = std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
  return valid ? "" : "user id must be 1-64 characters of [A-Za-z0-9_.-]";
}

std::string checkUserName(const std::string& name) {
  auto length = countUtf8(name);
  if (!length) return "name must be valid UTF-8";
  if (*length == 0 || *length > kMaxNameLength) {
    return "name must be 1-100 characters; found " + std::to_string(*length);
  }
  if (name.find('\0') != std::string::npos) return "name must not contain NUL";
  return "";
}

std::string checkUserEmail(const std::string& email) {
  auto length = countUtf8(email);
  if (!length) return "email must be valid UTF-8";
  if (*length > kMaxEmailLength) return "email must be at most 254 characters";
  auto at = email.find('@');
  if (at == std::string::npos || email.find('@', at + 1) != std::string::npos || at == 0 ||
      at + 1 == email.size()) {
    return "email must have exactly one '@' with text on both sides";
  }
  if (email.find_first_of(" \t\r\n", 0) != std::string::npos ||
      email.find('\0') != std::string::npos) {
    return "email must not contain spaces or control characters";
  }
  return "";
}

}  // namespace busbar::users

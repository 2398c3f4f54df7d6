// The compact JSON text of an object, as the operators' routes answer it.
#pragma once

#include <sstream>
#include <string>

#include <Poco/JSON/Object.h>

namespace busbar::host {

inline std::string jsonText(const Poco::JSON::Object& object) {
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

}  // namespace busbar::host

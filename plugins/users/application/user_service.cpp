#include "application/user_service.h"

namespace busbar::users {

SaveResult UserService::put(const std::string& id, const std::string& name,
                            const std::optional<std::string>& email) {
  return repository_.save(id, name, email);
}

bool UserService::remove(const std::string& id) { return repository_.remove(id).has_value(); }

}  // namespace busbar::users

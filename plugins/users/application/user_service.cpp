#include "application/user_service.h"

namespace busbar::users {

SaveResult UserService::put(const std::string& id, const std::string& name,
                            const std::optional<std::string>& email) {
  SaveResult result = repository_.save(id, name, email);
  publisher_.publish(UserChange{
      result.created ? UserChangeKind::kCreated : UserChangeKind::kUpdated, result.user});
  return result;
}

bool UserService::remove(const std::string& id) {
  auto version = repository_.remove(id);
  if (!version) return false;
  User gone;
  gone.id = id;
  gone.version = *version;
  publisher_.publish(UserChange{UserChangeKind::kDeleted, gone});
  return true;
}

}  // namespace busbar::users

#include "infrastructure/composed_user_repository.h"

namespace busbar::users {

SaveResult ComposedUserRepository::save(const std::string& id, const std::string& name,
                                        const std::optional<std::string>& email) {
  // What the copy holds is most likely the stored row, which spares the write reading it.
  auto held = memory_.record(id);
  SaveResult result =
      held ? persistent_.saveOver(*held, name, email) : persistent_.save(id, name, email);
  memory_.apply(UserRecord{result.user, false});
  return result;
}

std::optional<int64_t> ComposedUserRepository::remove(const std::string& id) {
  auto version = persistent_.remove(id);
  if (version) memory_.apply(UserRecord{User{id, "", std::nullopt, *version}, true});
  return version;
}

void ComposedUserRepository::onChange(const UserChange& change) {
  if (mode_ == RefreshMode::kReload) {
    reload();
  } else {
    memory_.apply(change.record());
  }
}

void ComposedUserRepository::reload() {
  memory_.replaceAll([this] { return persistent_.loadAll(); });
}

}  // namespace busbar::users

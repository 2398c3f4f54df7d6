// The HTTP API of users: PUT, GET, DELETE /users/{id} and GET /users. See README "HTTP API".
#pragma once

#include "application/user_service.h"
#include "busbar/http.h"

namespace busbar::users {

// Registers the routes; `service` must outlive the host's HTTP server.
void registerUserRoutes(Routes& routes, UserService& service);

}  // namespace busbar::users

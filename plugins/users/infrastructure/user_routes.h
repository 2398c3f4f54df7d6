// The HTTP API of users: PUT, GET, DELETE /users/{id} and GET /users. See README "HTTP API".
#pragma once

#include "application/user_service.h"
#include "busbar/http.h"

namespace busbar::users {

// Registers the routes; `service` must outlive the host's HTTP server. `reads_from_memory`: the
// service's repository answers reads from memory (repository = composed), so the read routes
// never block and run on the host's event loops; otherwise every route runs on its workers.
// The routes take no query parameters but GET /users's limit and offset.
void registerUserRoutes(Routes& routes, UserService& service, bool reads_from_memory);

}  // namespace busbar::users

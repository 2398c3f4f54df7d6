// Test support: TCP ports for the servers, proxies and databases a test starts.
#pragma once

namespace busbar::testing {

// A TCP port on 127.0.0.1 that was free when asked, below the kernel's ephemeral range where
// there is room, so that no outgoing connection takes it before the caller binds it. Another
// process may still bind it first: a caller that starts a server retries on a fresh port
// (ServerProcess::start does). No port is handed out twice in one process. Thread-safe.
int freePort();

}  // namespace busbar::testing

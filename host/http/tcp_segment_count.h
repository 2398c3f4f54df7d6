// Test support: what the kernel counted on a TCP socket, to see how the server wrote its bytes.
#pragma once

#include <cstdint>

namespace busbar::host::testing {

// The data segments `fd`, a connected TCP socket, has received so far (TCP_INFO). On failure,
// throws std::system_error.
uint32_t dataSegmentsReceived(int fd);

}  // namespace busbar::host::testing

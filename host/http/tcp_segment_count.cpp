// Apart from the tests that use it: linux/tcp.h, which has the field, clashes with netinet/tcp.h,
// which Poco's socket headers include.
#include "http/tcp_segment_count.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <system_error>

namespace busbar::host::testing {

uint32_t dataSegmentsReceived(int fd) {
  tcp_info info{};
  socklen_t size = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0) {
    throw std::system_error(errno, std::generic_category(), "getsockopt(TCP_INFO)");
  }
  return info.tcpi_data_segs_in;
}

}  // namespace busbar::host::testing

#include "wakeup.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace busbar::amqp {

Wakeup::Wakeup() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

Wakeup::~Wakeup() { ::close(fd_); }

void Wakeup::raise() noexcept {
  const uint64_t one = 1;
  // EAGAIN only when the counter is at its maximum: it is readable then anyway.
  [[maybe_unused]] ssize_t written = ::write(fd_, &one, sizeof one);
}

bool Wakeup::clear() noexcept {
  uint64_t count = 0;
  return ::read(fd_, &count, sizeof count) == static_cast<ssize_t>(sizeof count);
}

}  // namespace busbar::amqp

// Wakeup: a descriptor that a worker polls beside its broker socket and that other threads make
// readable, so that a worker waiting for the broker's frames also wakes when it has new work.
//
// An eventfd: raise() from any thread, fd() and clear() from the polling thread.
#pragma once

namespace busbar::amqp {

class Wakeup {
 public:
  // On failure (the process is out of descriptors) throws std::system_error.
  Wakeup();
  ~Wakeup();
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  // Readable (POLLIN) from the first raise() until the next clear().
  int fd() const { return fd_; }
  // Makes fd() readable. Thread-safe, never blocks.
  void raise() noexcept;
  // Makes fd() unreadable again; returns whether it was raised.
  bool clear() noexcept;

 private:
  int fd_ = -1;
};

}  // namespace busbar::amqp

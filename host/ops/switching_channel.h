// SwitchingChannel: a Poco channel that forwards to another one, which can be replaced while
// threads log. Every logger keeps this one; a reload (SIGHUP) switches what is behind it: Poco's
// own Logger::setChannel is not safe against concurrent log() calls.
//
// Thread-safety: everything, from any thread.
#pragma once

#include <mutex>

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Message.h>

namespace busbar::host {

class SwitchingChannel : public Poco::Channel {
 public:
  explicit SwitchingChannel(Poco::AutoPtr<Poco::Channel> target) : target_(std::move(target)) {}

  void log(const Poco::Message& message) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (target_) target_->log(message);
  }

  // Puts `target` behind this channel and closes the one it replaces.
  void switchTo(Poco::AutoPtr<Poco::Channel> target) {
    Poco::AutoPtr<Poco::Channel> previous;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      previous = target_;
      target_ = std::move(target);
    }
    if (previous) previous->close();
  }

  void close() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (target_) target_->close();
  }

 private:
  std::mutex mutex_;
  Poco::AutoPtr<Poco::Channel> target_;
};

}  // namespace busbar::host

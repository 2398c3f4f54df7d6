#include "background_worker.h"

#include <pthread.h>

namespace busbar::host {

namespace {

// Linux keeps 15 characters of a thread's name and refuses a longer one.
constexpr size_t kThreadNameMax = 15;

}  // namespace

BackgroundWorker::~BackgroundWorker() { stop(); }

void BackgroundWorker::start(const std::string& name, std::function<void()> loop) {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([name = name.substr(0, kThreadNameMax), loop = std::move(loop)] {
    // Named from inside, so that the loop's first instruction already runs under the name.
    ::pthread_setname_np(::pthread_self(), name.c_str());
    loop();
  });
}

void BackgroundWorker::stop() noexcept {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace busbar::host

#include "visibility_watcher.h"

#include <algorithm>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

namespace busbar::bench {
namespace {

constexpr std::chrono::microseconds kPause{500};

long servedVersion(Poco::Net::HTTPClientSession& session, const std::string& id) {
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/users/" + id,
                                 Poco::Net::HTTPMessage::HTTP_1_1);
  request.setKeepAlive(true);
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::string body;
  Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
  return response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK ? versionIn(body) : -1;
}

}  // namespace

long versionIn(const std::string& body) {
  const std::string key = "\"version\":";
  auto at = body.find(key);
  return at == std::string::npos ? -1 : std::stol(body.substr(at + key.size()));
}

VisibilityWatcher::VisibilityWatcher(int port, std::chrono::milliseconds give_up)
    : port_(port), give_up_(give_up), worker_([this] { run(); }) {}

VisibilityWatcher::~VisibilityWatcher() { finish(); }

void VisibilityWatcher::watch(std::string id, long version, Clock::time_point answered) {
  std::lock_guard<std::mutex> lock(mutex_);
  incoming_.push_back({std::move(id), version, answered});
  added_.notify_one();
}

VisibilityWatcher::Result VisibilityWatcher::finish() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    finishing_ = true;
  }
  added_.notify_one();
  if (worker_.joinable()) worker_.join();
  std::sort(result_.delays_us.begin(), result_.delays_us.end());
  return result_;
}

void VisibilityWatcher::run() {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port_));
  session.setKeepAlive(true);  // else Poco closes the connection after every request
  std::vector<Awaited> awaited;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (awaited.empty()) {
        added_.wait(lock, [this] { return finishing_ || !incoming_.empty(); });
      }
      if (awaited.empty() && incoming_.empty() && finishing_) return;
      awaited.insert(awaited.end(), incoming_.begin(), incoming_.end());
      incoming_.clear();
    }
    // One poll of each awaited write per pass, so that one slow write delays no other, and a
    // pause between passes, so that the polls cost the watched server next to nothing (each
    // delay is then up to one pause too long).
    if (!awaited.empty()) std::this_thread::sleep_for(kPause);
    for (auto it = awaited.begin(); it != awaited.end();) {
      long served = -1;
      try {
        served = servedVersion(session, it->id);
      } catch (const Poco::Exception&) {
        session.reset();
      }
      const auto now = Clock::now();
      if (served >= it->version) {
        result_.delays_us.push_back(
            std::chrono::duration<double, std::micro>(now - it->answered).count());
      } else if (now - it->answered > give_up_) {
        ++result_.missed;
      } else {
        ++it;
        continue;
      }
      it = awaited.erase(it);
    }
  }
}

}  // namespace busbar::bench

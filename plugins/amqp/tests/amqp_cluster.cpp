#include "amqp_cluster.h"

#include <atomic>
#include <cstdlib>
#include <map>
#include <sstream>
#include <stdexcept>

#include <Poco/JSON/Parser.h>
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>
#include <Poco/UUIDGenerator.h>

#include "service_database.h"

namespace busbar::testing {
namespace {

// Unique within the run's vhost, which may hold earlier tests' exchanges.
std::string uniqueExchangeName() {
  static std::atomic<int> counter{0};
  return "busbar.test." + std::to_string(Poco::Process::id()) + "." + std::to_string(++counter) +
         "." + newUuid().substr(0, 8);
}

}  // namespace

AmqpCluster::AmqpCluster(const std::string& event_bus, const std::string& amqp)
    : broker_(brokerFromEnvironment()),
      exchange_(uniqueExchangeName()),
      event_bus_(event_bus),
      amqp_(amqp) {
  chooseStorage();
  config_file_ = dir_.write("host.conf", config(""));
}

std::string AmqpCluster::config(const std::string& users_section) const {
  return "[host]\nplugins = amqp, " + storage_plugin_ +
         ", users\n"
         "[event_bus]\ntransport = amqp\nexchanges.events = " +
         exchange_ + "\nrouter._all = events\n" + event_bus_ + "[amqp]\nhost = " + broker_.host +
         "\nport = " + std::to_string(broker_.port) + "\nvhost = " + broker_.vhost +
         "\nuser = " + broker_.user + "\npassword = " + broker_.password + "\n" + amqp_ +
         storage_section_ + users_section;
}

void AmqpCluster::chooseStorage() {
  const char* choice = std::getenv("BUSBAR_TEST_STORAGE");
  storage_plugin_ = choice == nullptr || *choice == '\0' ? "sqlite" : choice;
  if (storage_plugin_ == "sqlite") {
    storage_section_ = "[storage]\ndriver = sqlite\nsqlite.path = " + dir_.path() + "/busbar.db\n";
    return;
  }
  if (storage_plugin_ != "mysql" && storage_plugin_ != "postgresql") {
    throw std::runtime_error("BUSBAR_TEST_STORAGE must be sqlite, mysql or postgresql; found '" +
                             storage_plugin_ + "'");
  }
  // A database of this cluster's own, so that no other test's rows are in its tables.
  auto keys = createServiceDatabase(storage_plugin_);
  storage_section_ = "[storage]\ndriver = " + storage_plugin_ + "\nhost = " + keys["host"] +
                     "\nport = " + keys["port"] + "\ndatabase = " + keys["database"] +
                     "\nuser = " + keys["user"] + "\npassword = " + keys["password"] + "\n";
}

ServerProcess& AmqpCluster::startServer(const std::string& consume) {
  std::vector<std::string> args;
  if (!consume.empty()) args = {"--exchange", consume};
  servers_.push_back(std::make_unique<ServerProcess>(config_file_, args));
  servers_.back()->start();
  return *servers_.back();
}

ServerProcess& AmqpCluster::startDatabaseReader() {
  std::string file = dir_.write("reader.conf", config("[users]\nrepository = persistent\n"));
  servers_.push_back(std::make_unique<ServerProcess>(file));
  servers_.back()->start();
  return *servers_.back();
}

std::string usersOf(const ServerProcess& server) {
  HttpResult result = server.request("GET", "/users");
  if (result.status != 200) {
    throw std::runtime_error("GET /users answered " + std::to_string(result.status) + ": " +
                             result.body);
  }
  return result.body;
}

Poco::JSON::Object::Ptr parseJson(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
}

std::string newUuid() { return Poco::UUIDGenerator::defaultGenerator().createRandom().toString(); }

std::string outsideEnvelope(const std::string& type, const std::string& id,
                            const std::string& payload_json, int version) {
  return R"({"type":")" + type + R"(","id":")" + id +
         R"(","occurred_on":"2024-05-01T12:34:56.789Z","origin":"outside-client","version":)" +
         std::to_string(version) + R"(,"payload":)" + payload_json + "}";
}

std::string rabbitmqctl(const std::vector<std::string>& args) {
  Poco::Pipe output;
  Poco::ProcessHandle handle =
      Poco::Process::launch("rabbitmqctl", args, nullptr, &output, &output);
  Poco::PipeInputStream stream(output);
  std::string text;
  Poco::StreamCopier::copyToString(stream, text);
  int code = handle.wait();
  if (code != 0) {
    std::string command = "rabbitmqctl";
    for (const auto& arg : args) command += " " + arg;
    throw std::runtime_error(command + " exited " + std::to_string(code) + ": " + text);
  }
  return text;
}

}  // namespace busbar::testing

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
    : AmqpCluster(ClusterOptions{event_bus, amqp, "", {}, false, {}}) {}

AmqpCluster::AmqpCluster(ClusterOptions options)
    : options_(std::move(options)),
      broker_(options_.broker_nodes.empty() ? brokerFromEnvironment()
                                            : options_.broker_nodes.back()),
      exchange_(uniqueExchangeName()) {
  chooseStorage(options_.private_database);
  config_file_ = dir_.write("host.conf", config(""));
}

std::string AmqpCluster::config(const std::string& users_section, size_t first_node) const {
  std::string modules;
  for (const auto& module : options_.modules) modules += ", " + module;
  std::string plugin_dir;
  if (!options_.modules.empty()) {
    plugin_dir =
        "plugin_dir = " + buildDir() + "/lib/busbar/plugins, " + buildDir() + "/test-modules\n";
  }
  return "[host]\nplugins = amqp, " + storage_plugin_ + ", users" + modules + "\n" + plugin_dir +
         "[event_bus]\ntransport = amqp\nexchanges.events = " + exchange_ +
         "\nrouter._all = events\n" + options_.event_bus + "[amqp]\n" + brokerKeys(first_node) +
         "vhost = " + broker_.vhost + "\nuser = " + broker_.user +
         "\npassword = " + broker_.password + "\n" + options_.amqp + storage_section_ +
         options_.sections + users_section;
}

std::string AmqpCluster::brokerKeys(size_t first_node) const {
  const auto& nodes = options_.broker_nodes;
  if (nodes.empty()) {
    return "host = " + broker_.host + "\nport = " + std::to_string(broker_.port) + "\n";
  }
  std::string hosts;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const BrokerAddress& node = nodes[(first_node + i) % nodes.size()];
    hosts += (hosts.empty() ? "" : ", ") + node.host + ":" + std::to_string(node.port);
  }
  return "hosts = " + hosts + "\n";
}

void AmqpCluster::chooseStorage(bool private_database) {
  const char* choice = std::getenv("BUSBAR_TEST_STORAGE");
  storage_plugin_ = choice == nullptr || *choice == '\0' ? "sqlite" : choice;
  if (storage_plugin_ == "sqlite") {
    storage_keys_["path"] = dir_.path() + "/busbar.db";
    storage_section_ = "[storage]\ndriver = sqlite\nsqlite.path = " + storage_keys_["path"] + "\n";
    return;
  }
  if (storage_plugin_ != "mysql" && storage_plugin_ != "postgresql") {
    throw std::runtime_error("BUSBAR_TEST_STORAGE must be sqlite, mysql or postgresql; found '" +
                             storage_plugin_ + "'");
  }
  if (private_database) {
    private_database_ = std::make_unique<PrivateDatabase>(storage_plugin_);
    storage_keys_ = private_database_->storageKeys();
  } else {
    // A database of this cluster's own, so that no other test's rows are in its tables.
    storage_keys_ = createServiceDatabase(storage_plugin_);
  }
  storage_section_ = "[storage]\ndriver = " + storage_plugin_ +
                     "\nhost = " + storage_keys_["host"] + "\nport = " + storage_keys_["port"] +
                     "\ndatabase = " + storage_keys_["database"] +
                     "\nuser = " + storage_keys_["user"] +
                     "\npassword = " + storage_keys_["password"] + "\nconnect_timeout = 2\n";
}

ServerProcess& AmqpCluster::startServerThrough(int port) {
  if (storage_plugin_ == "sqlite") throw std::runtime_error("SQLite has no connection to proxy");
  // The [storage] section comes after [amqp]: its port is the last.
  return startServerWithPort(std::stoi(storage_keys_.at("port")), port, false);
}

ServerProcess& AmqpCluster::startServerThroughBroker(int port) {
  // [amqp] comes before [storage]: its port is the first.
  return startServerWithPort(broker_.port, port, true);
}

ServerProcess& AmqpCluster::startServerWithPort(int from, int to, bool first) {
  std::string text = config("");
  const std::string line = "\nport = " + std::to_string(from) + "\n";
  const auto at = first ? text.find(line) : text.rfind(line);
  text.replace(at, line.size(), "\nport = " + std::to_string(to) + "\n");
  std::string file = dir_.write("port-" + std::to_string(to) + ".conf", text);
  servers_.push_back(
      std::make_unique<ServerProcess>(file, std::vector<std::string>{"--exchange", "events"}));
  servers_.back()->start();
  return *servers_.back();
}

void AmqpCluster::dumpDatabase(const std::string& file) const {
  if (private_database_) {
    private_database_->dump(file);
  } else if (storage_plugin_ == "sqlite") {
    shell("sqlite3 '" + storage_keys_.at("path") + "' \".backup '" + file + "'\"");
  } else {
    throw std::runtime_error("dumpDatabase needs ClusterOptions::private_database on " +
                             storage_plugin_);
  }
}

void AmqpCluster::restoreDatabase(const std::string& file) const {
  if (private_database_) {
    private_database_->restore(file);
  } else if (storage_plugin_ == "sqlite") {
    // Through SQLite's own locking: the servers wait (busy timeout) while the pages are copied.
    shell("sqlite3 -cmd '.timeout 10000' '" + storage_keys_.at("path") + "' \".restore '" + file +
          "'\"");
  } else {
    throw std::runtime_error("restoreDatabase needs ClusterOptions::private_database on " +
                             storage_plugin_);
  }
}

void AmqpCluster::dumpTables(const std::string& file,
                             const std::vector<std::string>& tables) const {
  if (private_database_) {
    private_database_->dump(file, tables);
  } else if (storage_plugin_ == "sqlite") {
    std::string commands = "BEGIN;";
    for (const auto& table : tables) commands += " DROP TABLE IF EXISTS " + table + ";";
    shell("echo '" + commands + "' >'" + file + "'");
    for (const auto& table : tables) {
      // .dump writes its own BEGIN and COMMIT: keep one transaction around them all.
      shell("sqlite3 -cmd '.timeout 10000' '" + storage_keys_.at("path") + "' '.dump " + table +
            "' | grep -v -e '^BEGIN TRANSACTION;$' -e '^COMMIT;$' >>'" + file + "'");
    }
    shell("echo 'COMMIT;' >>'" + file + "'");
  } else {
    throw std::runtime_error("dumpTables needs ClusterOptions::private_database on " +
                             storage_plugin_);
  }
}

void AmqpCluster::restoreTables(const std::string& file) const {
  if (private_database_) {
    private_database_->restore(file);
  } else if (storage_plugin_ == "sqlite") {
    shell("sqlite3 -cmd '.timeout 10000' '" + storage_keys_.at("path") + "' <'" + file + "'");
  } else {
    throw std::runtime_error("restoreTables needs ClusterOptions::private_database on " +
                             storage_plugin_);
  }
}

std::string AmqpCluster::query(const std::string& sql) const {
  const auto& keys = storage_keys_;
  if (storage_plugin_ == "sqlite") {
    return shell("sqlite3 -cmd '.timeout 10000' '" + keys.at("path") + "' \"" + sql + "\"");
  }
  if (storage_plugin_ == "mysql") {
    // The client's exit status, not the pipe's: a failed statement throws.
    return shell("out=$(mysql --no-defaults -N -B -h " + keys.at("host") + " -P " +
                 keys.at("port") + " -u" + keys.at("user") + " -p'" + keys.at("password") + "' " +
                 keys.at("database") + " -e \"" + sql +
                 "\") || exit 1; [ -z \"$out\" ] || printf '%s\\n' \"$out\" | tr '\\t' '|'");
  }
  return shell("PGPASSWORD='" + keys.at("password") + "' psql -X -q -A -t -h " + keys.at("host") +
               " -p " + keys.at("port") + " -U " + keys.at("user") + " -d " + keys.at("database") +
               " -c \"" + sql + "\"");
}

ServerProcess& AmqpCluster::startServer(const std::string& consume,
                                        const std::map<std::string, std::string>& env) {
  std::vector<std::string> args;
  if (!consume.empty()) args = {"--exchange", consume};
  std::string file = config_file_;
  if (!options_.broker_nodes.empty()) {
    const size_t first_node = servers_.size() % options_.broker_nodes.size();
    file = dir_.write("node-" + std::to_string(servers_.size()) + ".conf", config("", first_node));
  }
  servers_.push_back(std::make_unique<ServerProcess>(file, args, env));
  servers_.back()->start();
  return *servers_.back();
}

ServerProcess& AmqpCluster::startDatabaseReader() {
  // Without the event log: the reader only reads the database, and takes no part in the
  // numbering or the relay, so that the servers under test are the only candidates for both.
  std::string file = dir_.write(
      "reader.conf", config("[users]\nrepository = persistent\n[event_log]\nenabled = false\n"));
  servers_.push_back(std::make_unique<ServerProcess>(file));
  servers_.back()->start();
  return *servers_.back();
}

std::string allUsersOf(const ServerProcess& server) {
  std::string all;
  for (size_t offset = 0;; offset += 1000) {
    std::string path = "/users?limit=1000&offset=" + std::to_string(offset);
    HttpResult result = server.request("GET", path);
    if (result.status != 200) {
      throw std::runtime_error("GET " + path + " answered " + std::to_string(result.status) + ": " +
                               result.body);
    }
    auto users = parseJson(result.body)->getArray("users");
    // {"users":[...]}: the page's items, joined.
    std::string items = result.body.substr(10, result.body.size() - 12);
    if (!items.empty()) all += (all.empty() ? "" : ",") + items;
    if (users->size() < 1000) return "[" + all + "]";
  }
}

std::string shell(const std::string& command) {
  Poco::Pipe output;
  Poco::ProcessHandle handle =
      Poco::Process::launch("/bin/sh", {"-c", command}, nullptr, &output, &output);
  Poco::PipeInputStream stream(output);
  std::string text;
  Poco::StreamCopier::copyToString(stream, text);
  if (handle.wait() != 0) throw std::runtime_error("failed: " + command + "\n" + text);
  return text;
}

std::string consumerLink(const ServerProcess& server) {
  const std::string metrics = server.request("GET", "/metrics").body;
  auto value = [&](const std::string& series) {
    const auto at = metrics.find(series + " ");
    if (at == std::string::npos) return std::string("absent");
    const auto start = at + series.size() + 1;
    return metrics.substr(start, metrics.find('\n', start) - start);
  };
  return "connected " + value("busbar_amqp_connected{connection=\"consumer\"}") + ", reconnects " +
         value("busbar_amqp_reconnects_total{connection=\"consumer\"}");
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

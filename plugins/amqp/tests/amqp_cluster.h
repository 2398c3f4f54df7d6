// AmqpCluster: busbar servers of one test that share a database and an exchange of their own
// in the test run's RabbitMQ vhost (BUSBAR_TEST_AMQP_*).
//
// The database is a SQLite file of the cluster's folder, or, with BUSBAR_TEST_STORAGE=mysql or
// postgresql, a database of the cluster's own created on the server that scripts/services
// started (so the same scenarios run on every backend), or on a server of the cluster's own
// (ClusterOptions::private_database) that the test may stop, dump and restore.
//
// Owns its servers and folder; not thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>

#include "private_database.h"
#include "raw_amqp_client.h"
#include "server_process.h"

namespace busbar::testing {

struct ClusterOptions {
  std::string event_bus = "async_pass_through = true\n";  // appended to [event_bus]
  std::string amqp;                                       // appended to [amqp]
  std::string sections;                                   // more sections, e.g. [event_log]
  std::vector<std::string> modules;  // more plugins after users, from the test module folder
  bool private_database = false;     // mysql and postgresql: a server of the cluster's own
  // The nodes of a RabbitMQ cluster (RabbitCluster) instead of the run's broker: [amqp] hosts,
  // each server's list starting at a node of its own (the Nth server started at node N), and
  // broker() is the last node.
  std::vector<BrokerAddress> broker_nodes;
};

class AmqpCluster {
 public:
  // `event_bus` is appended to [event_bus], `amqp` to [amqp].
  explicit AmqpCluster(const std::string& event_bus = "async_pass_through = true\n",
                       const std::string& amqp = "");
  explicit AmqpCluster(ClusterOptions options);

  const BrokerAddress& broker() const { return broker_; }
  const std::string& exchange() const { return exchange_; }
  const std::string& configFile() const { return config_file_; }
  // "sqlite", "mysql" or "postgresql".
  const std::string& storage() const { return storage_plugin_; }

  // Starts a server with `--exchange consume` (by default a queue of its own; "events:NAME"
  // shares the durable queue NAME; empty: consumes nothing), with `env` added to its
  // environment. Waits until it serves.
  ServerProcess& startServer(const std::string& consume = "events",
                             const std::map<std::string, std::string>& env = {});

  // Starts a server whose users repository reads the database on every request, so that its
  // GET /users is what the database holds.
  ServerProcess& startDatabaseReader();

  // Starts a server like startServer() whose database connections go to `port` on 127.0.0.1
  // (a TcpProxy in front of the database server); mysql and postgresql only.
  ServerProcess& startServerThrough(int port);

  // Starts a server like startServer() whose broker connections go to `port` on 127.0.0.1 (a
  // TcpProxy in front of RabbitMQ).
  ServerProcess& startServerThroughBroker(int port);

  // Copies the database to `file` while the servers run.
  void dumpDatabase(const std::string& file) const;
  // Puts the copy in `file` back while the servers run, as an operator restoring a backup.
  void restoreDatabase(const std::string& file) const;
  // Copies the tables `tables` to `file` while the servers run (SQL text, each table dropped
  // and made again when restored).
  void dumpTables(const std::string& file, const std::vector<std::string>& tables) const;
  // Puts the tables copied to `file` back while the servers run: each one dropped, made again
  // and filled, as a restore does one table at a time.
  void restoreTables(const std::string& file) const;
  // The cluster's own database server; null for SQLite or without private_database.
  PrivateDatabase* privateDatabase() { return private_database_.get(); }

  // Runs `sql` on the database with its command-line client and returns what it printed
  // (one row per line, columns separated by '|').
  std::string query(const std::string& sql) const;

  const std::string& folder() const { return dir_.path(); }

 private:
  // The config; a server of a RabbitMQ cluster tries broker_nodes from `first_node` on.
  std::string config(const std::string& users_section, size_t first_node = 0) const;
  // The [amqp] keys that name the broker: host and port, or hosts from `first_node` on.
  std::string brokerKeys(size_t first_node) const;
  // Starts a server whose config has port `to` where it had `from` (its first such line, or its
  // last).
  ServerProcess& startServerWithPort(int from, int to, bool first);
  // The [storage] section and the storage plugin's name for BUSBAR_TEST_STORAGE.
  void chooseStorage(bool private_database);

  ClusterOptions options_;
  BrokerAddress broker_;
  TempDir dir_;
  std::string exchange_;
  std::string config_file_;
  std::string storage_plugin_;
  std::map<std::string, std::string> storage_keys_;  // host, port, database, user, password
  std::string storage_section_;
  std::unique_ptr<PrivateDatabase> private_database_;
  std::vector<std::unique_ptr<ServerProcess>> servers_;
};

// The body of GET /users from `server`; throws when the status is not 200.
std::string usersOf(const ServerProcess& server);

// The state of a server's consumer connection to the broker, as its /metrics tell it:
// "connected 1, reconnects N".
std::string consumerLink(const ServerProcess& server);

// Every user `server` holds, page after page of GET /users, as one JSON array.
std::string allUsersOf(const ServerProcess& server);

// Runs `command` with /bin/sh; returns what it printed, or throws with it when it fails.
std::string shell(const std::string& command);

// The parsed JSON object in `text`.
Poco::JSON::Object::Ptr parseJson(const std::string& text);

// An envelope in the documented wire format, as an outside program writes it.
std::string outsideEnvelope(const std::string& type, const std::string& id,
                            const std::string& payload_json, int version = 1);

// A fresh UUID v4 in canonical form.
std::string newUuid();

// Runs `rabbitmqctl ARGS` and returns its output; throws with it when it exits non-zero.
std::string rabbitmqctl(const std::vector<std::string>& args);

// Stops the RabbitMQ application now and starts it again when it goes (or at end()), whatever
// happened meanwhile.
class BrokerOutage {
 public:
  BrokerOutage() { rabbitmqctl({"-q", "stop_app"}); }
  ~BrokerOutage() { end(); }
  void end() {
    if (ended_) return;
    ended_ = true;
    rabbitmqctl({"-q", "start_app"});
    rabbitmqctl({"-q", "await_startup"});
  }

 private:
  bool ended_ = false;
};

}  // namespace busbar::testing

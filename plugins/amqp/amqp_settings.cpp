#include "amqp_settings.h"

namespace busbar::amqp {

AmqpSettings readAmqpSettings(const ConfigSection& section) {
  section.rejectUnknownKeys({"host", "port", "vhost", "user", "password", "heartbeat", "auto_setup",
                             "retries", "queue_capacity"});
  AmqpSettings settings;
  ConnectionSettings& connection = settings.connection;
  connection.config_file = section.file();
  connection.host = section.getString("host", "127.0.0.1");
  connection.port = static_cast<int>(section.getInt("port", 5672, 1, 65535));
  connection.vhost = section.getString("vhost", "/");
  connection.user = section.getString("user", "guest");
  connection.password = section.getSecret("password", "BUSBAR_AMQP_PASSWORD");
  if (connection.password.empty()) connection.password = "guest";  // RabbitMQ's default user
  connection.heartbeat_seconds = static_cast<int>(section.getInt("heartbeat", 10, 1, 600));
  settings.auto_setup = section.getBool("auto_setup", true);
  settings.retries = static_cast<int>(section.getInt("retries", 3, 0, 100));
  settings.queue_capacity =
      static_cast<size_t>(section.getInt("queue_capacity", 10000, 1, 10 * 1000 * 1000));
  return settings;
}

}  // namespace busbar::amqp

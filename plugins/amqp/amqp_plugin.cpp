// The amqp transport plugin: events travel between servers through RabbitMQ fanout exchanges.
//
// init() reads [amqp] and provides the Transport ("transport") and the TopologyAdmin
// ("transport.admin") without touching the network, so that --check-config and `busbar infra`
// work; start() opens the consumer and publisher connections; stop() closes them.
#include <memory>

#include "amqp_settings.h"
#include "amqp_transport.h"
#include "busbar/plugin.h"
#include "topology_admin.h"

namespace busbar::amqp {
namespace {

class AmqpPlugin : public Plugin {
 public:
  void init(PluginContext& context) override {
    AmqpSettings settings = readAmqpSettings(context.config());
    transport_ = std::make_shared<AmqpTransport>(settings, context.host(), context.inbound(),
                                                 context.logger());
    transport_->exportMetrics(context.metrics());
    context.registry().provide("transport", transport_);
    context.registry().provide("transport.admin",
                               std::make_shared<AmqpTopologyAdmin>(settings.connection));
  }

  void start() override { transport_->start(); }

  void stop() noexcept override {
    if (transport_) transport_->stop();
  }

 private:
  std::shared_ptr<AmqpTransport> transport_;
};

}  // namespace
}  // namespace busbar::amqp

BUSBAR_PLUGIN(BUSBAR_KIND_TRANSPORT, "amqp", "1.0.0", busbar::amqp::AmqpPlugin)

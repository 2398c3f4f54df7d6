// The nats transport plugin: events travel between servers through NATS JetStream, one stream
// per exchange. Built outside busbar's tree against the installed SDK (README.md here).
//
// init() reads [nats] and provides the Transport ("transport") without touching the network, so
// that --check-config works; start() connects; stop() drains and closes.
#include <memory>

#include <busbar/plugin.h>

#include "nats_settings.h"
#include "nats_transport.h"

namespace nats_transport {
namespace {

class NatsPlugin : public busbar::Plugin {
 public:
  void init(busbar::PluginContext& context) override {
    NatsSettings settings = readNatsSettings(context.config());
    transport_ = std::make_shared<NatsTransport>(settings, context.host(), context.inbound(),
                                                 context.logger());
    transport_->exportMetrics(context.metrics());
    context.registry().provide("transport", transport_);
  }

  void start() override { transport_->start(); }

  void stop() noexcept override {
    if (transport_) transport_->stop();
  }

 private:
  std::shared_ptr<NatsTransport> transport_;
};

}  // namespace
}  // namespace nats_transport

BUSBAR_PLUGIN(BUSBAR_KIND_TRANSPORT, "nats", "1.0.0", nats_transport::NatsPlugin)

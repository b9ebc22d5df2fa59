// crsp-node: flags and config file -> NodeConfig -> an OpenDHT node, a Node
// and the edge socket; runs until SIGINT or SIGTERM, then shuts down within
// 10 s (docs/node.md "Running a node").
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <thread>

#include "crsp/dht_adapter/opendht_dht.h"
#include "crsp/node/node.h"
#include "crsp/support/hex.h"
#include "options.h"
#include "prometheus_metrics.h"
#include "udp_server.h"

namespace {

using crsp::node::NodeConfig;

void ConfigureLogging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("crsp-node");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

crsp::dht::OpenDhtConfig DhtConfigFor(const NodeConfig& config) {
  crsp::dht::OpenDhtConfig dht;
  dht.port = config.dht_port;
  dht.bootstrap = config.bootstrap;
  dht.state_dir = config.state_dir + "/dht";
  dht.max_req_per_sec = config.limits.dht_max_req_per_sec;
  dht.max_peer_req_per_sec = config.limits.dht_max_peer_req_per_sec;
  // OpenDHT's lines go to trace (LogFromDht); below that level they would
  // only be formatted to be dropped.
  dht.log_opendht = spdlog::should_log(spdlog::level::trace);
  return dht;
}

void LogFromDht(crsp::dht::DhtLogLevel level, std::string_view line) {
  switch (level) {
    case crsp::dht::DhtLogLevel::kError:
      spdlog::error("dht: {}", line);
      break;
    case crsp::dht::DhtLogLevel::kWarning:
      spdlog::warn("dht: {}", line);
      break;
    case crsp::dht::DhtLogLevel::kDebug:
      spdlog::trace("dht: {}", line);
      break;
  }
}

int Run(const NodeConfig& config, const sigset_t& stop_signals) {
  // Bind the edge port first: a busy port fails before the DHT starts.
  crsp::node::UdpServer server(config.listen);
  // Then the metrics port, for the same reason; off unless --metrics.
  std::shared_ptr<crsp::node::PrometheusMetrics> metrics;
  if (!config.metrics_listen.empty()) {
    metrics = std::make_shared<crsp::node::PrometheusMetrics>(
        config.metrics_listen, config.state_dir);
  }
  auto dht = std::make_unique<crsp::dht::OpenDhtDht>(DhtConfigFor(config),
                                                     LogFromDht, metrics);
  const crsp::dht::OpenDhtDht* dht_view = dht.get();  // owned by the node
  const uint16_t dht_port = dht->port();
  crsp::node::NodeContext context;
  context.dht = std::move(dht);
  context.metrics = metrics;
  // The server outlives the node (declared first, destroyed last).
  context.send_to = [&server](const crsp::node::Sender& to,
                              std::vector<std::byte> datagram) {
    server.SendTo(to, datagram);
  };
  context.edge_port = server.port();
  std::unique_ptr<crsp::node::Node> node =
      crsp::node::Node::Create(config, std::move(context));
  if (metrics) {
    server.CountAnswers(metrics.get());
    metrics->SampleDhtWith([dht_view] {
      const crsp::dht::DhtInfo info = dht_view->Info();
      return crsp::node::DhtSample{info.good_peers, info.dubious_peers,
                                   info.stored_values,
                                   dht_view->AnnouncedOffers()};
    });
    spdlog::info("crsp-node: metrics on http://{}/metrics",
                 config.metrics_listen);
  }

  spdlog::info("crsp-node: edge {} (UDP), DHT port {}, state {}",
               server.address(), dht_port, config.state_dir);
  spdlog::info("crsp-node: Ed25519 key {}, {} offers, {} bootstrap peer(s)",
               crsp::support::ToHex(node->public_key()), node->offer_count(),
               config.bootstrap.size());

  std::thread signal_waiter([&server, &stop_signals] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    spdlog::info("crsp-node: signal {}, shutting down", signal);
    server.Stop();
  });
  server.Run(
      [&node](std::span<const std::byte> datagram,
              const crsp::node::Sender& from, crsp::node::ReplyFn reply) {
        node->HandleDatagram(datagram, from, std::move(reply));
      },
      [&node] { node->Tick(); }, std::chrono::seconds(1));
  signal_waiter.join();
  // 10 s in all: pending DHT calls get 7 s, the DHT itself the rest.
  node->Shutdown(std::chrono::seconds(7));
  if (metrics) metrics->StopServing();  // no scrape reads the DHT any more
  node.reset();
  spdlog::info("crsp-node: stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  crsp::node::ParsedOptions options = crsp::node::ParseOptions(argc, argv);
  if (options.exit_now) {
    if (options.status.ok()) {
      std::fputs(options.output.c_str(), stdout);
    } else {
      std::fprintf(stderr, "crsp-node: %s\n", options.status.message().c_str());
    }
    return options.exit_code();
  }
  ConfigureLogging(options.config.log_level);

  // Block the stop signals in every thread (OpenDHT's included); one thread
  // waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  try {
    return Run(options.config, stop_signals);
  } catch (const std::exception& e) {
    spdlog::critical("crsp-node: {}", e.what());
    return 1;
  }
}

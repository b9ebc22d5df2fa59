#include "options.h"

#include <toml++/toml.h>

#include <CLI/CLI.hpp>
#include <sstream>

namespace crsp::node {
namespace {

// Copies `key` of `table` into `out` when present and of the right type;
// records an error naming the key otherwise.
template <typename T, typename Out>
void Read(const toml::table& table, std::string_view key, Out& out,
          std::string& error) {
  const toml::node* node = table.get(key);
  if (node == nullptr || !error.empty()) return;
  std::optional<T> value = node->value<T>();
  if (!value) {
    error = "config: '" + std::string(key) + "' has the wrong type";
    return;
  }
  out = static_cast<Out>(*value);
}

}  // namespace

std::string LoadConfigFile(const std::string& path, NodeConfig& config) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "config " << path << ": " << e.description() << " (line "
        << e.source().begin.line << ")";
    return msg.str();
  }
  std::string error;
  Read<std::string>(t, "listen", config.listen, error);
  Read<int64_t>(t, "dht_port", config.dht_port, error);
  Read<std::string>(t, "state_dir", config.state_dir, error);
  Read<bool>(t, "require_signed", config.require_signed, error);
  Read<std::string>(t, "log_level", config.log_level, error);
  Read<std::string>(t, "metrics", config.metrics_listen, error);
  if (const toml::array* peers = t["bootstrap"].as_array()) {
    config.bootstrap.clear();
    for (const toml::node& peer : *peers) {
      std::optional<std::string> s = peer.value<std::string>();
      if (!s) return "config: 'bootstrap' must be a list of \"host:port\"";
      config.bootstrap.push_back(*s);
    }
  }
  if (const toml::table* l = t["limits"].as_table()) {
    Limits& lim = config.limits;
    Read<int64_t>(*l, "answer_bytes_per_sec", lim.answer_bytes_per_sec, error);
    Read<int64_t>(*l, "answer_burst_bytes", lim.answer_burst_bytes, error);
    Read<int64_t>(*l, "offers_per_source", lim.offers_per_source, error);
    Read<int64_t>(*l, "offers_per_device", lim.offers_per_device, error);
    Read<int64_t>(*l, "max_offers", lim.max_offers, error);
    Read<int64_t>(*l, "max_pending_writes", lim.max_pending_writes, error);
    Read<int64_t>(*l, "dht_max_req_per_sec", lim.dht_max_req_per_sec, error);
    Read<int64_t>(*l, "dht_max_peer_req_per_sec", lim.dht_max_peer_req_per_sec,
                  error);
  }
  return error;
}

ParsedOptions ParseOptions(int argc, const char* const* argv) {
  ParsedOptions out;
  NodeConfig flags;  // values given on the command line
  std::string config_path;
  CLI::App app{
      "crsp-node: one replica of the CRSP cloud resource sales platform.\n"
      "An OpenDHT node storing offers, and an edge server speaking the CRSP\n"
      "registration and inquiry protocols over UDP. With no flags it is a\n"
      "complete one-node platform with its state in the default directory.",
      "crsp-node"};
  app.get_formatter()->column_width(38);
  app.add_option("--config", config_path,
                 "TOML file with the same settings (keys as the long flags, "
                 "with '_' for '-'; limits in a [limits] table). Flags win.")
      ->check(CLI::ExistingFile);
  auto* listen =
      app.add_option("--listen", flags.listen,
                     "Edge server address, [ADDR]:PORT (IPv6 in brackets)")
          ->default_str(flags.listen);
  auto* dht_port = app.add_option("--dht-port", flags.dht_port,
                                  "OpenDHT UDP port, both families (0: any)")
                       ->default_str(std::to_string(flags.dht_port));
  auto* bootstrap = app.add_option("--bootstrap", flags.bootstrap,
                                   "OpenDHT peer HOST:PORT to join through "
                                   "(repeatable; IPv6 literals in brackets)");
  auto* state_dir =
      app.add_option("--state-dir", flags.state_dir,
                     "Directory of the node's identity, keys and offer "
                     "journal (default: $CRSP_STATE_DIR, else the XDG "
                     "state directory)")
          ->default_str(flags.state_dir);
  auto* require_signed = app.add_flag(
      "--require-signed", flags.require_signed,
      "Answer unsigned register and withdraw requests NOT_AUTHORIZED");
  auto* log_level =
      app.add_option("--log-level", flags.log_level, "Log level on stderr")
          ->check(
              CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
          ->default_str(flags.log_level);
  auto* metrics =
      app.add_option("--metrics", flags.metrics_listen,
                     "Serve Prometheus metrics over HTTP at IPV4:PORT, e.g. "
                     "127.0.0.1:9474 (default: off)");
  Limits& lim = flags.limits;
  auto* answer_budget =
      app.add_option("--answer-budget", lim.answer_bytes_per_sec,
                     "Answer bytes/s per source /64 (IPv4 /24)")
          ->default_str(std::to_string(lim.answer_bytes_per_sec));
  auto* answer_burst =
      app.add_option("--answer-burst", lim.answer_burst_bytes,
                     "Answer burst bytes per source /64")
          ->default_str(std::to_string(lim.answer_burst_bytes));
  auto* per_source =
      app.add_option("--offers-per-source", lim.offers_per_source,
                     "Stored offers quota per source /64")
          ->default_str(std::to_string(lim.offers_per_source));
  auto* per_device =
      app.add_option("--offers-per-device", lim.offers_per_device,
                     "Stored offers quota per device id")
          ->default_str(std::to_string(lim.offers_per_device));
  auto* max_offers = app.add_option("--max-offers", lim.max_offers,
                                    "Offers this node accepts in total")
                         ->default_str(std::to_string(lim.max_offers));
  auto* max_pending =
      app.add_option("--max-pending-writes", lim.max_pending_writes,
                     "Offers and withdrawals awaiting the DHT, at most; "
                     "past it registers are RATE_LIMITED at once")
          ->default_str(std::to_string(lim.max_pending_writes));
  auto* dht_req =
      app.add_option("--dht-max-req-per-sec", lim.dht_max_req_per_sec,
                     "OpenDHT requests/s this node serves (-1: no limit)")
          ->default_str(std::to_string(lim.dht_max_req_per_sec));
  auto* dht_peer_req =
      app.add_option("--dht-max-peer-req-per-sec", lim.dht_max_peer_req_per_sec,
                     "OpenDHT requests/s per source IP (-1: no limit)")
          ->default_str(std::to_string(lim.dht_max_peer_req_per_sec));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::ostringstream o, err;
    out.exit_now = true;
    out.exit_code = app.exit(e, o, err);
    out.message = o.str() + err.str();
    return out;
  }

  NodeConfig& config = out.config;
  // A daemon serves many clients at once: one journal sync for all the
  // writes that arrive while the previous one runs.
  config.group_commit = true;
  if (!config_path.empty()) {
    std::string error = LoadConfigFile(config_path, config);
    if (!error.empty()) {
      out.exit_now = true;
      out.exit_code = 64;
      out.message = error + "\n";
      return out;
    }
  }
  // Flags given on the command line override the file.
  auto given = [](const CLI::Option* o) { return o->count() > 0; };
  if (given(listen)) config.listen = flags.listen;
  if (given(dht_port)) config.dht_port = flags.dht_port;
  if (given(bootstrap)) config.bootstrap = flags.bootstrap;
  if (given(state_dir)) config.state_dir = flags.state_dir;
  if (given(require_signed)) config.require_signed = flags.require_signed;
  if (given(log_level)) config.log_level = flags.log_level;
  if (given(metrics)) config.metrics_listen = flags.metrics_listen;
  if (given(answer_budget)) {
    config.limits.answer_bytes_per_sec = lim.answer_bytes_per_sec;
  }
  if (given(answer_burst)) {
    config.limits.answer_burst_bytes = lim.answer_burst_bytes;
  }
  if (given(per_source))
    config.limits.offers_per_source = lim.offers_per_source;
  if (given(per_device))
    config.limits.offers_per_device = lim.offers_per_device;
  if (given(max_offers)) config.limits.max_offers = lim.max_offers;
  if (given(max_pending)) {
    config.limits.max_pending_writes = lim.max_pending_writes;
  }
  if (given(dht_req))
    config.limits.dht_max_req_per_sec = lim.dht_max_req_per_sec;
  if (given(dht_peer_req)) {
    config.limits.dht_max_peer_req_per_sec = lim.dht_max_peer_req_per_sec;
  }
  return out;
}

}  // namespace crsp::node

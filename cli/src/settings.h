// Where `crsp` finds its nodes and defaults. Precedence, highest first:
// flags (--node, --check, --timeout-ms, --tries), the CRSP_NODES
// environment variable (comma separated), the config file
// ($XDG_CONFIG_HOME/crsp/config.toml, else ~/.config/crsp/config.toml, or
// --config FILE), then built-in defaults ([::1]:7400, crc, 500 ms, 4
// tries). Config file keys: nodes = ["[::1]:7400", ...], check = "crc",
// timeout_ms = 500, tries = 4.
#ifndef CRSP_CLI_SETTINGS_H_
#define CRSP_CLI_SETTINGS_H_

#include <optional>
#include <string>
#include <vector>

#include "address.h"
#include "crsp/protocol/wire.h"
#include "crsp/support/status.h"
#include "udp_client.h"

namespace CLI {
class App;
}  // namespace CLI

namespace crsp::cli {

// What the command line said; empty/0 means "not given".
struct GlobalFlags {
  std::vector<std::string> nodes;
  std::string check;
  std::string config_path;
  int timeout_ms = 0;
  int tries = 0;
};

struct Settings {
  std::vector<Endpoint> nodes;
  wire::CheckType check = wire::CheckType::kCrc32;
  RetryPolicy policy;
};

// InvalidArgument when a node address, check name or the config file is
// wrong. A missing default config file is fine; a missing --config file
// is not.
support::Result<Settings> ResolveSettings(const GlobalFlags& flags);

// Adds the flags every command shares (--node, --check, --config,
// --timeout-ms, --tries) to `app`, stored in `flags`.
void AddGlobalFlags(CLI::App& app, GlobalFlags& flags);

// The default config file path (may not exist).
std::string DefaultConfigPath();

}  // namespace crsp::cli

#endif  // CRSP_CLI_SETTINGS_H_

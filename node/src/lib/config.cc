#include "crsp/node/config.h"

#include <unistd.h>

#include <cstdlib>

namespace crsp::node {

std::string NodeConfig::DefaultStateDir() {
  if (const char* dir = std::getenv("CRSP_STATE_DIR"); dir && *dir) {
    return dir;
  }
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/crsp-node";
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::string(home) + "/.local/state/crsp-node";
  }
  return geteuid() == 0 ? "/var/lib/crsp-node" : "./crsp-node-state";
}

}  // namespace crsp::node

#include "settings.h"

#include <toml++/toml.h>
#include <unistd.h>

#include <cstdlib>

#include "file_util.h"
#include "names.h"

namespace crsp::cli {
namespace {

inline constexpr const char* kNodesEnv = "CRSP_NODES";

struct FileSettings {
  std::vector<std::string> nodes;
  std::string check;
  int64_t timeout_ms = 0;
  int64_t tries = 0;
};

std::optional<FileSettings> ReadConfig(const std::string& path, bool must_exist,
                                       std::string* error) {
  FileSettings out;
  if (access(path.c_str(), F_OK) != 0) {
    if (must_exist) *error = path + ": no such config file";
    if (must_exist) return std::nullopt;
    return out;
  }
  auto text = ReadFileText(path, error);
  if (!text) return std::nullopt;
  toml::table root;
  try {
    root = toml::parse(*text);
  } catch (const toml::parse_error& e) {
    *error = path + ": line " + std::to_string(e.source().begin.line) + ": " +
             std::string(e.description());
    return std::nullopt;
  }
  for (const auto& [key, node] : root) {
    std::string_view k = key.str();
    if (k == "nodes") {
      const toml::array* arr = node.as_array();
      if (arr == nullptr) {
        *error = path + ": 'nodes' must be a list of \"[addr]:port\" strings";
        return std::nullopt;
      }
      for (const auto& n : *arr) {
        auto s = n.value<std::string>();
        if (!s) {
          *error = path + ": 'nodes' must hold strings";
          return std::nullopt;
        }
        out.nodes.push_back(*s);
      }
    } else if (k == "check") {
      out.check = node.value<std::string>().value_or("");
    } else if (k == "timeout_ms") {
      out.timeout_ms = node.value<int64_t>().value_or(-1);
    } else if (k == "tries") {
      out.tries = node.value<int64_t>().value_or(-1);
    } else {
      *error = path + ": unknown key '" + std::string(k) +
               "' (nodes, check, timeout_ms, tries)";
      return std::nullopt;
    }
  }
  return out;
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    std::string part = s.substr(start, comma - start);
    while (!part.empty() && part.front() == ' ') part.erase(0, 1);
    while (!part.empty() && part.back() == ' ') part.pop_back();
    if (!part.empty()) out.push_back(part);
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::string DefaultConfigPath() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/crsp/config.toml";
  }
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.config/crsp/config.toml";
}

std::optional<Settings> ResolveSettings(const GlobalFlags& flags,
                                        std::string* error) {
  bool explicit_config = !flags.config_path.empty();
  std::string path = explicit_config ? flags.config_path : DefaultConfigPath();
  auto file = ReadConfig(path, explicit_config, error);
  if (!file) return std::nullopt;

  std::vector<std::string> texts = flags.nodes;
  if (texts.empty()) {
    if (const char* env = std::getenv(kNodesEnv); env && *env) {
      texts = SplitCommas(env);
    }
  }
  if (texts.empty()) texts = file->nodes;
  Settings s;
  if (texts.empty()) {
    s.nodes.push_back(*ParseEndpointLiteral("::1", wire::kDefaultEdgePort));
  }
  for (const auto& t : texts) {
    auto ep = ParseEndpoint(t, wire::kDefaultEdgePort, error);
    if (!ep) return std::nullopt;
    s.nodes.push_back(*ep);
  }

  std::string check = !flags.check.empty() ? flags.check : file->check;
  if (!check.empty()) {
    auto c = CheckFromName(check);
    if (!c || *c == wire::CheckType::kEd25519) {
      *error = "unknown check '" + check +
               "' (crc, md5, sum, bcc, lrc, parity, none; signing uses "
               "--key)";
      return std::nullopt;
    }
    s.check = *c;
  }
  int64_t timeout = flags.timeout_ms ? flags.timeout_ms : file->timeout_ms;
  int64_t tries = flags.tries ? flags.tries : file->tries;
  if (timeout < 0 || timeout > 60000 || tries < 0 || tries > 20) {
    *error = "timeout_ms must be 1..60000 and tries 1..20";
    return std::nullopt;
  }
  if (timeout > 0) s.policy.first_timeout = std::chrono::milliseconds(timeout);
  if (tries > 0) s.policy.tries = static_cast<int>(tries);
  return s;
}

}  // namespace crsp::cli

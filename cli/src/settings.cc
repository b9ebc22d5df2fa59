#include "settings.h"

#include <toml++/toml.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "crsp/support/file.h"
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

support::Result<FileSettings> ReadConfig(const std::string& path,
                                         bool must_exist) {
  FileSettings out;
  if (access(path.c_str(), F_OK) != 0) {
    if (must_exist) {
      return support::Status::InvalidArgument(path + ": no such config file");
    }
    return out;
  }
  support::Result<std::string> text = support::ReadFile(path);
  if (!text) return support::Status::InvalidArgument(text.status().message());
  toml::table root;
  try {
    root = toml::parse(*text);
  } catch (const toml::parse_error& e) {
    return support::Status::InvalidArgument(
        path + ": line " + std::to_string(e.source().begin.line) + ": " +
        std::string(e.description()));
  }
  for (const auto& [key, node] : root) {
    std::string_view k = key.str();
    if (k == "nodes") {
      const toml::array* arr = node.as_array();
      if (arr == nullptr) {
        return support::Status::InvalidArgument(
            path + ": 'nodes' must be a list of \"[addr]:port\" strings");
      }
      for (const auto& n : *arr) {
        auto s = n.value<std::string>();
        if (!s) {
          return support::Status::InvalidArgument(
              path + ": 'nodes' must hold strings");
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
      return support::Status::InvalidArgument(
          path + ": unknown key '" + std::string(k) +
          "' (nodes, check, timeout_ms, tries)");
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

support::Result<Settings> ResolveSettings(const GlobalFlags& flags) {
  bool explicit_config = !flags.config_path.empty();
  std::string path = explicit_config ? flags.config_path : DefaultConfigPath();
  support::Result<FileSettings> file = ReadConfig(path, explicit_config);
  if (!file) return file.status();

  std::vector<std::string> texts = flags.nodes;
  if (texts.empty()) {
    if (const char* env = std::getenv(kNodesEnv); env && *env) {
      texts = SplitCommas(env);
    }
  }
  if (texts.empty()) texts = file->nodes;
  Settings s;
  if (texts.empty()) {
    s.nodes.push_back(*support::ParseEndpoint(
        "[::1]", {.default_port = wire::kDefaultEdgePort}));
  }
  for (const auto& t : texts) {
    support::Result<Endpoint> ep = ParseEndpoint(t, wire::kDefaultEdgePort);
    if (!ep) return ep.status();
    s.nodes.push_back(*ep);
  }

  std::string check = !flags.check.empty() ? flags.check : file->check;
  if (!check.empty()) {
    auto c = CheckFromName(check);
    if (!c || *c == wire::CheckType::kEd25519) {
      return support::Status::InvalidArgument(
          "unknown check '" + check +
          "' (crc, md5, sum, bcc, lrc, parity, none; signing uses "
          "--key)");
    }
    s.check = *c;
  }
  int64_t timeout = flags.timeout_ms ? flags.timeout_ms : file->timeout_ms;
  int64_t tries = flags.tries ? flags.tries : file->tries;
  if (timeout < 0 || timeout > 60000 || tries < 0 || tries > 20) {
    return support::Status::InvalidArgument(
        "timeout_ms must be 1..60000 and tries 1..20");
  }
  if (timeout > 0) s.policy.first_timeout = std::chrono::milliseconds(timeout);
  if (tries > 0) s.policy.tries = static_cast<int>(tries);
  return s;
}

void AddGlobalFlags(CLI::App& app, GlobalFlags& flags) {
  app.add_option("--node", flags.nodes,
                 "A node to talk to, [IPv6]:port or host:port (repeatable)");
  app.add_option("--check", flags.check,
                 "Check type of requests: crc (default), md5, sum, bcc, lrc, "
                 "parity, none");
  app.add_option("--config", flags.config_path,
                 "Config file (default $XDG_CONFIG_HOME/crsp/config.toml)");
  app.add_option("--timeout-ms", flags.timeout_ms,
                 "First resend timeout, doubled on each try (default 500)");
  app.add_option("--tries", flags.tries,
                 "Sends per node before failing over (default 4)");
}

}  // namespace crsp::cli

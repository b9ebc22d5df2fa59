#include "options.h"

#include <toml++/toml.h>

#include <CLI/CLI.hpp>
#include <deque>
#include <sstream>

#include "crsp/support/version.h"
#include "settings.h"

namespace crsp::node {
namespace {

using support::Status;

// "FILE:LINE: " before a message about a place in the config file.
std::string Where(const std::string& path, const toml::node& node) {
  return path + ":" + std::to_string(node.source().begin.line);
}

std::string KnownKeys() {
  std::string out;
  for (const Setting& s : NodeSettings()) {
    if (!out.empty()) out += ", ";
    out += s.key;
  }
  return out;
}

// A TOML value as the setting's value type; nullopt when the TOML type
// cannot be one (the check then says what is wanted).
std::optional<SettingValue> FromToml(const Setting& setting,
                                     const toml::node& node) {
  switch (setting.type) {
    case SettingType::kBool:
      if (auto b = node.value_exact<bool>()) return SettingValue(*b);
      return std::nullopt;
    case SettingType::kInteger:
      if (auto i = node.value_exact<int64_t>()) return SettingValue(*i);
      return std::nullopt;
    case SettingType::kPeerList: {
      const toml::array* array = node.as_array();
      if (array == nullptr) return std::nullopt;
      std::vector<std::string> list;
      for (const toml::node& item : *array) {
        auto s = item.value_exact<std::string>();
        if (!s) return std::nullopt;
        list.push_back(*s);
      }
      return SettingValue(std::move(list));
    }
    default:
      if (auto s = node.value_exact<std::string>()) return SettingValue(*s);
      return std::nullopt;
  }
}

Status ApplyFileValue(const std::string& path, const std::string& key,
                      const toml::node& node, NodeConfig& config) {
  const Setting* setting = FindSetting(key);
  if (setting == nullptr) {
    return Status::InvalidArgument(Where(path, node) + ": unknown setting '" +
                                   key + "' (settings: " + KnownKeys() + ")");
  }
  std::optional<SettingValue> value = FromToml(*setting, node);
  Status status =
      value ? CheckSetting(*setting, *value)
            : Status::InvalidArgument(
                  "want " + std::string(SettingTypeName(setting->type)));
  if (!status.ok()) return status.WithContext(Where(path, node) + ": " + key);
  setting->set(config, *value);
  return Status::Ok();
}

// What --help shows after a flag: "--dht-port N".
std::string TypeHint(SettingType type) {
  switch (type) {
    case SettingType::kBool:
      return "";
    case SettingType::kInteger:
      return "N";
    case SettingType::kPath:
      return "DIR";
    case SettingType::kChoice:
      return "LEVEL";
    case SettingType::kListen:
    case SettingType::kListenOrOff:
      return "ADDR:PORT";
    case SettingType::kPeerList:
      return "HOST:PORT";
  }
  return "";
}

// Keeps one flag's text as CLI11 parsed it, until it is checked.
struct FlagInput {
  const Setting* setting = nullptr;
  CLI::Option* option = nullptr;
  std::string text;
  std::vector<std::string> list;
  bool flag = false;
};

}  // namespace

Status LoadConfigFile(const std::string& path, NodeConfig& config) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(path + ":" +
                                   std::to_string(e.source().begin.line) +
                                   ": " + std::string(e.description()));
  }
  for (const auto& [key, node] : root) {
    const std::string name(key.str());
    if (name == "limits" && node.is_table()) {
      for (const auto& [limit_key, limit_node] : *node.as_table()) {
        Status s = ApplyFileValue(
            path, "limits." + std::string(limit_key.str()), limit_node, config);
        if (!s.ok()) return s;
      }
      continue;
    }
    if (Status s = ApplyFileValue(path, name, node, config); !s.ok()) return s;
  }
  return Status::Ok();
}

ParsedOptions ParseOptions(int argc, const char* const* argv) {
  ParsedOptions out;
  const NodeConfig defaults;
  std::string config_path;
  std::string check_path;
  CLI::App app{
      "crsp-node: one replica of the CRSP cloud resource sales platform.\n"
      "An OpenDHT node storing offers, and an edge server speaking the CRSP\n"
      "registration and inquiry protocols over UDP. With no flags it is a\n"
      "complete one-node platform with its state in the default directory.",
      "crsp-node"};
  app.get_formatter()->column_width(38);
  app.set_version_flag("--version", support::VersionLine("crsp-node"),
                       "Print the version and git commit, and exit");
  app.add_option("--config", config_path,
                 "TOML file with the same settings (keys as in docs/node.md "
                 "\"Settings\"; limits in a [limits] table). Flags win.")
      ->check(CLI::ExistingFile)
      ->type_name("FILE");
  app.add_option("--check-config", check_path,
                 "Check this TOML config file, print what is wrong with it "
                 "(or that it is fine), and exit")
      ->check(CLI::ExistingFile)
      ->type_name("FILE");

  // Flags are taken as text and checked by the table, as the file is.
  std::deque<FlagInput> inputs;  // stable addresses for CLI11
  for (const Setting& setting : NodeSettings()) {
    FlagInput& in = inputs.emplace_back();
    in.setting = &setting;
    std::string help(setting.help);
    if (std::string range = SettingRangeText(setting); !range.empty()) {
      help += " [" + range + "]";
    }
    const std::string flag(setting.flag);
    switch (setting.type) {
      case SettingType::kBool:
        in.option = app.add_flag(flag, in.flag, help);
        break;
      case SettingType::kPeerList:
        in.option = app.add_option(flag, in.list, help);
        break;
      default:
        in.option =
            app.add_option(flag, in.text, help)
                ->default_str(FormatSettingValue(setting.get(defaults)));
        break;
    }
    in.option->type_name(TypeHint(setting.type));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    std::ostringstream o, err;
    app.exit(e, o, err);
    out.exit_now = true;
    out.output = o.str() + err.str();
    return out;
  } catch (const CLI::ParseError& e) {
    out.exit_now = true;
    out.status = Status::InvalidArgument(std::string(e.what()) +
                                         "\nRun 'crsp-node --help' for usage.");
    return out;
  }

  if (!check_path.empty()) {
    NodeConfig checked;
    out.exit_now = true;
    out.status = LoadConfigFile(check_path, checked);
    if (out.status.ok()) out.output = check_path + ": ok\n";
    return out;
  }

  NodeConfig& config = out.config;
  // A daemon serves many clients at once: one journal sync for all the
  // writes that arrive while the previous one runs.
  config.group_commit = true;
  if (!config_path.empty()) {
    out.status = LoadConfigFile(config_path, config);
    if (!out.status.ok()) {
      out.exit_now = true;
      return out;
    }
  }
  // Flags given on the command line override the file.
  for (const FlagInput& in : inputs) {
    if (in.option->count() == 0) continue;
    support::Result<SettingValue> value =
        in.setting->type == SettingType::kBool ? SettingValue(in.flag)
        : in.setting->type == SettingType::kPeerList
            ? SettingValue(in.list)
            : SettingFromText(*in.setting, in.text);
    Status status = value ? CheckSetting(*in.setting, *value) : value.status();
    if (!status.ok()) {
      out.exit_now = true;
      out.status = status.WithContext(std::string(in.setting->flag));
      return out;
    }
    in.setting->set(config, *value);
  }
  return out;
}

}  // namespace crsp::node

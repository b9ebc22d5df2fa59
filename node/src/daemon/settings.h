// Every setting of crsp-node, declared once (after Knot's
// src/knot/conf/schema.c): its TOML key, its flag, its type and range, its
// help text, and where it lives in NodeConfig. The flags (options.cc) and
// the config file (LoadConfigFile) are both read through this table, so a
// value is checked the same way whichever way it comes, and the help text,
// the defaults shown and docs/node.md's table come from the same place.
#ifndef CRSP_NODE_DAEMON_SETTINGS_H_
#define CRSP_NODE_DAEMON_SETTINGS_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "crsp/node/config.h"
#include "crsp/support/status.h"

namespace crsp::node {

// A setting's value as it came from a flag or the file, before or after
// its check.
using SettingValue =
    std::variant<bool, int64_t, std::string, std::vector<std::string>>;

enum class SettingType : uint8_t {
  kBool,         // true/false; a flag without a value
  kInteger,      // [min, max], both inclusive
  kPath,         // a non-empty string
  kChoice,       // one of `choices`
  kListen,       // "[ADDR]:PORT" to bind (udp_server.h kListenRules)
  kListenOrOff,  // the same, or "" for off
  kPeerList,     // "HOST:PORT" strings (names allowed), port 1..65535
};

struct Setting {
  // TOML key; a key of the [limits] table is "limits.NAME".
  std::string_view key;
  // The long flag, "--dht-port".
  std::string_view flag;
  SettingType type;
  int64_t min = 0;  // kInteger only
  int64_t max = 0;
  std::span<const std::string_view> choices;  // kChoice only
  std::string_view help;
  SettingValue (*get)(const NodeConfig&);
  // REQUIRES: CheckSetting(*this, value).ok().
  void (*set)(NodeConfig&, const SettingValue&);
};

// The table, in the order of --help and docs/node.md.
std::span<const Setting> NodeSettings();

// The setting with TOML key `key`; null when there is none.
const Setting* FindSetting(std::string_view key);

// OK when `value` has the setting's type and lies in its range;
// InvalidArgument saying what is wrong with it otherwise ("70000 is out of
// range 0..65535"), without naming the setting (callers add where it came
// from).
support::Status CheckSetting(const Setting& setting, const SettingValue& value);

// A flag's text read as the setting's type (integers in decimal, no
// sign for non-negative ranges needed), not yet range-checked.
support::Result<SettingValue> SettingFromText(const Setting& setting,
                                              std::string_view text);

// "an integer", "a string", ... for "want ..." messages.
std::string_view SettingTypeName(SettingType type);

// What --help shows as the default, and the range or choices
// ("0..65535", "trace|debug|...") or "" when the type says it all.
std::string FormatSettingValue(const SettingValue& value);
std::string SettingRangeText(const Setting& setting);

}  // namespace crsp::node

#endif  // CRSP_NODE_DAEMON_SETTINGS_H_

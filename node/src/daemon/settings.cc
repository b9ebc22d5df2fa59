#include "settings.h"

#include <array>
#include <charconv>
#include <limits>

#include "crsp/support/endpoint.h"
#include "udp_server.h"

namespace crsp::node {
namespace {

using support::Status;

constexpr int64_t kU32Max = std::numeric_limits<uint32_t>::max();
constexpr int64_t kI32Max = std::numeric_limits<int32_t>::max();

constexpr std::array<std::string_view, 6> kLogLevels = {
    "trace", "debug", "info", "warn", "error", "off"};

// get/set of one NodeConfig field, converted to and from the table's value
// types (the setter runs only on checked values, so the casts cannot
// narrow).
#define CRSP_SETTING_INT(field)                                         \
  [](const NodeConfig& c) -> SettingValue {                             \
    return static_cast<int64_t>(c.field);                               \
  },                                                                    \
      [](NodeConfig& c, const SettingValue& v) {                        \
        c.field = static_cast<decltype(c.field)>(std::get<int64_t>(v)); \
      }
#define CRSP_SETTING_AS(T, field)                              \
  [](const NodeConfig& c) -> SettingValue { return c.field; }, \
      [](NodeConfig& c, const SettingValue& v) { c.field = std::get<T>(v); }

const std::array kSettings = {
    Setting{"listen",
            "--listen",
            SettingType::kListen,
            0,
            0,
            {},
            "Edge server address, [ADDR]:PORT (IPv6 in brackets; [::] is "
            "dual stack; port 0: any)",
            CRSP_SETTING_AS(std::string, listen)},
    Setting{"dht_port",
            "--dht-port",
            SettingType::kInteger,
            0,
            65535,
            {},
            "OpenDHT UDP port, both families (0: any)",
            CRSP_SETTING_INT(dht_port)},
    Setting{"bootstrap",
            "--bootstrap",
            SettingType::kPeerList,
            0,
            0,
            {},
            "OpenDHT peer HOST:PORT to join through (repeatable; IPv6 "
            "literals in brackets)",
            CRSP_SETTING_AS(std::vector<std::string>, bootstrap)},
    Setting{"state_dir",
            "--state-dir",
            SettingType::kPath,
            0,
            0,
            {},
            "Directory of the node's identity, keys and offer journal "
            "(default: $CRSP_STATE_DIR, else the XDG state directory)",
            CRSP_SETTING_AS(std::string, state_dir)},
    Setting{"require_signed",
            "--require-signed",
            SettingType::kBool,
            0,
            0,
            {},
            "Answer unsigned register and withdraw requests NOT_AUTHORIZED",
            CRSP_SETTING_AS(bool, require_signed)},
    Setting{"log_level", "--log-level", SettingType::kChoice, 0, 0, kLogLevels,
            "Log level on stderr (OpenDHT's own lines: trace)",
            CRSP_SETTING_AS(std::string, log_level)},
    Setting{"metrics",
            "--metrics",
            SettingType::kListenOrOff,
            0,
            0,
            {},
            "Serve Prometheus metrics at IPV4:PORT, e.g. 127.0.0.1:9474 "
            "(empty: off; IPv4 only: Debian's civetweb has no IPv6)",
            CRSP_SETTING_AS(std::string, metrics_listen)},
    Setting{"limits.answer_bytes_per_sec",
            "--answer-budget",
            SettingType::kInteger,
            1,
            kU32Max,
            {},
            "Answer bytes/s per source /64 (IPv4 /24)",
            CRSP_SETTING_INT(limits.answer_bytes_per_sec)},
    Setting{"limits.answer_burst_bytes",
            "--answer-burst",
            SettingType::kInteger,
            1,
            kU32Max,
            {},
            "Answer burst bytes per source /64",
            CRSP_SETTING_INT(limits.answer_burst_bytes)},
    Setting{"limits.peer_answer_bytes_per_sec",
            "--peer-answer-budget",
            SettingType::kInteger,
            1,
            kU32Max,
            {},
            "Bytes/s of answers to forwarded queries per DHT peer address",
            CRSP_SETTING_INT(limits.peer_answer_bytes_per_sec)},
    Setting{"limits.peer_answer_burst_bytes",
            "--peer-answer-burst",
            SettingType::kInteger,
            1,
            kU32Max,
            {},
            "Burst bytes of the same budget per DHT peer address",
            CRSP_SETTING_INT(limits.peer_answer_burst_bytes)},
    Setting{"limits.offers_per_source",
            "--offers-per-source",
            SettingType::kInteger,
            1,
            kU32Max,
            {},
            "Stored offers quota per source /64",
            CRSP_SETTING_INT(limits.offers_per_source)},
    Setting{"limits.offers_per_device",
            "--offers-per-device",
            SettingType::kInteger,
            1,
            kU32Max,
            {},
            "Stored offers quota per device id",
            CRSP_SETTING_INT(limits.offers_per_device)},
    Setting{"limits.max_offers",
            "--max-offers",
            SettingType::kInteger,
            1,
            kU32Max,
            {},
            "Offers this node accepts in total",
            CRSP_SETTING_INT(limits.max_offers)},
    Setting{"limits.max_pending_writes",
            "--max-pending-writes",
            SettingType::kInteger,
            1,
            kU32Max,
            {},
            "Offers and withdrawals awaiting the DHT, at most; past it "
            "registers are RATE_LIMITED at once",
            CRSP_SETTING_INT(limits.max_pending_writes)},
    Setting{"limits.dht_max_req_per_sec",
            "--dht-max-req-per-sec",
            SettingType::kInteger,
            -1,
            kI32Max,
            {},
            "OpenDHT requests/s this node serves (-1: no limit)",
            CRSP_SETTING_INT(limits.dht_max_req_per_sec)},
    Setting{"limits.dht_max_peer_req_per_sec",
            "--dht-max-peer-req-per-sec",
            SettingType::kInteger,
            -1,
            kI32Max,
            {},
            "OpenDHT requests/s per source IP (-1: no limit)",
            CRSP_SETTING_INT(limits.dht_max_peer_req_per_sec)},
};

#undef CRSP_SETTING_INT
#undef CRSP_SETTING_AS

}  // namespace

std::string_view SettingTypeName(SettingType type) {
  switch (type) {
    case SettingType::kBool:
      return "true or false";
    case SettingType::kInteger:
      return "an integer";
    case SettingType::kPath:
    case SettingType::kChoice:
    case SettingType::kListen:
    case SettingType::kListenOrOff:
      return "a string";
    case SettingType::kPeerList:
      return "a list of \"HOST:PORT\" strings";
  }
  return "";
}

namespace {

Status CheckPeer(const std::string& peer) {
  support::Result<support::HostPort> parts = support::SplitHostPort(peer);
  if (!parts) return parts.status();
  if (parts->host.empty()) {
    return Status::InvalidArgument("'" + peer + "' has no host");
  }
  if (!parts->port.empty() &&
      !support::ParsePort(parts->port, /*allow_zero=*/false)) {
    return Status::InvalidArgument("bad port in '" + peer +
                                   "' (want 1..65535)");
  }
  return Status::Ok();
}

}  // namespace

std::span<const Setting> NodeSettings() { return kSettings; }

const Setting* FindSetting(std::string_view key) {
  for (const Setting& s : kSettings) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

Status CheckSetting(const Setting& setting, const SettingValue& value) {
  const bool type_ok = [&] {
    switch (setting.type) {
      case SettingType::kBool:
        return std::holds_alternative<bool>(value);
      case SettingType::kInteger:
        return std::holds_alternative<int64_t>(value);
      case SettingType::kPeerList:
        return std::holds_alternative<std::vector<std::string>>(value);
      default:
        return std::holds_alternative<std::string>(value);
    }
  }();
  if (!type_ok) {
    return Status::InvalidArgument("want " +
                                   std::string(SettingTypeName(setting.type)));
  }
  switch (setting.type) {
    case SettingType::kBool:
      return Status::Ok();
    case SettingType::kInteger: {
      const int64_t v = std::get<int64_t>(value);
      if (v < setting.min || v > setting.max) {
        return Status::InvalidArgument(std::to_string(v) + " is out of range " +
                                       SettingRangeText(setting));
      }
      return Status::Ok();
    }
    case SettingType::kPath:
      if (std::get<std::string>(value).empty()) {
        return Status::InvalidArgument("must not be empty");
      }
      return Status::Ok();
    case SettingType::kChoice: {
      const std::string& v = std::get<std::string>(value);
      for (std::string_view choice : setting.choices) {
        if (v == choice) return Status::Ok();
      }
      return Status::InvalidArgument("'" + v + "' is not one of " +
                                     SettingRangeText(setting));
    }
    case SettingType::kListenOrOff:
      if (std::get<std::string>(value).empty()) return Status::Ok();
      [[fallthrough]];
    case SettingType::kListen:
      return support::ParseEndpoint(std::get<std::string>(value), kListenRules)
          .status();
    case SettingType::kPeerList:
      for (const std::string& peer :
           std::get<std::vector<std::string>>(value)) {
        if (Status s = CheckPeer(peer); !s.ok()) return s;
      }
      return Status::Ok();
  }
  return Status::Ok();
}

support::Result<SettingValue> SettingFromText(const Setting& setting,
                                              std::string_view text) {
  switch (setting.type) {
    case SettingType::kBool:
      if (text == "true" || text == "1") return SettingValue(true);
      if (text == "false" || text == "0") return SettingValue(false);
      return Status::InvalidArgument("'" + std::string(text) +
                                     "' is not true or false");
    case SettingType::kInteger: {
      int64_t v = 0;
      const char* end = text.data() + text.size();
      const auto [ptr, ec] = std::from_chars(text.data(), end, v);
      if (text.empty() || ptr != end || ec == std::errc::invalid_argument) {
        return Status::InvalidArgument("'" + std::string(text) +
                                       "' is not an integer");
      }
      if (ec == std::errc::result_out_of_range) {
        return Status::InvalidArgument(std::string(text) + " is out of range " +
                                       SettingRangeText(setting));
      }
      return SettingValue(v);
    }
    case SettingType::kPeerList:
      return SettingValue(std::vector<std::string>{std::string(text)});
    default:
      return SettingValue(std::string(text));
  }
}

std::string FormatSettingValue(const SettingValue& value) {
  if (const bool* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  if (const int64_t* i = std::get_if<int64_t>(&value)) {
    return std::to_string(*i);
  }
  if (const std::string* s = std::get_if<std::string>(&value)) return *s;
  std::string out;
  for (const std::string& s : std::get<std::vector<std::string>>(value)) {
    if (!out.empty()) out += ",";
    out += s;
  }
  return out;
}

std::string SettingRangeText(const Setting& setting) {
  switch (setting.type) {
    case SettingType::kInteger:
      return std::to_string(setting.min) + ".." + std::to_string(setting.max);
    case SettingType::kChoice: {
      std::string out;
      for (std::string_view c : setting.choices) {
        if (!out.empty()) out += "|";
        out += c;
      }
      return out;
    }
    default:
      return "";
  }
}

}  // namespace crsp::node

#include "names.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace crsp::cli {
namespace {

struct ResourceRow {
  uint16_t id;
  std::string_view name;
};
constexpr std::array<ResourceRow, 12> kResources = {{
    {wire::kResourceCpu, "cpu"},
    {wire::kResourceVideo, "video"},
    {wire::kResourcePrint, "print"},
    {wire::kResourceMemory, "memory"},
    {wire::kResourceSoftware, "software"},
    {wire::kResourceCopy, "copy"},
    {wire::kResourceCarRental, "car-rental"},
    {wire::kResourceTaxiRide, "taxi-ride"},
    {wire::kResourceSightseeing, "sightseeing"},
    {wire::kResourceBroadcast, "broadcast"},
    {wire::kResourceStorage, "storage"},
    {wire::kResourceBandwidth, "bandwidth"},
}};

// ISO 4217: common currencies with their numeric codes and minor digits.
constexpr std::array<Currency, 24> kCurrencies = {{
    {"CNY", 156, 2}, {"USD", 840, 2}, {"EUR", 978, 2}, {"GBP", 826, 2},
    {"JPY", 392, 0}, {"HKD", 344, 2}, {"TWD", 901, 2}, {"KRW", 410, 0},
    {"SGD", 702, 2}, {"INR", 356, 2}, {"AUD", 36, 2},  {"CAD", 124, 2},
    {"CHF", 756, 2}, {"SEK", 752, 2}, {"NOK", 578, 2}, {"DKK", 208, 2},
    {"NZD", 554, 2}, {"RUB", 643, 2}, {"BRL", 986, 2}, {"MXN", 484, 2},
    {"ZAR", 710, 2}, {"PLN", 985, 2}, {"THB", 764, 2}, {"MOP", 446, 2},
}};

// Lower case, with '_' and ' ' folded to '-'.
std::string Normalize(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '_' || c == ' ') c = '-';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// A decimal or 0x-prefixed hex number that fits in uint32_t.
std::optional<uint32_t> ParseNumber(std::string_view s) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty()) return std::nullopt;
  uint32_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string Hex4(uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", v);
  return buf;
}

}  // namespace

std::string ResourceName(uint16_t id) {
  for (const auto& row : kResources) {
    if (row.id == id) return std::string(row.name);
  }
  if (id >= wire::kFirstPrivateResource) return "private-" + Hex4(id);
  return Hex4(id);
}

std::optional<uint16_t> ResourceFromName(std::string_view name) {
  std::string n = Normalize(name);
  for (const auto& row : kResources) {
    if (row.name == n) return row.id;
  }
  if (n.starts_with("private-")) n = n.substr(8);
  auto v = ParseNumber(n);
  if (v && *v <= 0xFFFF && wire::IsValidResourceId(*v)) {
    return static_cast<uint16_t>(*v);
  }
  return std::nullopt;
}

std::string ResourceNameList() {
  std::string out;
  for (const auto& row : kResources) {
    if (!out.empty()) out += ", ";
    out += row.name;
  }
  return out;
}

std::string UnitName(uint8_t unit) {
  switch (unit) {
    case 0:
      return "use";
    case 1:
      return "hour";
    case 2:
      return "page";
    case 3:
      return "gib-hour";
    case 4:
      return "km";
    case 5:
      return "day";
    default:
      return "unit-" + std::to_string(unit);
  }
}

std::optional<wire::BillingUnit> UnitFromName(std::string_view name) {
  std::string n = Normalize(name);
  if (n == "use" || n == "each" || n == "per-use") {
    return wire::BillingUnit::kPerUse;
  }
  if (n == "hour" || n == "h" || n == "hr") return wire::BillingUnit::kPerHour;
  if (n == "page" || n == "p") return wire::BillingUnit::kPerPage;
  if (n == "gib-hour" || n == "gibh" || n == "gib-h") {
    return wire::BillingUnit::kPerGibHour;
  }
  if (n == "km") return wire::BillingUnit::kPerKm;
  if (n == "day" || n == "d") return wire::BillingUnit::kPerDay;
  return std::nullopt;
}

std::string DeviceKindName(uint16_t kind) {
  switch (static_cast<wire::DeviceKind>(kind)) {
    case wire::DeviceKind::kComputer:
      return "computer";
    case wire::DeviceKind::kPrinter:
      return "printer";
    case wire::DeviceKind::kCar:
      return "car";
    case wire::DeviceKind::kRadio:
      return "radio";
    case wire::DeviceKind::kOther:
      return "other";
  }
  return std::to_string(kind);
}

std::optional<uint16_t> DeviceKindFromName(std::string_view name) {
  std::string n = Normalize(name);
  for (uint16_t k : {1, 2, 3, 4, 0xFFFF}) {
    if (DeviceKindName(k) == n) return k;
  }
  return std::nullopt;
}

std::optional<Currency> CurrencyFromCode(std::string_view code) {
  std::string upper;
  for (char c : code) {
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  for (const auto& c : kCurrencies) {
    if (c.code == upper) return c;
  }
  auto v = ParseNumber(code);
  if (v && *v >= 1 && *v <= 999) {
    return CurrencyByNumeric(static_cast<uint16_t>(*v));
  }
  return std::nullopt;
}

Currency CurrencyByNumeric(uint16_t numeric) {
  for (const auto& c : kCurrencies) {
    if (c.numeric == numeric) return c;
  }
  return {"", numeric, 2};
}

std::string_view CheckName(wire::CheckType check) {
  switch (check) {
    case wire::CheckType::kNone:
      return "none";
    case wire::CheckType::kParity:
      return "parity";
    case wire::CheckType::kMd5:
      return "md5";
    case wire::CheckType::kSum:
      return "sum";
    case wire::CheckType::kBcc:
      return "bcc";
    case wire::CheckType::kCrc32:
      return "crc";
    case wire::CheckType::kLrc:
      return "lrc";
    case wire::CheckType::kEd25519:
      return "ed25519";
  }
  return "reserved";
}

std::optional<wire::CheckType> CheckFromName(std::string_view name) {
  std::string n = Normalize(name);
  if (n == "crc32") n = "crc";
  for (uint8_t i = 0; i <= wire::kMaxKnownCheckType; ++i) {
    auto check = static_cast<wire::CheckType>(i);
    if (CheckName(check) == n) return check;
  }
  return std::nullopt;
}

std::string_view ProtocolName(uint8_t protocol) {
  switch (static_cast<wire::Protocol>(protocol)) {
    case wire::Protocol::kControl:
      return "control";
    case wire::Protocol::kRegistration:
      return "registration";
    case wire::Protocol::kInquiry:
      return "inquiry";
  }
  return "";
}

}  // namespace crsp::cli

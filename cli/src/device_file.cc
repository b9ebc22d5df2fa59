#include "device_file.h"

#include <toml++/toml.h>

#include <fstream>
#include <sstream>

#include "address.h"
#include "file_util.h"
#include "hex.h"
#include "price.h"
#include "time_spec.h"

namespace crsp::cli {
namespace {

std::string Where(const toml::node& node) {
  const auto& src = node.source();
  return "line " + std::to_string(src.begin.line);
}

bool ReadString(const toml::table& t, std::string_view key, bool required,
                std::string* out, std::string* error,
                std::string_view context) {
  const toml::node* node = t.get(key);
  if (node == nullptr) {
    if (required) {
      *error = std::string(context) + "missing '" + std::string(key) + "'";
    }
    return !required;
  }
  auto v = node->value<std::string>();
  if (!v) {
    *error = Where(*node) + ": '" + std::string(key) + "' must be a string";
    return false;
  }
  *out = *v;
  return true;
}

bool ParseResource(const toml::table& t, const Currency& currency, uint64_t now,
                   protocol::ResourceEntry* entry, std::string* error) {
  std::string ctx = Where(t) + ": [[resource]] ";
  for (const auto& [key, node] : t) {
    std::string_view k = key.str();
    if (k != "type" && k != "price" && k != "quantity" && k != "from" &&
        k != "until" && k != "unit") {
      *error = Where(node) + ": unknown key '" + std::string(k) +
               "' in [[resource]] (type, price, unit, quantity, from, until)";
      return false;
    }
  }
  std::string type, price_text, unit_text, from = "now", until;
  if (!ReadString(t, "type", true, &type, error, ctx) ||
      !ReadString(t, "price", true, &price_text, error, ctx) ||
      !ReadString(t, "unit", false, &unit_text, error, ctx) ||
      !ReadString(t, "from", false, &from, error, ctx) ||
      !ReadString(t, "until", true, &until, error, ctx)) {
    return false;
  }
  auto resource = ResourceFromName(type);
  if (!resource) {
    *error = ctx + "unknown type '" + type + "' (" + ResourceNameList() +
             ", or a private id 0x8000-0xffff)";
    return false;
  }
  std::string perr;
  auto price = ParsePrice(price_text, currency.minor_digits, &perr);
  if (!price) {
    *error = ctx + perr;
    return false;
  }
  if (!unit_text.empty()) {
    auto unit = UnitFromName(unit_text);
    if (!unit) {
      *error = ctx + "unknown unit '" + unit_text + "'";
      return false;
    }
    price->unit = unit;
  }
  if (!price->unit) {
    *error = ctx + "price '" + price_text + "' needs a billing unit, e.g. \"" +
             price_text + "/hour\"";
    return false;
  }
  const toml::node* q = t.get("quantity");
  auto quantity = q ? q->value<int64_t>() : std::nullopt;
  if (!quantity || *quantity < 1 || *quantity > UINT32_MAX) {
    *error = ctx + "'quantity' must be a whole number from 1 to 4294967295";
    return false;
  }
  std::string terr;
  auto valid_from = ParseTime(from, now, &terr);
  auto valid_until = valid_from ? ParseTime(until, now, &terr) : std::nullopt;
  if (!valid_from || !valid_until) {
    *error = ctx + terr;
    return false;
  }
  if (*valid_until <= *valid_from) {
    *error = ctx + "'until' must be after 'from'";
    return false;
  }
  entry->resource = *resource;
  entry->unit = static_cast<uint8_t>(*price->unit);
  entry->price = price->minor;
  entry->quantity = static_cast<uint32_t>(*quantity);
  entry->valid_from = *valid_from;
  entry->valid_until = *valid_until;
  return true;
}

}  // namespace

std::optional<DeviceFile> ParseDeviceFile(std::string_view toml_text,
                                          uint64_t now, std::string* error) {
  toml::table root;
  try {
    root = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    *error = "line " + std::to_string(e.source().begin.line) + ": " +
             std::string(e.description());
    return std::nullopt;
  }
  for (const auto& [key, node] : root) {
    std::string_view k = key.str();
    if (k != "kind" && k != "currency" && k != "device" && k != "contact" &&
        k != "resource") {
      *error = Where(node) + ": unknown key '" + std::string(k) +
               "' (kind, currency, device, contact, [[resource]])";
      return std::nullopt;
    }
  }
  DeviceFile file;
  std::string kind, currency, device, contact;
  if (!ReadString(root, "kind", true, &kind, error, "") ||
      !ReadString(root, "currency", true, &currency, error, "") ||
      !ReadString(root, "device", false, &device, error, "") ||
      !ReadString(root, "contact", false, &contact, error, "")) {
    return std::nullopt;
  }
  auto kind_id = DeviceKindFromName(kind);
  if (!kind_id) {
    *error =
        "unknown kind '" + kind + "' (computer, printer, car, radio, other)";
    return std::nullopt;
  }
  file.kind = *kind_id;
  auto cur = CurrencyFromCode(currency);
  if (!cur) {
    *error = "unknown currency '" + currency +
             "' (an ISO 4217 code such as CNY, USD, EUR, or its number)";
    return std::nullopt;
  }
  file.currency = *cur;
  protocol::ResourceSet& set = file.request.set;
  if (!device.empty()) {
    auto id = ParseHexArray<wire::kDeviceIdSize>(device);
    if (!id) {
      *error = "'device' must be 32 hex digits (a UUID also works)";
      return std::nullopt;
    }
    file.device = *id;
    set.device = *id;
  }
  if (!contact.empty()) {
    auto ep = ParseEndpointLiteral(contact, 0);
    if (!ep) {
      *error = "cannot read contact '" + contact +
               "' (use [IPv6]:port, an IPv6 address, or IPv4:port)";
      return std::nullopt;
    }
    set.contact = ep->address;
    set.contact_port = ep->port;
  }
  set.device_kind = file.kind;
  set.currency = file.currency.numeric;

  const toml::array* resources = root["resource"].as_array();
  if (resources == nullptr || resources->empty()) {
    *error = "no [[resource]] in the device file";
    return std::nullopt;
  }
  if (resources->size() > wire::kMaxRegisterEntries) {
    *error = "more than " + std::to_string(wire::kMaxRegisterEntries) +
             " resources in one device file";
    return std::nullopt;
  }
  for (const toml::node& node : *resources) {
    const toml::table* t = node.as_table();
    if (t == nullptr) {
      *error = Where(node) + ": 'resource' must be [[resource]] tables";
      return std::nullopt;
    }
    protocol::ResourceEntry entry;
    if (!ParseResource(*t, file.currency, now, &entry, error)) {
      return std::nullopt;
    }
    for (const auto& e : file.request.entries) {
      if (e.resource == entry.resource) {
        *error = Where(*t) + ": resource '" + ResourceName(entry.resource) +
                 "' appears twice (one offer per device and resource)";
        return std::nullopt;
      }
    }
    file.request.entries.push_back(entry);
  }
  return file;
}

std::optional<DeviceFile> LoadDeviceFile(const std::string& path, uint64_t now,
                                         std::string* error) {
  auto text = ReadFileText(path, error);
  if (!text) return std::nullopt;
  std::string perr;
  auto file = ParseDeviceFile(*text, now, &perr);
  if (!file) *error = path + ": " + perr;
  return file;
}

std::string InsertDeviceLine(std::string_view text,
                             const protocol::DeviceId& device) {
  std::vector<std::string> lines;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  size_t insert_at = lines.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) {
      l.remove_prefix(1);
    }
    if (l.starts_with('[')) {
      insert_at = i;
      break;
    }
    if (l.starts_with('#')) {
      l.remove_prefix(1);
      while (!l.empty() && l.front() == ' ') l.remove_prefix(1);
      if (l.starts_with("device") &&
          l.substr(6).find_first_not_of(' ') != std::string_view::npos &&
          l.substr(6)[l.substr(6).find_first_not_of(' ')] == '=') {
        insert_at = i + 1;
        break;
      }
    }
  }
  std::string line = "device = \"" + ToHex(device) + "\"";
  lines.insert(lines.begin() + static_cast<ptrdiff_t>(insert_at), line);
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  if (!text.empty() && text.back() != '\n') {
    out.pop_back();  // the file had no final newline: keep it that way
  }
  return out;
}

bool WriteBackDevice(const std::string& path, const protocol::DeviceId& device,
                     std::string* error) {
  auto text = ReadFileText(path, error);
  if (!text) return false;
  return WriteFileAtomic(path, InsertDeviceLine(*text, device), 0, error);
}

}  // namespace crsp::cli

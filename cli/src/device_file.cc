#include "device_file.h"

#include <toml++/toml.h>

#include <fstream>
#include <sstream>

#include "address.h"
#include "crsp/support/file.h"
#include "crsp/support/hex.h"
#include "price.h"
#include "time_spec.h"

namespace crsp::cli {
namespace {

using support::Result;
using support::Status;

std::string Where(const toml::node& node) {
  const auto& src = node.source();
  return "line " + std::to_string(src.begin.line);
}

// Copies the string at `key` into `out` when present (`out` keeps its
// default otherwise); an error when it is missing but `required`, or is
// not a string.
Status ReadString(const toml::table& t, std::string_view key, bool required,
                  std::string* out, std::string_view context) {
  const toml::node* node = t.get(key);
  if (node == nullptr) {
    if (!required) return Status::Ok();
    return Status::InvalidArgument(std::string(context) + "missing '" +
                                   std::string(key) + "'");
  }
  std::optional<std::string> v = node->value<std::string>();
  if (!v) {
    return Status::InvalidArgument(Where(*node) + ": '" + std::string(key) +
                                   "' must be a string");
  }
  *out = *v;
  return Status::Ok();
}

Result<DeviceSpec::Resource> ReadResource(const toml::table& t) {
  DeviceSpec::Resource r;
  r.context = Where(t) + ": [[resource]] ";
  for (const auto& [key, node] : t) {
    std::string_view k = key.str();
    if (k != "type" && k != "price" && k != "quantity" && k != "from" &&
        k != "until" && k != "unit") {
      return Status::InvalidArgument(
          Where(node) + ": unknown key '" + std::string(k) +
          "' in [[resource]] (type, price, unit, quantity, from, until)");
    }
  }
  for (Status s : {ReadString(t, "type", true, &r.type, r.context),
                   ReadString(t, "price", true, &r.price, r.context),
                   ReadString(t, "unit", false, &r.unit, r.context),
                   ReadString(t, "from", false, &r.from, r.context),
                   ReadString(t, "until", true, &r.until, r.context)}) {
    if (!s.ok()) return s;
  }
  if (const toml::node* q = t.get("quantity")) {
    r.quantity = q->value<int64_t>();
    if (!r.quantity) r.quantity = -1;  // not a number: refused as a quantity
  }
  return r;
}

Result<protocol::ResourceEntry> BuildResource(const DeviceSpec::Resource& r,
                                              const Currency& currency,
                                              uint64_t now) {
  const std::string& ctx = r.context;
  std::optional<uint16_t> resource = ResourceFromName(r.type);
  if (!resource) {
    return Status::InvalidArgument(ctx + "unknown type '" + r.type + "' (" +
                                   ResourceNameList() +
                                   ", or a private id 0x8000-0xffff)");
  }
  Result<Price> price = ParsePrice(r.price, currency.minor_digits);
  if (!price) return Status::InvalidArgument(ctx + price.status().message());
  if (!r.unit.empty()) {
    std::optional<wire::BillingUnit> unit = UnitFromName(r.unit);
    if (!unit) {
      return Status::InvalidArgument(ctx + "unknown unit '" + r.unit + "'");
    }
    price->unit = unit;
  }
  if (!price->unit) {
    return Status::InvalidArgument(ctx + "price '" + r.price +
                                   "' needs a billing unit, e.g. \"" + r.price +
                                   "/hour\"");
  }
  if (!r.quantity || *r.quantity < 1 || *r.quantity > UINT32_MAX) {
    return Status::InvalidArgument(
        ctx + "'quantity' must be a whole number from 1 to 4294967295");
  }
  Result<uint64_t> valid_from = ParseTime(r.from, now);
  if (!valid_from)
    return Status::InvalidArgument(ctx + valid_from.status().message());
  Result<uint64_t> valid_until = ParseTime(r.until, now);
  if (!valid_until)
    return Status::InvalidArgument(ctx + valid_until.status().message());
  if (*valid_until <= *valid_from) {
    return Status::InvalidArgument(ctx + "'until' must be after 'from'");
  }
  protocol::ResourceEntry entry;
  entry.resource = *resource;
  entry.unit = static_cast<uint8_t>(*price->unit);
  entry.price = price->minor;
  entry.quantity = static_cast<uint32_t>(*r.quantity);
  entry.valid_from = *valid_from;
  entry.valid_until = *valid_until;
  return entry;
}

}  // namespace

Result<DeviceFile> BuildDevice(const DeviceSpec& spec, uint64_t now) {
  DeviceFile file;
  std::optional<uint16_t> kind_id = DeviceKindFromName(spec.kind);
  if (!kind_id) {
    return Status::InvalidArgument("unknown kind '" + spec.kind +
                                   "' (computer, printer, car, radio, other)");
  }
  file.kind = *kind_id;
  std::optional<Currency> currency = CurrencyFromCode(spec.currency);
  if (!currency) {
    return Status::InvalidArgument(
        "unknown currency '" + spec.currency +
        "' (an ISO 4217 code such as CNY, USD, EUR, or its number)");
  }
  file.currency = *currency;
  protocol::ResourceSet& set = file.request.set;
  if (!spec.device.empty()) {
    auto id = support::ParseHexArray<wire::kDeviceIdSize>(spec.device);
    if (!id) {
      return Status::InvalidArgument(
          "'device' must be 32 hex digits (a UUID also works)");
    }
    file.device = *id;
    set.device = *id;
  }
  if (!spec.contact.empty()) {
    // No port: 0, "the request's source port" (PROTOCOL.md).
    auto ep = support::ParseEndpoint(spec.contact, {.default_port = 0});
    if (!ep) {
      return Status::InvalidArgument(
          "cannot read contact '" + spec.contact +
          "' (use [IPv6]:port, an IPv6 address, or IPv4:port)");
    }
    set.contact = ep->address;
    set.contact_port = ep->port;
  }
  set.device_kind = file.kind;
  set.currency = file.currency.numeric;

  if (spec.resources.empty()) {
    return Status::InvalidArgument("no [[resource]] in the device file");
  }
  if (spec.resources.size() > wire::kMaxRegisterEntries) {
    return Status::InvalidArgument("more than " +
                                   std::to_string(wire::kMaxRegisterEntries) +
                                   " resources in one device file");
  }
  for (const DeviceSpec::Resource& r : spec.resources) {
    Result<protocol::ResourceEntry> entry =
        BuildResource(r, file.currency, now);
    if (!entry) return entry.status();
    for (const auto& e : file.request.entries) {
      if (e.resource == entry->resource) {
        return Status::InvalidArgument(
            r.context + "resource '" + ResourceName(entry->resource) +
            "' appears twice (one offer per device and resource)");
      }
    }
    file.request.entries.push_back(*entry);
  }
  return file;
}

Result<DeviceFile> ParseDeviceFile(std::string_view toml_text, uint64_t now) {
  toml::table root;
  try {
    root = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument("line " +
                                   std::to_string(e.source().begin.line) +
                                   ": " + std::string(e.description()));
  }
  for (const auto& [key, node] : root) {
    std::string_view k = key.str();
    if (k != "kind" && k != "currency" && k != "device" && k != "contact" &&
        k != "resource") {
      return Status::InvalidArgument(
          Where(node) + ": unknown key '" + std::string(k) +
          "' (kind, currency, device, contact, [[resource]])");
    }
  }
  DeviceSpec spec;
  for (Status s : {ReadString(root, "kind", true, &spec.kind, ""),
                   ReadString(root, "currency", true, &spec.currency, ""),
                   ReadString(root, "device", false, &spec.device, ""),
                   ReadString(root, "contact", false, &spec.contact, "")}) {
    if (!s.ok()) return s;
  }
  if (const toml::array* resources = root["resource"].as_array()) {
    for (const toml::node& node : *resources) {
      const toml::table* t = node.as_table();
      if (t == nullptr) {
        return Status::InvalidArgument(
            Where(node) + ": 'resource' must be [[resource]] tables");
      }
      Result<DeviceSpec::Resource> r = ReadResource(*t);
      if (!r) return r.status();
      spec.resources.push_back(*r);
    }
  }
  return BuildDevice(spec, now);
}

Result<DeviceFile> LoadDeviceFile(const std::string& path, uint64_t now) {
  Result<std::string> text = support::ReadFile(path);
  if (!text) return text.status();
  Result<DeviceFile> file = ParseDeviceFile(*text, now);
  if (!file) return file.status().WithContext(path);
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
  std::string line = "device = \"" + support::ToHex(device) + "\"";
  lines.insert(lines.begin() + static_cast<ptrdiff_t>(insert_at), line);
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  if (!text.empty() && text.back() != '\n') {
    out.pop_back();  // the file had no final newline: keep it that way
  }
  return out;
}

Status WriteBackDevice(const std::string& path,
                       const protocol::DeviceId& device) {
  Result<std::string> text = support::ReadFile(path);
  if (!text) return text.status();
  return support::WriteFileAtomic(path, InsertDeviceLine(*text, device));
}

}  // namespace crsp::cli

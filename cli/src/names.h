// Human names of the spec's numbers: resources, billing units, device
// kinds, currencies, check types, protocols and packet types. The numbers
// themselves come from crsp/protocol/wire.h; this file only names them.
#ifndef CRSP_CLI_NAMES_H_
#define CRSP_CLI_NAMES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crsp/protocol/wire.h"

namespace crsp::cli {

// "cpu", "car-rental", ...; "private-0x8001" for private use ids and
// "0x000d" for ids the spec does not define.
std::string ResourceName(uint16_t id);
// A resource name (case-insensitive, '_' or ' ' for '-'), or a number
// ("0x8001", "32769").
std::optional<uint16_t> ResourceFromName(std::string_view name);
// Every standard resource name, comma separated (for help and errors).
std::string ResourceNameList();

// "use", "hour", "page", "gib-hour", "km", "day"; "unit-N" past 5.
std::string UnitName(uint8_t unit);
// Also accepts "h", "hr", "GiB-hour", "gibh", "gib_hour", "use", "each".
std::optional<wire::BillingUnit> UnitFromName(std::string_view name);

// "computer", "printer", "car", "radio", "other"; a number otherwise.
std::string DeviceKindName(uint16_t kind);
std::optional<uint16_t> DeviceKindFromName(std::string_view name);

struct Currency {
  std::string_view code;  // ISO 4217 alphabetic, "CNY"
  uint16_t numeric;       // ISO 4217 numeric, 156
  int minor_digits;       // 2 for cents/fen, 0 for JPY
};
// From an alphabetic code (case-insensitive) or a numeric code ("156").
// A numeric code outside the table gets 2 minor digits.
std::optional<Currency> CurrencyFromCode(std::string_view code);
// The table's entry for a numeric code; code "" and 2 digits when unknown.
Currency CurrencyByNumeric(uint16_t numeric);

// "none", "parity", "md5", "sum", "bcc", "crc", "lrc", "ed25519".
std::string_view CheckName(wire::CheckType check);
std::optional<wire::CheckType> CheckFromName(std::string_view name);

// "control", "registration", "inquiry"; empty for other bytes.
std::string_view ProtocolName(uint8_t protocol);

}  // namespace crsp::cli

#endif  // CRSP_CLI_NAMES_H_

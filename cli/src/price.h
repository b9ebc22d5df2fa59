// Prices as people write them ("0.10/page", "2.50/hour", "3.00") and as
// the wire carries them: a u32 count of the currency's minor unit per
// billing unit (PROTOCOL.md "Integers, times, identifiers").
#ifndef CRSP_CLI_PRICE_H_
#define CRSP_CLI_PRICE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crsp/protocol/wire.h"
#include "crsp/support/status.h"

namespace crsp::cli {

struct Price {
  uint32_t minor = 0;                     // e.g. 10 for "0.10" in CNY
  std::optional<wire::BillingUnit> unit;  // set when the text has "/unit"
};

// "MAJOR[.FRACTION][/UNIT]" with at most `minor_digits` fraction digits
// (2 for CNY, 0 for JPY). InvalidArgument otherwise, or when the amount
// does not fit in u32 minor units.
support::Result<Price> ParsePrice(std::string_view text, int minor_digits);

// Minor units back to major text: (10, 2) -> "0.10", (500, 0) -> "500".
std::string FormatAmount(uint32_t minor, int minor_digits);

}  // namespace crsp::cli

#endif  // CRSP_CLI_PRICE_H_

#include "price.h"

#include "names.h"

namespace crsp::cli {

std::optional<Price> ParsePrice(std::string_view text, int minor_digits,
                                std::string* error) {
  Price price;
  std::string_view amount = text;
  size_t slash = text.find('/');
  if (slash != std::string_view::npos) {
    amount = text.substr(0, slash);
    std::string_view unit_text = text.substr(slash + 1);
    price.unit = UnitFromName(unit_text);
    if (!price.unit) {
      *error = "unknown billing unit '" + std::string(unit_text) +
               "' in price '" + std::string(text) +
               "' (use, hour, page, gib-hour, km, day)";
      return std::nullopt;
    }
  }
  while (!amount.empty() && amount.back() == ' ') amount.remove_suffix(1);
  while (!amount.empty() && amount.front() == ' ') amount.remove_prefix(1);
  uint64_t value = 0;
  int fraction_digits = -1;  // -1 until the '.'
  bool any_digit = false;
  for (char c : amount) {
    if (c == '.' && fraction_digits < 0) {
      fraction_digits = 0;
      continue;
    }
    if (c < '0' || c > '9') {
      *error = "cannot read price '" + std::string(text) +
               "' (expected e.g. 0.10/page or 2.50)";
      return std::nullopt;
    }
    any_digit = true;
    if (fraction_digits >= 0 && ++fraction_digits > minor_digits) {
      *error = "price '" + std::string(text) + "' has more than " +
               std::to_string(minor_digits) +
               " decimal places for this currency";
      return std::nullopt;
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
    if (value > UINT32_MAX) break;
  }
  if (!any_digit) {
    *error = "cannot read price '" + std::string(text) +
             "' (expected e.g. 0.10/page or 2.50)";
    return std::nullopt;
  }
  for (int d = std::max(fraction_digits, 0); d < minor_digits; ++d) {
    value *= 10;
    if (value > UINT32_MAX) break;
  }
  if (value > UINT32_MAX) {
    *error = "price '" + std::string(text) + "' is too large";
    return std::nullopt;
  }
  price.minor = static_cast<uint32_t>(value);
  return price;
}

std::string FormatAmount(uint32_t minor, int minor_digits) {
  std::string digits = std::to_string(minor);
  if (minor_digits <= 0) return digits;
  size_t need = static_cast<size_t>(minor_digits) + 1;
  if (digits.size() < need) digits.insert(0, need - digits.size(), '0');
  digits.insert(digits.size() - minor_digits, ".");
  return digits;
}

}  // namespace crsp::cli

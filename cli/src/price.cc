#include "price.h"

#include "names.h"

namespace crsp::cli {

support::Result<Price> ParsePrice(std::string_view text, int minor_digits) {
  Price price;
  std::string_view amount = text;
  size_t slash = text.find('/');
  if (slash != std::string_view::npos) {
    amount = text.substr(0, slash);
    std::string_view unit_text = text.substr(slash + 1);
    price.unit = UnitFromName(unit_text);
    if (!price.unit) {
      return support::Status::InvalidArgument(
          "unknown billing unit '" + std::string(unit_text) + "' in price '" +
          std::string(text) + "' (use, hour, page, gib-hour, km, day)");
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
      return support::Status::InvalidArgument(
          "cannot read price '" + std::string(text) +
          "' (expected e.g. 0.10/page or 2.50)");
    }
    any_digit = true;
    if (fraction_digits >= 0 && ++fraction_digits > minor_digits) {
      return support::Status::InvalidArgument(
          "price '" + std::string(text) + "' has more than " +
          std::to_string(minor_digits) + " decimal places for this currency");
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
    if (value > UINT32_MAX) break;
  }
  if (!any_digit) {
    return support::Status::InvalidArgument(
        "cannot read price '" + std::string(text) +
        "' (expected e.g. 0.10/page or 2.50)");
  }
  for (int d = std::max(fraction_digits, 0); d < minor_digits; ++d) {
    value *= 10;
    if (value > UINT32_MAX) break;
  }
  if (value > UINT32_MAX) {
    return support::Status::InvalidArgument("price '" + std::string(text) +
                                            "' is too large");
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

#include "time_spec.h"

#include <charconv>
#include <chrono>
#include <ctime>

namespace crsp::cli {
namespace {

bool ReadInt(std::string_view s, size_t pos, size_t len, int* out) {
  if (pos + len > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

std::optional<uint64_t> ParseRelative(std::string_view s, uint64_t now) {
  bool minus = s[0] == '-';
  s.remove_prefix(1);
  if (s.size() < 2) return std::nullopt;
  uint64_t mult = 0;
  switch (s.back()) {
    case 's':
      mult = 1;
      break;
    case 'm':
      mult = 60;
      break;
    case 'h':
      mult = 3600;
      break;
    case 'd':
      mult = 86400;
      break;
    case 'w':
      mult = 7 * 86400;
      break;
    default:
      return std::nullopt;
  }
  s.remove_suffix(1);
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  if (n > UINT64_MAX / mult) return std::nullopt;
  uint64_t delta = n * mult;
  if (minus) return delta > now ? 0 : now - delta;
  if (delta > UINT64_MAX - now) return std::nullopt;
  return now + delta;
}

std::optional<uint64_t> ParseIso(std::string_view s) {
  std::tm tm{};
  int year, month, day;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !ReadInt(s, 0, 4, &year) ||
      !ReadInt(s, 5, 2, &month) || !ReadInt(s, 8, 2, &day)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  size_t pos = 10;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
    int hour, minute;
    if (!ReadInt(s, pos + 1, 2, &hour) || pos + 3 >= s.size() ||
        s[pos + 3] != ':' || !ReadInt(s, pos + 4, 2, &minute)) {
      return std::nullopt;
    }
    if (hour > 23 || minute > 59) return std::nullopt;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      int second;
      if (!ReadInt(s, pos + 1, 2, &second) || second > 60) {
        return std::nullopt;
      }
      tm.tm_sec = second;
      pos += 3;
    }
  }
  std::string_view zone = s.substr(pos);
  if (zone.empty()) {
    tm.tm_isdst = -1;
    std::time_t t = std::mktime(&tm);
    if (t < 0) return std::nullopt;
    return static_cast<uint64_t>(t);
  }
  int64_t offset = 0;
  if (zone != "Z" && zone != "z") {
    if (zone[0] != '+' && zone[0] != '-') return std::nullopt;
    int oh, om;
    if (zone.size() == 6 && zone[3] == ':') {
      if (!ReadInt(zone, 1, 2, &oh) || !ReadInt(zone, 4, 2, &om)) {
        return std::nullopt;
      }
    } else if (zone.size() == 5) {
      if (!ReadInt(zone, 1, 2, &oh) || !ReadInt(zone, 3, 2, &om)) {
        return std::nullopt;
      }
    } else if (zone.size() == 3) {
      if (!ReadInt(zone, 1, 2, &oh)) return std::nullopt;
      om = 0;
    } else {
      return std::nullopt;
    }
    offset = (oh * 3600 + om * 60) * (zone[0] == '-' ? -1 : 1);
  }
  int64_t t = static_cast<int64_t>(timegm(&tm)) - offset;
  if (t < 0) return std::nullopt;
  return static_cast<uint64_t>(t);
}

}  // namespace

support::Result<uint64_t> ParseTime(std::string_view text, uint64_t now) {
  std::optional<uint64_t> t;
  if (text == "now") {
    t = now;
  } else if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    t = ParseRelative(text, now);
  } else if (!text.empty() && text[0] == '@') {
    uint64_t v = 0;
    auto [ptr, ec] =
        std::from_chars(text.data() + 1, text.data() + text.size(), v);
    if (ec == std::errc() && ptr == text.data() + text.size() &&
        text.size() > 1) {
      t = v;
    }
  } else {
    t = ParseIso(text);
  }
  if (!t) {
    return support::Status::InvalidArgument(
        "cannot read time '" + std::string(text) +
        "' (use ISO 8601 like 2026-01-01T08:00Z, or now, +30m, +8h, +2d)");
  }
  return *t;
}

std::string FormatLocalTime(uint64_t epoch_seconds) {
  std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

}  // namespace crsp::cli

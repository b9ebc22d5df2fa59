#include "crsp/protocol/cursor.h"

#include <algorithm>
#include <cstring>

namespace crsp::protocol {

bool Reader::Need(size_t n) {
  if (!ok_ || n > data_.size() - offset_) {
    ok_ = false;
    return false;
  }
  offset_ += n;
  return true;
}

uint8_t Reader::U8() {
  if (!Need(1)) {
    return 0;
  }
  return static_cast<uint8_t>(data_[offset_ - 1]);
}

uint16_t Reader::U16() {
  if (!Need(2)) {
    return 0;
  }
  const std::byte* p = data_.data() + offset_ - 2;
  return static_cast<uint16_t>((static_cast<unsigned>(p[0]) << 8) |
                               static_cast<unsigned>(p[1]));
}

uint32_t Reader::U32() {
  if (!Need(4)) {
    return 0;
  }
  const std::byte* p = data_.data() + offset_ - 4;
  return (static_cast<uint32_t>(p[0]) << 24) |
         (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | static_cast<uint32_t>(p[3]);
}

uint64_t Reader::U64() {
  uint64_t high = U32();
  uint64_t low = U32();
  return ok_ ? (high << 32) | low : 0;
}

void Reader::Bytes(std::span<uint8_t> out) {
  if (!Need(out.size())) {
    std::fill(out.begin(), out.end(), uint8_t{0});
    return;
  }
  if (!out.empty()) {
    std::memcpy(out.data(), data_.data() + offset_ - out.size(), out.size());
  }
}

std::span<const std::byte> Reader::Take(size_t n) {
  if (!Need(n)) {
    return {};
  }
  return data_.subspan(offset_ - n, n);
}

void Reader::Skip(size_t n) { Need(n); }

void Writer::U8(uint8_t v) { out_.push_back(static_cast<std::byte>(v)); }

namespace {

// Grows `out` by sizeof(T) and stores `v` there big-endian: one resize per
// field instead of one push_back per byte.
template <typename T>
void AppendBigEndian(std::vector<std::byte>& out, T v) {
  size_t at = out.size();
  out.resize(at + sizeof(T));
  for (size_t i = sizeof(T); i-- > 0;) {
    out[at + i] = static_cast<std::byte>(v & 0xFF);
    v = static_cast<T>(v >> 8);
  }
}

}  // namespace

void Writer::U16(uint16_t v) { AppendBigEndian(out_, v); }
void Writer::U32(uint32_t v) { AppendBigEndian(out_, v); }
void Writer::U64(uint64_t v) { AppendBigEndian(out_, v); }

void Writer::Bytes(std::span<const uint8_t> v) {
  const auto* p = reinterpret_cast<const std::byte*>(v.data());
  out_.insert(out_.end(), p, p + v.size());
}

void Writer::Bytes(std::span<const std::byte> v) {
  out_.insert(out_.end(), v.begin(), v.end());
}

void Writer::Zeros(size_t n) { out_.insert(out_.end(), n, std::byte{0}); }

std::span<std::byte> Writer::Grow(size_t n) {
  const size_t at = out_.size();
  out_.resize(at + n);
  return std::span<std::byte>(out_).subspan(at, n);
}

void Writer::PatchU16(size_t offset, uint16_t v) {
  // REQUIRES (by contract): offset + 2 <= size(); a bad offset is ignored
  // rather than writing out of bounds.
  if (offset > out_.size() || out_.size() - offset < 2) {
    return;
  }
  out_[offset] = static_cast<std::byte>(v >> 8);
  out_[offset + 1] = static_cast<std::byte>(v);
}

}  // namespace crsp::protocol

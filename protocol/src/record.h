// Typed big-endian reads at fixed offsets of a fixed-size record (a header,
// a resource entry, an offer). The record's size is part of its type and
// every offset is checked against it at compile time, so no read can pass
// its end; the offsets are those of the spec's layout tables. Private to
// crsp_protocol: the decoder's hot path, where the Reader's out-of-line
// per-field calls cost more than the fields (bench/codec_bench.cc).
#ifndef CRSP_PROTOCOL_SRC_RECORD_H_
#define CRSP_PROTOCOL_SRC_RECORD_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace crsp::protocol::internal {

template <size_t N>
class Record {
 public:
  explicit Record(std::span<const std::byte, N> bytes) : p_(bytes.data()) {}

  template <size_t Off>
  uint8_t U8() const {
    static_assert(Off + 1 <= N);
    return static_cast<uint8_t>(p_[Off]);
  }
  template <size_t Off>
  uint16_t U16() const {
    static_assert(Off + 2 <= N);
    return static_cast<uint16_t>((U8<Off>() << 8) | U8<Off + 1>());
  }
  template <size_t Off>
  uint32_t U32() const {
    static_assert(Off + 4 <= N);
    return (uint32_t{U16<Off>()} << 16) | U16<Off + 2>();
  }
  template <size_t Off>
  uint64_t U64() const {
    static_assert(Off + 8 <= N);
    return (uint64_t{U32<Off>()} << 32) | U32<Off + 4>();
  }
  template <size_t Off, size_t M>
  void Bytes(std::array<uint8_t, M>& out) const {
    static_assert(Off + M <= N);
    std::memcpy(out.data(), p_ + Off, M);
  }

 private:
  const std::byte* p_;
};

}  // namespace crsp::protocol::internal

#endif  // CRSP_PROTOCOL_SRC_RECORD_H_

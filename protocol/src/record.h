// Typed big-endian reads (Record) and writes (RecordWriter) at fixed offsets
// of a fixed-size record (a header, a resource entry, an offer). The
// record's size is part of its type and every offset is checked against it
// at compile time, so no access can pass its end; the offsets are those of
// the spec's layout tables. Private to crsp_protocol: the codec's hot path,
// where the Reader's and Writer's out-of-line per-field calls cost more
// than the fields (bench/codec_bench.cc).
#ifndef CRSP_PROTOCOL_SRC_RECORD_H_
#define CRSP_PROTOCOL_SRC_RECORD_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "crsp/protocol/cursor.h"

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

// Writes into N bytes the caller sized (and zeroed: the bytes a record
// does not set are its reserved ones, which go out as 0).
template <size_t N>
class RecordWriter {
 public:
  explicit RecordWriter(std::span<std::byte, N> bytes) : p_(bytes.data()) {}

  template <size_t Off>
  void U8(uint8_t v) {
    static_assert(Off + 1 <= N);
    p_[Off] = static_cast<std::byte>(v);
  }
  template <size_t Off>
  void U16(uint16_t v) {
    static_assert(Off + 2 <= N);
    U8<Off>(static_cast<uint8_t>(v >> 8));
    U8<Off + 1>(static_cast<uint8_t>(v));
  }
  template <size_t Off>
  void U32(uint32_t v) {
    static_assert(Off + 4 <= N);
    U16<Off>(static_cast<uint16_t>(v >> 16));
    U16<Off + 2>(static_cast<uint16_t>(v));
  }
  template <size_t Off>
  void U64(uint64_t v) {
    static_assert(Off + 8 <= N);
    U32<Off>(static_cast<uint32_t>(v >> 32));
    U32<Off + 4>(static_cast<uint32_t>(v));
  }
  template <size_t Off, size_t M>
  void Bytes(const std::array<uint8_t, M>& in) {
    static_assert(Off + M <= N);
    std::memcpy(p_ + Off, in.data(), M);
  }

 private:
  std::byte* p_;
};

// The next N bytes of `w`, appended zeroed, as a record to fill.
template <size_t N>
RecordWriter<N> AppendRecord(Writer& w) {
  return RecordWriter<N>(w.Grow(N).first<N>());
}

}  // namespace crsp::protocol::internal

#endif  // CRSP_PROTOCOL_SRC_RECORD_H_

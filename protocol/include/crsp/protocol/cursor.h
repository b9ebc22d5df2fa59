// Bounds-checked big-endian reading and writing of wire bytes.
//
// Reader is a cursor over a span with a sticky error: once a read would pass
// the end, every later read returns zero and ok() stays false, so a decoder
// reads a whole structure straight through and checks once. No read ever
// touches a byte outside the span. Writer appends to a byte vector.
#ifndef CRSP_PROTOCOL_CURSOR_H_
#define CRSP_PROTOCOL_CURSOR_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace crsp::protocol {

class Reader {
 public:
  explicit Reader(std::span<const std::byte> data) : data_(data) {}

  uint8_t U8();
  uint16_t U16();
  uint32_t U32();
  uint64_t U64();
  // Copies out.size() bytes; on short input fills `out` with zeros.
  void Bytes(std::span<uint8_t> out);
  // The next n bytes as a view (empty on short input), and advances.
  std::span<const std::byte> Take(size_t n);
  void Skip(size_t n);

  bool ok() const { return ok_; }
  size_t offset() const { return offset_; }
  size_t remaining() const { return ok_ ? data_.size() - offset_ : 0; }

 private:
  // True and advances when n more bytes are there; otherwise sets the error.
  bool Need(size_t n);

  std::span<const std::byte> data_;
  size_t offset_ = 0;
  bool ok_ = true;
};

class Writer {
 public:
  explicit Writer(std::vector<std::byte>& out) : out_(out) {}

  void U8(uint8_t v);
  void U16(uint16_t v);
  void U32(uint32_t v);
  void U64(uint64_t v);
  void Bytes(std::span<const uint8_t> v);
  void Bytes(std::span<const std::byte> v);
  void Zeros(size_t n);
  // Appends n zero bytes and returns them, for a caller that fills a
  // fixed-size record in place. Valid until the next call on this Writer.
  std::span<std::byte> Grow(size_t n);
  // Overwrites two bytes at `offset` (for lengths known only at the end).
  void PatchU16(size_t offset, uint16_t v);

  size_t size() const { return out_.size(); }

 private:
  std::vector<std::byte>& out_;
};

}  // namespace crsp::protocol

#endif  // CRSP_PROTOCOL_CURSOR_H_

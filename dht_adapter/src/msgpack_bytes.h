// What the adapter's msgpack codecs share (offer records, rendezvous
// values): a packer sink writing straight into a byte vector, and readers
// that inspect msgpack objects by type and never convert, so that decoding
// cannot throw past the caller's catch.
#ifndef CRSP_DHT_ADAPTER_SRC_MSGPACK_BYTES_H_
#define CRSP_DHT_ADAPTER_SRC_MSGPACK_BYTES_H_

#include <msgpack.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace crsp::dht::internal {

// Where the packer writes: straight into the bytes. (A msgpack::sbuffer
// starts at 8 KiB: a large allocation per record, which made malloc
// consolidate its fast bins, ~1.7 % of a node under registrations, and a
// copy after.)
struct ByteSink {
  std::vector<std::byte>* out;
  void write(const char* data, size_t size) {
    // Not vector::insert of a range: GCC 12 warns on that after reserve
    // (-Wstringop-overflow, a false positive in Release builds).
    // An empty bin (an unsigned record's request) may come with a null
    // `data`, which memcpy must not get even for 0 bytes (UBSan).
    if (size == 0) return;
    const size_t at = out->size();
    out->resize(at + size);
    std::memcpy(out->data() + at, data, size);
  }
};

template <size_t N>
void PackBin(msgpack::packer<ByteSink>& pk,
             const std::array<uint8_t, N>& bytes) {
  pk.pack_bin(N);
  pk.pack_bin_body(reinterpret_cast<const char*>(bytes.data()), N);
}

// An unsigned integer that fits T; false for anything else.
template <typename T>
bool ReadUint(const msgpack::object& o, T& out) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) return false;
  if (o.via.u64 > std::numeric_limits<T>::max()) return false;
  out = static_cast<T>(o.via.u64);
  return true;
}

// A bin of exactly N bytes; false for anything else.
template <size_t N>
bool ReadFixedBin(const msgpack::object& o, std::array<uint8_t, N>& out) {
  if (o.type != msgpack::type::BIN || o.via.bin.size != N) return false;
  std::copy_n(reinterpret_cast<const uint8_t*>(o.via.bin.ptr), N, out.begin());
  return true;
}

}  // namespace crsp::dht::internal

#endif  // CRSP_DHT_ADAPTER_SRC_MSGPACK_BYTES_H_

// Test support for the device library: its crypto hooks backed by the C++
// protocol library (GnuTLS), and conversions between the C structs of
// crsp_device.h and the C++ packets, so tests compare the two field by
// field.
#ifndef CRSP_TESTS_DEVICE_DEVICE_SUPPORT_H_
#define CRSP_TESTS_DEVICE_DEVICE_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "crsp/protocol/codec.h"
#include "crsp/protocol/ed25519.h"
#include "crsp_device.h"

namespace crsp::device::testing {

// MD5 and Ed25519 verify always; Ed25519 sign with `key` when given. `key`
// must outlive the hooks.
crsp_crypto HooksFor(const protocol::Ed25519Key* key);

inline std::span<const std::byte> AsBytes(const std::vector<uint8_t>& v) {
  return std::as_bytes(std::span(v));
}
inline std::vector<uint8_t> ToU8(std::span<const std::byte> bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  return std::vector<uint8_t>(p, p + bytes.size());
}

crsp_resource_set ToC(const protocol::ResourceSet& set);
crsp_resource_entry ToC(const protocol::ResourceEntry& e);
crsp_query ToC(const protocol::QueryRequest& q);
crsp_query_entry ToC(const protocol::QueryEntry& e);
protocol::Offer FromC(const crsp_offer& o);
protocol::EntryResult FromC(const crsp_entry_result& e);

// The request `body` encoded by the C library; empty when it refuses.
std::vector<uint8_t> EncodeWithC(const protocol::Header& header,
                                 const protocol::Body& body,
                                 const crsp_crypto& hooks);

// An answer decoded by the C library with room for every item.
struct CAnswer {
  crsp_status status;
  crsp_answer answer;
  std::vector<crsp_entry_result> entries;
  std::vector<crsp_offer> offers;
};
CAnswer DecodeWithC(std::span<const std::byte> datagram,
                    const crsp_crypto* hooks);

}  // namespace crsp::device::testing

#endif  // CRSP_TESTS_DEVICE_DEVICE_SUPPORT_H_

// Fuzz target for the device library's answer decoder (crsp_decode_answer,
// C): it must never crash nor read or write outside its buffers, whatever
// the length fields say. Item arrays are smaller than the largest count, so
// the capacity limit is exercised too; what it accepts must be consistent
// with the datagram's length. Written in C++ only for the fuzz harness; it
// calls the C API as a device would.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "crsp_device.h"
#include "fuzz_check.h"

namespace {

// Hooks that accept every MD5 digest of zeros and every signature, so the
// fuzzer reaches the bodies of check types 2 and 7 too.
void ZeroMd5(void*, const uint8_t*, size_t, uint8_t digest[16]) {
  std::memset(digest, 0, 16);
}
int AcceptSignature(void*, const uint8_t*, const uint8_t*, size_t,
                    const uint8_t*) {
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  crsp_crypto hooks{};
  hooks.md5 = ZeroMd5;
  hooks.ed25519_verify = AcceptSignature;
  crsp_entry_result entries[4];
  crsp_offer offers[3];
  const crsp_crypto* with_and_without_hooks[] = {&hooks, nullptr};
  for (const crsp_crypto* crypto : with_and_without_hooks) {
    crsp_answer a{};
    a.entries = entries;
    a.entries_capacity = 4;
    a.offers = offers;
    a.offers_capacity = 3;
    crsp_status status = crsp_decode_answer(data, size, crypto, &a);
    FUZZ_CHECK(a.entries == entries && a.offers == offers);
    if (status != CRSP_OK) continue;
    const crsp_header& h = a.header;
    size_t body = size - h.header_length - crsp_trailer_size(h.check);
    FUZZ_CHECK(h.total_length == size && h.version == CRSP_VERSION);
    FUZZ_CHECK(h.type % 2 == 0 && a.kind != CRSP_ANSWER_NONE);
    if (!a.has_body) {
      FUZZ_CHECK(h.status != CRSP_OK && h.count == 0 && body == 0);
      continue;
    }
    switch (a.kind) {
      case CRSP_ANSWER_PING:
        FUZZ_CHECK(body == 64 && h.count == 0);
        break;
      case CRSP_ANSWER_REGISTER:
      case CRSP_ANSWER_WITHDRAW:
        FUZZ_CHECK(body == 16 + 8 * size_t{h.count});
        FUZZ_CHECK(a.stored == (h.count < 4 ? h.count : 4));
        break;
      default:
        FUZZ_CHECK(body == 8 + 72 * size_t{h.count});
        FUZZ_CHECK(a.stored == (h.count < 3 ? h.count : 3));
        break;
    }
  }
  return 0;
}

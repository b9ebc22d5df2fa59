// Fuzz target for the packet decoder: Decode must never crash, and what it
// accepts must survive Encode -> Decode unchanged. Also checks that the error
// answer a node would send for a refused request encodes and is not itself
// answerable.
#include <cstddef>
#include <cstdint>
#include <span>

#include "crsp/protocol/codec.h"
#include "packet_fuzz_support.h"

namespace {

using crsp::protocol::Decode;
using crsp::protocol::DecodeResult;
using crsp::protocol::Ed25519Key;
using crsp::protocol::Ed25519Seed;
using crsp::protocol::Encode;
using crsp::protocol::ErrorAnswer;
using crsp::protocol::Header;
using crsp::wire::CheckType;
using crsp::wire::Status;

using crsp::fuzz::FuzzKey;
using crsp::fuzz::SameHeaderButLengths;

void CheckRoundTrip(const DecodeResult& first) {
  std::vector<std::byte> again = Encode(first.packet, &FuzzKey());
  FUZZ_CHECK(!again.empty());
  DecodeResult second = Decode(again);
  FUZZ_CHECK(second.status == first.status);
  FUZZ_CHECK(second.check_ok);
  FUZZ_CHECK(second.answerable == first.answerable);
  FUZZ_CHECK(second.packet.body == first.packet.body);
  FUZZ_CHECK(SameHeaderButLengths(second.packet.header, first.packet.header));
  FUZZ_CHECK(second.packet.header.header_length == 16);
  FUZZ_CHECK(second.packet.header.total_length == again.size());
  FUZZ_CHECK(second.signer.has_value() ==
             (first.packet.header.check == CheckType::kEd25519));
}

void CheckErrorAnswer(const DecodeResult& request) {
  std::vector<std::byte> bytes =
      Encode(ErrorAnswer(request.packet.header, request.status), &FuzzKey());
  FUZZ_CHECK(!bytes.empty());
  DecodeResult answer = Decode(bytes);
  // Never an answer to an answer; the status is the request's.
  FUZZ_CHECK(!answer.answerable);
  FUZZ_CHECK(answer.packet.header.txid == request.packet.header.txid);
  if (answer.status == Status::kOk) {
    FUZZ_CHECK(answer.packet.header.status == request.status);
    FUZZ_CHECK(answer.packet.body.index() == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data),
                                   size);
  DecodeResult r = Decode(bytes);
  if (size < crsp::wire::kTxidReadable) {
    FUZZ_CHECK(!r.answerable);
  }
  if (r.status == Status::kOk) {
    FUZZ_CHECK(r.check_ok);
  }
  bool has_body = r.packet.body.index() != 0;
  if (r.status != Status::kOk && r.status != Status::kInvalidField) {
    FUZZ_CHECK(!has_body);
  }
  if (r.status == Status::kOk ||
      (r.status == Status::kInvalidField && has_body)) {
    CheckRoundTrip(r);
  }
  if (r.answerable && r.status != Status::kOk) {
    CheckErrorAnswer(r);
  }
  return 0;
}

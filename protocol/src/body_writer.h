// Writing of packet bodies, the mirror of body_reader.h. Private to
// crsp_protocol. Reserved bytes and flags the structs do not carry are
// written as 0.
#ifndef CRSP_PROTOCOL_SRC_BODY_WRITER_H_
#define CRSP_PROTOCOL_SRC_BODY_WRITER_H_

#include <cstddef>

#include "crsp/protocol/cursor.h"
#include "crsp/protocol/packets.h"

namespace crsp::protocol::internal {

// The header's item count for `body` (0 for pings and std::monostate).
size_t ItemCount(const Body& body);
// Bytes WriteBody appends for `body`.
size_t BodySize(const Body& body);
void WriteBody(const Body& body, Writer& w);

// The same for the two inquiry layouts, for a caller that holds one outside
// a Body (peer_codec.cc: the node-to-node packets carry them).
size_t QueryRequestSize(const QueryRequest& q);
size_t QueryAnswerSize(const QueryAnswer& a);
void WriteQueryRequest(const QueryRequest& q, Writer& w);
void WriteQueryAnswer(const QueryAnswer& a, Writer& w);

}  // namespace crsp::protocol::internal

#endif  // CRSP_PROTOCOL_SRC_BODY_WRITER_H_

// The node's OpenDHT identity (an RSA key and its self-signed certificate),
// kept in the state directory so that the node id, and with it the value id
// of every offer this node put (ValueIdFor), stays the same across restarts.
// Offer values are not signed with it (docs/storage.md "Value ids, edits").
#ifndef CRSP_DHT_ADAPTER_SRC_NODE_IDENTITY_H_
#define CRSP_DHT_ADAPTER_SRC_NODE_IDENTITY_H_

#include <opendht/crypto.h>

#include <string>

namespace crsp::dht {

// Loads <dir>/identity.key and <dir>/identity.crt, or generates an RSA
// identity and saves them (key file mode 0600). An empty dir: a fresh
// identity, not saved. Throws std::runtime_error on unreadable, mismatched or
// unwritable files (start-up only).
::dht::crypto::Identity LoadOrCreateIdentity(const std::string& dir);

}  // namespace crsp::dht

#endif  // CRSP_DHT_ADAPTER_SRC_NODE_IDENTITY_H_

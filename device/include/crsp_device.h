/* crsp_device.h: the CRSP wire protocol v1 for devices (firmware, small
 * Linux boards). The contract is ../shared/PROTOCOL.md (revision 1.1); this
 * header is everything a device needs, read top to bottom:
 *
 *   1. constants of the wire (statuses, check types, resource ids);
 *   2. crypto hooks: MD5 and Ed25519 are the caller's, optional;
 *   3. encoders: register, withdraw, ping and query requests;
 *   4. the answer decoder: every answer into caller-provided structs;
 *   5. a client state machine for a main loop without threads.
 *
 * Rules that hold for every function here:
 *   - C99 and libc only (memcpy, memset, memcmp). No heap, no global or static
 *     mutable state: every function is reentrant, and two clients in one
 *     program never share anything.
 *   - Buffers are the caller's. A function never writes past the capacity
 *     it is given nor reads past the length it is given, and never trusts a
 *     length field of a packet over the datagram's real length.
 *   - Errors are return values; nothing aborts or logs.
 *   - Check types 0 (none), 1 (parity), 3 (sum), 4 (BCC), 5 (CRC-32) and
 *     6 (LRC) are built in; 2 (MD5) and 7 (Ed25519) need a hook.
 */
#ifndef CRSP_DEVICE_H_
#define CRSP_DEVICE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ===== 1. Wire constants ============================================== */

#define CRSP_VERSION 1
#define CRSP_DEFAULT_PORT 7400
#define CRSP_HEADER_SIZE 16
/* Nodes keep answers at or below this, so a receive buffer of this size
 * holds any answer. Requests should fit it too (PROTOCOL.md, no IPv6
 * fragments): a register request of up to 33 entries does under any check
 * type, 36 under CRC-32; larger ones (up to 64) encode but may fragment. */
#define CRSP_MAX_ANSWER 1232
#define CRSP_DEVICE_ID_SIZE 16
#define CRSP_IPV6_SIZE 16
#define CRSP_NODE_ID_SIZE 20
#define CRSP_PUBLIC_KEY_SIZE 32
#define CRSP_SIGNATURE_SIZE 64
#define CRSP_MD5_SIZE 16

/* Item count limits of requests (PROTOCOL.md). */
#define CRSP_MAX_REGISTER_ENTRIES 64
#define CRSP_MAX_WITHDRAW_IDS 64
#define CRSP_MAX_QUERY_ENTRIES 16

/* Header status codes. Decoders also return these (CRSP_OK when a packet
 * parsed), so one type describes both what a node said and what was wrong
 * with what it sent. */
enum crsp_status {
  CRSP_OK = 0,
  CRSP_MALFORMED = 1,
  CRSP_BAD_CHECK = 2,
  CRSP_UNSUPPORTED_VERSION = 3,
  CRSP_UNSUPPORTED_CHECK = 4,
  CRSP_INVALID_FIELD = 5,
  CRSP_NOT_AUTHORIZED = 6,
  CRSP_RATE_LIMITED = 7,
  CRSP_STORAGE_FAILED = 8,
  CRSP_NOT_FOUND = 9,
  CRSP_TOO_LARGE = 10,
  CRSP_INTERNAL = 11,
  /* Query answers only: the body holds the offers the node could read, not
   * necessarily every match; ask again (PROTOCOL.md 1.1). */
  CRSP_INCOMPLETE = 12
};

enum crsp_check {
  CRSP_CHECK_NONE = 0,   /* 0-byte trailer */
  CRSP_CHECK_PARITY = 1, /* 1 byte, even parity of all bits */
  CRSP_CHECK_MD5 = 2,    /* 16 bytes, needs crsp_crypto.md5 */
  CRSP_CHECK_SUM = 3,    /* 2 bytes, byte sum mod 65536 */
  CRSP_CHECK_BCC = 4,    /* 1 byte, XOR of all bytes */
  CRSP_CHECK_CRC32 = 5,  /* 4 bytes, CRC-32/ISO-HDLC; the usual choice */
  CRSP_CHECK_LRC = 6,    /* 1 byte, (-sum) & 0xFF */
  CRSP_CHECK_ED25519 = 7 /* 96 bytes: public key, signature; needs hooks */
};

/* (protocol, type) pairs of the packets. */
enum crsp_protocol {
  CRSP_PROTO_CONTROL = 0x00,
  CRSP_PROTO_REGISTRATION = 0x01,
  CRSP_PROTO_INQUIRY = 0x02
};
#define CRSP_TYPE_PING_REQUEST 0x01     /* control */
#define CRSP_TYPE_PING_ANSWER 0x02      /* control */
#define CRSP_TYPE_REGISTER_REQUEST 0x01 /* registration */
#define CRSP_TYPE_REGISTER_ANSWER 0x02  /* registration */
#define CRSP_TYPE_WITHDRAW_REQUEST 0x03 /* registration */
#define CRSP_TYPE_WITHDRAW_ANSWER 0x04  /* registration */
#define CRSP_TYPE_QUERY_REQUEST 0x01    /* inquiry */
#define CRSP_TYPE_QUERY_ANSWER 0x02     /* inquiry */

enum crsp_device_kind {
  CRSP_KIND_COMPUTER = 1,
  CRSP_KIND_PRINTER = 2,
  CRSP_KIND_CAR = 3,
  CRSP_KIND_RADIO = 4,
  CRSP_KIND_OTHER = 0xFFFF
};

enum crsp_billing_unit {
  CRSP_UNIT_PER_USE = 0,
  CRSP_UNIT_PER_HOUR = 1,
  CRSP_UNIT_PER_PAGE = 2,
  CRSP_UNIT_PER_GIB_HOUR = 3,
  CRSP_UNIT_PER_KM = 4,
  CRSP_UNIT_PER_DAY = 5,
  CRSP_UNIT_ANY = 0xFF /* query entries only */
};

/* Resource ids; 0x8000-0xFFFF are for private use. */
enum crsp_resource {
  CRSP_RES_CPU = 0x0001,
  CRSP_RES_VIDEO = 0x0002,
  CRSP_RES_PRINT = 0x0003,
  CRSP_RES_MEMORY = 0x0004,
  CRSP_RES_SOFTWARE = 0x0005,
  CRSP_RES_COPY = 0x0006,
  CRSP_RES_CAR_RENTAL = 0x0007,
  CRSP_RES_TAXI_RIDE = 0x0008,
  CRSP_RES_SIGHTSEEING = 0x0009,
  CRSP_RES_BROADCAST = 0x000A,
  CRSP_RES_STORAGE = 0x000B,
  CRSP_RES_BANDWIDTH = 0x000C
};

#define CRSP_ANY_PRICE 0xFFFFFFFFu
#define CRSP_OFFER_FLAG_SIGNED 0x01

/* Trailer bytes of a check type; 0 for reserved types 8-15 (and type 0). */
size_t crsp_trailer_size(uint8_t check);

/* The built-in checks, exposed for tests and for devices that reuse them.
 * crsp_crc32("123456789", 9) == 0xCBF43926. A zero length is fine with a
 * NULL pointer. */
uint32_t crsp_crc32(const uint8_t* data, size_t len);

/* ===== 2. Crypto hooks ================================================ */

/* The device's own MD5 and Ed25519, when it wants check types 2 or 7. Any
 * hook may be NULL; a check type whose hook is missing cannot be encoded
 * (the encoder returns 0) nor verified (the decoder returns
 * CRSP_UNSUPPORTED_CHECK). `ctx` is passed to every hook unchanged. The
 * hooks must not call back into this library with the same buffers. */
typedef struct crsp_crypto {
  void* ctx;
  /* digest = MD5(data[0..len)). */
  void (*md5)(void* ctx, const uint8_t* data, size_t len,
              uint8_t digest[CRSP_MD5_SIZE]);
  /* Signs data[0..len) with the device's key, whose public half is
   * `public_key` below (RFC 8032). Returns 0 on success. */
  int (*ed25519_sign)(void* ctx, const uint8_t* data, size_t len,
                      uint8_t signature[CRSP_SIGNATURE_SIZE]);
  /* Returns 0 when `signature` of data[0..len) verifies under `key`. */
  int (*ed25519_verify)(void* ctx, const uint8_t key[CRSP_PUBLIC_KEY_SIZE],
                        const uint8_t* data, size_t len,
                        const uint8_t signature[CRSP_SIGNATURE_SIZE]);
  uint8_t public_key[CRSP_PUBLIC_KEY_SIZE];
} crsp_crypto;

/* ===== 3. Request encoders ============================================ */

/* Every encoder writes one whole datagram (header, body, check trailer)
 * into out[0..cap) and returns its length, or 0 when nothing usable was
 * written: `cap` too small, an item count out of range, a NULL argument,
 * a reserved check type, or a check type whose hook `crypto` (may be NULL)
 * lacks. `txid` is echoed by the answer; a resend must reuse the same
 * bytes. With check type 7, nodes require txids that never decrease per
 * device (a persisted counter or the Unix time in seconds). Encoders do
 * not validate field values (the node does, with INVALID_FIELD). */

/* The resource set descriptor: who sells. */
typedef struct crsp_resource_set {
  uint8_t device[CRSP_DEVICE_ID_SIZE]; /* e.g. a UUID, stable per device */
  uint16_t device_kind;                /* enum crsp_device_kind */
  uint16_t currency;                   /* ISO 4217 numeric: 156 CNY */
  uint8_t contact[CRSP_IPV6_SIZE];     /* all zero: the source address */
  uint16_t contact_port;               /* 0: the source port */
} crsp_resource_set;

/* One offer to register: sellable from valid_from until valid_until (Unix
 * seconds, UTC). */
typedef struct crsp_resource_entry {
  uint16_t resource; /* enum crsp_resource */
  uint8_t unit;      /* enum crsp_billing_unit */
  uint32_t quantity; /* at least 1 */
  uint32_t price;    /* minor units (cent, fen) per billing unit */
  uint64_t valid_from;
  uint64_t valid_until;
} crsp_resource_entry;

/* Register request: 1..64 entries. Size 16 + 40 + 32 * count + trailer. */
size_t crsp_encode_register(uint8_t* out, size_t cap, uint32_t txid,
                            uint8_t check, const crsp_crypto* crypto,
                            const crsp_resource_set* set,
                            const crsp_resource_entry* entries, size_t count);

/* Withdraw request: 0..64 resource ids; 0 withdraws every offer of the
 * device. `resources` may be NULL when count is 0. */
size_t crsp_encode_withdraw(uint8_t* out, size_t cap, uint32_t txid,
                            uint8_t check, const crsp_crypto* crypto,
                            const uint8_t device[CRSP_DEVICE_ID_SIZE],
                            const uint16_t* resources, size_t count);

/* Ping request: empty body. */
size_t crsp_encode_ping(uint8_t* out, size_t cap, uint32_t txid, uint8_t check,
                        const crsp_crypto* crypto);

typedef struct crsp_query {
  uint64_t wanted_from;  /* 0: now */
  uint64_t wanted_until; /* 0: no end wanted */
  uint16_t currency;     /* 0: any */
  uint16_t max_results;  /* 0: as many as fit one answer */
  uint32_t cursor;       /* 0, then the answer's next_cursor */
} crsp_query;

typedef struct crsp_query_entry {
  uint16_t resource;
  uint8_t unit;       /* CRSP_UNIT_ANY: any */
  uint32_t max_price; /* CRSP_ANY_PRICE: any */
  uint32_t min_quantity;
} crsp_query_entry;

/* Query request: 1..16 entries. */
size_t crsp_encode_query(uint8_t* out, size_t cap, uint32_t txid, uint8_t check,
                         const crsp_crypto* crypto, const crsp_query* query,
                         const crsp_query_entry* entries, size_t count);

/* ===== 4. Answer decoder ============================================== */

/* The 16 header bytes, as far as the datagram has them (the rest zero). */
typedef struct crsp_header {
  uint16_t version;
  uint8_t protocol;
  uint8_t type;
  uint16_t header_length;
  uint16_t total_length;
  uint32_t txid;
  uint8_t check; /* low 4 bits of the check byte */
  uint8_t status;
  uint16_t count; /* item count */
} crsp_header;

/* One 8-byte entry of a register or withdraw answer. */
typedef struct crsp_entry_result {
  uint16_t resource;
  uint8_t status; /* enum crsp_status, for this entry */
  uint16_t replicas;
} crsp_entry_result;

/* One 72-byte offer of a query answer. */
typedef struct crsp_offer {
  uint8_t device[CRSP_DEVICE_ID_SIZE];
  uint8_t contact[CRSP_IPV6_SIZE];
  uint16_t contact_port;
  uint16_t device_kind;
  uint16_t currency;
  uint16_t resource;
  uint8_t unit;
  uint8_t flags; /* CRSP_OFFER_FLAG_SIGNED */
  uint32_t quantity;
  uint32_t price;
  uint64_t valid_from;
  uint64_t valid_until;
} crsp_offer;

typedef struct crsp_ping_answer {
  uint8_t node_id[CRSP_NODE_ID_SIZE];
  uint32_t offers;
  uint32_t peers;
  uint32_t uptime; /* seconds since the node started */
  uint8_t public_key[CRSP_PUBLIC_KEY_SIZE];
} crsp_ping_answer;

enum crsp_answer_kind {
  CRSP_ANSWER_NONE = 0, /* not decoded */
  CRSP_ANSWER_PING,
  CRSP_ANSWER_REGISTER,
  CRSP_ANSWER_WITHDRAW,
  CRSP_ANSWER_QUERY
};

/* A decoded answer. Before decoding, the caller points `entries` and
 * `offers` at its own arrays (or NULL) and sets their capacities; the
 * decoder stores the first min(count, capacity) items there and says how
 * many in `stored`. Items past the capacity are checked but not kept:
 * page queries with max_results to fit the array. */
typedef struct crsp_answer {
  /* Caller's, read by the decoder. */
  crsp_entry_result* entries; /* register and withdraw answers */
  uint16_t entries_capacity;
  crsp_offer* offers; /* query answers */
  uint16_t offers_capacity;

  /* Decoder's. */
  crsp_header header;
  enum crsp_answer_kind kind;
  /* 0 for an answer carrying only an error status (empty body, count 0):
   * then the body fields below are zero. */
  int has_body;
  uint16_t stored;                     /* items written to entries or offers */
  uint8_t device[CRSP_DEVICE_ID_SIZE]; /* register and withdraw answers */
  uint32_t total;       /* query: total matches (INCOMPLETE: read ones) */
  uint32_t next_cursor; /* query: 0 when this page is the last */
  crsp_ping_answer ping;
  uint8_t signer[CRSP_PUBLIC_KEY_SIZE]; /* check type 7: the verified key */
} crsp_answer;

/* Decodes one datagram data[0..len) that should be an answer. Returns
 * CRSP_OK when it parsed and its check held; the node's own status is then
 * answer->header.status (an OK decode of a RATE_LIMITED answer is normal).
 * Otherwise returns why it is unusable, checking in the spec's order:
 *   1. length: fewer than 16 bytes MALFORMED; version not 1
 *      UNSUPPORTED_VERSION; total length not `len` MALFORMED; check byte's
 *      high bits set MALFORMED; check type 8-15 or one whose hook is
 *      missing UNSUPPORTED_CHECK; header length < 16 or no room for the
 *      trailer MALFORMED;
 *   2. check bits: BAD_CHECK;
 *   3. fields: not a known answer (protocol, type) MALFORMED; body size not
 *      the one the item count implies MALFORMED.
 * answer->header is filled as far as the datagram has it, also on failure
 * (from 12 bytes on, header.txid is the sender's). `crypto` may be NULL.
 * Matching txids with requests is the caller's (or the client's) job. */
enum crsp_status crsp_decode_answer(const uint8_t* data, size_t len,
                                    const crsp_crypto* crypto,
                                    crsp_answer* answer);

/* ===== 5. Client state machine ======================================== */

/* A device's whole life with the platform, for a single-threaded main
 * loop: find the nearest node (ping round-trip time), register the offers,
 * resend unanswered requests (500 ms, doubling, 4 tries per node), fail
 * over to the next node, re-register before the offers' validity runs
 * out, and withdraw on request. It owns no socket and reads no clock:
 *
 *   crsp_client c;  crsp_client_init(&c, &config);
 *   crsp_client_start(&c, now_ms);
 *   loop:
 *     wait for a datagram or until crsp_client_next_ms(&c);
 *     datagram from node i?  crsp_client_receive(&c, now_ms, i, data, len);
 *     crsp_client_poll(&c, now_ms);    -- sends through config.send
 *   on shutdown: crsp_client_withdraw(&c, now_ms), loop until
 *     crsp_client_state(&c) is CRSP_CLIENT_DONE.
 *
 * `now_ms` is the wall clock in milliseconds since the Unix epoch: the
 * client times its resends with it and also dates the offers with it
 * (valid_from = now, valid_until = now + lease), so it must be right to
 * within seconds. It may stand still between calls; it should not go back.
 * Nodes are indexes 0..node_count-1 into the caller's own address table. */

#define CRSP_CLIENT_MAX_NODES 8

enum crsp_client_state {
  CRSP_CLIENT_IDLE = 0,    /* not started */
  CRSP_CLIENT_PINGING,     /* measuring round-trip times */
  CRSP_CLIENT_REGISTERING, /* register sent, waiting for the answer */
  CRSP_CLIENT_REGISTERED,  /* offers stored; renewal timer running */
  CRSP_CLIENT_WAITING,     /* every node failed; retrying later */
  CRSP_CLIENT_WITHDRAWING, /* withdraw sent, waiting for the answer */
  CRSP_CLIENT_DONE,        /* withdrawn, or gave up withdrawing */
  CRSP_CLIENT_FAILED       /* a node refused the offers for good */
};

enum crsp_client_event {
  CRSP_EVENT_NODE_CHOSEN, /* node: the nearest answering; value: RTT ms */
  CRSP_EVENT_FAILOVER,    /* node: the next one tried; value: 0 */
  CRSP_EVENT_REGISTERED,  /* node; value: the header status (OK) */
  CRSP_EVENT_REJECTED,    /* node; value: the refusing status */
  CRSP_EVENT_WITHDRAWN,   /* node; value: the header status */
  CRSP_EVENT_GAVE_UP      /* withdraw unanswered by every node */
};

typedef struct crsp_client_config {
  uint8_t node_count; /* 1..CRSP_CLIENT_MAX_NODES */
  /* Sends one datagram to node `node`; returns 0 when handed to the
   * network. A failed send counts as a lost datagram. */
  int (*send)(void* ctx, uint8_t node, const uint8_t* data, size_t len);
  /* Optional: told of progress; `answer` is the answer that caused
   * REGISTERED, REJECTED or WITHDRAWN (header and device; its entries are
   * not kept, stored is 0), else NULL. */
  void (*on_event)(void* ctx, enum crsp_client_event event, uint8_t node,
                   uint32_t value, const crsp_answer* answer);
  void* ctx; /* passed to send and on_event */

  /* What to sell. The client writes valid_from and valid_until of every
   * entry before each register (so `entries` stays the caller's, and must
   * outlive the client); the other fields are the caller's. */
  crsp_resource_set set;
  crsp_resource_entry* entries;
  uint8_t entry_count; /* 1..CRSP_MAX_REGISTER_ENTRIES */

  uint8_t check;             /* e.g. CRSP_CHECK_CRC32 */
  const crsp_crypto* crypto; /* NULL unless check is 2 or 7 */
  uint32_t first_txid;       /* then +1 per new request */
  uint32_t lease_s;          /* offers valid this long; 0: 3600 */
  uint32_t renew_before_s;   /* re-register this early; 0: lease / 4 */
  uint32_t timeout_ms;       /* first resend after; 0: 500 (doubling) */
  uint8_t tries;             /* per node and request; 0: 4 */
  uint32_t retry_after_ms;   /* after every node failed; 0: 30000 */

  /* The datagram being sent, kept for resends: at least
   * 16 + 40 + 32 * entry_count + trailer bytes. */
  uint8_t* buffer;
  size_t buffer_size;
} crsp_client_config;

/* Plain data, the caller's to hold; read it through the functions below. */
typedef struct crsp_client {
  crsp_client_config config;
  enum crsp_client_state state;
  uint8_t order[CRSP_CLIENT_MAX_NODES];   /* nodes, nearest first */
  uint32_t rtt_ms[CRSP_CLIENT_MAX_NODES]; /* of the last ping round */
  uint8_t position;                       /* in `order`, of the node asked */
  uint8_t tried; /* nodes asked for the current request */
  uint8_t sent;  /* sends of the current datagram to the node */
  uint32_t txid; /* of the current request */
  uint32_t next_txid;
  size_t length;            /* of the datagram in config.buffer */
  uint64_t started_ms;      /* when the current request was first sent */
  uint64_t due_ms;          /* next resend, timeout, retry or renewal */
  uint64_t pending_until_s; /* validity end of the last register sent */
  uint64_t valid_until_s;   /* validity end of the last one answered OK */
} crsp_client;

/* Copies `config` and checks it. Returns 0, or -1 when it is unusable
 * (no node, too many nodes, no send, no entries, a buffer too small for
 * the register request). The client is then IDLE. */
int crsp_client_init(crsp_client* client, const crsp_client_config* config);

/* Starts: pings every node, then registers with the nearest. */
void crsp_client_start(crsp_client* client, uint64_t now_ms);

/* Feeds a datagram received from node `node`. Answers that do not decode,
 * carry another txid or check type, or come from another node than the one
 * asked are ignored (a late answer to an earlier request is normal). A
 * register or withdraw answer with RATE_LIMITED, STORAGE_FAILED, INTERNAL
 * or BAD_CHECK sends the request to the next node at once; any other error
 * status of a register answer ends in FAILED. May send. */
void crsp_client_receive(crsp_client* client, uint64_t now_ms, uint8_t node,
                         const uint8_t* data, size_t len);

/* Sends what is due at `now_ms`: resends, failover, renewal. Calling it
 * early or often is harmless. */
void crsp_client_poll(crsp_client* client, uint64_t now_ms);

/* When crsp_client_poll next has work; UINT64_MAX when never (IDLE, DONE,
 * FAILED). */
uint64_t crsp_client_next_ms(const crsp_client* client);

/* Withdraws the registered offers (those of config.entries) from the
 * current node, with the same resends and failover; DONE when answered or
 * when every node stayed silent. Also stops a client that has not
 * registered yet (DONE at once). */
void crsp_client_withdraw(crsp_client* client, uint64_t now_ms);

enum crsp_client_state crsp_client_state(const crsp_client* client);

/* The node in use (meaningful from REGISTERING on). */
uint8_t crsp_client_node(const crsp_client* client);

/* Unix seconds until which the offers of the last register answered OK
 * stay valid; 0 before the first. */
uint64_t crsp_client_valid_until_s(const crsp_client* client);

#ifdef __cplusplus
}
#endif

#endif /* CRSP_DEVICE_H_ */

/* Encoders, the answer decoder and the check trailer of crsp_device.h.
 * Layouts are PROTOCOL.md's tables; offsets are spelled once, in the
 * functions that read or write each record. */
#include <string.h>

#include "crsp_device.h"

/* ----- Byte order --------------------------------------------------------- */

static void put16(uint8_t* p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void put32(uint8_t* p, uint32_t v) {
  put16(p, (uint16_t)(v >> 16));
  put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t* p, uint64_t v) {
  put32(p, (uint32_t)(v >> 32));
  put32(p + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t* p) {
  return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t* p) {
  return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t* p) {
  return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* ----- Check trailer ------------------------------------------------------ */

size_t crsp_trailer_size(uint8_t check) {
  static const uint8_t kSize[8] = {0, 1, 16, 2, 1, 4, 1, 96};
  return check < 8 ? kSize[check] : 0;
}

uint32_t crsp_crc32(const uint8_t* data, size_t len) {
  /* Bitwise, no table: 1 KB of table would be an eighth of the code budget
   * of a Cortex-M4 device, and packets are small. */
  uint32_t crc = 0xFFFFFFFFu;
  size_t i;
  int bit;
  for (i = 0; i < len; ++i) {
    crc ^= data[i];
    for (bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
  }
  return crc ^ 0xFFFFFFFFu;
}

/* A check type is usable when known and, for MD5 and Ed25519, hooked. */
static int check_usable(uint8_t check, const crsp_crypto* crypto, int sign) {
  if (check == CRSP_CHECK_MD5) return crypto != NULL && crypto->md5 != NULL;
  if (check == CRSP_CHECK_ED25519) {
    if (crypto == NULL) return 0;
    return sign ? crypto->ed25519_sign != NULL : crypto->ed25519_verify != NULL;
  }
  return check < 8;
}

/* Writes the trailer of `check` over data[0..len) into `trailer`, which has
 * crsp_trailer_size(check) bytes. Returns 0 on success. */
static int make_trailer(uint8_t check, const crsp_crypto* crypto,
                        const uint8_t* data, size_t len, uint8_t* trailer) {
  uint32_t sum = 0;
  uint8_t x = 0;
  size_t i;
  for (i = 0; i < len; ++i) {
    sum += data[i];
    x ^= data[i];
  }
  switch (check) {
    case CRSP_CHECK_NONE:
      return 0;
    case CRSP_CHECK_PARITY: {
      /* The parity of all bits is the parity of the XOR of all bytes. */
      x ^= x >> 4;
      x ^= x >> 2;
      x ^= x >> 1;
      trailer[0] = x & 1u;
      return 0;
    }
    case CRSP_CHECK_MD5:
      crypto->md5(crypto->ctx, data, len, trailer);
      return 0;
    case CRSP_CHECK_SUM:
      put16(trailer, (uint16_t)sum);
      return 0;
    case CRSP_CHECK_BCC:
      trailer[0] = x;
      return 0;
    case CRSP_CHECK_CRC32:
      put32(trailer, crsp_crc32(data, len));
      return 0;
    case CRSP_CHECK_LRC:
      trailer[0] = (uint8_t)(0u - sum);
      return 0;
    case CRSP_CHECK_ED25519:
      memcpy(trailer, crypto->public_key, CRSP_PUBLIC_KEY_SIZE);
      return crypto->ed25519_sign(crypto->ctx, data, len,
                                  trailer + CRSP_PUBLIC_KEY_SIZE);
    default:
      return -1;
  }
}

/* Returns 1 when `trailer` is the right check of data[0..len). */
static int check_holds(uint8_t check, const crsp_crypto* crypto,
                       const uint8_t* data, size_t len,
                       const uint8_t* trailer) {
  uint8_t expected[CRSP_MD5_SIZE];
  if (check == CRSP_CHECK_ED25519) {
    return crypto->ed25519_verify(crypto->ctx, trailer, data, len,
                                  trailer + CRSP_PUBLIC_KEY_SIZE) == 0;
  }
  if (make_trailer(check, crypto, data, len, expected) != 0) return 0;
  return memcmp(expected, trailer, crsp_trailer_size(check)) == 0;
}

/* ----- Encoders ----------------------------------------------------------- */

/* Checks that a request of `body` bytes fits `cap` with its check, and
 * writes its header. Returns the whole packet's length, or 0. */
static size_t begin_request(uint8_t* out, size_t cap, uint8_t protocol,
                            uint8_t type, uint32_t txid, uint8_t check,
                            const crsp_crypto* crypto, size_t body,
                            size_t count) {
  size_t total;
  if (out == NULL || !check_usable(check, crypto, 1)) return 0;
  total = CRSP_HEADER_SIZE + body + crsp_trailer_size(check);
  if (total > cap || total > 0xFFFFu) return 0;
  put16(out + 0, CRSP_VERSION);
  out[2] = protocol;
  out[3] = type;
  put16(out + 4, CRSP_HEADER_SIZE);
  put16(out + 6, (uint16_t)total);
  put32(out + 8, txid);
  out[12] = check;
  out[13] = 0; /* status: 0 in requests */
  put16(out + 14, (uint16_t)count);
  return total;
}

/* Appends the trailer to a packet whose body is written. */
static size_t finish_request(uint8_t* out, size_t total, uint8_t check,
                             const crsp_crypto* crypto) {
  size_t covered = total - crsp_trailer_size(check);
  if (make_trailer(check, crypto, out, covered, out + covered) != 0) {
    return 0;
  }
  return total;
}

size_t crsp_encode_register(uint8_t* out, size_t cap, uint32_t txid,
                            uint8_t check, const crsp_crypto* crypto,
                            const crsp_resource_set* set,
                            const crsp_resource_entry* entries, size_t count) {
  size_t total, i;
  uint8_t* p;
  if (set == NULL || entries == NULL || count < 1 ||
      count > CRSP_MAX_REGISTER_ENTRIES) {
    return 0;
  }
  total = begin_request(out, cap, CRSP_PROTO_REGISTRATION,
                        CRSP_TYPE_REGISTER_REQUEST, txid, check, crypto,
                        40 + 32 * count, count);
  if (total == 0) return 0;
  /* Resource set descriptor, 40 bytes. */
  p = out + CRSP_HEADER_SIZE;
  memcpy(p, set->device, CRSP_DEVICE_ID_SIZE);
  put16(p + 16, set->device_kind);
  put16(p + 18, set->currency);
  memcpy(p + 20, set->contact, CRSP_IPV6_SIZE);
  put16(p + 36, set->contact_port);
  put16(p + 38, 0);
  /* Resource entries, 32 bytes each. */
  for (i = 0, p += 40; i < count; ++i, p += 32) {
    const crsp_resource_entry* e = &entries[i];
    put16(p, e->resource);
    p[2] = e->unit;
    p[3] = 0; /* flags */
    put32(p + 4, e->quantity);
    put32(p + 8, e->price);
    put32(p + 12, 0);
    put64(p + 16, e->valid_from);
    put64(p + 24, e->valid_until);
  }
  return finish_request(out, total, check, crypto);
}

size_t crsp_encode_withdraw(uint8_t* out, size_t cap, uint32_t txid,
                            uint8_t check, const crsp_crypto* crypto,
                            const uint8_t device[CRSP_DEVICE_ID_SIZE],
                            const uint16_t* resources, size_t count) {
  size_t total, i;
  uint8_t* p;
  if (device == NULL || (resources == NULL && count > 0) ||
      count > CRSP_MAX_WITHDRAW_IDS) {
    return 0;
  }
  total = begin_request(out, cap, CRSP_PROTO_REGISTRATION,
                        CRSP_TYPE_WITHDRAW_REQUEST, txid, check, crypto,
                        CRSP_DEVICE_ID_SIZE + 2 * count, count);
  if (total == 0) return 0;
  p = out + CRSP_HEADER_SIZE;
  memcpy(p, device, CRSP_DEVICE_ID_SIZE);
  for (i = 0, p += CRSP_DEVICE_ID_SIZE; i < count; ++i, p += 2) {
    put16(p, resources[i]);
  }
  return finish_request(out, total, check, crypto);
}

size_t crsp_encode_ping(uint8_t* out, size_t cap, uint32_t txid, uint8_t check,
                        const crsp_crypto* crypto) {
  size_t total =
      begin_request(out, cap, CRSP_PROTO_CONTROL, CRSP_TYPE_PING_REQUEST, txid,
                    check, crypto, 0, 0);
  return total == 0 ? 0 : finish_request(out, total, check, crypto);
}

size_t crsp_encode_query(uint8_t* out, size_t cap, uint32_t txid, uint8_t check,
                         const crsp_crypto* crypto, const crsp_query* query,
                         const crsp_query_entry* entries, size_t count) {
  size_t total, i;
  uint8_t* p;
  if (query == NULL || entries == NULL || count < 1 ||
      count > CRSP_MAX_QUERY_ENTRIES) {
    return 0;
  }
  total = begin_request(out, cap, CRSP_PROTO_INQUIRY, CRSP_TYPE_QUERY_REQUEST,
                        txid, check, crypto, 24 + 12 * count, count);
  if (total == 0) return 0;
  /* Query descriptor, 24 bytes. */
  p = out + CRSP_HEADER_SIZE;
  put64(p, query->wanted_from);
  put64(p + 8, query->wanted_until);
  put16(p + 16, query->currency);
  put16(p + 18, query->max_results);
  put32(p + 20, query->cursor);
  /* Query entries, 12 bytes each. */
  for (i = 0, p += 24; i < count; ++i, p += 12) {
    put16(p, entries[i].resource);
    p[2] = entries[i].unit;
    p[3] = 0;
    put32(p + 4, entries[i].max_price);
    put32(p + 8, entries[i].min_quantity);
  }
  return finish_request(out, total, check, crypto);
}

/* ----- Answer decoder ----------------------------------------------------- */

/* Reads the header bytes the datagram has; the rest stay zero. */
static void read_header(const uint8_t* data, size_t len, crsp_header* h,
                        uint8_t* check_byte) {
  uint8_t bytes[CRSP_HEADER_SIZE];
  memset(bytes, 0, sizeof bytes);
  if (len > 0) memcpy(bytes, data, len < sizeof bytes ? len : sizeof bytes);
  h->version = get16(bytes);
  h->protocol = bytes[2];
  h->type = bytes[3];
  h->header_length = get16(bytes + 4);
  h->total_length = get16(bytes + 6);
  h->txid = get32(bytes + 8);
  *check_byte = bytes[12];
  h->check = bytes[12] & 0x0Fu;
  h->status = bytes[13];
  h->count = get16(bytes + 14);
}

static enum crsp_answer_kind answer_kind(uint8_t protocol, uint8_t type) {
  if (protocol == CRSP_PROTO_CONTROL && type == CRSP_TYPE_PING_ANSWER) {
    return CRSP_ANSWER_PING;
  }
  if (protocol == CRSP_PROTO_REGISTRATION) {
    if (type == CRSP_TYPE_REGISTER_ANSWER) return CRSP_ANSWER_REGISTER;
    if (type == CRSP_TYPE_WITHDRAW_ANSWER) return CRSP_ANSWER_WITHDRAW;
  }
  if (protocol == CRSP_PROTO_INQUIRY && type == CRSP_TYPE_QUERY_ANSWER) {
    return CRSP_ANSWER_QUERY;
  }
  return CRSP_ANSWER_NONE;
}

static void read_offer(const uint8_t* p, crsp_offer* o) {
  memcpy(o->device, p, CRSP_DEVICE_ID_SIZE);
  memcpy(o->contact, p + 16, CRSP_IPV6_SIZE);
  o->contact_port = get16(p + 32);
  o->device_kind = get16(p + 34);
  o->currency = get16(p + 36);
  o->resource = get16(p + 38);
  o->unit = p[40];
  o->flags = p[41];
  o->quantity = get32(p + 44);
  o->price = get32(p + 48);
  o->valid_from = get64(p + 56);
  o->valid_until = get64(p + 64);
}

/* The body body[0..len) of a checked answer. The size test comes first and
 * is exact, so every read below stays inside the body. */
static enum crsp_status read_body(const uint8_t* body, size_t len,
                                  crsp_answer* a) {
  size_t count = a->header.count, i;
  if (a->header.status != CRSP_OK && count == 0 && len == 0) {
    return CRSP_OK; /* an error status alone */
  }
  switch (a->kind) {
    case CRSP_ANSWER_PING:
      if (count != 0 || len != 64) return CRSP_MALFORMED;
      memcpy(a->ping.node_id, body, CRSP_NODE_ID_SIZE);
      a->ping.offers = get32(body + 20);
      a->ping.peers = get32(body + 24);
      a->ping.uptime = get32(body + 28);
      memcpy(a->ping.public_key, body + 32, CRSP_PUBLIC_KEY_SIZE);
      break;
    case CRSP_ANSWER_REGISTER:
    case CRSP_ANSWER_WITHDRAW:
      if (len != CRSP_DEVICE_ID_SIZE + 8 * count) return CRSP_MALFORMED;
      memcpy(a->device, body, CRSP_DEVICE_ID_SIZE);
      for (i = 0; i < count && i < a->entries_capacity && a->entries; ++i) {
        const uint8_t* p = body + CRSP_DEVICE_ID_SIZE + 8 * i;
        a->entries[i].resource = get16(p);
        a->entries[i].status = p[2];
        a->entries[i].replicas = get16(p + 4);
      }
      a->stored = (uint16_t)i;
      break;
    case CRSP_ANSWER_QUERY:
      if (len != 8 + 72 * count) return CRSP_MALFORMED;
      a->total = get32(body);
      a->next_cursor = get32(body + 4);
      for (i = 0; i < count && i < a->offers_capacity && a->offers; ++i) {
        read_offer(body + 8 + 72 * i, &a->offers[i]);
      }
      a->stored = (uint16_t)i;
      break;
    default:
      return CRSP_MALFORMED;
  }
  a->has_body = 1;
  return CRSP_OK;
}

enum crsp_status crsp_decode_answer(const uint8_t* data, size_t len,
                                    const crsp_crypto* crypto, crsp_answer* a) {
  crsp_header* h;
  uint8_t check_byte;
  size_t trailer, covered;
  if (a == NULL) return CRSP_MALFORMED;
  h = &a->header;
  /* Keep the caller's arrays, clear the rest. */
  memset(h, 0, sizeof *a - offsetof(crsp_answer, header));
  if (data == NULL) len = 0;
  read_header(data, len, h, &check_byte);

  /* 1. Length and header fields. */
  if (len < CRSP_HEADER_SIZE) return CRSP_MALFORMED;
  if (h->version != CRSP_VERSION) return CRSP_UNSUPPORTED_VERSION;
  if (h->total_length != len) return CRSP_MALFORMED;
  if (check_byte & 0xF0u) return CRSP_MALFORMED;
  if (!check_usable(h->check, crypto, 0)) return CRSP_UNSUPPORTED_CHECK;
  trailer = crsp_trailer_size(h->check);
  if (h->header_length < CRSP_HEADER_SIZE ||
      (size_t)h->header_length + trailer > len) {
    return CRSP_MALFORMED;
  }
  covered = len - trailer;

  /* 2. Check bits. */
  if (!check_holds(h->check, crypto, data, covered, data + covered)) {
    return CRSP_BAD_CHECK;
  }
  if (h->check == CRSP_CHECK_ED25519) {
    memcpy(a->signer, data + covered, CRSP_PUBLIC_KEY_SIZE);
  }

  /* 3. Kind, then body layout and fields. */
  a->kind = answer_kind(h->protocol, h->type);
  if (a->kind == CRSP_ANSWER_NONE) return CRSP_MALFORMED;
  return read_body(data + h->header_length, covered - h->header_length, a);
}

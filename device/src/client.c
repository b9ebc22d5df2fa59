/* The client state machine of crsp_device.h. One request is in flight at a
 * time (a ping round counts as one); its datagram stays in the caller's
 * buffer so that resends are the same bytes, as PROTOCOL.md asks. */
#include <string.h>

#include "crsp_device.h"

#define NO_RTT 0xFFFFFFFFu
#define NEVER 0xFFFFFFFFFFFFFFFFull

static void emit(crsp_client* c, enum crsp_client_event event, uint8_t node,
                 uint32_t value, const crsp_answer* answer) {
  if (c->config.on_event != NULL) {
    c->config.on_event(c->config.ctx, event, node, value, answer);
  }
}

static uint8_t current_node(const crsp_client* c) {
  return c->order[c->position];
}

static void send_current(crsp_client* c, uint64_t now_ms) {
  /* Timeouts double per send: 500, 1000, 2000, 4000 ms by default. */
  c->due_ms = now_ms + ((uint64_t)c->config.timeout_ms << c->sent);
  c->sent++;
  c->config.send(c->config.ctx, current_node(c), c->config.buffer, c->length);
}

/* Starts a request whose datagram is in the buffer, at the current node. */
static void begin_request(crsp_client* c, enum crsp_client_state state,
                          uint64_t now_ms) {
  c->state = state;
  c->sent = 0;
  c->tried = 1;
  c->started_ms = now_ms;
  send_current(c, now_ms);
}

/* --- Ping round ----------------------------------------------------------- */

static void send_pings(crsp_client* c, uint64_t now_ms) {
  uint8_t i;
  c->due_ms = now_ms + ((uint64_t)c->config.timeout_ms << c->sent);
  c->sent++;
  for (i = 0; i < c->config.node_count; ++i) {
    if (c->rtt_ms[i] == NO_RTT) {
      c->config.send(c->config.ctx, i, c->config.buffer, c->length);
    }
  }
}

static void start_pings(crsp_client* c, uint64_t now_ms) {
  uint8_t i;
  c->txid = c->next_txid++;
  c->length = crsp_encode_ping(c->config.buffer, c->config.buffer_size, c->txid,
                               c->config.check, c->config.crypto);
  for (i = 0; i < c->config.node_count; ++i) c->rtt_ms[i] = NO_RTT;
  c->state = CRSP_CLIENT_PINGING;
  c->sent = 0;
  c->started_ms = now_ms;
  send_pings(c, now_ms);
}

static uint8_t answered_pings(const crsp_client* c) {
  uint8_t i, answered = 0;
  for (i = 0; i < c->config.node_count; ++i) {
    if (c->rtt_ms[i] != NO_RTT) answered++;
  }
  return answered;
}

static void start_register(crsp_client* c, uint64_t now_ms);

/* Orders the nodes by round-trip time, silent ones last in index order,
 * and registers with the first. */
static void choose_node(crsp_client* c, uint64_t now_ms) {
  uint8_t n = c->config.node_count, i, j;
  for (i = 0; i < n; ++i) c->order[i] = i;
  for (i = 1; i < n; ++i) { /* insertion sort: at most 8 nodes */
    uint8_t node = c->order[i];
    for (j = i; j > 0 && c->rtt_ms[c->order[j - 1]] > c->rtt_ms[node]; --j) {
      c->order[j] = c->order[j - 1];
    }
    c->order[j] = node;
  }
  c->position = 0;
  emit(c, CRSP_EVENT_NODE_CHOSEN, c->order[0], c->rtt_ms[c->order[0]], NULL);
  start_register(c, now_ms);
}

/* --- Register and withdraw ------------------------------------------------ */

static void start_register(crsp_client* c, uint64_t now_ms) {
  uint64_t now_s = now_ms / 1000;
  uint8_t i;
  for (i = 0; i < c->config.entry_count; ++i) {
    c->config.entries[i].valid_from = now_s;
    c->config.entries[i].valid_until = now_s + c->config.lease_s;
  }
  c->txid = c->next_txid++;
  c->length =
      crsp_encode_register(c->config.buffer, c->config.buffer_size, c->txid,
                           c->config.check, c->config.crypto, &c->config.set,
                           c->config.entries, c->config.entry_count);
  c->pending_until_s = now_s + c->config.lease_s;
  begin_request(c, CRSP_CLIENT_REGISTERING, now_ms);
}

/* The withdraw request lists the resource ids of config.entries. */
static size_t encode_withdraw(crsp_client* c) {
  uint16_t ids[CRSP_MAX_REGISTER_ENTRIES];
  uint8_t i;
  for (i = 0; i < c->config.entry_count; ++i) {
    ids[i] = c->config.entries[i].resource;
  }
  return crsp_encode_withdraw(c->config.buffer, c->config.buffer_size, c->txid,
                              c->config.check, c->config.crypto,
                              c->config.set.device, ids, c->config.entry_count);
}

/* Every node stayed silent or refused for now. */
static void all_nodes_failed(crsp_client* c, uint64_t now_ms) {
  if (c->state == CRSP_CLIENT_WITHDRAWING) {
    c->state = CRSP_CLIENT_DONE;
    emit(c, CRSP_EVENT_GAVE_UP, current_node(c), 0, NULL);
    return;
  }
  c->state = CRSP_CLIENT_WAITING;
  c->due_ms = now_ms + c->config.retry_after_ms;
}

/* The same request to the next node in order, or give up. */
static void fail_over(crsp_client* c, uint64_t now_ms) {
  if (c->tried >= c->config.node_count) {
    all_nodes_failed(c, now_ms);
    return;
  }
  c->position = (uint8_t)((c->position + 1) % c->config.node_count);
  c->tried++;
  c->sent = 0;
  emit(c, CRSP_EVENT_FAILOVER, current_node(c), 0, NULL);
  send_current(c, now_ms);
}

/* Statuses that blame the node's state, not the request: another node (or
 * a later try) may succeed. */
static int is_transient(uint8_t status) {
  return status == CRSP_BAD_CHECK || status == CRSP_RATE_LIMITED ||
         status == CRSP_STORAGE_FAILED || status == CRSP_INTERNAL;
}

static void on_register_answer(crsp_client* c, uint64_t now_ms,
                               const crsp_answer* a) {
  uint8_t status = a->header.status;
  if (status == CRSP_OK) {
    uint64_t renew_s = c->pending_until_s - c->config.renew_before_s;
    c->state = CRSP_CLIENT_REGISTERED;
    c->valid_until_s = c->pending_until_s;
    c->due_ms = renew_s * 1000;
    emit(c, CRSP_EVENT_REGISTERED, current_node(c), status, a);
  } else if (is_transient(status)) {
    fail_over(c, now_ms);
  } else {
    c->state = CRSP_CLIENT_FAILED;
    emit(c, CRSP_EVENT_REJECTED, current_node(c), status, a);
  }
}

/* --- Public functions ----------------------------------------------------- */

int crsp_client_init(crsp_client* c, const crsp_client_config* config) {
  uint8_t i;
  if (c == NULL || config == NULL) return -1;
  memset(c, 0, sizeof *c);
  c->config = *config;
  if (config->node_count < 1 || config->node_count > CRSP_CLIENT_MAX_NODES ||
      config->send == NULL || config->entries == NULL ||
      config->entry_count < 1 ||
      config->entry_count > CRSP_MAX_REGISTER_ENTRIES ||
      config->buffer == NULL) {
    return -1;
  }
  if (c->config.lease_s == 0) c->config.lease_s = 3600;
  if (c->config.renew_before_s == 0) {
    c->config.renew_before_s = c->config.lease_s / 4;
  }
  if (c->config.renew_before_s >= c->config.lease_s) return -1;
  if (c->config.timeout_ms == 0) c->config.timeout_ms = 500;
  if (c->config.tries == 0) c->config.tries = 4;
  if (c->config.tries > 16) return -1; /* keeps the backoff shift small */
  if (c->config.retry_after_ms == 0) c->config.retry_after_ms = 30000;
  /* Encoding a register proves the buffer and the check's hooks. */
  if (crsp_encode_register(config->buffer, config->buffer_size, 0,
                           config->check, config->crypto, &config->set,
                           config->entries, config->entry_count) == 0) {
    return -1;
  }
  for (i = 0; i < CRSP_CLIENT_MAX_NODES; ++i) c->order[i] = i;
  c->next_txid = config->first_txid;
  c->state = CRSP_CLIENT_IDLE;
  return 0;
}

void crsp_client_start(crsp_client* c, uint64_t now_ms) {
  if (c->state == CRSP_CLIENT_IDLE) start_pings(c, now_ms);
}

void crsp_client_receive(crsp_client* c, uint64_t now_ms, uint8_t node,
                         const uint8_t* data, size_t len) {
  crsp_answer a;
  memset(&a, 0, sizeof a); /* no entry or offer arrays: headers suffice */
  if (node >= c->config.node_count ||
      crsp_decode_answer(data, len, c->config.crypto, &a) != CRSP_OK ||
      a.header.txid != c->txid || a.header.check != c->config.check) {
    return;
  }
  switch (c->state) {
    case CRSP_CLIENT_PINGING:
      if (a.kind != CRSP_ANSWER_PING || c->rtt_ms[node] != NO_RTT) return;
      c->rtt_ms[node] = (uint32_t)(now_ms - c->started_ms);
      /* Wait for the rest only while some node is silent. */
      if (answered_pings(c) == c->config.node_count) choose_node(c, now_ms);
      return;
    case CRSP_CLIENT_REGISTERING:
      if (a.kind == CRSP_ANSWER_REGISTER && node == current_node(c)) {
        on_register_answer(c, now_ms, &a);
      }
      return;
    case CRSP_CLIENT_WITHDRAWING:
      if (a.kind == CRSP_ANSWER_WITHDRAW && node == current_node(c)) {
        if (is_transient(a.header.status)) {
          fail_over(c, now_ms);
          return;
        }
        c->state = CRSP_CLIENT_DONE;
        emit(c, CRSP_EVENT_WITHDRAWN, node, a.header.status, &a);
      }
      return;
    default:
      return;
  }
}

void crsp_client_poll(crsp_client* c, uint64_t now_ms) {
  if (now_ms < crsp_client_next_ms(c)) return;
  switch (c->state) {
    case CRSP_CLIENT_PINGING:
      if (answered_pings(c) > 0) {
        choose_node(c, now_ms); /* the silent ones come last */
      } else if (c->sent < c->config.tries) {
        send_pings(c, now_ms);
      } else {
        all_nodes_failed(c, now_ms);
      }
      return;
    case CRSP_CLIENT_REGISTERING:
    case CRSP_CLIENT_WITHDRAWING:
      if (c->sent < c->config.tries) {
        send_current(c, now_ms);
      } else {
        fail_over(c, now_ms);
      }
      return;
    case CRSP_CLIENT_REGISTERED: /* renewal, with the node in use */
      start_register(c, now_ms);
      return;
    case CRSP_CLIENT_WAITING: /* distances may have changed: ping again */
      start_pings(c, now_ms);
      return;
    default:
      return;
  }
}

uint64_t crsp_client_next_ms(const crsp_client* c) {
  switch (c->state) {
    case CRSP_CLIENT_IDLE:
    case CRSP_CLIENT_DONE:
    case CRSP_CLIENT_FAILED:
      return NEVER;
    default:
      return c->due_ms;
  }
}

void crsp_client_withdraw(crsp_client* c, uint64_t now_ms) {
  if (c->state == CRSP_CLIENT_WITHDRAWING || c->state == CRSP_CLIENT_DONE) {
    return;
  }
  if (c->pending_until_s == 0) { /* no register went out: nothing stored */
    c->state = CRSP_CLIENT_DONE;
    return;
  }
  c->txid = c->next_txid++;
  c->length = encode_withdraw(c);
  begin_request(c, CRSP_CLIENT_WITHDRAWING, now_ms);
}

enum crsp_client_state crsp_client_state(const crsp_client* c) {
  return c->state;
}

uint8_t crsp_client_node(const crsp_client* c) { return current_node(c); }

uint64_t crsp_client_valid_until_s(const crsp_client* c) {
  return c->valid_until_s;
}

/* A printer that sells print and copy pages on the platform: it registers
 * both offers with the nearest of its nodes, renews them before they run
 * out, and withdraws them on SIGTERM or SIGINT. POSIX, one IPv6 UDP socket,
 * one thread: the main loop of crsp_device.h's client.
 *
 *   crsp-device-printer --node [2001:db8::1]:7400 --node [::1]:7400 \
 *       [--device HEX32] [--print-price 12] [--copy-price 8] \
 *       [--currency 156] [--lease 3600] [--renew-before 900]
 *
 * Prices are minor units (fen, cent) per page. The device id defaults to
 * /etc/machine-id. Progress goes to stdout, one line per event. Exit
 * status: 0 after withdrawing, 1 when the offers were refused or the
 * withdraw went unanswered, 2 on a usage or socket error. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crsp_device.h"

struct printer {
  int fd;
  struct sockaddr_in6 nodes[CRSP_CLIENT_MAX_NODES];
  char names[CRSP_CLIENT_MAX_NODES][80];
  uint8_t node_count;
  int refused; /* rejected offers, or a withdraw nobody answered */
  const crsp_client* client;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int signal_number) {
  (void)signal_number;
  stop_requested = 1;
}

static uint64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* "[addr]:port", "[addr]" or a bare IPv6 address; IPv4 becomes mapped. */
static int parse_node(const char* text, struct sockaddr_in6* out) {
  char host[64];
  const char* port = "7400";
  struct addrinfo hints, *found = NULL;
  size_t len = strlen(text);
  if (text[0] == '[') {
    const char* close = strchr(text, ']');
    if (close == NULL || (size_t)(close - text - 1) >= sizeof host) return -1;
    memcpy(host, text + 1, (size_t)(close - text - 1));
    host[close - text - 1] = '\0';
    if (close[1] == ':')
      port = close + 2;
    else if (close[1] != '\0')
      return -1;
  } else {
    if (len >= sizeof host) return -1;
    memcpy(host, text, len + 1);
  }
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_INET6;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_V4MAPPED;
  if (getaddrinfo(host, port, &hints, &found) != 0) return -1;
  memcpy(out, found->ai_addr, sizeof *out);
  freeaddrinfo(found);
  return 0;
}

static int parse_hex(const char* text, uint8_t* out, size_t size) {
  size_t i;
  for (i = 0; i < size; ++i) {
    unsigned byte;
    if (sscanf(text + 2 * i, "%2x", &byte) != 1) return -1;
    out[i] = (uint8_t)byte;
  }
  return 0;
}

static int machine_id(uint8_t device[CRSP_DEVICE_ID_SIZE]) {
  char text[40] = {0};
  FILE* f = fopen("/etc/machine-id", "r");
  int ok =
      f != NULL && fgets(text, sizeof text, f) != NULL && strlen(text) >= 32;
  if (f != NULL) fclose(f);
  return ok ? parse_hex(text, device, CRSP_DEVICE_ID_SIZE) : -1;
}

static int send_to_node(void* ctx, uint8_t node, const uint8_t* data,
                        size_t len) {
  struct printer* p = ctx;
  ssize_t n =
      sendto(p->fd, data, len, 0, (const struct sockaddr*)&p->nodes[node],
             sizeof p->nodes[node]);
  return n == (ssize_t)len ? 0 : -1;
}

static void print_event(void* ctx, enum crsp_client_event event, uint8_t node,
                        uint32_t value, const crsp_answer* answer) {
  struct printer* p = ctx;
  static const char* const kNames[] = {"node-chosen", "failover",  "registered",
                                       "rejected",    "withdrawn", "gave-up"};
  (void)answer;
  if (event == CRSP_EVENT_REJECTED || event == CRSP_EVENT_GAVE_UP) {
    p->refused = 1;
  }
  printf("%s node=%s value=%lu", kNames[event], p->names[node],
         (unsigned long)value);
  if (event == CRSP_EVENT_REGISTERED) {
    printf(" valid_until=%llu",
           (unsigned long long)crsp_client_valid_until_s(p->client));
  }
  printf("\n");
  fflush(stdout);
}

/* The node a datagram came from, or -1 for a stranger. */
static int node_of(const struct printer* p, const struct sockaddr_in6* from) {
  uint8_t i;
  for (i = 0; i < p->node_count; ++i) {
    if (from->sin6_port == p->nodes[i].sin6_port &&
        memcmp(&from->sin6_addr, &p->nodes[i].sin6_addr,
               sizeof from->sin6_addr) == 0) {
      return i;
    }
  }
  return -1;
}

static void receive_all(struct printer* p, crsp_client* client) {
  uint8_t data[CRSP_MAX_ANSWER];
  for (;;) {
    struct sockaddr_in6 from;
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(p->fd, data, sizeof data, MSG_DONTWAIT,
                         (struct sockaddr*)&from, &from_len);
    int node;
    if (n < 0) return;
    node = node_of(p, &from);
    if (node >= 0) {
      crsp_client_receive(client, wall_ms(), (uint8_t)node, data, (size_t)n);
    }
  }
}

static int usage(void) {
  fprintf(stderr,
          "usage: crsp-device-printer --node [ADDR]:PORT... [--device HEX32]"
          " [--print-price N] [--copy-price N] [--currency N] [--lease S]"
          " [--renew-before S]\n");
  return 2;
}

int main(int argc, char** argv) {
  static uint8_t buffer[CRSP_MAX_ANSWER];
  struct printer p;
  crsp_resource_entry offers[2];
  crsp_client_config config;
  crsp_client client;
  struct sockaddr_in6 local;
  struct sigaction action;
  int i, have_device = 0, withdrawing = 0;

  memset(&p, 0, sizeof p);
  memset(&config, 0, sizeof config);
  memset(offers, 0, sizeof offers);
  offers[0].resource = CRSP_RES_PRINT;
  offers[0].unit = CRSP_UNIT_PER_PAGE;
  offers[0].quantity = 500;
  offers[0].price = 12;
  offers[1].resource = CRSP_RES_COPY;
  offers[1].unit = CRSP_UNIT_PER_PAGE;
  offers[1].quantity = 500;
  offers[1].price = 8;
  config.set.device_kind = CRSP_KIND_PRINTER;
  config.set.currency = 156; /* CNY */

  for (i = 1; i < argc; ++i) {
    const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
    if (value == NULL) return usage();
    ++i;
    if (strcmp(flag, "--node") == 0) {
      if (p.node_count == CRSP_CLIENT_MAX_NODES ||
          parse_node(value, &p.nodes[p.node_count]) != 0) {
        return usage();
      }
      snprintf(p.names[p.node_count], sizeof p.names[0], "%s", value);
      p.node_count++;
    } else if (strcmp(flag, "--device") == 0) {
      if (strlen(value) != 32 ||
          parse_hex(value, config.set.device, CRSP_DEVICE_ID_SIZE) != 0) {
        return usage();
      }
      have_device = 1;
    } else if (strcmp(flag, "--print-price") == 0) {
      offers[0].price = (uint32_t)strtoul(value, NULL, 10);
    } else if (strcmp(flag, "--copy-price") == 0) {
      offers[1].price = (uint32_t)strtoul(value, NULL, 10);
    } else if (strcmp(flag, "--currency") == 0) {
      config.set.currency = (uint16_t)strtoul(value, NULL, 10);
    } else if (strcmp(flag, "--lease") == 0) {
      config.lease_s = (uint32_t)strtoul(value, NULL, 10);
    } else if (strcmp(flag, "--renew-before") == 0) {
      config.renew_before_s = (uint32_t)strtoul(value, NULL, 10);
    } else {
      return usage();
    }
  }
  if (p.node_count == 0) return usage();
  if (!have_device && machine_id(config.set.device) != 0) {
    fprintf(stderr, "crsp-device-printer: no --device and no machine id\n");
    return 2;
  }

  p.fd = socket(AF_INET6, SOCK_DGRAM, 0);
  memset(&local, 0, sizeof local);
  local.sin6_family = AF_INET6;
  local.sin6_addr = in6addr_any;
  if (p.fd < 0 || bind(p.fd, (struct sockaddr*)&local, sizeof local) != 0) {
    perror("crsp-device-printer: socket");
    return 2;
  }

  config.node_count = p.node_count;
  config.send = send_to_node;
  config.on_event = print_event;
  config.ctx = &p;
  p.client = &client;
  config.entries = offers;
  config.entry_count = 2;
  config.check = CRSP_CHECK_CRC32;
  /* Unsigned requests need no ordered txids; time keeps them distinct
   * across restarts anyway. */
  config.first_txid = (uint32_t)(wall_ms() / 1000u);
  config.buffer = buffer;
  config.buffer_size = sizeof buffer;
  if (crsp_client_init(&client, &config) != 0) {
    fprintf(stderr, "crsp-device-printer: bad configuration\n");
    return 2;
  }

  memset(&action, 0, sizeof action);
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);

  crsp_client_start(&client, wall_ms());
  while (crsp_client_state(&client) != CRSP_CLIENT_DONE) {
    struct pollfd ready;
    uint64_t now = wall_ms(), next = crsp_client_next_ms(&client);
    int wait_ms = next <= now         ? 0
                  : next - now > 1000 ? 1000
                                      : (int)(next - now);
    if (stop_requested && !withdrawing) {
      withdrawing = 1;
      printf("withdrawing\n");
      fflush(stdout);
      crsp_client_withdraw(&client, now);
      continue;
    }
    if (crsp_client_state(&client) == CRSP_CLIENT_FAILED && !stop_requested) {
      /* Refused for good: keep nothing registered, then stop. */
      stop_requested = 1;
      continue;
    }
    ready.fd = p.fd;
    ready.events = POLLIN;
    /* A signal interrupts poll (EINTR); one that lands just before poll
     * is seen within the one-second cap above. */
    if (poll(&ready, 1, wait_ms) > 0) receive_all(&p, &client);
    crsp_client_poll(&client, wall_ms());
  }
  close(p.fd);
  return p.refused ? 1 : 0;
}

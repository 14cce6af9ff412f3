/* flow.h - the flow table: seeded hash on the 5-tuple, idle timeouts driven by
 * packet time, a hard maximum (max_flows) with a counter when it is hit, and an
 * emergency mode (shorter timeouts, eviction of the oldest idle flow) while the
 * table is full. */
#ifndef AR_FLOW_H
#define AR_FLOW_H

#include <stdint.h>
#include "../core/counters.h"
#include "../core/hash.h"
#include "../core/limits.h"
#include "decode.h"
#include "reasm.h"

struct ar_flow {
    /* endpoints as first seen: side 0 sent the first packet (or the SYN) */
    int family;
    uint8_t addr[2][16];
    uint16_t port[2];
    double first_ts, last_ts;
    int closed;                 /* FIN or RST seen in either direction */
    int syn_seen;
    uint32_t isn[2];            /* side d's ISN, when isn_set[d] (its first SYN) */
    uint8_t isn_set[2];
    struct ar_stream st[2];     /* st[d] carries bytes sent by side d */
    void *app;                  /* owned by the user of the table */
    /* table links (private) */
    struct ar_flow *hnext;
    struct ar_flow *lprev, *lnext;
    uint64_t hash;
    int lru_closed;             /* on the closed-flows LRU list */
};

struct ar_flow_table;

/* on_free is called for every flow leaving the table (expiry, eviction, end). */
typedef void (*ar_flow_free_fn)(struct ar_flow *f, void *ud);

struct ar_flow_table *ar_flow_table_new(const struct ar_limits *lim, struct ar_counters *ctr,
                                        ar_flow_free_fn on_free, void *ud);
/* Find or create the flow of pkt; *dir is the side (0/1) that sent pkt.
 * When the table is full (max_flows hit and counted) it enters emergency mode
 * and makes room: flows idle past the emergency timeouts are expired, else the
 * oldest idle flow is evicted (closed ones first). Returns NULL only when
 * max_flows is 0 or memory runs out. A new
 * flow whose first packet is a SYN-ACK is oriented so side 0 is the client.
 * A SYN (without ACK) on a closed flow (FIN or RST seen) whose ISN is not
 * the one that side opened it with is a new connection on the same 5-tuple
 * (port reuse, or a retry after a RST): the old flow is ended (on_free) and
 * a new one, with the SYN's sender as side 0, replaces it. */
struct ar_flow *ar_flow_get(struct ar_flow_table *t, const struct ar_pkt *pkt, double ts, int *dir);
/* Expire flows idle longer than flow_timeout (flow_timeout_closed if closed),
 * or the emergency timeouts in emergency mode; then leave emergency mode if at
 * least flow_emergency_recovery percent of max_flows is free. */
void ar_flow_expire(struct ar_flow_table *t, double now);
/* 1 while the table is in emergency mode. */
int ar_flow_table_emergency(const struct ar_flow_table *t);
/* Remove every flow (calls on_free). */
void ar_flow_table_clear(struct ar_flow_table *t);
void ar_flow_table_free(struct ar_flow_table *t);
uint64_t ar_flow_table_count(const struct ar_flow_table *t);

#endif

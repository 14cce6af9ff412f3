/* flow.c - the flow table.
 *
 * A chained hash table keyed on the normalized 5-tuple, hashed with a per-table
 * random SipHash key so that nobody who chooses addresses and ports can aim at
 * one bucket. Time is packet time only.
 *
 * Flows live on one of two LRU lists ordered by last activity: open flows and
 * closed flows (FIN or RST seen). Each list is expired from its head and the
 * walk stops at the first flow that is not old enough for that list's timeout,
 * so expiry costs O(flows expired), however many flows are merely idle.
 *
 * Emergency mode (Suricata's flow emergency): when a new flow finds the table
 * at max_flows, the table enters emergency mode (counted once per entry in
 * flow_emergency). While in it, the idle timeouts are the short
 * flow_timeout_emergency and flow_timeout_emergency_closed, applied at once
 * and on every expiry. If that frees nothing, the oldest idle flow is evicted
 * (flow_evicted): the least recently active closed flow, else the least
 * recently active open one, so that new connections are still tracked. The
 * table leaves emergency mode when at least flow_emergency_recovery percent of
 * max_flows is free again (Suricata's emergency-recovery: 30 means at most 70%
 * full). */
#include <stdlib.h>
#include <string.h>
#include "../core/util.h"
#include "flow.h"

#define FLOW_MIN_BUCKETS 1024u
#define FLOW_MAX_BUCKETS (1u << 20)     /* 8 MiB of bucket heads at most */

struct lru {
    struct ar_flow *head, *tail;
};

struct ar_flow_table {
    const struct ar_limits *lim;
    struct ar_counters *ctr;
    ar_flow_free_fn on_free;
    void *ud;
    struct ar_hash_key key;
    struct ar_flow **buckets;
    uint64_t mask;
    uint64_t max_buckets;       /* the bucket array grows up to this */
    uint64_t count;
    struct ar_flow *last;       /* the flow of the previous packet */
    struct lru open, closed;
    int emergency;
};

/* ---- LRU lists */

static void lru_unlink(struct lru *l, struct ar_flow *f)
{
    if (f->lprev) f->lprev->lnext = f->lnext; else l->head = f->lnext;
    if (f->lnext) f->lnext->lprev = f->lprev; else l->tail = f->lprev;
    f->lprev = f->lnext = NULL;
}

static void lru_append(struct lru *l, struct ar_flow *f)
{
    f->lnext = NULL;
    f->lprev = l->tail;
    if (l->tail) l->tail->lnext = f; else l->head = f;
    l->tail = f;
}

static struct lru *lru_of(struct ar_flow_table *t, const struct ar_flow *f)
{
    return f->lru_closed ? &t->closed : &t->open;
}

/* ---- keys */

/* Both directions produce the same key: the (addr, port) endpoints in a fixed
 * order. Packed by hand so no padding reaches the hash; an IPv4 key is 13
 * bytes (2 SipHash blocks), an IPv6 one 37 (5 blocks). */
#define KEY_LEN (1 + 2 * (16 + 2))

static uint64_t flow_hash(const struct ar_flow_table *t, const struct ar_pkt *p)
{
    uint8_t k[KEY_LEN];
    const uint8_t *a = p->src, *b = p->dst;
    uint16_t pa = p->sport, pb = p->dport;
    size_t al = p->family == 4 ? 4 : 16;
    int c = memcmp(a, b, al);

    if (c > 0 || (c == 0 && pa > pb)) {
        const uint8_t *x = a; a = b; b = x;
        uint16_t y = pa; pa = pb; pb = y;
    }
    uint8_t *o = k;
    *o++ = (uint8_t)p->family;
    memcpy(o, a, al);
    o += al;
    *o++ = (uint8_t)(pa >> 8);
    *o++ = (uint8_t)pa;
    memcpy(o, b, al);
    o += al;
    *o++ = (uint8_t)(pb >> 8);
    *o++ = (uint8_t)pb;
    return ar_hash(&t->key, k, (size_t)(o - k));
}

/* 0 or 1: the side of f that sent p; -1 when p is not of f. */
static int flow_match(const struct ar_flow *f, const struct ar_pkt *p)
{
    if (f->family != p->family)
        return -1;
    if (f->port[0] == p->sport && f->port[1] == p->dport &&
        memcmp(f->addr[0], p->src, 16) == 0 && memcmp(f->addr[1], p->dst, 16) == 0)
        return 0;
    if (f->port[1] == p->sport && f->port[0] == p->dport &&
        memcmp(f->addr[1], p->src, 16) == 0 && memcmp(f->addr[0], p->dst, 16) == 0)
        return 1;
    return -1;
}

/* ---- table */

static int make_room(struct ar_flow_table *t, double now);

/* The bucket array starts small and doubles while the table holds more flows
 * than buckets, up to the power of two at or above max_flows (capped): a
 * table sized for max_flows up front spread a few thousand flows over 2 MiB
 * of bucket heads, a cache miss on every packet. */
struct ar_flow_table *ar_flow_table_new(const struct ar_limits *lim, struct ar_counters *ctr,
                                        ar_flow_free_fn on_free, void *ud)
{
    struct ar_flow_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    uint64_t max = FLOW_MIN_BUCKETS;
    while (max < lim->max_flows && max < FLOW_MAX_BUCKETS)
        max <<= 1;
    t->max_buckets = max;
    t->buckets = calloc(FLOW_MIN_BUCKETS, sizeof(*t->buckets));
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    t->mask = FLOW_MIN_BUCKETS - 1;
    t->lim = lim;
    t->ctr = ctr;
    t->on_free = on_free;
    t->ud = ud;
    ar_hash_key_random(&t->key);
    return t;
}

/* Double the bucket array (when memory allows; else keep the longer chains). */
static void grow(struct ar_flow_table *t)
{
    uint64_t n = (t->mask + 1) * 2;
    struct ar_flow **nb = n <= SIZE_MAX / sizeof(*nb) ? ar_zalloc((size_t)n * sizeof(*nb)) : NULL;
    if (!nb)
        return;
    for (uint64_t i = 0; i <= t->mask; i++) {
        struct ar_flow *f = t->buckets[i], *next;
        for (; f; f = next) {
            next = f->hnext;
            f->hnext = nb[f->hash & (n - 1)];
            nb[f->hash & (n - 1)] = f;
        }
    }
    free(t->buckets);
    t->buckets = nb;
    t->mask = n - 1;
}

/* Take f out of the table, hand it to on_free, free it. */
static void flow_remove(struct ar_flow_table *t, struct ar_flow *f)
{
    struct ar_flow **pp = &t->buckets[f->hash & t->mask];
    while (*pp && *pp != f)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = f->hnext;
    lru_unlink(lru_of(t, f), f);
    if (t->last == f)
        t->last = NULL;
    t->count--;
    if (t->on_free)
        t->on_free(f, t->ud);
    free(f);
}

static void flow_touch(struct ar_flow_table *t, struct ar_flow *f, const struct ar_pkt *p, double ts,
                       int dir)
{
    if (ts > f->last_ts)
        f->last_ts = ts; /* packet time never runs backwards for a flow */
    if (p->flags & AR_TCP_SYN) {
        f->syn_seen = 1;
        if (!f->isn_set[dir]) {
            f->isn_set[dir] = 1;
            f->isn[dir] = p->seq;
        }
    }
    lru_unlink(lru_of(t, f), f);
    if (p->flags & (AR_TCP_FIN | AR_TCP_RST)) {
        f->closed = 1;
        f->lru_closed = 1;
    }
    lru_append(lru_of(t, f), f);
}

struct ar_flow *ar_flow_get(struct ar_flow_table *t, const struct ar_pkt *pkt, double ts, int *dir)
{
    struct ar_flow *f = t->last;
    /* packets of one flow come in runs: the previous packet's flow first */
    if (f) {
        int d = flow_match(f, pkt);
        if (d >= 0 && !(f->closed && (pkt->flags & AR_TCP_SYN))) {
            flow_touch(t, f, pkt, ts, d);
            *dir = d;
            return f;
        }
    }
    uint64_t h = flow_hash(t, pkt);

    for (f = t->buckets[h & t->mask]; f; f = f->hnext) {
        int d;
        if (f->hash == h && (d = flow_match(f, pkt)) >= 0) {
            if (f->closed && (pkt->flags & (AR_TCP_SYN | AR_TCP_ACK | AR_TCP_RST)) == AR_TCP_SYN &&
                (!f->isn_set[d] || f->isn[d] != pkt->seq)) {
                flow_remove(t, f); /* a new connection on the old 5-tuple */
                break;
            }
            flow_touch(t, f, pkt, ts, d);
            *dir = d;
            t->last = f;
            return f;
        }
    }

    if (t->count >= t->lim->max_flows && make_room(t, ts) < 0)
        return NULL;
    f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    /* Side 0 is the client: the sender of the first packet, unless that
     * packet is a SYN-ACK, whose receiver is the client. */
    int swap = (pkt->flags & (AR_TCP_SYN | AR_TCP_ACK)) == (AR_TCP_SYN | AR_TCP_ACK);
    f->family = pkt->family;
    memcpy(f->addr[swap], pkt->src, 16);
    memcpy(f->addr[!swap], pkt->dst, 16);
    f->port[swap] = pkt->sport;
    f->port[!swap] = pkt->dport;
    f->first_ts = f->last_ts = ts;
    ar_stream_init(&f->st[0]);
    ar_stream_init(&f->st[1]);
    f->hash = h;
    f->hnext = t->buckets[h & t->mask];
    t->buckets[h & t->mask] = f;
    lru_append(&t->open, f);
    t->count++;
    if (t->count > t->mask + 1 && t->mask + 1 < t->max_buckets)
        grow(t);
    t->last = f;
    AR_INC(t->ctr, flows);
    flow_touch(t, f, pkt, ts, swap);
    *dir = swap;
    return f;
}

/* Which counter an expiry bumps: the timeout that applied. */
enum expiry_kind { EXP_OPEN, EXP_CLOSED, EXP_EMERG_OPEN, EXP_EMERG_CLOSED };

static void expire_list(struct ar_flow_table *t, struct lru *l, double now, double timeout,
                        enum expiry_kind kind)
{
    struct ar_flow *f;
    while ((f = l->head) != NULL && now - f->last_ts > timeout) {
        AR_INC(t->ctr, flows_timed_out);
        switch (kind) {
        case EXP_OPEN: AR_INC(t->ctr, limit_flow_timeout); break;
        case EXP_CLOSED: AR_INC(t->ctr, limit_flow_timeout_closed); break;
        case EXP_EMERG_OPEN: AR_INC(t->ctr, limit_flow_timeout_emergency); break;
        case EXP_EMERG_CLOSED: AR_INC(t->ctr, limit_flow_timeout_emergency_closed); break;
        }
        flow_remove(t, f);
    }
}

/* Emergency mode ends once free * 100 >= recovery * max_flows, i.e. at least
 * flow_emergency_recovery percent of the table is free (a value over 100 is
 * read as 100: the table must empty). */
static void emergency_check(struct ar_flow_table *t)
{
    if (!t->emergency)
        return;
    uint64_t max = t->lim->max_flows;
    uint64_t rec = t->lim->flow_emergency_recovery > 100 ? 100 : t->lim->flow_emergency_recovery;
    uint64_t free_slots = t->count < max ? max - t->count : 0;
    /* in double: no overflow for a huge max_flows, exact below 2^53 */
    if ((double)free_slots * 100.0 >= (double)rec * (double)max) {
        t->emergency = 0;
        AR_INC(t->ctr, limit_flow_emergency_recovery);
    }
}

static void expire_all(struct ar_flow_table *t, double now)
{
    if (t->emergency) {
        expire_list(t, &t->closed, now, (double)t->lim->flow_timeout_emergency_closed,
                    EXP_EMERG_CLOSED);
        expire_list(t, &t->open, now, (double)t->lim->flow_timeout_emergency, EXP_EMERG_OPEN);
    } else {
        expire_list(t, &t->closed, now, (double)t->lim->flow_timeout_closed, EXP_CLOSED);
        expire_list(t, &t->open, now, (double)t->lim->flow_timeout, EXP_OPEN);
    }
}

void ar_flow_expire(struct ar_flow_table *t, double now)
{
    expire_all(t, now);
    emergency_check(t);
}

/* The table is full and a new flow wants in: enter emergency mode, expire with
 * the emergency timeouts, and if nothing was old enough evict the oldest idle
 * flow (closed first). Returns -1 only when there is no room to make
 * (max_flows 0). Emergency mode is not left here: the new flow takes the slot,
 * so the table is still full. */
static int make_room(struct ar_flow_table *t, double now)
{
    AR_INC(t->ctr, limit_max_flows);
    if (t->lim->max_flows == 0)
        return -1;
    if (!t->emergency) {
        t->emergency = 1;
        AR_INC(t->ctr, flow_emergency);
    }
    expire_all(t, now);
    while (t->count >= t->lim->max_flows) {
        struct ar_flow *victim = t->closed.head ? t->closed.head : t->open.head;
        if (!victim)
            return -1;
        AR_INC(t->ctr, flow_evicted);
        flow_remove(t, victim);
    }
    return 0;
}

int ar_flow_table_emergency(const struct ar_flow_table *t)
{
    return t->emergency;
}

void ar_flow_table_clear(struct ar_flow_table *t)
{
    while (t->open.head)
        flow_remove(t, t->open.head);
    while (t->closed.head)
        flow_remove(t, t->closed.head);
}

void ar_flow_table_free(struct ar_flow_table *t)
{
    if (!t)
        return;
    ar_flow_table_clear(t);
    free(t->buckets);
    free(t);
}

uint64_t ar_flow_table_count(const struct ar_flow_table *t)
{
    return t->count;
}

/* catalog.h - endpoints aggregated in memory between flushes, and the store.
 *
 * An endpoint is (host, method, path template). For each one: hits, first and
 * last seen (packet time), status counts, query parameter names, request and
 * response content types, auth schemes, approximate distinct clients (a small
 * HyperLogLog) and servers ("ip:port"). Every set is bounded by
 * max_endpoint_values; the number of endpoints by max_endpoints. */
#ifndef AR_CATALOG_H
#define AR_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include "../core/counters.h"
#include "../core/exchange.h"
#include "../core/limits.h"
#include "template.h"

#define AR_HLL_REGS 64

struct ar_valset {          /* bounded set of short strings */
    char **v;
    uint32_t n;
};

struct ar_status_count {
    int code;               /* -1: no response seen */
    uint64_t count;
};

struct ar_endpoint {
    char *host;             /* "" when the request had no Host */
    char *method;
    char *tmpl;
    const char *rule;       /* static string from ar_template() */
    uint64_t hits;
    double first_seen, last_seen;
    struct ar_status_count *statuses;
    uint32_t nstatuses;
    struct ar_valset query, req_ct, resp_ct, auth, servers;
    uint8_t hll[AR_HLL_REGS];
    /* private */
    struct ar_endpoint *next;
    uint64_t hash;
};

struct ar_catalog;

struct ar_catalog *ar_catalog_new(const struct ar_limits *lim, struct ar_counters *ctr,
                                  struct ar_templater *tp);
void ar_catalog_free(struct ar_catalog *c);
/* Add one exchange (templates its path). Exchanges without a request (response
 * only) are not endpoints and are ignored. */
void ar_catalog_add(struct ar_catalog *c, const struct ar_exchange *x);
size_t ar_catalog_count(const struct ar_catalog *c);
/* Iterate: *pos starts at 0; returns NULL at the end. */
struct ar_endpoint *ar_catalog_iter(struct ar_catalog *c, size_t *pos);
/* Forget every endpoint (after a successful flush). */
void ar_catalog_clear(struct ar_catalog *c);

/* Merge src into dst (same key): hits add, first/last min/max, sets union. */
void ar_endpoint_merge(struct ar_endpoint *dst, const struct ar_endpoint *src,
                       const struct ar_limits *lim, struct ar_counters *ctr);
uint64_t ar_hll_estimate(const uint8_t hll[AR_HLL_REGS]);
/* An endpoint that only ever answered 404 or 405: scanner noise, not API. */
int ar_endpoint_is_noise(const struct ar_endpoint *e);

#endif

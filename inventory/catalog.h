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

#define AR_HLL_REGS 256   /* HyperLogLog registers: typical error 1.04/sqrt(256) = 6.5% */

struct ar_valset {          /* bounded set of short strings */
    char **v;
    uint32_t n;
    uint32_t last;          /* the value found or added last: most exchanges repeat it */
};

struct ar_status_count {
    int code;               /* -1: no response seen */
    uint64_t count;
};

/* What the roster says of an endpoint beyond traffic: its state against the
 * published specs and its owner, with the evidence (NULL fields: unknown or
 * not judged yet). Written by the store's judge (see store.h). */
#define AR_VERDICT_FIELDS(X) \
    X(state)          /* documented, shadow, zombie, noise, encrypted */ \
    X(reason)         /* e.g. "unknown path", "undocumented method", "deprecated" */ \
    X(spec_source)    /* the spec file that documents it */ \
    X(spec_pointer)   /* JSON pointer of the operation (or path item) */ \
    X(spec_tmpl)      /* the spec's path template (without the server's base path) */ \
    X(owner)          /* team, NULL when unowned */ \
    X(owner_source)   /* pin, spec, catalog, rules, host, inferred, none */ \
    X(owner_evidence) /* file:line or file#/json/pointer */ \
    X(owner_alt)      /* JSON array of the disagreeing sources */

struct ar_verdict {
#define AR_X(f) char *f;
    AR_VERDICT_FIELDS(AR_X)
#undef AR_X
};
void ar_verdict_clear(struct ar_verdict *v);

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
    struct ar_verdict v;    /* read back from the store; empty in the catalog */
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

/* Helpers shared with the store (added; the catalog uses them itself). */
/* A new empty endpoint owning copies of host, method, tmpl. */
struct ar_endpoint *ar_endpoint_new(const char *host, const char *method, const char *tmpl,
                                    const char *rule);
/* Free an endpoint made by ar_endpoint_new (or one whose fields were all
 * allocated with ar_x* functions). NULL is fine. */
void ar_endpoint_free(struct ar_endpoint *e);
/* Add v to a set bounded by max: 1 added, 0 already there, -1 full (dropped). */
int ar_valset_add(struct ar_valset *s, const char *v, uint64_t max);
int ar_valset_has(const struct ar_valset *s, const char *v);
/* Add count to the status code (bounded by max distinct codes): 1 new code,
 * 0 existing code, -1 full (dropped). */
int ar_endpoint_add_status(struct ar_endpoint *e, int code, uint64_t count, uint64_t max);
/* Count one client ("ip:port" or any string) in a HyperLogLog. The hash key is
 * fixed so that registers from different runs can be merged. */
void ar_hll_add(uint8_t hll[AR_HLL_REGS], const char *client);
void ar_hll_merge(uint8_t dst[AR_HLL_REGS], const uint8_t src[AR_HLL_REGS]);
/* Template an already templated path again after a parent collapsed. Returns
 * 1 when the template changes (out and *rule set), 0 when it stays, also when
 * the templater would turn one of its {parameters} into a literal ("%7B...").
 * *collapsed is set when this call made another parent collapse. */
int ar_endpoint_retemplate(struct ar_templater *tp, const char *host, const char *tmpl,
                           char *out, size_t outsz, const char **rule, int *collapsed);
/* The limits and counters the catalog was made with. */
const struct ar_limits *ar_catalog_limits(const struct ar_catalog *c);
struct ar_counters *ar_catalog_counters(struct ar_catalog *c);

#endif

/* catalog.c - endpoints aggregated in memory between flushes.
 *
 * A chained hash table (seeded SipHash over host NUL method NUL template) plus a
 * dense array in insertion order for iteration. Hosts are lower-cased (DNS
 * names are case-insensitive); methods are kept as sent. Every set is bounded
 * by max_endpoint_values, the table by max_endpoints; hitting a bound bumps its
 * limit_* counter. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../core/hash.h"
#include "../core/util.h"
#include "catalog.h"

/* Exchanges whose (Host, method, path) came before, while neither the
 * templater (ar_templater_generation) nor the catalog's endpoints changed:
 * their endpoint, without normalizing, templating and hashing again (a third
 * of the benchmark's exchanges). Direct-mapped and of a fixed size: a miss
 * does the work, nothing else, so the keys need no seeded hash. */
#define XM_SLOTS 4096
#define XM_KEY 96

struct xmemo {
    uint64_t gen;               /* the catalog's mgen when stored (0: empty) */
    struct ar_endpoint *e;
    const char *rule;
    uint8_t invalid;            /* the host was counted in host_invalid */
    uint8_t hl, ml, pl;
    char key[XM_KEY];           /* host, method, path, without separators */
};

struct ar_catalog {
    struct xmemo *memo;
    uint64_t mgen;              /* starts at 1; bumped when a memo entry may be stale */
    uint64_t tgen;              /* the templater's generation mgen was valid for */
    const struct ar_limits *lim;
    struct ar_counters *ctr;
    struct ar_templater *tp;
    struct ar_hash_key key;
    struct ar_endpoint **buckets;
    size_t nbuckets;            /* power of two */
    struct ar_endpoint **vec;   /* insertion order, for iteration */
    size_t count, cap;
    char *tbuf;                 /* template output */
    size_t tbufsz;
    char *kbuf;                 /* key bytes for hashing */
    size_t kbufsz;
};

/* Fixed, public key: HLL registers must mean the same thing in every run so
 * that the store can merge them. Not an attack surface: a hostile client can
 * at worst skew the estimate of its own endpoint. */
static const struct ar_hash_key hll_key = { 0x6170697273746572ULL, 0x686c6c2d6b657931ULL };

/* ---- endpoints and sets ---------------------------------------------- */

struct ar_endpoint *ar_endpoint_new(const char *host, const char *method, const char *tmpl,
                                    const char *rule)
{
    struct ar_endpoint *e = ar_xcalloc(1, sizeof(*e));
    e->host = ar_xstrdup(host ? host : "");
    e->method = ar_xstrdup(method ? method : "");
    e->tmpl = ar_xstrdup(tmpl ? tmpl : "");
    e->rule = rule ? rule : "literal";
    return e;
}

static void valset_free(struct ar_valset *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

void ar_verdict_clear(struct ar_verdict *v)
{
#define AR_X(f) free(v->f); v->f = NULL;
    AR_VERDICT_FIELDS(AR_X)
#undef AR_X
}

void ar_endpoint_free(struct ar_endpoint *e)
{
    if (!e)
        return;
    ar_verdict_clear(&e->v);
    free(e->host);
    free(e->method);
    free(e->tmpl);
    free(e->statuses);
    valset_free(&e->query);
    valset_free(&e->req_ct);
    valset_free(&e->resp_ct);
    valset_free(&e->auth);
    valset_free(&e->servers);
    free(e);
}

int ar_valset_has(const struct ar_valset *s, const char *v)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], v) == 0)
            return 1;
    return 0;
}

int ar_valset_add(struct ar_valset *s, const char *v, uint64_t max)
{
    if (s->last < s->n && strcmp(s->v[s->last], v) == 0)
        return 0;
    for (uint32_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], v) == 0) {
            s->last = i;
            return 0;
        }
    if (s->n >= max)
        return -1;
    s->v = ar_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
    s->last = s->n;
    s->v[s->n++] = ar_xstrdup(v);
    return 1;
}

int ar_endpoint_add_status(struct ar_endpoint *e, int code, uint64_t count, uint64_t max)
{
    for (uint32_t i = 0; i < e->nstatuses; i++)
        if (e->statuses[i].code == code) {
            e->statuses[i].count += count;
            return 0;
        }
    if (e->nstatuses >= max)
        return -1;
    e->statuses = ar_xrealloc(e->statuses, (e->nstatuses + 1) * sizeof(*e->statuses));
    e->statuses[e->nstatuses].code = code;
    e->statuses[e->nstatuses].count = count;
    e->nstatuses++;
    return 1;
}

static void valset_add_counted(struct ar_valset *s, const char *v, const struct ar_limits *lim,
                               struct ar_counters *ctr)
{
    if (!v || !*v)
        return;
    if (ar_valset_add(s, v, lim->max_endpoint_values) < 0 && ctr)
        AR_INC(ctr, limit_max_endpoint_values);
}

static void valset_union(struct ar_valset *dst, const struct ar_valset *src,
                         const struct ar_limits *lim, struct ar_counters *ctr)
{
    for (uint32_t i = 0; i < src->n; i++)
        valset_add_counted(dst, src->v[i], lim, ctr);
}

/* ---- HyperLogLog (64 registers, p = 6) -------------------------------- */

void ar_hll_add(uint8_t hll[AR_HLL_REGS], const char *client)
{
    if (!client)
        return;
    uint64_t h = ar_hash(&hll_key, client, strlen(client));
    unsigned idx = (unsigned)(h & (AR_HLL_REGS - 1));
    uint64_t w = h >> 6;                       /* 58 remaining bits */
    uint8_t rank = w ? (uint8_t)(__builtin_clzll(w) - 6 + 1) : 59;
    if (rank > hll[idx])
        hll[idx] = rank;
}

void ar_hll_merge(uint8_t dst[AR_HLL_REGS], const uint8_t src[AR_HLL_REGS])
{
    for (int i = 0; i < AR_HLL_REGS; i++)
        if (src[i] > dst[i])
            dst[i] = src[i];
}

uint64_t ar_hll_estimate(const uint8_t hll[AR_HLL_REGS])
{
    const double m = AR_HLL_REGS;
    const double alpha = 0.7213 / (1.0 + 1.079 / m); /* alpha_m for m >= 128 (Flajolet et al.) */
    double sum = 0;
    int zeros = 0;
    for (int i = 0; i < AR_HLL_REGS; i++) {
        sum += ldexp(1.0, -(int)hll[i]);
        if (hll[i] == 0)
            zeros++;
    }
    double est = alpha * m * m / sum;
    if (est <= 2.5 * m && zeros > 0)           /* small-range correction: linear counting */
        est = m * log(m / zeros);
    return (uint64_t)(est + 0.5);
}

/* ---- merge and noise -------------------------------------------------- */

void ar_endpoint_merge(struct ar_endpoint *dst, const struct ar_endpoint *src,
                       const struct ar_limits *lim, struct ar_counters *ctr)
{
    if (src->hits) {
        if (!dst->hits || src->first_seen < dst->first_seen)
            dst->first_seen = src->first_seen;
        if (!dst->hits || src->last_seen > dst->last_seen)
            dst->last_seen = src->last_seen;
    }
    dst->hits += src->hits;
    for (uint32_t i = 0; i < src->nstatuses; i++)
        if (ar_endpoint_add_status(dst, src->statuses[i].code, src->statuses[i].count,
                                   lim->max_endpoint_values) < 0 && ctr)
            AR_INC(ctr, limit_max_endpoint_values);
    valset_union(&dst->query, &src->query, lim, ctr);
    valset_union(&dst->req_ct, &src->req_ct, lim, ctr);
    valset_union(&dst->resp_ct, &src->resp_ct, lim, ctr);
    valset_union(&dst->auth, &src->auth, lim, ctr);
    valset_union(&dst->servers, &src->servers, lim, ctr);
    ar_hll_merge(dst->hll, src->hll);
}

int ar_endpoint_is_noise(const struct ar_endpoint *e)
{
    int responses = 0;
    for (uint32_t i = 0; i < e->nstatuses; i++) {
        int c = e->statuses[i].code;
        if (c < 0)
            continue;                          /* no response: says nothing */
        if (c != 404 && c != 405)
            return 0;
        responses++;
    }
    return responses > 0;
}

/* ---- the table -------------------------------------------------------- */

struct ar_catalog *ar_catalog_new(const struct ar_limits *lim, struct ar_counters *ctr,
                                  struct ar_templater *tp)
{
    struct ar_catalog *c = ar_xcalloc(1, sizeof(*c));
    c->lim = lim;
    c->ctr = ctr;
    c->tp = tp;
    ar_hash_key_random(&c->key);
    c->nbuckets = 64;
    c->buckets = ar_xzalloc(c->nbuckets * sizeof(*c->buckets));
    /* A template can be longer than its path ("/o/1" -> "/o/{oId}"). */
    c->tbufsz = (size_t)AR_MIN(lim->max_target, (uint64_t)1 << 20) * 2 + 256;
    c->tbuf = ar_xmalloc(c->tbufsz);
    c->memo = ar_xcalloc(XM_SLOTS, sizeof(*c->memo));
    c->mgen = 1;
    c->tgen = ar_templater_generation(tp);
    return c;
}

void ar_catalog_clear(struct ar_catalog *c)
{
    for (size_t i = 0; i < c->count; i++)
        ar_endpoint_free(c->vec[i]);
    c->count = 0;
    memset(c->buckets, 0, c->nbuckets * sizeof(*c->buckets));
    c->mgen++;
}

void ar_catalog_free(struct ar_catalog *c)
{
    if (!c)
        return;
    ar_catalog_clear(c);
    free(c->buckets);
    free(c->vec);
    free(c->tbuf);
    free(c->kbuf);
    free(c->memo);
    free(c);
}

size_t ar_catalog_count(const struct ar_catalog *c)
{
    return c->count;
}

struct ar_endpoint *ar_catalog_iter(struct ar_catalog *c, size_t *pos)
{
    return *pos < c->count ? c->vec[(*pos)++] : NULL;
}

const struct ar_limits *ar_catalog_limits(const struct ar_catalog *c)
{
    return c->lim;
}

struct ar_counters *ar_catalog_counters(struct ar_catalog *c)
{
    return c->ctr;
}

static uint64_t key_hash(struct ar_catalog *c, const char *host, const char *method,
                         const char *tmpl)
{
    size_t hl = strlen(host), ml = strlen(method), tl = strlen(tmpl);
    size_t n = hl + ml + tl + 2;
    if (n > c->kbufsz) {
        c->kbufsz = n * 2;
        c->kbuf = ar_xrealloc(c->kbuf, c->kbufsz);
    }
    memcpy(c->kbuf, host, hl);
    c->kbuf[hl] = '\0';
    memcpy(c->kbuf + hl + 1, method, ml);
    c->kbuf[hl + 1 + ml] = '\0';
    memcpy(c->kbuf + hl + ml + 2, tmpl, tl);
    return ar_hash(&c->key, c->kbuf, n);
}

static struct ar_endpoint *lookup(struct ar_catalog *c, uint64_t h, const char *host,
                                  const char *method, const char *tmpl)
{
    for (struct ar_endpoint *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->next)
        if (e->hash == h && strcmp(e->tmpl, tmpl) == 0 && strcmp(e->method, method) == 0 &&
            strcmp(e->host, host) == 0)
            return e;
    return NULL;
}

static void bucket_link(struct ar_catalog *c, struct ar_endpoint *e)
{
    size_t b = e->hash & (c->nbuckets - 1);
    e->next = c->buckets[b];
    c->buckets[b] = e;
}

static void rehash_all(struct ar_catalog *c)
{
    memset(c->buckets, 0, c->nbuckets * sizeof(*c->buckets));
    for (size_t i = 0; i < c->count; i++)
        bucket_link(c, c->vec[i]);
}

static void insert(struct ar_catalog *c, struct ar_endpoint *e)
{
    if (c->count == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->vec = ar_xrealloc(c->vec, c->cap * sizeof(*c->vec));
    }
    c->vec[c->count++] = e;
    if (c->count * 4 > c->nbuckets * 3) {
        free(c->buckets);
        c->nbuckets *= 2;
        c->buckets = ar_xzalloc(c->nbuckets * sizeof(*c->buckets));
        rehash_all(c);
    } else {
        bucket_link(c, e);
    }
}

static int under_parent(const char *tmpl, const char *parent)
{
    size_t pl = strlen(parent);
    while (pl > 0 && parent[pl - 1] == '/')
        pl--;                                  /* parent "/" covers everything */
    return strncmp(tmpl, parent, pl) == 0 && tmpl[pl] == '/';
}

int ar_endpoint_retemplate(struct ar_templater *tp, const char *host, const char *tmpl,
                           char *out, size_t outsz, const char **rule, int *collapsed)
{
    const char *r = NULL;
    int ret = ar_template(tp, host, tmpl, out, outsz, &r);
    if (collapsed)
        *collapsed = ret == 1;
    if (strcmp(out, tmpl) == 0)
        return 0;
    if (rule)
        *rule = r;
    return 1;
}

/* A parent just collapsed: re-template what we hold under a collapsed parent of
 * that host, and merge endpoints whose key now coincides. */
static void retemplate(struct ar_catalog *c, const char *host)
{
    /* The collapsed parents of this host (gathered once, not per endpoint). */
    char **parents = NULL;      /* copies: ar_template() below may add collapses */
    size_t nparents = 0, pos = 0;
    const char *ch, *cp, *cc;
    while (ar_templater_collapse_iter(c->tp, &pos, &ch, &cp, &cc))
        if (ch && cp && ar_strcaseeq(ch, host)) {
            parents = ar_xrealloc(parents, (nparents + 1) * sizeof(*parents));
            parents[nparents++] = ar_xstrdup(cp);
        }

    size_t kept = 0;
    struct ar_endpoint **moved = NULL;
    size_t nmoved = 0;
    for (size_t i = 0; i < c->count; i++) {
        struct ar_endpoint *e = c->vec[i];
        int covered = 0;
        if (strcmp(e->host, host) == 0)
            for (size_t k = 0; k < nparents && !covered; k++)
                covered = under_parent(e->tmpl, parents[k]);
        if (covered) {
            const char *rule = NULL;
            if (ar_endpoint_retemplate(c->tp, e->host, e->tmpl, c->tbuf, c->tbufsz, &rule,
                                       NULL)) {
                free(e->tmpl);
                e->tmpl = ar_xstrdup(c->tbuf);
                e->rule = rule ? rule : e->rule;
                moved = ar_xrealloc(moved, (nmoved + 1) * sizeof(*moved));
                moved[nmoved++] = e;
                continue;
            }
        }
        c->vec[kept++] = e;
    }
    for (size_t k = 0; k < nparents; k++)
        free(parents[k]);
    free(parents);
    c->count = kept;
    c->mgen++;                  /* endpoints moved and merged */
    rehash_all(c);
    for (size_t i = 0; i < nmoved; i++) {
        struct ar_endpoint *e = moved[i];
        e->hash = key_hash(c, e->host, e->method, e->tmpl);
        struct ar_endpoint *d = lookup(c, e->hash, e->host, e->method, e->tmpl);
        if (d) {
            ar_endpoint_merge(d, e, c->lim, c->ctr);
            ar_endpoint_free(e);
        } else {
            insert(c, e);
        }
    }
    free(moved);
}

static void add_query_names(struct ar_endpoint *e, const char *q, const struct ar_limits *lim,
                            struct ar_counters *ctr)
{
    char name[256];
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        if (n > 0 && n < sizeof(name)) {
            memcpy(name, q, n);
            name[n] = '\0';
            valset_add_counted(&e->query, name, lim, ctr);
        }
        q = amp ? amp + 1 : NULL;
    }
}

static uint64_t xm_hash(const char *a, size_t al, const char *b, size_t bl, const char *p,
                        size_t pl)
{
    struct ar_hash_key k = { 0, 0 };
    k.k0 = ar_hash_fast(&k, a, al);
    k.k0 = ar_hash_fast(&k, b, bl);
    return ar_hash_fast(&k, p, pl);
}

void ar_catalog_add(struct ar_catalog *c, const struct ar_exchange *x)
{
    if (!x->method || !*x->method)
        return;                                /* response only: not an endpoint */
    const char *raw = x->host ? x->host : "", *path = x->path ? x->path : "/";
    size_t hl = strlen(raw), ml = strlen(x->method), pl = strlen(path);
    uint64_t tg = ar_templater_generation(c->tp);
    if (tg != c->tgen) {
        c->tgen = tg;
        c->mgen++;
    }
    struct xmemo *m = NULL;
    struct ar_endpoint *e;
    if (hl + ml + pl <= XM_KEY) {
        m = &c->memo[xm_hash(raw, hl, x->method, ml, path, pl) & (XM_SLOTS - 1)];
        if (m->gen == c->mgen && m->hl == hl && m->ml == ml && m->pl == pl &&
            memcmp(m->key, raw, hl) == 0 && memcmp(m->key + hl, x->method, ml) == 0 &&
            memcmp(m->key + hl + ml, path, pl) == 0) {
            if (m->invalid)
                AR_INC(c->ctr, host_invalid);
            e = m->e;
            e->rule = m->rule;
            goto seen;
        }
    }

    char host[AR_HOST_MAX + 1];
    int invalid = ar_host_norm(raw, host, sizeof(host)) < 0;
    if (invalid) {
        AR_INC(c->ctr, host_invalid);
        ar_strlcpy(host, "(invalid)", sizeof(host));
    }

    const char *rule = NULL;
    int collapsed = ar_template(c->tp, host, path, c->tbuf, c->tbufsz, &rule);
    if (collapsed == 1) {
        /* retemplate() reuses tbuf: keep this exchange's template aside. */
        char *mine = ar_xstrdup(c->tbuf);
        retemplate(c, host);
        ar_strlcpy(c->tbuf, mine, c->tbufsz);
        free(mine);
    }
    const char *tmpl = c->tbuf;

    uint64_t h = key_hash(c, host, x->method, tmpl);
    e = lookup(c, h, host, x->method, tmpl);
    if (!e) {
        if (c->count >= c->lim->max_endpoints) {
            if (c->ctr) {
                AR_INC(c->ctr, db_dropped);
                AR_INC(c->ctr, limit_max_endpoints);
            }
            return;
        }
        e = ar_endpoint_new(host, x->method, tmpl, rule);
        e->hash = h;
        e->first_seen = e->last_seen = x->ts;
        insert(c, e);
    } else if (rule) {
        e->rule = rule;
    }
    /* remembered when templating it again would do the same and nothing more */
    if (m && ar_templater_generation(c->tp) == c->tgen) {
        m->gen = c->mgen;
        m->e = e;
        m->rule = e->rule;
        m->invalid = (uint8_t)invalid;
        m->hl = (uint8_t)hl;
        m->ml = (uint8_t)ml;
        m->pl = (uint8_t)pl;
        memcpy(m->key, raw, hl);
        memcpy(m->key + hl, x->method, ml);
        memcpy(m->key + hl + ml, path, pl);
    }
seen:
    if (e->hits == 0 || x->ts < e->first_seen)
        e->first_seen = x->ts;
    if (e->hits == 0 || x->ts > e->last_seen)
        e->last_seen = x->ts;
    e->hits++;
    if (ar_endpoint_add_status(e, x->status < 0 ? -1 : x->status, 1,
                               c->lim->max_endpoint_values) < 0 && c->ctr)
        AR_INC(c->ctr, limit_max_endpoint_values);
    add_query_names(e, x->query, c->lim, c->ctr);
    valset_add_counted(&e->req_ct, x->req_ct, c->lim, c->ctr);
    valset_add_counted(&e->resp_ct, x->resp_ct, c->lim, c->ctr);
    valset_add_counted(&e->auth, x->auth, c->lim, c->ctr);
    valset_add_counted(&e->servers, x->server, c->lim, c->ctr);
    if (x->client && *x->client)
        ar_hll_add(e->hll, x->client);
}

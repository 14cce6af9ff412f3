/* specmatch.c - matching endpoints to spec operations (see specmatch.h).
 *
 * A flat list of (spec, op, server) entries, each with its full template split
 * into segments once. A match scans the list (a few thousand entries at most:
 * the Box spec has 296 operations) and keeps the best path score per host
 * tier; no allocation per match. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "specmatch.h"
#include "../core/util.h"

#define MAX_SEGS 128

enum { SC_NONE = 0, SC_PARAM = 1, SC_MIXED = 2, SC_LITERAL = 3 };

struct seg {
    uint32_t off, len;
};

struct entry {
    const struct ar_spec *spec;
    const struct ar_spec_op *op;
    const struct ar_spec_server *server;
    const char *source;
    char *tmpl;
    struct seg *segs;
    size_t nsegs; /* SIZE_MAX: more than MAX_SEGS, never matches */
};

struct ar_specset {
    struct entry *e;
    size_t n, cap;
    size_t max_segs;   /* segments of the longest template that can match */
    char **sources;
    size_t nsources;
};

struct ar_specset *ar_specset_new(void) { return ar_xcalloc(1, sizeof(struct ar_specset)); }

void ar_specset_free(struct ar_specset *ss)
{
    if (!ss)
        return;
    for (size_t i = 0; i < ss->n; i++) {
        free(ss->e[i].tmpl);
        free(ss->e[i].segs);
    }
    free(ss->e);
    for (size_t i = 0; i < ss->nsources; i++)
        free(ss->sources[i]);
    free(ss->sources);
    free(ss);
}

/* Split p[0..n) after its leading '/' into segments; one trailing '/' is
 * dropped. Returns the count, or SIZE_MAX when there are too many. */
static size_t split(const char *p, size_t n, struct seg *out)
{
    size_t i = 0, k = 0;
    if (n && p[0] == '/')
        i = 1;
    if (n > i && p[n - 1] == '/')
        n--;
    if (i >= n)
        return 0;
    for (;;) {
        size_t s = i;
        while (i < n && p[i] != '/')
            i++;
        if (k == MAX_SEGS)
            return SIZE_MAX;
        out[k].off = (uint32_t)s;
        out[k].len = (uint32_t)(i - s);
        k++;
        if (i >= n)
            break;
        i++;
    }
    return k;
}

void ar_specset_add(struct ar_specset *ss, const struct ar_spec *spec, const char *source)
{
    ss->sources = ar_xrealloc(ss->sources, (ss->nsources + 1) * sizeof(char *));
    char *src = ss->sources[ss->nsources++] = ar_xstrdup(source ? source : "");
    for (size_t o = 0; o < spec->nops; o++) {
        const struct ar_spec_op *op = &spec->ops[o];
        for (size_t v = 0; v < op->nservers; v++) {
            if (ss->n == ss->cap) {
                ss->cap = ss->cap ? ss->cap * 2 : 64;
                ss->e = ar_xrealloc(ss->e, ss->cap * sizeof(*ss->e));
            }
            struct entry *e = &ss->e[ss->n++];
            memset(e, 0, sizeof(*e));
            e->spec = spec;
            e->op = op;
            e->server = &op->servers[v];
            e->source = src;
            const char *base = op->servers[v].base ? op->servers[v].base : "";
            size_t bl = strlen(base), pl = strlen(op->path);
            e->tmpl = ar_xmalloc(bl + pl + 3);
            memcpy(e->tmpl, base, bl);
            size_t n = bl;
            if (op->path[0] != '/')
                e->tmpl[n++] = '/';
            memcpy(e->tmpl + n, op->path, pl);
            n += pl;
            while (n > 1 && e->tmpl[n - 1] == '/')
                n--;
            if (n == 0)
                e->tmpl[n++] = '/';
            e->tmpl[n] = 0;
            struct seg tmp[MAX_SEGS];
            e->nsegs = split(e->tmpl, n, tmp);
            if (e->nsegs != SIZE_MAX && e->nsegs) {
                e->segs = ar_xmalloc(e->nsegs * sizeof(struct seg));
                memcpy(e->segs, tmp, e->nsegs * sizeof(struct seg));
                if (e->nsegs > ss->max_segs)
                    ss->max_segs = e->nsegs;
            }
        }
    }
}

size_t ar_specset_count(const struct ar_specset *ss) { return ss ? ss->n : 0; }

size_t ar_specset_max_segs(const struct ar_specset *ss) { return ss ? ss->max_segs : 0; }

int ar_specset_entry(const struct ar_specset *ss, size_t i, struct ar_spec_entry *out)
{
    if (!ss || i >= ss->n)
        return -1;
    const struct entry *e = &ss->e[i];
    out->spec = e->spec;
    out->op = e->op;
    out->server = e->server;
    out->source = e->source;
    out->tmpl = e->tmpl;
    return 0;
}

/* ------------------------------------------------------------------ segments */

enum { SK_LITERAL, SK_PARAM, SK_MIXED };

static int seg_kind(const char *s, size_t n)
{
    const char *b = memchr(s, '{', n);
    if (!b)
        return SK_LITERAL;
    if (s[0] == '{' && s[n - 1] == '}' && !memchr(s + 1, '{', n - 1) && memchr(s, '}', n) == s + n - 1)
        return SK_PARAM;
    return SK_MIXED;
}

/* A concrete segment r against a mixed spec segment s: each {param} takes at
 * least one byte. */
static int glob(const char *r, const char *re, const char *s, const char *se, int budget)
{
    if (budget <= 0)
        return 0;
    while (s < se) {
        if (*s == '{') {
            const char *c = memchr(s, '}', (size_t)(se - s));
            if (!c) /* unbalanced: the rest is literal */
                return (size_t)(re - r) == (size_t)(se - s) && memcmp(r, s, (size_t)(se - s)) == 0;
            for (const char *k = r + 1; k <= re; k++)
                if (glob(k, re, c + 1, se, budget - 1))
                    return 1;
            return 0;
        }
        if (r == re || *r != *s)
            return 0;
        r++;
        s++;
    }
    return r == re;
}

/* Two template segments of the same shape: literal text equal, parameters at
 * the same places (names ignored). */
static int same_shape(const char *a, const char *ae, const char *b, const char *be)
{
    while (a < ae && b < be) {
        if (*a == '{' && *b == '{') {
            const char *ca = memchr(a, '}', (size_t)(ae - a)), *cb = memchr(b, '}', (size_t)(be - b));
            if (!ca || !cb)
                return 0;
            a = ca + 1;
            b = cb + 1;
            continue;
        }
        if (*a != *b)
            return 0;
        a++;
        b++;
    }
    return a == ae && b == be;
}

static int seg_score(const char *r, size_t rl, const char *s, size_t sl)
{
    int sk = seg_kind(s, sl);
    if (memchr(r, '{', rl)) { /* a roster template segment */
        int rk = seg_kind(r, rl);
        if (sk == SK_PARAM)
            return SC_PARAM;
        if (rk == SK_MIXED && sk == SK_MIXED && same_shape(r, r + rl, s, s + sl))
            return SC_MIXED;
        return SC_NONE;
    }
    switch (sk) {
    case SK_LITERAL:
        return rl == sl && memcmp(r, s, rl) == 0 ? SC_LITERAL : SC_NONE;
    case SK_PARAM:
        return rl ? SC_PARAM : SC_NONE;
    default:
        return glob(r, r + rl, s, s + sl, 64) ? SC_MIXED : SC_NONE;
    }
}

/* ------------------------------------------------------------------ match */

/* 2: entry names this host; 1: this host is a subdomain of the entry's host
 * (regional and edge names: eu.httpbin.org is served by the spec of
 * httpbin.org), on the same port; 0: entry names no host (any host); -1:
 * another host. */
static int host_tier(const char *ehost, const char *host)
{
    if (!ehost || !ehost[0])
        return 0;
    char h[512];
    ar_strlcpy(h, host, sizeof(h));
    char *c = strrchr(h, ':');
    if (c && !strchr(c, ']') && (strcmp(c, ":80") == 0 || strcmp(c, ":443") == 0))
        *c = '\0';     /* a default port is no port */
    if (ar_strcaseeq(ehost, h))
        return 2;
    size_t hl = strlen(h), el = strlen(ehost);
    const char *eport = ehost[0] == '[' ? NULL : strchr(ehost, ':');
    const char *hport = h[0] == '[' ? NULL : strchr(h, ':');
    if ((eport == NULL) != (hport == NULL) || (eport && strcmp(eport, hport)))
        return -1;
    size_t en = eport ? (size_t)(eport - ehost) : el, hn = hport ? (size_t)(hport - h) : hl;
    if (hn > en + 1 && h[hn - en - 1] == '.' && ar_strncaseeq(h + hn - en, ehost, en))
        return 1;
    return -1;
}

enum ar_match_kind ar_specset_match(const struct ar_specset *ss, const char *host, const char *method,
                                    const char *path, struct ar_spec_match *m)
{
    struct ar_spec_match dummy;
    if (!m)
        m = &dummy;
    memset(m, 0, sizeof(*m));
    m->kind = AR_MATCH_NONE;
    if (!ss || !path || !method)
        return AR_MATCH_NONE;
    if (!host)
        host = "";
    size_t pl = strcspn(path, "?#");
    struct seg rs[MAX_SEGS];
    size_t nrs = split(path, pl, rs);
    if (nrs == SIZE_MAX)
        return AR_MATCH_NONE;
    int head = strcmp(method, "HEAD") == 0;

    for (int tier = 2; tier >= 0; tier--) {
        const struct entry *best = NULL;
        uint8_t bsc[MAX_SEGS], sc[MAX_SEGS];
        int bm = -1;
        for (size_t i = 0; i < ss->n; i++) {
            const struct entry *e = &ss->e[i];
            if (e->nsegs != nrs || host_tier(e->server->host, host) != tier)
                continue;
            size_t k;
            for (k = 0; k < nrs; k++) {
                sc[k] = (uint8_t)seg_score(path + rs[k].off, rs[k].len, e->tmpl + e->segs[k].off,
                                           e->segs[k].len);
                if (sc[k] == SC_NONE)
                    break;
            }
            if (k < nrs)
                continue;
            int cmp = best ? memcmp(sc, bsc, nrs) : 1;
            int mm = strcmp(e->op->method, method) == 0 ? 2 : (head && strcmp(e->op->method, "GET") == 0) ? 1 : 0;
            if (cmp > 0 || (cmp == 0 && mm > bm)) {
                best = e;
                bm = mm;
                memcpy(bsc, sc, nrs);
            }
        }
        if (best) {
            m->kind = bm > 0 ? AR_MATCH_OP : AR_MATCH_PATH;
            m->spec = best->spec;
            m->op = best->op;
            m->server = best->server;
            m->source = best->source;
            ar_strlcpy(m->tmpl, best->tmpl, sizeof(m->tmpl));
            return m->kind;
        }
    }
    return AR_MATCH_NONE;
}

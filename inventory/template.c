/* template.c - path templating (rules and thresholds: docs/templating.md).
 *
 * Per path: operator pins, then spec templates (both a segment trie per host,
 * literal edges before parameter edges, depth first, so the leftmost concrete
 * segment wins), then the heuristics, one segment at a time, left to right:
 * vocabulary and version words stay literal; typed values become parameters
 * (whole segment, "stem.ext", or ISO dates/UUIDs/long hex inside a segment);
 * what is left is literal and feeds the cardinality collapse, keyed by (host,
 * templated prefix, child shape).
 *
 * No regex and no allocation on the fast path: classification is hand-written
 * byte scanning, word look-ups hash into an open-addressing set, and the
 * output is built in a scratch buffer owned by the templater. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "template.h"
#include "../core/hash.h"
#include "../core/util.h"

#define WORD_MAX 63          /* longest word kept in the word set */
#define NAME_MAX_LEN 40      /* longest parameter name (before a uniqueness number) */
#define NAME_NUM_LEN 10      /* digits of a uniqueness number (uint32_t) */
#define PAT_MAX_SEGS 128     /* segments in a pin/spec pattern */
#define PAT_MAX_PARAMS 3     /* parameters inside one pattern segment */
#define HOST_MAX 255
#define SEG_MEMO_MAX 44      /* longest segment the segment memo keeps */

/* ------------------------------------------------------------------ ASCII */

static inline int c_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline int c_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static inline int c_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static inline int c_alpha(unsigned char c) { return c_lower(c) || c_upper(c); }
static inline int c_alnum(unsigned char c) { return c_alpha(c) || c_digit(c); }
static inline int c_hex(unsigned char c)
{
    return c_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static inline unsigned char c_tolower(unsigned char c) { return c_upper(c) ? (unsigned char)(c + 32) : c; }
static inline unsigned char c_toupper(unsigned char c) { return c_lower(c) ? (unsigned char)(c - 32) : c; }

static int prefix_ci(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && ar_strncaseeq(s, lit, l);
}

static int suffix_ci(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && ar_strncaseeq(s + n - l, lit, l);
}

/* ------------------------------------------------------- scratch buffers */

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_need(struct sbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->p = ar_xrealloc(b->p, cap);
    b->cap = cap;
}

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
    sb_need(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_putc(struct sbuf *b, char c)
{
    sb_need(b, 1);
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

/* ---------------------------------------------------------------- words */

#define W_VOCAB 1u           /* built-in API vocabulary: never typed */
#define W_DICT  2u           /* from a word list */
#define W_KEEP  4u           /* built-in, never absorbed by a collapse either */

/* 8 bytes a slot (the word's bytes are in the arena): Debian's list fills
 * a 2 MB table half full, where 16-byte slots took 4 MB. */
struct wentry {
    uint32_t off;            /* the word's bytes in the arena */
    uint16_t tag;            /* high bits of its hash: most mismatches stop here */
    uint8_t len;             /* 0: empty slot */
    uint8_t flags;
};

/* Bits set by the words' hashes (another part of the hash than the slot):
 * most look-ups are of ids, not words, and stop here, in 128 KB that stay
 * in a core's cache, instead of missing in the 2 MB table. */
#define W_FILTER_BITS (1u << 20)

struct wordset {
    struct ar_hash_key key;  /* the templater's */
    uint64_t *filter;        /* W_FILTER_BITS bits */
    struct wentry *tab;
    size_t cap, n;
    char *arena;
    size_t alen, acap;
};

/* Words that must never be absorbed by the cardinality collapse (/users/me,
 * /users/search next to a collapsed /users/{user}), nor typed. Version words
 * (v1, v2beta1, 1.0) are recognized by is_version() and treated the same. */
static const char *const builtin_keep[] = {
    "api", "apis", "graphql", "me", "my", "mine", "self", "current", "new", "latest", "default",
    "search", "count", "batch", "bulk", "healthz", "livez", "readyz", "openapi", "swagger",
    ".well-known", "well-known", "jwks", "oauth", "oauth2", "oidc", "openid", "login", "logout",
    "signin", "signout", "signup", "callback", "authorize", "introspect", "revoke", "token",
};

/* Built-in API vocabulary: words missing from an English word list, or with
 * digits (never typed as ids). They stay literal but can still collapse
 * (a category named "health" must not escape /catalog/categories/{category}). */
static const char *const builtin_vocab[] = {
    "api", "apis", "rest", "rpc", "graphql", "graphiql", "grpc", "soap", "odata", "jsonrpc",
    "me", "my", "mine", "self", "current", "new", "latest", "default", "all", "any", "none",
    "search", "count", "batch", "bulk", "export", "import", "query", "find", "lookup",
    "health", "healthz", "healthcheck", "livez", "readyz", "ready", "live", "ping", "status",
    "metrics", "version", "info", "debug", "pprof", "actuator", "swagger", "openapi", "docs",
    "auth", "oauth", "oauth1", "oauth2", "oidc", "openid", "saml", "sso", "jwks", "token",
    "tokens", "login", "logout", "signin", "signout", "signup", "register", "callback",
    "authorize", "introspect", "revoke", "refresh", "session", "sessions", "mfa", "2fa", "totp",
    "admin", "internal", "public", "private", "static", "assets", "uploads", "download",
    "upload", "webhook", "webhooks", "ws", "wss", "sse", "events", "stream", "feed", "rss",
    "json", "xml", "yaml", "yml", "csv", "html", "txt", "pdf", "png", "jpg", "jpeg", "gif",
    "svg", "webp", "ico", "js", "mjs", "css", "map", "wasm", "php", "asp", "aspx", "jsp", "cgi",
    "favicon", "robots", "sitemap", "manifest", ".well-known", "well-known", "wp", "wp-admin",
    "wp-login", "wp-content", "wp-includes", "xmlrpc", "phpmyadmin", ".env", ".git",
    "s3", "ec2", "gcs", "h2", "h2c", "h3", "http", "https", "http2", "http3", "ipv4", "ipv6",
    "utf8", "utf-8", "x86", "x64", "x86_64", "x86-64", "amd64", "arm64", "aarch64", "i386",
    "i686", "win32", "win64", "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "crc32",
    "base32", "base64", "hex", "k8s", "i18n", "l10n", "a11y", "e2e", "b2b", "b2c", "p2p",
    "mp3", "mp4", "m4a", "h264", "h265", "x509", "pkcs7", "pkcs8", "pkcs12", "3ds", "web3",
    "id", "ids", "uuid", "guid", "sku", "skus",
};

/* The word set is filled once, from word lists and the built-in ones, and
 * then only looked up: traffic never adds to it, so the cheaper seeded hash
 * does (a third of the templater's time went to hashing words). */
static uint64_t w_hash(const struct ar_hash_key *k, const char *s, size_t n)
{
    return ar_hash_fast(k, s, n);
}

/* Lower-cases s into buf; returns the length, or 0 if it cannot be a word. */
static size_t w_lower(const char *s, size_t n, char *buf)
{
    if (n == 0 || n > WORD_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)c_tolower((unsigned char)s[i]);
    buf[n] = '\0';
    return n;
}

static uint16_t w_tag(uint64_t h)
{
    return (uint16_t)(h >> 48);
}

static size_t w_filter_bit(uint64_t h)
{
    return (size_t)(h >> 24) & (W_FILTER_BITS - 1);
}

static struct wentry *w_slot(const struct wordset *ws, uint64_t h, const char *s, size_t n)
{
    size_t mask = ws->cap - 1;
    uint16_t tag = w_tag(h);
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        struct wentry *e = &ws->tab[i];
        if (e->len == 0)
            return e;
        if (e->tag == tag && e->len == n && memcmp(ws->arena + e->off, s, n) == 0)
            return e;
    }
}

/* The table holds at least twice as many slots as words (n more to come). */
static void w_reserve(struct wordset *ws, size_t n)
{
    size_t ncap = ws->cap ? ws->cap : 1024;
    while ((ws->n + n + 1) * 2 > ncap)
        ncap *= 2;
    if (ncap == ws->cap)
        return;
    struct wentry *ntab = ar_xzalloc(ncap * sizeof(*ntab));
    for (size_t i = 0; i < ws->cap; i++) {
        struct wentry *e = &ws->tab[i];
        if (e->len == 0)
            continue;
        size_t j = (size_t)w_hash(&ws->key, ws->arena + e->off, e->len) & (ncap - 1);
        while (ntab[j].len)
            j = (j + 1) & (ncap - 1);
        ntab[j] = *e;
    }
    free(ws->tab);
    ws->tab = ntab;
    ws->cap = ncap;
}

/* Adds an already lower-cased word of hash h (room reserved). */
static void w_add_hashed(struct wordset *ws, const char *s, size_t n, uint64_t h, unsigned flags)
{
    struct wentry *e = w_slot(ws, h, s, n);
    if (e->len) {
        e->flags |= (uint8_t)flags;
        return;
    }
    if (ws->alen + n > ws->acap) {
        size_t ncap = ws->acap ? ws->acap : 65536;
        while (ncap < ws->alen + n)
            ncap *= 2;
        ws->arena = ar_xrealloc(ws->arena, ncap);
        ws->acap = ncap;
    }
    memcpy(ws->arena + ws->alen, s, n);
    if (!ws->filter)
        ws->filter = ar_xcalloc(W_FILTER_BITS / 64, sizeof(uint64_t));
    size_t b = w_filter_bit(h);
    ws->filter[b / 64] |= (uint64_t)1 << (b % 64);
    e->off = (uint32_t)ws->alen;
    e->tag = w_tag(h);
    e->len = (uint8_t)n;
    e->flags = (uint8_t)flags;
    ws->alen += n;
    ws->n++;
}

static void w_add(struct wordset *ws, const char *s, size_t n, unsigned flags)
{
    if (n == 0 || n > WORD_MAX)
        return;
    w_reserve(ws, 1);
    w_add_hashed(ws, s, n, w_hash(&ws->key, s, n), flags);
}

/* ------------------------------------------------------------ pin tries */

struct tnode;

struct tedge {
    char *seg;
    uint32_t len;
    uint32_t conc;           /* literal characters in a parameter segment */
    struct tnode *child;
};

struct tnode {
    struct tedge *lit;       /* sorted by (len, bytes) */
    uint32_t nlit, clit;
    struct tedge *par;       /* most concrete first, then insertion order */
    uint32_t npar, cpar;
    char *tmpl;              /* terminal: the pattern as registered */
};

struct troot {
    char *host;              /* lower-case; NULL: any host */
    struct tnode *root;
};

struct tset {
    struct troot *v;
    size_t n, cap;
};

/* ------------------------------------------------------------- collapse */

struct centry {
    uint64_t h;
    char *key;               /* host \0 parent \0 shape \0 */
    size_t keylen;           /* bytes of key, the three NULs included */
    const char *host, *parent, *shape;
    int collapsed;
    char *name;              /* collapsed: parameter name */
    char *child_tmpl;        /* collapsed: "{name}" + suffix */
    uint64_t *names;         /* not collapsed: hashes of the distinct children */
    uint32_t nnames, cnames;
};

struct ctab {
    struct centry **slot;
    size_t cap, n;
    size_t tracked;          /* entries created by tracking (not seeded) */
};

/* ------------------------------------------------------------ templater */

struct ar_templater {
    uint64_t gen;            /* ar_templater_generation() */
    uint64_t max_children;
    uint64_t max_tracked;
    uint64_t max_depth;      /* deepest parent (in segments) the collapse tracks */
    struct ar_counters *ctr;
    struct ar_counters dummy;
    struct ar_hash_key key;
    struct wordset words;
    size_t dict_words;       /* words loaded from word lists */
    struct tset pins, specs;
    struct ctab ct;
    struct sbuf work;        /* output being built */
    char host[HOST_MAX + 1];
    size_t hostlen;
    /* parameter names of the current template: an open-addressing set of
     * the names already written, each pointing at its bytes in work (slots
     * of an older gen are free, so that a template starts without clearing) */
    struct nslot {
        uint64_t h;
        uint32_t gen;
        uint32_t off, len;
        uint32_t next;       /* as a base name: the number to try next */
    } *names;
    size_t ncap, nnames;
    uint32_t ngen;
    /* parent_name() results, by parent segment: a few parents name most
     * parameters (users -> userId), and naming one looks up words */
    struct pn_slot {
        uint8_t len, with_id, nl;
        char seg[NAME_MAX_LEN];
        char name[NAME_MAX_LEN + 8];
    } pn[64];
    /* what emit_segment() decided for a segment that stays literal (a word,
     * a version, a literal that may collapse): a pure function of its bytes
     * and the words, and most segments of a path are such repeats. Typed
     * values (ids) are not kept: they rarely come back. Fixed size: a
     * segment that misses is classified again, nothing else. */
    struct seg_memo {
        uint8_t len;         /* 0: empty */
        uint8_t kind;        /* SM_* */
        uint8_t usable;      /* parent_usable() */
        uint8_t collapse_ok; /* may feed the cardinality collapse */
        char seg[SEG_MEMO_MAX];
    } sm[1024];
};

static const char RULE_PIN[] = "pin";
static const char RULE_SPEC[] = "spec";
static const char RULE_TYPED[] = "typed";
static const char RULE_COLLAPSE[] = "collapse";
static const char RULE_LITERAL[] = "literal";

static unsigned w_flags(const struct ar_templater *t, const char *s, size_t n)
{
    char buf[WORD_MAX + 1];
    size_t l = w_lower(s, n, buf);
    if (!l || !t->words.cap)
        return 0;
    uint64_t h = w_hash(&t->key, buf, l);
    size_t b = w_filter_bit(h);
    if (!(t->words.filter[b / 64] >> (b % 64) & 1))
        return 0;
    const struct wentry *e = w_slot(&t->words, h, buf, l);
    return e->len ? e->flags : 0;
}

static int is_dict_word(const struct ar_templater *t, const char *s, size_t n)
{
    return n >= 2 && (w_flags(t, s, n) & (W_DICT | W_VOCAB)) != 0;
}

struct ar_templater *ar_templater_new(const struct ar_limits *lim, struct ar_counters *ctr)
{
    struct ar_templater *t = ar_xcalloc(1, sizeof(*t));
    struct ar_limits def;
    if (!lim) {
        ar_limits_default(&def);
        lim = &def;
    }
    t->max_children = lim->max_children;
    t->max_tracked = lim->max_tracked_children;
    t->max_depth = lim->max_collapse_depth;
    t->ctr = ctr ? ctr : &t->dummy;
    ar_hash_key_random(&t->key);
    t->words.key = t->key;
    for (size_t i = 0; i < AR_ARRAY_LEN(builtin_vocab); i++) {
        char buf[WORD_MAX + 1];
        size_t l = w_lower(builtin_vocab[i], strlen(builtin_vocab[i]), buf);
        w_add(&t->words, buf, l, W_VOCAB);
    }
    for (size_t i = 0; i < AR_ARRAY_LEN(builtin_keep); i++) {
        char buf[WORD_MAX + 1];
        size_t l = w_lower(builtin_keep[i], strlen(builtin_keep[i]), buf);
        w_add(&t->words, buf, l, W_VOCAB | W_KEEP);
    }
    sb_need(&t->work, 4096);
    t->ncap = 64;
    t->names = ar_xzalloc(t->ncap * sizeof(*t->names));
    return t;
}

static void tnode_free(struct tnode *nd)
{
    if (!nd)
        return;
    for (uint32_t i = 0; i < nd->nlit; i++) {
        free(nd->lit[i].seg);
        tnode_free(nd->lit[i].child);
    }
    for (uint32_t i = 0; i < nd->npar; i++) {
        free(nd->par[i].seg);
        tnode_free(nd->par[i].child);
    }
    free(nd->lit);
    free(nd->par);
    free(nd->tmpl);
    free(nd);
}

static void tset_free(struct tset *ts)
{
    for (size_t i = 0; i < ts->n; i++) {
        free(ts->v[i].host);
        tnode_free(ts->v[i].root);
    }
    free(ts->v);
}

static void centry_free(struct centry *e)
{
    if (!e)
        return;
    free(e->key);
    free(e->name);
    free(e->child_tmpl);
    free(e->names);
    free(e);
}

void ar_templater_free(struct ar_templater *t)
{
    if (!t)
        return;
    free(t->words.tab);
    free(t->words.filter);
    free(t->words.arena);
    tset_free(&t->pins);
    tset_free(&t->specs);
    for (size_t i = 0; i < t->ct.cap; i++)
        centry_free(t->ct.slot[i]);
    free(t->ct.slot);
    free(t->work.p);
    free(t->names);
    free(t);
}

int ar_templater_load_words(struct ar_templater *t, const char *path)
{
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f)
        return -1;
    memset(t->pn, 0, sizeof(t->pn));         /* names depend on the words */
    memset(t->sm, 0, sizeof(t->sm));         /* and so do literals */
    t->gen++;
    /* the whole file at once (Debian's list is 1 MB): fgets was a third of it */
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (len == cap) {
            cap = cap ? cap * 2 : 1u << 20;
            buf = ar_xrealloc(buf, cap);
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got);
    int err = ferror(f);
    fclose(f);
    size_t lines = 0;
    for (const char *q = buf; (q = memchr(q, '\n', len - (size_t)(q - buf))); q++)
        lines++;
    w_reserve(&t->words, lines + 1);
    struct wordset *ws = &t->words;
    if (ws->acap < ws->alen + len) {
        ws->acap = ws->alen + len;
        ws->arena = ar_xrealloc(ws->arena, ws->acap);
    }
    for (size_t i = 0; i < len; i++) {       /* in place, once, without branches */
        unsigned char c = (unsigned char)buf[i];
        buf[i] = (char)(c + ((unsigned char)(c - 'A') < 26 ? 32 : 0));
    }
    /* Each word lands in a random slot of a table larger than the caches: its
     * slot is prefetched AHEAD words before the word is added. */
    enum { AHEAD = 16 };
    struct { const char *s; size_t n; uint64_t h; } q[AHEAD];
    size_t head = 0, nq = 0, mask = ws->cap - 1;
    for (size_t at = 0; !err && (at < len || nq);) {
        if (nq == AHEAD || at >= len) {
            w_add_hashed(ws, q[head].s, q[head].n, q[head].h, W_DICT);
            t->dict_words++;
            head = (head + 1) % AHEAD;
            nq--;
            continue;
        }
        const char *line = buf + at, *nl = memchr(line, '\n', len - at);
        size_t n = nl ? (size_t)(nl - line) : len - at;
        at += n + 1;
        while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            n--;
        size_t s0 = 0;
        while (s0 < n && (line[s0] == ' ' || line[s0] == '\t'))
            s0++;
        if (n - s0 >= 2 && line[n - 2] == '\'' && line[n - 1] == 's')
            n -= 2;                          /* possessive: Aaron's -> aaron */
        if (n <= s0 || line[s0] == '#' || n - s0 > WORD_MAX)
            continue;
        size_t tail = (head + nq) % AHEAD;
        q[tail].s = line + s0;
        q[tail].n = n - s0;
        q[tail].h = w_hash(&ws->key, line + s0, n - s0);
        __builtin_prefetch(&ws->tab[q[tail].h & mask]);
        nq++;
    }
    free(buf);
    return err ? -1 : 0;
}

size_t ar_templater_word_count(const struct ar_templater *t)
{
    return t ? t->words.n : 0;
}

/* --------------------------------------------------------- classifiers */

enum ty {
    TY_NONE,
    TY_INT,
    TY_UUID,
    TY_OBJID,
    TY_HEX,
    TY_TOKEN,
    TY_JWT,
    TY_DATE,
    TY_EMAIL,
    TY_IP,
    TY_ALNUM,
};

/* v1, V2, v10, v1beta1, v2alpha, v1rc2, v1.2, v2_1, and dotted numbers 1.0, 2.1.3 */
static int is_version(const char *s, size_t n)
{
    size_t i = 0, d;
    if (n >= 2 && (s[0] == 'v' || s[0] == 'V') && c_digit((unsigned char)s[1])) {
        i = 1;
        for (d = 0; i < n && c_digit((unsigned char)s[i]); i++, d++)
            ;
        if (d > 4)
            return 0;
        static const char *const tags[] = { "alpha", "beta", "rc", "preview" };
        for (size_t k = 0; k < AR_ARRAY_LEN(tags); k++) {
            if (prefix_ci(s + i, n - i, tags[k])) {
                i += strlen(tags[k]);
                for (d = 0; i < n && c_digit((unsigned char)s[i]) && d < 3; i++, d++)
                    ;
                break;
            }
        }
        for (int parts = 0; i < n && parts < 3; parts++) {
            if ((s[i] != '.' && s[i] != '_') || i + 1 >= n || !c_digit((unsigned char)s[i + 1]))
                return 0;
            i++;
            for (d = 0; i < n && c_digit((unsigned char)s[i]); i++, d++)
                ;
            if (d > 4)
                return 0;
        }
        return i == n;
    }
    /* dotted numbers: 2 or 3 parts of at most 4 digits */
    int parts = 0;
    while (i < n) {
        for (d = 0; i < n && c_digit((unsigned char)s[i]); i++, d++)
            ;
        if (d == 0 || d > 4)
            return 0;
        parts++;
        if (i == n)
            break;
        if (s[i] != '.')
            return 0;
        i++;
        if (i == n)
            return 0;
    }
    return parts >= 2 && parts <= 3;
}

static int all_digits(const char *s, size_t n)
{
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!c_digit((unsigned char)s[i]))
            return 0;
    return 1;
}

static int is_uuid36(const char *s, size_t n)
{
    if (n != 36)
        return 0;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!c_hex((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

/* all hex: returns 1 and sets *has_digit */
static int all_hex(const char *s, size_t n, int *has_digit)
{
    int dg = 0;
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!c_hex(c))
            return 0;
        dg |= c_digit(c);
    }
    *has_digit = dg;
    return 1;
}

static int b64url_char(unsigned char c)
{
    return c_alnum(c) || c == '-' || c == '_';
}

static int is_jwt(const char *s, size_t n)
{
    if (n < 20 || memcmp(s, "eyJ", 3) != 0)
        return 0;
    int dots = 0;
    size_t partlen = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (partlen == 0)
                return 0;
            dots++;
            partlen = 0;
        } else if (b64url_char(c) || (c == '=' && dots == 2)) {
            partlen++;
        } else {
            return 0;
        }
    }
    return dots == 2;                 /* the signature may be empty (alg none) */
}

/* local@domain.tld, with '@' raw or as %40 */
static int is_email(const char *s, size_t n)
{
    size_t at = n, atlen = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '@') {
            if (at != n)
                return 0;
            at = i;
            atlen = 1;
        } else if (s[i] == '%' && i + 2 < n && s[i + 1] == '4' && s[i + 2] == '0') {
            if (at != n)
                return 0;
            at = i;
            atlen = 3;
            i += 2;
        }
    }
    if (at == n || at == 0)
        return 0;
    for (size_t i = 0; i < at; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= at || !c_hex((unsigned char)s[i + 1]) || !c_hex((unsigned char)s[i + 2]))
                return 0;
            i += 2;
        } else if (!(c_alnum(c) || c == '.' || c == '_' || c == '+' || c == '-' || c == '\'')) {
            return 0;
        }
    }
    const char *d = s + at + atlen;
    size_t dl = n - at - atlen;
    if (dl < 4 || d[0] == '.' || d[0] == '-' || d[dl - 1] == '.')
        return 0;
    int dots = 0;
    size_t last_dot = 0;
    for (size_t i = 0; i < dl; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c == '.') {
            if (d[i - 1] == '.')
                return 0;
            dots++;
            last_dot = i;
        } else if (!(c_alnum(c) || c == '-')) {
            return 0;
        }
    }
    if (!dots || dl - last_dot - 1 < 2)
        return 0;
    for (size_t i = last_dot + 1; i < dl; i++)
        if (!c_alpha((unsigned char)d[i]))
            return 0;
    return 1;
}

/* YYYY-MM-DD, optionally followed by a time part (T12:00:00Z, t12%3A00, ...).
 * Returns the length matched at s (0: no date). */
static size_t match_date(const char *s, size_t n)
{
    if (n < 10)
        return 0;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (s[i] != '-')
                return 0;
        } else if (!c_digit((unsigned char)s[i])) {
            return 0;
        }
    }
    if (s[0] != '1' && s[0] != '2')
        return 0;
    int mon = (s[5] - '0') * 10 + (s[6] - '0');
    int day = (s[8] - '0') * 10 + (s[9] - '0');
    if (mon < 1 || mon > 12 || day < 1 || day > 31)
        return 0;
    size_t i = 10;
    if (i < n && (s[i] == 'T' || s[i] == 't') && i + 2 < n && c_digit((unsigned char)s[i + 1]) &&
        c_digit((unsigned char)s[i + 2])) {
        i += 3;
        while (i < n) {
            unsigned char c = (unsigned char)s[i];
            if (c_digit(c) || c == ':' || c == '.' || c == '+' || c == '-' || c == 'Z' || c == 'z') {
                i++;
            } else if (c == '%' && i + 2 < n &&
                       ((s[i + 1] == '3' && (s[i + 2] == 'A' || s[i + 2] == 'a')) ||
                        (s[i + 1] == '2' && (s[i + 2] == 'B' || s[i + 2] == 'b')))) {
                i += 3;
            } else {
                break;
            }
        }
    }
    return i;
}

static int is_ipv4(const char *s, size_t n)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        unsigned v = 0, d = 0;
        while (i < n && c_digit((unsigned char)s[i]) && d < 4) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
            d++;
        }
        if (d == 0 || d > 3 || v > 255)
            return 0;
        if (part < 3) {
            if (i >= n || s[i] != '.')
                return 0;
            i++;
        }
    }
    return i == n;
}

/* One camelCase hump that looks like a word: Word, word, or an acronym (2..5
 * capitals). */
static int hump_plausible(const char *s, size_t n)
{
    size_t i = 0;
    if (n >= 2 && n <= 5) {
        size_t u = 0;
        while (u < n && c_upper((unsigned char)s[u]))
            u++;
        if (u == n)
            return 1;
    }
    if (i < n && c_upper((unsigned char)s[i]))
        i++;
    size_t low = 0;
    for (; i < n; i++, low++)
        if (!c_lower((unsigned char)s[i]))
            return 0;
    return low >= 2;
}

/* Is s made of words (dictionary or vocabulary) joined by - _ . or camelCase?
 * Without a word list, humps that look like words are accepted; with one, the
 * same, but at least one hump must be a known word. Any digit outside a
 * vocabulary/version part makes it "not words". */
static int word_composed(const struct ar_templater *t, const char *s, size_t n)
{
    int anyword = 0, anypart = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '-' && s[j] != '_' && s[j] != '.')
            j++;
        const char *p = s + i;
        size_t pl = j - i;
        i = j + 1;
        if (pl == 0)
            continue;
        anypart = 1;
        if (is_version(p, pl) || (w_flags(t, p, pl) & (W_VOCAB | W_DICT))) {
            anyword = 1;
            continue;
        }
        /* camelCase humps: getUserV2 -> get | User | V2; HTTPServer -> HTTP | Server */
        size_t h = 0;
        while (h < pl) {
            size_t e = h + 1;
            if (c_upper((unsigned char)p[h]) && e < pl && c_upper((unsigned char)p[e])) {
                while (e < pl && c_upper((unsigned char)p[e]))
                    e++;
                if (e < pl && c_lower((unsigned char)p[e]))
                    e--;
            } else {
                while (e < pl && !c_upper((unsigned char)p[e]))
                    e++;
            }
            const char *hp = p + h;
            size_t hl = e - h;
            h = e;
            if (is_version(hp, hl) || is_dict_word(t, hp, hl)) {
                anyword = 1;
                continue;
            }
            for (size_t k = 0; k < hl; k++)
                if (!c_alpha((unsigned char)hp[k]))
                    return 0;
            if (!hump_plausible(hp, hl))
                return 0;
        }
    }
    if (!anypart)
        return 0;
    return t->dict_words ? anyword : 1;
}

/* Letters and digits (and - _), digits >= 3, and long (>= 8) or digit-heavy;
 * short all-hex strings (< 8) are content hashes, not ids. */
static int alnum_candidate(const char *s, size_t n)
{
    size_t letters = 0, digits = 0;
    int hex = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c_digit(c)) {
            digits++;
        } else if (c_alpha(c)) {
            letters++;
            if (!c_hex(c))
                hex = 0;
        } else if (c != '-' && c != '_') {
            return 0;
        }
    }
    if (!letters || digits < 3)
        return 0;
    if (n < 8 && hex)
        return 0;
    return n >= 8 || digits > letters;
}

static int token_candidate(const char *s, size_t n)
{
    if (n < 20)
        return 0;
    size_t e = n;
    while (e > 0 && n - e < 2 && s[e - 1] == '=')
        e--;
    int up = 0, lo = 0, dg = 0;
    for (size_t i = 0; i < e; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!b64url_char(c))
            return 0;
        up |= c_upper(c);
        lo |= c_lower(c);
        dg |= c_digit(c);
    }
    return up + lo + dg >= 2;
}

/* Strong types: a whole segment that is unmistakably a value. */
static enum ty classify_strong(const char *s, size_t n)
{
    int hd;
    if (n == 0)
        return TY_NONE;
    if (all_digits(s, n))
        return TY_INT;
    if (is_uuid36(s, n))
        return TY_UUID;
    if (all_hex(s, n, &hd)) {
        if (n == 32)
            return TY_UUID;
        if (n == 24)
            return TY_OBJID;
        if (n >= 16 && hd)
            return TY_HEX;
    }
    if (s[0] == 'e' && is_jwt(s, n))
        return TY_JWT;
    if (n >= 6 && (memchr(s, '@', n) || memchr(s, '%', n)) && is_email(s, n))
        return TY_EMAIL;
    if (n >= 10 && match_date(s, n) == n)
        return TY_DATE;
    if (n >= 7 && is_ipv4(s, n))
        return TY_IP;
    return TY_NONE;
}

/* Weak types: alphanumeric ids and base64url tokens, unless made of words.
 * The caller has already excluded vocabulary and version words. */
static enum ty classify_weak(const struct ar_templater *t, const char *s, size_t n)
{
    int ac = alnum_candidate(s, n);
    int tc = !ac && token_candidate(s, n);
    if (!ac && !tc)
        return TY_NONE;
    if (w_flags(t, s, n) || is_version(s, n) || word_composed(t, s, n))
        return TY_NONE;
    return ac ? TY_ALNUM : TY_TOKEN;
}

/* Recognizable suffix: the last ".ext" (1..8 alphanumerics, at least one
 * letter) after a non-empty stem. Returns the offset of the '.', or n. */
static size_t ext_offset(const char *s, size_t n)
{
    size_t i = n;
    while (i > 0 && s[i - 1] != '.')
        i--;
    if (i < 2 || i == n || n - i > 8)
        return n;
    int letter = 0;
    for (size_t k = i; k < n; k++) {
        if (!c_alnum((unsigned char)s[k]))
            return n;
        letter |= c_alpha((unsigned char)s[k]);
    }
    return letter ? i - 1 : n;
}

/* ------------------------------------------------------------- naming */

struct irregular {
    const char *plural, *singular;
    size_t plen;
};

#define IRR(p, s) { p, s, sizeof(p) - 1 }
static const struct irregular irregulars[] = {
    IRR("people", "person"), IRR("children", "child"), IRR("men", "man"), IRR("women", "woman"),
    IRR("mice", "mouse"), IRR("geese", "goose"), IRR("feet", "foot"), IRR("teeth", "tooth"),
    IRR("indices", "index"), IRR("vertices", "vertex"), IRR("matrices", "matrix"),
    IRR("criteria", "criterion"), IRR("analyses", "analysis"), IRR("news", "news"),
    IRR("series", "series"), IRR("species", "species"), IRR("data", "data"), IRR("media", "media"),
    IRR("metadata", "metadata"), IRR("aliases", "alias"), IRR("statuses", "status"),
    IRR("addresses", "address"), IRR("buses", "bus"), IRR("quizzes", "quiz"),
};
#undef IRR

/* Singular of w (n bytes) into out (cap > n). Case is kept. */
static size_t singularize(const struct ar_templater *t, const char *w, size_t n, char *out)
{
    memcpy(out, w, n);
    out[n] = '\0';
    for (size_t i = 0; i < AR_ARRAY_LEN(irregulars); i++) {
        if (irregulars[i].plen == n && ar_strncaseeq(w, irregulars[i].plural, n)) {
            size_t l = strlen(irregulars[i].singular);
            memcpy(out, irregulars[i].singular, l + 1);
            if (c_upper((unsigned char)w[0]))
                out[0] = (char)c_toupper((unsigned char)out[0]);
            return l;
        }
    }
    if (n <= 2 || !suffix_ci(w, n, "s") || suffix_ci(w, n, "ss") || suffix_ci(w, n, "us") ||
        suffix_ci(w, n, "is"))
        return n;
    /* candidates, best first; the first that is a known word wins */
    char cand[3][WORD_MAX + 2];
    size_t cl[3];
    int nc = 0;
    size_t fallback;                         /* index into cand of the rule-based answer */
    if (suffix_ci(w, n, "ies") && n > 4) {
        memcpy(cand[0], w, n - 3);
        cand[0][n - 3] = 'y';
        cl[0] = n - 2;
        memcpy(cand[1], w, n - 1);
        cl[1] = n - 1;                       /* movies -> movie */
        nc = 2;
        fallback = 0;
    } else if (suffix_ci(w, n, "ves") && n > 4) {
        memcpy(cand[0], w, n - 1);
        cl[0] = n - 1;                       /* archives -> archive */
        memcpy(cand[1], w, n - 3);
        cand[1][n - 3] = 'f';
        cl[1] = n - 2;                       /* wolves -> wolf */
        memcpy(cand[2], w, n - 3);
        cand[2][n - 3] = 'f';
        cand[2][n - 2] = 'e';
        cl[2] = n - 1;                       /* knives -> knife */
        nc = 3;
        fallback = 0;
    } else if (suffix_ci(w, n, "es") && n > 3) {
        memcpy(cand[0], w, n - 1);
        cl[0] = n - 1;                       /* files -> file */
        memcpy(cand[1], w, n - 2);
        cl[1] = n - 2;                       /* boxes -> box */
        nc = 2;
        fallback = (suffix_ci(w, n, "sses") || suffix_ci(w, n, "uses") || suffix_ci(w, n, "xes") ||
                    suffix_ci(w, n, "zes") || suffix_ci(w, n, "ches") || suffix_ci(w, n, "shes"))
                       ? 1 : 0;
    } else {
        memcpy(cand[0], w, n - 1);
        cl[0] = n - 1;
        nc = 1;
        fallback = 0;
    }
    size_t pick = fallback;
    if (t->dict_words) {
        for (int i = 0; i < nc; i++) {
            if (w_flags(t, cand[i], cl[i]) & W_DICT) {
                pick = (size_t)i;
                break;
            }
        }
    }
    memcpy(out, cand[pick], cl[pick]);
    out[cl[pick]] = '\0';
    return cl[pick];
}

/* Can this literal parent segment name its child parameter? Letters, - and _
 * only (at least one letter), not a version word. */
static int parent_usable(const char *p, size_t n)
{
    if (n == 0 || n > NAME_MAX_LEN)
        return 0;
    int letter = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c_alpha(c))
            letter = 1;
        else if (c != '-' && c != '_')
            return 0;
    }
    return letter;
}

/* camelCase of the parent's pieces (split on - _), the last piece made
 * singular when sing, plus "Id" when with_id. "by-email" -> "email". */
static size_t parent_name(const struct ar_templater *t, const char *p, size_t n, int with_id,
                          char *out /* NAME_MAX_LEN + 8 */)
{
    int sing = 1;
    if (n > 3 && prefix_ci(p, n, "by") && (p[2] == '-' || p[2] == '_')) {
        p += 3;                              /* /users/by-email/x -> {email} */
        n -= 3;
        sing = 0;
        with_id = 0;
    }
    size_t o = 0;
    size_t i = 0;
    int first = 1;
    while (i < n) {
        size_t j = i;
        while (j < n && p[j] != '-' && p[j] != '_')
            j++;
        const char *piece = p + i;
        size_t pl = j - i;
        i = j + 1;
        if (pl == 0)
            continue;
        char sbuf[WORD_MAX + 2];
        if (j >= n && sing && pl <= WORD_MAX) {
            pl = singularize(t, piece, pl, sbuf);
            piece = sbuf;
        }
        for (size_t k = 0; k < pl && o < NAME_MAX_LEN; k++) {
            unsigned char c = (unsigned char)piece[k];
            if (k == 0)
                c = first ? c_tolower(c) : c_toupper(c);
            else if (first && k > 0 && c_upper((unsigned char)piece[0]) && !c_lower((unsigned char)piece[1]))
                c = c_tolower(c);            /* USERS -> users */
            out[o++] = (char)c;
        }
        first = 0;
    }
    if (o == 0) {
        memcpy(out, "id", 2);
        o = 2;
    } else if (with_id) {
        memcpy(out + o, "Id", 2);
        o += 2;
    }
    out[o] = '\0';
    return o;
}

/* parent_name() through t->pn (p is a usable parent: at most NAME_MAX_LEN). */
static size_t parent_name_memo(struct ar_templater *t, const char *p, size_t n, int with_id,
                               char *out /* NAME_MAX_LEN + 8 */)
{
    uint32_t h = 2166136261u ^ (uint32_t)with_id;     /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    struct pn_slot *s = &t->pn[h % AR_ARRAY_LEN(t->pn)];
    if (s->len == n && s->with_id == with_id && n && memcmp(s->seg, p, n) == 0) {
        memcpy(out, s->name, (size_t)s->nl + 1);
        return s->nl;
    }
    size_t nl = parent_name(t, p, n, with_id, out);
    if (n <= sizeof(s->seg) && nl < sizeof(s->name)) {
        s->len = (uint8_t)n;
        s->with_id = (uint8_t)with_id;
        s->nl = (uint8_t)nl;
        memcpy(s->seg, p, n);
        memcpy(s->name, out, nl + 1);
    }
    return nl;
}

static size_t type_name(enum ty ty, const char *s, size_t n, char *out)
{
    const char *nm = "id";
    switch (ty) {
    case TY_UUID: nm = "uuid"; break;
    case TY_OBJID: nm = "objectId"; break;
    case TY_HEX: case TY_TOKEN: case TY_JWT: nm = "token"; break;
    case TY_DATE: nm = "date"; break;
    case TY_EMAIL: nm = "email"; break;
    case TY_IP: nm = "ip"; break;
    case TY_ALNUM: {
        /* SKU-000123 -> sku, INV_42x99 -> inv: 2..8 letters then - or _ */
        size_t i = 0;
        while (i < n && c_alpha((unsigned char)s[i]))
            i++;
        if (i >= 2 && i <= 8 && i + 1 < n && (s[i] == '-' || s[i] == '_')) {
            for (size_t k = 0; k < i; k++)
                out[k] = (char)c_tolower((unsigned char)s[k]);
            out[i] = '\0';
            return i;
        }
        break;
    }
    default: break;
    }
    size_t l = strlen(nm);
    memcpy(out, nm, l + 1);
    return l;
}

/* ----------------------------------------------------------- emission */

struct segctx {
    const char *prev;        /* previous raw segment */
    size_t prevlen;
    int prev_usable;         /* it stayed literal and can name a parameter */
    int typed, collapsed, ret;
    int too_deep;            /* limit_max_collapse_depth counted for this path */
    /* host \0 and the output before ph_at hashed: the parent prefix grows
     * with each segment and is hashed once, not once per segment (a path of
     * 4000 segments hashed 16 MB, F3) */
    int ph_ok;
    size_t ph_at;
    struct ar_hash_state ph;
};

/* ------------------------------------------------------ parameter names */

static void names_reset(struct ar_templater *t)
{
    t->nnames = 0;
    if (++t->ngen == 0) {                    /* wrapped: old slots would look current */
        memset(t->names, 0, t->ncap * sizeof(*t->names));
        t->ngen = 1;
    }
}

/* The slot of name s (n bytes): in use (gen current) when the name is taken,
 * else the free slot where it would go. */
static struct nslot *names_find(const struct ar_templater *t, const char *s, size_t n, uint64_t h)
{
    size_t mask = t->ncap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        struct nslot *e = &t->names[i];
        if (e->gen != t->ngen)
            return e;
        if (e->h == h && e->len == n && memcmp(t->work.p + e->off, s, n) == 0)
            return e;
    }
}

/* Notes the name at work[off, off + n) as taken. It grows the table only for
 * templates with unusually many parameters (more than ncap / 2). */
static void names_add(struct ar_templater *t, size_t off, size_t n, uint64_t h)
{
    if ((t->nnames + 1) * 2 > t->ncap) {
        struct nslot *old = t->names;
        size_t ocap = t->ncap;
        t->ncap *= 2;
        t->names = ar_xzalloc(t->ncap * sizeof(*t->names));
        for (size_t i = 0; i < ocap; i++) {
            if (old[i].gen != t->ngen)
                continue;
            size_t j = (size_t)old[i].h & (t->ncap - 1);
            while (t->names[j].gen == t->ngen)
                j = (j + 1) & (t->ncap - 1);
            t->names[j] = old[i];
        }
        free(old);
    }
    struct nslot *e = names_find(t, t->work.p + off, n, h);
    e->h = h;
    e->gen = t->ngen;
    e->off = (uint32_t)off;
    e->len = (uint32_t)n;
    e->next = 2;
    t->nnames++;
}

/* Writes "{name}" and notes the name as taken. */
static void put_name(struct ar_templater *t, const char *name, size_t n, uint64_t h)
{
    sb_putc(&t->work, '{');
    size_t off = t->work.len;
    sb_put(&t->work, name, n);
    sb_putc(&t->work, '}');
    names_add(t, off, n, h);
}

/* Appends "{name}", made unique within the template: the second {id} is
 * {id2}, the third {id3}, and a number already taken (a {id2} passed through)
 * is skipped. Each base name remembers the number to try next, so that the
 * 4096th {id} of a path is found in a look-up or two, not by searching the
 * output again for each number. */
static void put_param(struct ar_templater *t, const char *name, size_t nl)
{
    char buf[NAME_MAX_LEN + NAME_NUM_LEN + 1];
    if (nl > NAME_MAX_LEN)
        nl = NAME_MAX_LEN;
    memcpy(buf, name, nl);
    uint64_t h = w_hash(&t->key, buf, nl);
    struct nslot *base = names_find(t, buf, nl, h);
    if (base->gen != t->ngen) {
        put_name(t, buf, nl, h);
        return;
    }
    size_t l;
    for (uint32_t k = base->next;; k++) {
        l = nl + (size_t)snprintf(buf + nl, sizeof(buf) - nl, "%" PRIu32, k);
        h = w_hash(&t->key, buf, l);
        if (names_find(t, buf, l, h)->gen != t->ngen) {
            base->next = k + 1;
            break;
        }
    }
    put_name(t, buf, l, h);
}

/* Literal bytes; '{' and '}' (never valid unencoded in a path) are written
 * percent-encoded so that a literal cannot be read as a parameter. */
static void put_literal(struct ar_templater *t, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '{' && s[j] != '}')
            j++;
        sb_put(&t->work, s + i, j - i);
        if (j < n)
            sb_put(&t->work, s[j] == '{' ? "%7B" : "%7D", 3);
        i = j + 1;
    }
}

static void put_typed(struct ar_templater *t, struct segctx *cx, enum ty ty, const char *s, size_t n)
{
    char name[NAME_MAX_LEN + 8];
    size_t nl;
    if (ty == TY_DATE || ty == TY_EMAIL || ty == TY_IP || !cx->prev_usable)
        nl = type_name(ty, s, n, name);
    else
        nl = parent_name_memo(t, cx->prev, cx->prevlen, 1, name);
    put_param(t, name, nl);
    cx->typed = 1;
}

/* ISO dates, hyphenated UUIDs and long hex runs inside a segment, each
 * delimited by non-alphanumerics. Returns 1 (and emits) if any was found. */
static int inner_scan(struct ar_templater *t, struct segctx *cx, const char *s, size_t n, int emit)
{
    size_t lit = 0, i = 0;
    int found = 0;
    while (i < n) {
        if (i > 0 && c_alnum((unsigned char)s[i - 1])) {
            i++;
            continue;
        }
        size_t m = 0;
        const char *nm = NULL;
        if (c_digit((unsigned char)s[i]) && (m = match_date(s + i, n - i)) != 0 &&
            (i + m == n || !c_alnum((unsigned char)s[i + m]))) {
            nm = "date";
        } else if (n - i >= 36 && is_uuid36(s + i, 36) &&
                   (i + 36 == n || !c_alnum((unsigned char)s[i + 36]))) {
            m = 36;
            nm = "uuid";
        } else {
            size_t k = i;
            int dg = 0;
            while (k < n && c_hex((unsigned char)s[k]))
                dg |= c_digit((unsigned char)s[k++]);
            if (k - i >= 16 && dg && (k == n || !c_alnum((unsigned char)s[k]))) {
                m = k - i;
                nm = m == 32 ? "uuid" : m == 24 ? "objectId" : "token";
            }
        }
        if (!nm) {
            i++;
            continue;
        }
        if (!emit)
            return 1;
        found = 1;
        put_literal(t, s + lit, i - lit);
        put_param(t, nm, strlen(nm));
        i += m;
        lit = i;
    }
    if (found) {
        put_literal(t, s + lit, n - lit);
        cx->typed = 1;
    }
    return found;
}

/* ------------------------------------------------------------- collapse */

/* A collapse key being looked up: host, templated parent prefix and shape
 * ("{}" + suffix). The parts point into the caller's buffers: a look-up copies
 * nothing; only a new entry stores them, as host \0 parent \0 shape \0. */
struct ckey {
    const char *host, *parent, *suffix;
    size_t hl, pl, sl;
    uint64_t h;
};

/* The key's hash, ar_hash(host \0 parent \0 {} suffix \0), finished from a
 * state that has hashed host \0 parent. */
static uint64_t ck_hash(const struct ar_hash_state *hp, const char *suffix, size_t sl)
{
    struct ar_hash_state st = *hp;
    ar_hash_update(&st, "\0{}", 3);
    ar_hash_update(&st, suffix, sl);
    ar_hash_update(&st, "", 1);
    return ar_hash_final(&st);
}

static void ck_begin(const struct ar_templater *t, struct ar_hash_state *st)
{
    ar_hash_init(st, &t->key);
    ar_hash_update(st, t->host, t->hostlen);
    ar_hash_update(st, "", 1);
}

static int ck_eq(const struct centry *e, const struct ckey *k)
{
    const char *p = e->key;
    if (e->h != k->h || e->keylen != k->hl + k->pl + k->sl + 5)
        return 0;
    return memcmp(p, k->host, k->hl) == 0 && p[k->hl] == '\0' &&
           memcmp(p + k->hl + 1, k->parent, k->pl) == 0 && p[k->hl + 1 + k->pl] == '\0' &&
           memcmp(p + k->hl + k->pl + 4, k->suffix, k->sl) == 0;
}

static struct centry **ct_find(const struct ctab *ct, const struct ckey *k)
{
    size_t mask = ct->cap - 1;
    for (size_t i = (size_t)k->h & mask;; i = (i + 1) & mask) {
        struct centry **e = &ct->slot[i];
        if (!*e || ck_eq(*e, k))
            return e;
    }
}

static void ct_rehash(struct ctab *ct, size_t ncap)
{
    struct centry **ns = ar_xzalloc(ncap * sizeof(*ns));
    for (size_t i = 0; i < ct->cap; i++) {
        struct centry *e = ct->slot[i];
        if (!e)
            continue;
        size_t j = (size_t)e->h & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = e;
    }
    free(ct->slot);
    ct->slot = ns;
    ct->cap = ncap;
}

static struct centry *ct_lookup(const struct ctab *ct, const struct ckey *k)
{
    return ct->cap ? *ct_find(ct, k) : NULL;
}

static struct centry *ct_insert(struct ar_templater *t, const struct ckey *k)
{
    struct ctab *ct = &t->ct;
    if ((ct->n + 1) * 2 > ct->cap)
        ct_rehash(ct, ct->cap ? ct->cap * 2 : 64);
    struct centry **slot = ct_find(ct, k);
    struct centry *e = ar_xcalloc(1, sizeof(*e));
    e->h = k->h;
    e->keylen = k->hl + k->pl + k->sl + 5;
    char *p = e->key = ar_xmalloc(e->keylen);
    memcpy(p, k->host, k->hl);
    p += k->hl;
    *p++ = '\0';
    memcpy(p, k->parent, k->pl);
    p += k->pl;
    *p++ = '\0';
    *p++ = '{';
    *p++ = '}';
    memcpy(p, k->suffix, k->sl);
    p[k->sl] = '\0';
    e->host = e->key;
    e->parent = e->host + k->hl + 1;
    e->shape = e->parent + k->pl + 1;
    *slot = e;
    ct->n++;
    return e;
}

static void ct_set_collapsed(struct centry *e, const char *name, size_t nl)
{
    const char *suffix = e->shape + 2;
    size_t sl = strlen(suffix);
    free(e->names);
    e->names = NULL;
    e->nnames = e->cnames = 0;
    free(e->name);
    free(e->child_tmpl);
    e->name = ar_xstrndup(name, nl);
    e->child_tmpl = ar_xmalloc(nl + sl + 3);
    e->child_tmpl[0] = '{';
    memcpy(e->child_tmpl + 1, name, nl);
    e->child_tmpl[nl + 1] = '}';
    memcpy(e->child_tmpl + nl + 2, suffix, sl + 1);
    e->collapsed = 1;
}

/* After parent P (host H) collapsed the children of shape S: forget tracked
 * entries below a child of that shape (their prefix is now templated). */
static void ct_purge_below(struct ar_templater *t, const struct centry *c)
{
    struct ctab *ct = &t->ct;
    size_t pl = strlen(c->parent);
    const char *suffix = c->shape + 2;
    size_t sl = strlen(suffix);
    size_t removed = 0;
    for (size_t i = 0; i < ct->cap; i++) {
        struct centry *e = ct->slot[i];
        if (!e || e == c || strcmp(e->host, c->host) != 0)
            continue;
        if (strncmp(e->parent, c->parent, pl) != 0 || e->parent[pl] != '/')
            continue;
        const char *seg = e->parent + pl + 1;
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0 || memchr(seg, '{', n) || is_version(seg, n) || (w_flags(t, seg, n) & W_KEEP))
            continue;
        size_t x = ext_offset(seg, n);
        if (n - x != sl || memcmp(seg + x, suffix, sl) != 0)
            continue;
        if (!e->collapsed && ct->tracked)
            ct->tracked--;
        centry_free(e);
        ct->slot[i] = NULL;
        ct->n--;
        removed++;
    }
    if (removed)
        ct_rehash(ct, ct->cap);
}

/* A literal child under a non-root parent: apply or feed the collapse.
 * Returns 1 if it was emitted as a parameter. */
static int collapse_child(struct ar_templater *t, struct segctx *cx, size_t prefix_len, int depth,
                          const char *s, size_t n)
{
    if (t->max_children == 0)
        return 0;
    if ((uint64_t)depth > t->max_depth) {
        /* bounds the entries one path can create and the bytes compared to
         * find them; counted once per path */
        if (!cx->too_deep)
            AR_INC(t->ctr, limit_max_collapse_depth);
        t->gen++;               /* a limit hit: the call had an effect */
        cx->too_deep = 1;
        return 0;
    }
    size_t x = ext_offset(s, n);
    if (!cx->ph_ok) {
        ck_begin(t, &cx->ph);
        cx->ph_at = 0;
        cx->ph_ok = 1;
    }
    ar_hash_update(&cx->ph, t->work.p + cx->ph_at, prefix_len - cx->ph_at);
    cx->ph_at = prefix_len;
    struct ckey k = { t->host, t->work.p, s + x, t->hostlen, prefix_len, n - x, 0 };
    k.h = ck_hash(&cx->ph, k.suffix, k.sl);
    struct centry *e = ct_lookup(&t->ct, &k);
    if (e && e->collapsed)
        goto emit;
    /* the children of one parent: at most max_children hashes compared, no
     * table an attacker could flood, so the cheaper seeded hash does */
    uint64_t nh = w_hash(&t->key, s, n);
    if (!e) {
        if (t->ct.tracked >= t->max_tracked) {
            AR_INC(t->ctr, limit_max_tracked_children);
            t->gen++;
            return 0;
        }
        e = ct_insert(t, &k);
        t->ct.tracked++;
    }
    for (uint32_t i = 0; i < e->nnames; i++)
        if (e->names[i] == nh)
            return 0;
    if ((uint64_t)e->nnames < t->max_children) {
        if (e->nnames == e->cnames) {
            e->cnames = e->cnames ? e->cnames * 2 : 4;
            e->names = ar_xrealloc(e->names, e->cnames * sizeof(*e->names));
        }
        e->names[e->nnames++] = nh;
        return 0;
    }
    /* the (max_children + 1)-th distinct child: collapse */
    {
        char name[NAME_MAX_LEN + 8];
        size_t nl;
        if (cx->prev_usable)
            nl = parent_name_memo(t, cx->prev, cx->prevlen, 0, name);
        else
            nl = (size_t)snprintf(name, sizeof(name), "slug");
        ct_set_collapsed(e, name, nl);
        t->gen++;
        AR_INC(t->ctr, limit_max_children);
        cx->ret = 1;
        ct_purge_below(t, e);
        /* e may have moved: look it up again */
        e = ct_lookup(&t->ct, &k);
    }
emit:
    put_param(t, e->name, strlen(e->name));
    sb_put(&t->work, s + x, n - x);
    cx->collapsed = 1;
    return 1;
}

/* Emits one segment; returns 1 if it stayed literal and can name a child.
 * Order: vocabulary/version (literal), strong type of the segment, strong type
 * of its stem (before ".ext"), dates/UUIDs/long hex inside it, weak type of
 * the segment, weak type of the stem, then literal (and the collapse). */
/* A segment that already holds parameters ("{orderId}", "{sku}.json"): every
 * brace opens a {name} of letters, digits and '_'. Such a segment is kept as it
 * is, so that templating a template changes nothing (the catalog and the store
 * re-template what they hold when a parent collapses). */
static int is_param_segment(const char *s, size_t n)
{
    if (!memchr(s, '{', n))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '}')
            return 0;
        if (s[i] != '{')
            continue;
        size_t j = i + 1;
        while (j < n && (c_alnum((unsigned char)s[j]) || s[j] == '_'))
            j++;
        /* a name we write can have a uniqueness number after NAME_MAX_LEN */
        if (j == i + 1 || j >= n || s[j] != '}' || j - i - 1 > NAME_MAX_LEN + NAME_NUM_LEN)
            return 0;
        i = j;
    }
    return 1;
}

/* Writes a segment that holds parameters as it is, except a name already
 * taken in this template: that one is numbered from its base (trailing digits
 * dropped) as a new name would be, {id} after {id} becoming {id2}. */
static void put_param_segment(struct ar_templater *t, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const char *o = memchr(s + i, '{', n - i);
        size_t lit = o ? (size_t)(o - s) : n;
        sb_put(&t->work, s + i, lit - i);
        if (!o)
            break;
        const char *nm = o + 1;
        const char *c = memchr(nm, '}', n - lit - 1);   /* checked by is_param_segment */
        size_t nl = (size_t)(c - nm);
        uint64_t h = w_hash(&t->key, nm, nl);
        if (names_find(t, nm, nl, h)->gen != t->ngen) {
            put_name(t, nm, nl, h);
        } else {
            size_t bl = nl;
            while (bl > 1 && c_digit((unsigned char)nm[bl - 1]))
                bl--;
            put_param(t, nm, bl);
        }
        i = (size_t)(c - s) + 1;
    }
}

enum { SM_VERSION = 1, SM_KEEP, SM_LITERAL };

static struct seg_memo *seg_memo(struct ar_templater *t, const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return &t->sm[h % AR_ARRAY_LEN(t->sm)];
}

static void seg_remember(struct seg_memo *m, const char *s, size_t n, int kind, int usable,
                         int collapse_ok)
{
    if (!m)
        return;
    m->len = (uint8_t)n;
    m->kind = (uint8_t)kind;
    m->usable = (uint8_t)usable;
    m->collapse_ok = (uint8_t)collapse_ok;
    memcpy(m->seg, s, n);
}

/* A literal segment: it may collapse with its siblings, or stays as it is. */
static int emit_literal(struct ar_templater *t, struct segctx *cx, size_t prefix_len, int depth,
                        const char *s, size_t n, int collapse_ok, int usable)
{
    if (depth >= 1 && collapse_ok && collapse_child(t, cx, prefix_len, depth, s, n))
        return 0;
    put_literal(t, s, n);
    return usable;
}

static int emit_segment(struct ar_templater *t, struct segctx *cx, size_t prefix_len, int depth,
                        const char *s, size_t n)
{
    if (n == 0)
        return 0;
    if (is_param_segment(s, n)) {
        put_param_segment(t, s, n);
        cx->typed = 1;
        return 0;                            /* a parameter names nothing */
    }
    struct seg_memo *m = n <= SEG_MEMO_MAX ? seg_memo(t, s, n) : NULL;
    if (m && m->len == n && memcmp(m->seg, s, n) == 0) {
        if (m->kind == SM_LITERAL)
            return emit_literal(t, cx, prefix_len, depth, s, n, m->collapse_ok, m->usable);
        put_literal(t, s, n);
        return m->usable;
    }
    if (is_version(s, n)) {
        put_literal(t, s, n);
        seg_remember(m, s, n, SM_VERSION, 0, 0);
        return 0;                            /* v1 names nothing: /v1/42 -> {id} */
    }
    unsigned wf = w_flags(t, s, n);
    if (wf & W_KEEP) {
        put_literal(t, s, n);
        int usable = parent_usable(s, n);    /* /token/{tokenId} */
        seg_remember(m, s, n, SM_KEEP, usable, 0);
        return usable;
    }
    size_t x = ext_offset(s, n);
    int stem_version = x < n && is_version(s, x);
    unsigned sf = x < n && !stem_version ? w_flags(t, s, x) : 0;
    int stem_ok = x < n && !stem_version && !(sf & W_VOCAB);
    if (!(wf & W_VOCAB)) {
        enum ty ty = classify_strong(s, n);
        if (ty != TY_NONE) {
            put_typed(t, cx, ty, s, n);
            return 0;
        }
        if (stem_ok && (ty = classify_strong(s, x)) != TY_NONE && ty != TY_EMAIL) {
            put_typed(t, cx, ty, s, x);
            sb_put(&t->work, s + x, n - x);
            return 0;
        }
        if (inner_scan(t, cx, s, n, 0)) {
            inner_scan(t, cx, s, n, 1);
            return 0;
        }
        if ((ty = classify_weak(t, s, n)) != TY_NONE) {
            put_typed(t, cx, ty, s, n);
            return 0;
        }
        if (stem_ok && (ty = classify_weak(t, s, x)) != TY_NONE) {
            put_typed(t, cx, ty, s, x);
            sb_put(&t->work, s + x, n - x);
            return 0;
        }
    }
    int collapse_ok = !stem_version && !(sf & W_KEEP), usable = parent_usable(s, n);
    seg_remember(m, s, n, SM_LITERAL, usable, collapse_ok);
    return emit_literal(t, cx, prefix_len, depth, s, n, collapse_ok, usable);
}

/* ------------------------------------------------------------ patterns */

static int seg_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    if (al != bl)
        return al < bl ? -1 : 1;
    return memcmp(a, b, al);
}

/* Validates one pattern segment: returns the number of parameters, -1 if bad;
 * *conc gets the literal characters. */
static int pat_seg_check(const char *s, size_t n, uint32_t *conc)
{
    int params = 0;
    uint32_t c = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '}')
            return -1;
        if (s[i] != '{') {
            c++;
            continue;
        }
        size_t j = i + 1;
        while (j < n && s[j] != '}' && s[j] != '{')
            j++;
        if (j >= n || s[j] != '}' || j == i + 1)
            return -1;
        if (++params > PAT_MAX_PARAMS)
            return -1;
        i = j;
    }
    *conc = c;
    return params;
}

/* Does the pattern segment p (with {x} parts) match s? Each {x} takes >= 1
 * byte; a last literal chunk is anchored at the end. */
static int glob_match(const char *p, size_t pl, const char *s, size_t sl)
{
    while (pl) {
        if (*p == '{') {
            const char *c = memchr(p, '}', pl);
            size_t skip = (size_t)(c - p) + 1;
            p += skip;
            pl -= skip;
            if (pl == 0)
                return sl >= 1;
            if (!memchr(p, '{', pl)) {       /* only a literal tail left */
                if (sl < pl + 1)
                    return 0;
                return memcmp(s + sl - pl, p, pl) == 0;
            }
            for (size_t k = 1; k <= sl; k++)
                if (s[k - 1] != '/' && glob_match(p, pl, s + k, sl - k))
                    return 1;
            return 0;
        }
        if (!sl || *s != *p)
            return 0;
        p++;
        pl--;
        s++;
        sl--;
    }
    return sl == 0;
}

static struct troot *tset_root(struct tset *ts, const char *host, size_t hl, int create)
{
    for (size_t i = 0; i < ts->n; i++) {
        struct troot *r = &ts->v[i];
        if (!host ? !r->host : (r->host && strlen(r->host) == hl && memcmp(r->host, host, hl) == 0))
            return r;
    }
    if (!create)
        return NULL;
    if (ts->n == ts->cap) {
        ts->cap = ts->cap ? ts->cap * 2 : 4;
        ts->v = ar_xrealloc(ts->v, ts->cap * sizeof(*ts->v));
    }
    struct troot *r = &ts->v[ts->n++];
    r->host = host ? ar_xstrndup(host, hl) : NULL;
    r->root = ar_xcalloc(1, sizeof(*r->root));
    return r;
}

static struct tnode *tnode_edge(struct tnode *nd, const char *s, size_t n, int is_par, uint32_t conc)
{
    struct tedge **arr = is_par ? &nd->par : &nd->lit;
    uint32_t *cnt = is_par ? &nd->npar : &nd->nlit;
    uint32_t *cap = is_par ? &nd->cpar : &nd->clit;
    uint32_t pos = *cnt;
    for (uint32_t i = 0; i < *cnt; i++) {
        struct tedge *e = &(*arr)[i];
        if (e->len == n && memcmp(e->seg, s, n) == 0)
            return e->child;
        if (pos == *cnt && (is_par ? conc > e->conc : seg_cmp(s, n, e->seg, e->len) < 0))
            pos = i;
    }
    if (*cnt == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        *arr = ar_xrealloc(*arr, *cap * sizeof(**arr));
    }
    memmove(&(*arr)[pos + 1], &(*arr)[pos], (*cnt - pos) * sizeof(**arr));
    struct tedge *e = &(*arr)[pos];
    e->seg = ar_xstrndup(s, n);
    e->len = (uint32_t)n;
    e->conc = conc;
    e->child = ar_xcalloc(1, sizeof(*e->child));
    (*cnt)++;
    return e->child;
}

static int tset_add(struct tset *ts, const char *host, const char *pat)
{
    if (!pat || pat[0] != '/')
        return -1;
    size_t plen = strcspn(pat, "?#");
    /* validate first, so that a bad pattern adds nothing */
    size_t nseg = 0;
    for (const char *s = pat + 1;;) {
        const char *e = memchr(s, '/', (size_t)(pat + plen - s));
        size_t n = (size_t)((e ? e : pat + plen) - s);
        uint32_t conc;
        if (pat_seg_check(s, n, &conc) < 0 || ++nseg > PAT_MAX_SEGS)
            return -1;
        if (!e)
            break;
        s = e + 1;
    }
    char hbuf[HOST_MAX + 1];
    size_t hl = 0;
    int any = !host || !host[0] || strcmp(host, "*") == 0;
    if (!any) {
        hl = strlen(host);
        if (hl > HOST_MAX)
            return -1;
        for (size_t i = 0; i < hl; i++)
            hbuf[i] = (char)c_tolower((unsigned char)host[i]);
        hbuf[hl] = '\0';
    }
    struct troot *r = tset_root(ts, any ? NULL : hbuf, hl, 1);
    struct tnode *nd = r->root;
    for (const char *s = pat + 1;;) {
        const char *e = memchr(s, '/', (size_t)(pat + plen - s));
        size_t n = (size_t)((e ? e : pat + plen) - s);
        uint32_t conc = 0;
        int params = pat_seg_check(s, n, &conc);
        nd = tnode_edge(nd, s, n, params > 0, conc);
        if (!e)
            break;
        s = e + 1;
    }
    if (!nd->tmpl)
        nd->tmpl = ar_xstrndup(pat, plen);
    return 0;
}

static const char *tnode_match(const struct tnode *nd, const char *s, const char *end)
{
    const char *e = memchr(s, '/', (size_t)(end - s));
    size_t n = (size_t)((e ? e : end) - s);
    /* literal edge: binary search */
    uint32_t lo = 0, hi = nd->nlit;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = seg_cmp(s, n, nd->lit[mid].seg, nd->lit[mid].len);
        if (c == 0) {
            const struct tnode *ch = nd->lit[mid].child;
            const char *r = e ? tnode_match(ch, e + 1, end) : ch->tmpl;
            if (r)
                return r;
            break;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (n == 0)
        return NULL;
    for (uint32_t i = 0; i < nd->npar; i++) {
        const struct tedge *pe = &nd->par[i];
        if (!glob_match(pe->seg, pe->len, s, n))
            continue;
        const char *r = e ? tnode_match(pe->child, e + 1, end) : pe->child->tmpl;
        if (r)
            return r;
    }
    return NULL;
}

/* Host-specific patterns, then host-without-port, then any-host patterns. */
static const char *tset_match(const struct ar_templater *t, const struct tset *ts,
                              const char *path, size_t n)
{
    if (!ts->n)
        return NULL;
    const char *end = path + n;
    const char *r;
    struct troot *root;
    if (t->hostlen) {
        root = tset_root((struct tset *)ts, t->host, t->hostlen, 0);
        if (root && (r = tnode_match(root->root, path + 1, end)))
            return r;
        const char *colon = memchr(t->host, ':', t->hostlen);
        if (colon && t->host[0] != '[') {
            root = tset_root((struct tset *)ts, t->host, (size_t)(colon - t->host), 0);
            if (root && (r = tnode_match(root->root, path + 1, end)))
                return r;
        } else if (t->host[0] == '[') {
            const char *rb = memchr(t->host, ']', t->hostlen);
            if (rb && rb + 1 < t->host + t->hostlen && rb[1] == ':') {
                root = tset_root((struct tset *)ts, t->host, (size_t)(rb + 1 - t->host), 0);
                if (root && (r = tnode_match(root->root, path + 1, end)))
                    return r;
            }
        }
    }
    root = tset_root((struct tset *)ts, NULL, 0, 0);
    return root ? tnode_match(root->root, path + 1, end) : NULL;
}

int ar_templater_pin(struct ar_templater *t, const char *host, const char *pattern)
{
    if (!t)
        return -1;
    t->gen++;
    return tset_add(&t->pins, host, pattern);
}

int ar_templater_add_spec(struct ar_templater *t, const char *host, const char *tmpl)
{
    if (!t)
        return -1;
    t->gen++;
    return tset_add(&t->specs, host, tmpl);
}

uint64_t ar_templater_generation(const struct ar_templater *t)
{
    return t ? t->gen : 0;
}

/* ------------------------------------------------------------- seeding */

static void set_host(struct ar_templater *t, const char *host)
{
    size_t n = host ? strlen(host) : 0;
    if (n > HOST_MAX)
        n = HOST_MAX;
    if (n == t->hostlen && memcmp(t->host, host, n) == 0)
        return;                              /* the catalog's hosts are lower-case */
    for (size_t i = 0; i < n; i++)
        t->host[i] = (char)c_tolower((unsigned char)host[i]);
    t->host[n] = '\0';
    t->hostlen = n;
}

void ar_templater_seed_collapse(struct ar_templater *t, const char *host, const char *parent,
                                const char *child_tmpl)
{
    if (!t || !parent || !child_tmpl || child_tmpl[0] != '{')
        return;
    const char *close = strchr(child_tmpl, '}');
    if (!close || close == child_tmpl + 1 || strchr(close + 1, '{') || strchr(close + 1, '/') ||
        memchr(child_tmpl + 1, '{', (size_t)(close - child_tmpl - 1)))
        return;
    size_t pl = strlen(parent);
    if (pl == 1 && parent[0] == '/')
        pl = 0;                              /* the root is the empty prefix */
    set_host(t, host);
    const char *suffix = close + 1;
    struct ckey k = { t->host, parent, suffix, t->hostlen, pl, strlen(suffix), 0 };
    struct ar_hash_state ph;
    ck_begin(t, &ph);
    ar_hash_update(&ph, parent, pl);
    k.h = ck_hash(&ph, k.suffix, k.sl);
    struct centry *e = ct_lookup(&t->ct, &k);
    if (!e)
        e = ct_insert(t, &k);
    else if (!e->collapsed && t->ct.tracked)
        t->ct.tracked--;                     /* it no longer counts as tracked */
    ct_set_collapsed(e, child_tmpl + 1, (size_t)(close - child_tmpl - 1));
    t->gen++;
}

int ar_templater_collapse_iter(struct ar_templater *t, size_t *pos, const char **host,
                               const char **parent, const char **child_tmpl)
{
    if (!t || !pos)
        return 0;
    for (; *pos < t->ct.cap; (*pos)++) {
        const struct centry *e = t->ct.slot[*pos];
        if (!e || !e->collapsed)
            continue;
        if (host)
            *host = e->host;
        if (parent)
            *parent = e->parent;
        if (child_tmpl)
            *child_tmpl = e->child_tmpl;
        (*pos)++;
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------ template */

static void copy_out(char *out, size_t outsz, const char *s, size_t n)
{
    if (!out || !outsz)
        return;
    size_t c = n < outsz - 1 ? n : outsz - 1;
    memcpy(out, s, c);
    out[c] = '\0';
}

int ar_template(struct ar_templater *t, const char *host, const char *path,
                char *out, size_t outsz, const char **rule)
{
    const char *rl = RULE_LITERAL;
    if (rule)
        *rule = rl;
    if (!t) {
        copy_out(out, outsz, "", 0);
        return 0;
    }
    if (!path)
        path = "";
    size_t n = strcspn(path, "?#");
    if (n == 0 || path[0] != '/') {
        /* absolute-form (scheme://authority/path): template the path part */
        const char *sep = n ? memchr(path, ':', n) : NULL;
        size_t sl = sep ? (size_t)(sep - path) : 0;
        int scheme = sl > 0 && sl <= 16 && c_alpha((unsigned char)path[0]);
        for (size_t i = 0; scheme && i < sl; i++)
            if (!c_alnum((unsigned char)path[i]) && path[i] != '+' && path[i] != '-' && path[i] != '.')
                scheme = 0;
        if (scheme && sl + 3 <= n && path[sl + 1] == '/' && path[sl + 2] == '/') {
            const char *a = path + sl + 3;
            const char *p = memchr(a, '/', n - (size_t)(a - path));
            if (!p) {
                copy_out(out, outsz, "/", 1);
                return 0;
            }
            n -= (size_t)(p - path);
            path = p;
        } else {
            /* "*" (OPTIONS), "host:443" (CONNECT), or garbage: as seen */
            copy_out(out, outsz, path, n);
            return 0;
        }
    }
    set_host(t, host);

    const char *m = tset_match(t, &t->pins, path, n);
    if (m) {
        rl = RULE_PIN;
    } else if ((m = tset_match(t, &t->specs, path, n))) {
        rl = RULE_SPEC;
    }
    if (m) {
        if (rule)
            *rule = rl;
        copy_out(out, outsz, m, strlen(m));
        return 0;
    }

    struct segctx cx = { 0 };
    t->work.len = 0;
    names_reset(t);
    const char *end = path + n;
    const char *s = path + 1;
    for (int depth = 0;; depth++) {
        const char *e = memchr(s, '/', (size_t)(end - s));
        size_t sl = (size_t)((e ? e : end) - s);
        size_t prefix_len = t->work.len;
        sb_putc(&t->work, '/');
        int usable = emit_segment(t, &cx, prefix_len, depth, s, sl);
        cx.prev = s;
        cx.prevlen = sl;
        cx.prev_usable = usable;
        if (!e)
            break;
        s = e + 1;
    }
    if (cx.collapsed)
        rl = RULE_COLLAPSE;
    else if (cx.typed)
        rl = RULE_TYPED;
    if (rule)
        *rule = rl;
    copy_out(out, outsz, t->work.p, t->work.len);
    return cx.ret;
}

/* http.c - HTTP/1.x exchanges from two reassembled byte streams, with llhttp.
 *
 * Per direction a small state machine around llhttp:
 *   START  request side, at a message boundary: read the method token ourselves
 *          (llhttp 8.1 rejects methods it does not know, e.g. QUERY), then feed
 *          llhttp a method it knows and remember the real one;
 *   PARSE  llhttp runs; the request parser pauses after each message so the
 *          next one goes through START again;
 *   SCAN   after a gap, a parse error, or on a connection picked up midstream:
 *          whole lines are collected and the first plausible request line
 *          (TOKEN SP target SP HTTP/d.d) or status line (HTTP/d.d SP ddd)
 *          restarts parsing; everything before it is counted as skipped;
 *   DEAD   the connection switched protocol (101, 2xx to CONNECT).
 * Only the header values needed for names and shapes are looked at: Host,
 * Content-Type (media type only) and the first word of Authorization. Nothing
 * else is copied, and no value other than Host and the media type leaves. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <llhttp.h>
#include "../core/util.h"
#include "http.h"

enum dstate { DS_START, DS_PARSE, DS_SCAN, DS_DEAD };

enum hdr { H_OTHER, H_HOST, H_CTYPE, H_AUTHZ, H_COOKIE, H_APIKEY };

#define TOK_MAX 24      /* longest method token accepted */
/* one more byte than a host may have: a longer Host stays too long (invalid)
 * rather than being cut into a valid one */
#define HOST_MAX (AR_HOST_MAX + 2)
#define CT_MAX 96
#define QUERY_MAX 512
#define QNAME_MAX 64
#define FIELD_MAX 32
#define VAL_MAX 256
#define ORPHANS_MAX 4   /* responses held for a request not yet seen */

struct pending {              /* a request waiting for its response */
    char method[TOK_MAX + 1];
    char *strs;                 /* one allocation: what host, path and query point to */
    const char *host;           /* NULL: no Host */
    const char *path;
    const char *query;          /* names joined by '&'; NULL: none */
    char req_ct[CT_MAX];
    const char *auth;
    double ts;
};

struct ar_http;

struct hdir {
    struct ar_http *h;
    int side;
    llhttp_t p;
    enum dstate st;
    int quiet;              /* SCAN after an upgrade request: not an error */
    char *carry;            /* SCAN: the current line, bounded */
    size_t ncarry, carry_cap;
    char *line;             /* START: the request line so far (bounded) */
    size_t nline, line_cap;
    int line_trunc;         /* longer than max_target: middle dropped */
    char tail[16];          /* last bytes of a truncated line (its version) */
    size_t ntail;
    int in_message;
    int in_body;            /* head complete, body being parsed */
    int status_done;        /* response: the status line is complete */
    /* the message being parsed */
    double msg_ts;
    char method[TOK_MAX + 1];
    char *url;              /* request-target, from our own line parse */
    size_t url_len, url_cap;
    int pushed;             /* the current request is queued */
    enum hdr which;
    char field[FIELD_MAX + 1];
    size_t field_len;
    char val[VAL_MAX];
    size_t val_len;
    size_t head_bytes;
    unsigned nheaders;
    int over_limit;
    char host[HOST_MAX];
    int has_host;
    char ctype[CT_MAX];
    const char *auth;
    int auth_rank;
};

struct ar_http {
    struct ar_http_env env;
    char ep[2][64];
    int client_side;
    double cur_ts;
    struct hdir d[2];
    struct pending *q;
    unsigned qhead, qlen, qcap;
    int seen;
    int done;
    uint64_t requests;      /* request heads parsed on this connection */
    /* responses that came before any request to pair with (a request still in
     * flight in a reordered capture, or a server that answers first) */
    struct orphan {
        int status;
        double ts;
        char ct[CT_MAX];
    } orphans[ORPHANS_MAX];
    unsigned norphans;
};

/* Methods llhttp 8.1 parses in HTTP mode (llhttp.h HTTP_METHOD_MAP). */
static const char *const known_methods[] = {
    "DELETE", "GET", "HEAD", "POST", "PUT", "CONNECT", "OPTIONS", "TRACE", "COPY", "LOCK",
    "MKCOL", "MOVE", "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK", "BIND", "REBIND", "UNBIND",
    "ACL", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE",
    "UNSUBSCRIBE", "PATCH", "PURGE", "MKCALENDAR", "LINK", "UNLINK", "SOURCE",
};

/* The llhttp spelling of a known method (any case), or NULL. */
static const char *known_method(const char *m)
{
    /* most requests: their exact spelling, first */
    for (size_t i = 0; i < 5; i++)
        if (!strcmp(known_methods[i], m))
            return known_methods[i];
    for (size_t i = 0; i < AR_ARRAY_LEN(known_methods); i++)
        if (ar_strcaseeq(known_methods[i], m))
            return known_methods[i];
    return NULL;
}

static int is_tok_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

static int is_tok_start(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* ---- pending requests ------------------------------------------------- */

static void emit(struct ar_http *h, const struct pending *rq, int status, const char *resp_ct,
                 double ts)
{
    struct ar_exchange x;
    int cs = h->client_side >= 0 ? h->client_side : 0;
    x.ts = rq ? rq->ts : ts;
    x.client = h->ep[cs];
    x.server = h->ep[!cs];
    x.method = rq ? rq->method : NULL;
    x.host = rq ? rq->host : NULL;
    x.path = rq ? rq->path : NULL;
    x.query = rq && rq->query ? rq->query : "";
    x.status = status;
    x.req_ct = rq ? rq->req_ct : "";
    x.resp_ct = resp_ct ? resp_ct : "";
    x.auth = rq ? rq->auth : "none";
    AR_INC(h->env.ctr, exchanges);
    if (!rq)
        AR_INC(h->env.ctr, responses_no_request);
    else if (status < 0)
        AR_INC(h->env.ctr, requests_no_response);
    if (h->env.on_exchange)
        h->env.on_exchange(&x, h->env.ud);
}

static struct pending *q_front(struct ar_http *h)
{
    return h->qlen ? &h->q[h->qhead] : NULL;
}

static void q_pop(struct ar_http *h)
{
    struct pending *p = &h->q[h->qhead];
    free(p->strs);
    p->strs = NULL;
    p->host = p->path = p->query = NULL;
    h->qhead = (h->qhead + 1) % h->qcap;
    h->qlen--;
}

static struct pending *q_push(struct ar_http *h)
{
    if (h->qlen >= h->env.lim->max_pending || h->qlen == h->qcap) {
        if (h->qlen && h->qlen >= h->env.lim->max_pending) {
            AR_INC(h->env.ctr, limit_max_pending);
            emit(h, q_front(h), -1, NULL, 0);
            q_pop(h);
        } else {
            unsigned ncap = h->qcap ? h->qcap * 2 : 1;
            struct pending *nq = ar_xcalloc(ncap, sizeof(*nq));
            for (unsigned i = 0; i < h->qlen; i++)
                nq[i] = h->q[(h->qhead + i) % h->qcap];
            free(h->q);
            h->q = nq;
            h->qcap = ncap;
            h->qhead = 0;
        }
    }
    struct pending *p = &h->q[(h->qhead + h->qlen) % h->qcap];
    memset(p, 0, sizeof(*p));
    h->qlen++;
    return p;
}

/* ---- small parsers ------------------------------------------------------ */

static void trim_copy(char *dst, size_t dstsz, const char *s, size_t n, int lower)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    if (n >= dstsz)
        n = dstsz - 1;
    if (!lower)
        memcpy(dst, s, n);
    for (size_t i = 0; lower && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[i] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
    }
    dst[n] = '\0';
}

/* A Host value for the roster: trimmed; a NUL inside makes it a control byte
 * (so the host is invalid) instead of cutting it short ("good.test\0evil"). */
static void host_copy(char *dst, size_t dstsz, const char *s, size_t n)
{
    trim_copy(dst, dstsz, s, n, 0);
    if (memchr(s, '\0', n))
        ar_strlcpy(dst, "\x01", dstsz);
}

static const char *auth_word(const char *v, size_t n)
{
    static const char *const words[] = { "basic", "bearer", "digest", "negotiate", "ntlm" };
    while (n && (*v == ' ' || *v == '\t'))
        v++, n--;
    size_t w = 0;
    while (w < n && v[w] != ' ' && v[w] != '\t')
        w++;
    for (size_t i = 0; i < AR_ARRAY_LEN(words); i++)
        if (strlen(words[i]) == w && ar_strncaseeq(v, words[i], w))
            return words[i];
    return "other";
}

/* A query key without a value ("?wsdl", "?debug") is a flag with a name, or a
 * bare value ("?3f9a1c...", "?johnsmith", a token): kept only when it reads as
 * a flag: at most 16 lower-case letters, '_', '-', '.', '[' or ']'. */
static int bare_name(const char *k, size_t n)
{
    if (n > 16)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || c == '_' || c == '-' || c == '.' || c == '[' || c == ']'))
            return 0;
    }
    return 1;
}

/* The request-target split into host (absolute-form), path and query
 * parameter names, and the request's strings put in one allocation. */
static void split_target(struct hdir *d, struct pending *rq)
{
    const char *u = d->url ? d->url : "";
    size_t n = d->url_len;
    size_t start = 0;
    const char *host = d->has_host ? d->host : NULL;
    char ahost[HOST_MAX];

    /* absolute-form: http://authority/path or https://... (only at the start:
     * "/?u=http://x/" is origin-form with a query) */
    size_t sl = n >= 7 && ar_strncaseeq(u, "http://", 7) ? 7 : n >= 8 && ar_strncaseeq(u, "https://", 8) ? 8 : 0;
    if (sl && strcmp(rq->method, "CONNECT") != 0) {
        size_t a = sl, e = a;
        while (e < n && u[e] != '/' && u[e] != '?' && u[e] != '#')
            e++;
        /* userinfo dropped (it is a credential): the host follows the last '@' */
        for (size_t i = e; i > a; i--)
            if (u[i - 1] == '@') {
                a = i;
                break;
            }
        /* the target's authority wins over a Host header (RFC 9112 3.2.2) */
        if (e > a) {
            host_copy(ahost, sizeof(ahost), u + a, e - a);
            host = ahost;
        }
        start = e;
    }
    size_t q = start;
    while (q < n && u[q] != '?' && u[q] != '#')
        q++;

    char qb[QUERY_MAX];
    size_t qlen = 0, names = 0;
    size_t i = q + 1;
    while (q < n && u[q] == '?' && i < n && u[i] != '#') {
        size_t s = i;
        while (i < n && u[i] != '&' && u[i] != '=' && u[i] != '#')
            i++;
        size_t nl = i - s;
        while (i < n && u[i] != '&' && u[i] != '#')
            i++; /* the value: skipped, never copied */
        if (i < n && u[i] == '&')
            i++;
        if (!nl)
            continue;
        /* a key without a value ("?TOKEN", "?dG9rZW4=" with its base64 padding)
         * may be the value itself */
        size_t ve = s + nl < n && u[s + nl] == '=' ? s + nl + 1 : s + nl;
        while (ve < n && u[ve] == '=')
            ve++;
        if ((ve >= n || u[ve] == '&' || u[ve] == '#') && !bare_name(u + s, nl)) {
            AR_INC(d->h->env.ctr, query_bare_dropped);
            continue;
        }
        if (nl > QNAME_MAX)
            nl = QNAME_MAX;
        /* dedupe */
        int dup = 0;
        for (size_t a = 0; a < qlen && !dup;) {
            size_t b = a;
            while (b < qlen && qb[b] != '&')
                b++;
            if (b - a == nl && memcmp(qb + a, u + s, nl) == 0)
                dup = 1;
            a = b + 1;
        }
        if (dup)
            continue;
        if (names >= d->h->env.lim->max_query_names || qlen + nl + 2 > sizeof(qb)) {
            AR_INC(d->h->env.ctr, limit_max_query_names);
            break;
        }
        if (qlen)
            qb[qlen++] = '&';
        memcpy(qb + qlen, u + s, nl);
        qlen += nl;
        names++;
    }

    size_t hl = host ? strlen(host) + 1 : 0, pl = q - start;
    char *o = rq->strs = ar_xmalloc(hl + pl + 2 + (qlen ? qlen + 1 : 0));
    if (host) {
        memcpy(o, host, hl);
        rq->host = o;
        o += hl;
    }
    rq->path = o;
    if (pl == 0 && start > 0) {
        memcpy(o, "/", 2);
        o += 2;
    } else if (!memchr(u + start, ';', pl) && !memchr(u + start, '%', pl)) {
        memcpy(o, u + start, pl);
        o[pl] = '\0';
        o += pl + 1;
    } else {
        /* path parameters (";jsessionid=...", ";color=red") are values */
        size_t cut = ar_path_cut_params(u + start, pl, o);
        if (cut != pl)
            AR_INC(d->h->env.ctr, path_params_dropped);
        o += cut + 1;
    }
    if (qlen) {
        memcpy(o, qb, qlen);
        o[qlen] = '\0';
        rq->query = o;
    }
}

/* ---- llhttp callbacks --------------------------------------------------- */

static struct hdir *D(llhttp_t *p)
{
    return p->data;
}

static int on_message_begin(llhttp_t *p)
{
    struct hdir *d = D(p);
    d->in_message = 1;
    d->in_body = 0;
    d->status_done = 0;
    d->msg_ts = d->h->cur_ts;
    d->pushed = 0;
    d->field_len = 0;
    d->val_len = 0;
    d->which = H_OTHER;
    d->head_bytes = 0;
    d->nheaders = 0;
    d->over_limit = 0;
    d->has_host = 0;
    d->host[0] = '\0';
    d->ctype[0] = '\0';
    d->auth = "none";
    d->auth_rank = 0;
    return 0;
}

static int over(struct hdir *d, size_t add)
{
    d->head_bytes += add;
    if (d->head_bytes > d->h->env.lim->max_header_bytes) {
        AR_INC(d->h->env.ctr, limit_max_header_bytes);
        d->over_limit = 1;
        return 1;
    }
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct hdir *d = D(p);
    if (over(d, len))
        return -1;
    size_t room = FIELD_MAX - d->field_len;
    if (len > room)
        len = room;
    memcpy(d->field + d->field_len, at, len);
    d->field_len += len;
    return 0;
}

static inline uint64_t ld64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t ld32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* f (n bytes) is lit, a lower-case name of letters and '-', in any case: a
 * word at a time, 0x20 set in every byte. Then only that letter in either
 * case equals a letter of lit, and only '-' or CR its '-' (llhttp refuses a
 * CR in a name). Inlined with a literal, its words are constants; the last
 * word overlaps the one before it. */
static inline int name_is(const char *f, size_t n, const char *lit, size_t ln)
{
    if (n != ln)
        return 0;
    if (n >= 8) {
        for (size_t i = 0; i + 8 <= n; i += 8)
            if ((ld64(f + i) | 0x2020202020202020ULL) != ld64(lit + i))
                return 0;
        return (ld64(f + n - 8) | 0x2020202020202020ULL) == ld64(lit + n - 8);
    }
    if (n >= 4)
        return (ld32(f) | 0x20202020u) == ld32(lit) &&
               (ld32(f + n - 4) | 0x20202020u) == ld32(lit + n - 4);
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)f[i] | 0x20) != (unsigned char)lit[i])
            return 0;
    return 1;
}

static int on_header_field_complete(llhttp_t *p)
{
    struct hdir *d = D(p);
    if (++d->nheaders > d->h->env.lim->max_headers) {
        AR_INC(d->h->env.ctr, limit_max_headers);
        d->over_limit = 1;
        return -1;
    }
    size_t n = d->field_len;
    const char *f = d->field;
    while (n && (f[n - 1] == ' ' || f[n - 1] == '\t'))
        n--;
#define IS(s) name_is(f, n, s, sizeof(s) - 1)
    enum hdr w = H_OTHER;
    switch (n) {        /* by length first: most names are none of these */
    case 4:  w = IS("host") ? H_HOST : H_OTHER; break;
    case 6:  w = IS("cookie") ? H_COOKIE : IS("apikey") ? H_APIKEY : H_OTHER; break;
    case 7:  w = IS("api-key") ? H_APIKEY : H_OTHER; break;
    case 8:  w = IS("x-apikey") ? H_APIKEY : H_OTHER; break;
    case 9:  w = IS("x-api-key") ? H_APIKEY : H_OTHER; break;
    case 11: w = IS("x-api-token") ? H_APIKEY : H_OTHER; break;
    case 12: w = IS("content-type") ? H_CTYPE : IS("x-auth-token") ? H_APIKEY : H_OTHER; break;
    case 13: w = IS("authorization") ? H_AUTHZ : H_OTHER; break;
    case 19: w = IS("proxy-authorization") ? H_AUTHZ : H_OTHER; break;
    default: break;
    }
    d->which = w;
#undef IS
    d->field_len = 0;
    d->val_len = 0;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct hdir *d = D(p);
    if (over(d, len))
        return -1;
    if (d->which == H_HOST || d->which == H_CTYPE || d->which == H_AUTHZ) {
        /* Authorization: only enough to read the scheme word. */
        size_t cap = d->which == H_AUTHZ ? 16 : VAL_MAX - 1;
        size_t room = cap - d->val_len;
        if (len > room)
            len = room;
        memcpy(d->val + d->val_len, at, len);
        d->val_len += len;
    }
    return 0;
}

static void set_auth(struct hdir *d, const char *w, int rank)
{
    if (rank > d->auth_rank) {
        d->auth = w;
        d->auth_rank = rank;
    }
}

static int on_header_value_complete(llhttp_t *p)
{
    struct hdir *d = D(p);
    if (d->which == H_OTHER)
        return 0;                            /* nothing was kept (val_len is 0) */
    switch (d->which) {
    case H_HOST:
        if (!d->has_host) {
            host_copy(d->host, sizeof(d->host), d->val, d->val_len);
            d->has_host = 1;
        }
        break;
    case H_CTYPE: {
        size_t n = 0;
        while (n < d->val_len && d->val[n] != ';')
            n++;
        trim_copy(d->ctype, sizeof(d->ctype), d->val, n, 1);
        break;
    }
    case H_AUTHZ:
        set_auth(d, auth_word(d->val, d->val_len), 3);
        break;
    case H_APIKEY:
        set_auth(d, "apikey", 2);
        break;
    case H_COOKIE:
        set_auth(d, "cookie", 1);
        break;
    default:
        break;
    }
    memset(d->val, 0, d->val_len);
    d->val_len = 0;
    d->which = H_OTHER;
    return 0;
}

static void dir_dead(struct hdir *d)
{
    d->st = DS_DEAD;
    free(d->carry);
    d->carry = NULL;
    d->ncarry = 0;
    d->carry_cap = 0;
}

static void tunnel(struct ar_http *h)
{
    if (h->done)
        return;
    AR_INC(h->env.ctr, http_tunnels);
    h->done = 1;
    dir_dead(&h->d[0]);
    dir_dead(&h->d[1]);
}

static struct pending *push_request(struct hdir *d)
{
    struct ar_http *h = d->h;
    struct pending *rq = q_push(h);
    d->pushed = 1;
    ar_strlcpy(rq->method, d->method, sizeof(rq->method));
    ar_strlcpy(rq->req_ct, d->ctype, sizeof(rq->req_ct));
    rq->auth = d->auth;
    rq->ts = d->msg_ts;
    split_target(d, rq);
    h->seen = 1;
    h->requests++;
    if (h->norphans && h->qlen == 1) {
        /* its response came first */
        emit(h, rq, h->orphans[0].status, h->orphans[0].ct, 0);
        q_pop(h);
        memmove(&h->orphans[0], &h->orphans[1], --h->norphans * sizeof(h->orphans[0]));
        return NULL;
    }
    return rq;
}

static void orphan_release(struct ar_http *h)
{
    struct orphan *o = &h->orphans[0];
    if (!h->requests)
        emit(h, NULL, o->status, o->ct, o->ts); /* a one-sided capture */
    else
        AR_INC(h->env.ctr, responses_no_request); /* answers bytes that were not HTTP */
    memmove(&h->orphans[0], &h->orphans[1], --h->norphans * sizeof(h->orphans[0]));
}

static void orphan_push(struct ar_http *h, int status, const char *ct, double ts)
{
    if (h->norphans == ORPHANS_MAX)
        orphan_release(h);
    struct orphan *o = &h->orphans[h->norphans++];
    o->status = status;
    o->ts = ts;
    ar_strlcpy(o->ct, ct, sizeof(o->ct));
}

/* A final response head (or its status line, when the rest was lost): pair it
 * with the oldest request. Returns what on_headers_complete returns to llhttp:
 * 1 no body (HEAD, 204, 304), 2 the connection switches protocol. */
static int response_head(struct hdir *d, int status)
{
    struct ar_http *h = d->h;
    h->seen = 1;
    if (status >= 100 && status < 200 && status != 101)
        return 0; /* interim: the final response follows */
    struct pending *rq = q_front(h);
    if (rq)
        emit(h, rq, status, d->ctype, d->msg_ts);
    else
        orphan_push(h, status, d->ctype, d->msg_ts);
    int rc = 0;
    if (rq && strcmp(rq->method, "HEAD") == 0)
        rc = 1;
    else if (status == 204 || status == 304)
        rc = 1;
    if (rq && strcmp(rq->method, "CONNECT") == 0 && status >= 200 && status < 300)
        rc = 2;
    if (status == 101)
        rc = 2;
    if (rq)
        q_pop(h);
    return rc;
}

static int on_headers_complete(llhttp_t *p)
{
    struct hdir *d = D(p);
    d->in_body = 1;
    if (p->type == HTTP_REQUEST) {
        push_request(d);
        /* A Content-Length no body could have (2^53 and up, e.g. 2^64-1) is
         * read as no body, so the request that follows is seen (smuggling). */
        if ((p->flags & F_CONTENT_LENGTH) && p->content_length >= (1ULL << 53))
            return 1;
        return 0;
    }
    return response_head(d, p->status_code);
}

static int on_status_complete(llhttp_t *p)
{
    D(p)->status_done = 1;
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    struct hdir *d = D(p);
    d->in_message = 0;
    d->in_body = 0;
    /* The request parser stops after each message so that the next method
     * token is read by START (see the top of this file); not after an
     * Upgrade or CONNECT request, where llhttp pauses by itself. */
    return p->type == HTTP_REQUEST && !llhttp_get_upgrade(p) ? HPE_PAUSED : 0;
}

/* Built at compile time (llhttp_settings_init only zeroes the struct): the
 * shard threads of a file capture share it. */
static const llhttp_settings_t settings = {
    .on_message_begin = on_message_begin,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_status_complete = on_status_complete,
    .on_message_complete = on_message_complete,
};

static void parser_init(struct hdir *d, int request)
{
    llhttp_init(&d->p, request ? HTTP_REQUEST : HTTP_RESPONSE, &settings);
    d->p.data = d;
    llhttp_set_lenient_headers(&d->p, 1);
    llhttp_set_lenient_keep_alive(&d->p, 1);
    llhttp_set_lenient_chunked_length(&d->p, 1);
    /* not lenient on Transfer-Encoding: a request whose coding does not end in
     * chunked ("chunked, identity") is an error, and the next request is found
     * by resynchronizing, as Zeek reads it, instead of a body read to the end */
    d->p.lenient_flags |= LENIENT_VERSION;
    d->in_message = 0;
}

/* ---- the state machine -------------------------------------------------- */

static void process(struct hdir *d, const uint8_t *data, size_t len);

static void to_scan(struct hdir *d, int quiet)
{
    d->st = DS_SCAN;
    d->quiet = quiet;
    d->ncarry = 0;
    d->nline = 0;
    d->line_trunc = 0;
    d->ntail = 0;
}

/* A request that was cut by an error after its head was known still counts. */
static void parse_error(struct hdir *d)
{
    AR_INC(d->h->env.ctr, http_parse_errors);
    to_scan(d, 0);
}

/* Handle an llhttp return code; *pos is updated to where to go on in buf. */
static void handle_rc(struct hdir *d, llhttp_errno_t rc, const char *buf, size_t len, size_t *pos)
{
    const char *ep = llhttp_get_error_pos(&d->p);
    size_t at = (ep && ep >= buf && ep <= buf + len) ? (size_t)(ep - buf) : len;

    switch (rc) {
    case HPE_OK:
        *pos = len;
        return;
    case HPE_PAUSED:
        llhttp_resume(&d->p);
        d->st = DS_START;
        d->nline = 0;
        d->line_trunc = 0;
        *pos = at;
        return;
    case HPE_PAUSED_UPGRADE:
        if (d->p.type == HTTP_RESPONSE || d->h->done) {
            tunnel(d->h);
            *pos = len;
            return;
        }
        /* CONNECT or Upgrade request: what follows is HTTP only if the
         * server refuses; look for the next request line quietly. */
        parser_init(d, 1);
        to_scan(d, 1);
        *pos = at;
        return;
    default:
        if (d->p.type == HTTP_REQUEST && !d->pushed && d->in_message) {
            /* a head cut by an error or a limit: keep what its request line
             * said, so that pairing with the responses stays right */
            push_request(d);
        }
        parser_init(d, d->p.type == HTTP_REQUEST);
        parse_error(d);
        *pos = at;
        return;
    }
}

/* A complete request line (up to and including its LF). We parse it
 * ourselves, loosely as Zeek does (unknown or lower-case methods, a target
 * with spaces, an empty target, no version for HTTP/0.9), and hand llhttp a
 * normalized line so it parses the head and body that follow. Returns 0, or
 * -1 when this is no request line at all. */
static int begin_request_line(struct hdir *d, const char *line, size_t n)
{
    size_t max = d->h->env.lim->max_target;
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    size_t t = 0;
    while (t < n && t <= TOK_MAX && is_tok_char((unsigned char)line[t]))
        t++;
    if (t == 0 || t > TOK_MAX || t >= n || line[t] != ' ' || !is_tok_start((unsigned char)line[0]))
        return -1;
    size_t ts = t;
    while (ts < n && line[ts] == ' ')
        ts++;
    size_t te = n;
    const char *ver = NULL;
    size_t vlen = 0;
    if (d->line_trunc) {
        /* the middle of an overlong line was dropped: the version is in tail */
        const char *sp = memchr(d->tail, 'H', d->ntail);
        if (sp && (size_t)(d->tail + d->ntail - sp) >= 8 && memcmp(sp, "HTTP/", 5) == 0) {
            ver = sp;
            vlen = (size_t)(d->tail + d->ntail - sp);
            while (vlen && (ver[vlen - 1] == '\r' || ver[vlen - 1] == '\n'))
                vlen--;
        }
    } else {
        size_t ls = n;
        while (ls > ts && line[ls - 1] != ' ')
            ls--;
        if (n - ls >= 5 && memcmp(line + ls, "HTTP/", 5) == 0) {
            ver = line + ls;
            vlen = n - ls;
            te = ls;
            while (te > ts && line[te - 1] == ' ')
                te--;
        }
    }
    if (!ver && (te == ts || memchr(line + ts, ' ', te - ts)))
        return -1; /* "GET" alone, or "T / HTTP": no HTTP/0.9 request either */
    if (!ver && t < 3)
        return -1; /* without a version, a method of 3 or more characters (as Zeek) */
    /* a version llhttp would refuse ("HTTP/1.") is read as HTTP/1.1 */
    if (ver && !(vlen == 8 && isdigit((unsigned char)ver[5]) && ver[6] == '.' &&
                 isdigit((unsigned char)ver[7]))) {
        ver = "HTTP/1.1";
        vlen = 8;
    }

    if (t == 3 && !memcmp(line, "PRI", 3) && te - ts == 1 && line[ts] == '*' && ver && vlen == 8 &&
        !memcmp(ver, "HTTP/2.0", 8)) {
        /* "PRI * HTTP/2.0": the HTTP/2 connection preface (h2c with prior
         * knowledge), not a request; HTTP/2 is not read here */
        tunnel(d->h);
        return 0;
    }
    memcpy(d->method, line, t);
    d->method[t] = '\0';
    size_t ul = te - ts;
    if (ul > max || d->line_trunc) {
        AR_INC(d->h->env.ctr, limit_max_target);
        if (ul > max)
            ul = max;
    }
    if (ul + 1 > d->url_cap) {     /* one buffer per direction, grown to the longest */
        d->url_cap = ul + 1 > 256 ? ul + 1 : 256;
        free(d->url);
        d->url = ar_xmalloc(d->url_cap);
    }
    memcpy(d->url, line + ts, ul);
    d->url[ul] = '\0';
    d->url_len = ul;

    const char *m = known_method(d->method);
    int connect = m && strcmp(m, "CONNECT") == 0;
    if (!m)
        m = "POST"; /* unknown to llhttp: parse as a request that may carry a body */
    char norm[64];
    /* No version (HTTP/0.9, or a broken client): read as HTTP/1.0 so that
     * header lines that follow are parsed, as Zeek does; if none follow, the
     * request is kept when the stream ends (flush_partial). */
    if (!ver) {
        ver = "HTTP/1.0";
        vlen = 8;
    }
    /* "METHOD / HTTP/x.y\r\n" by hand: snprintf was 3% of the whole run */
    size_t ml = strlen(m), nn = 0;
    const char *tgt = connect ? " a:1 " : " / ";
    size_t tl = strlen(tgt);
    if (vlen > sizeof(norm) - ml - tl - 2)
        vlen = sizeof(norm) - ml - tl - 2;
    memcpy(norm, m, ml);
    nn += ml;
    memcpy(norm + nn, tgt, tl);
    nn += tl;
    memcpy(norm + nn, ver, vlen);
    nn += vlen;
    norm[nn++] = '\r';
    norm[nn++] = '\n';
    if (d->p.type != HTTP_REQUEST)
        parser_init(d, 1);
    d->st = DS_PARSE;
    size_t pos = 0;
    llhttp_errno_t rc = llhttp_execute(&d->p, norm, nn);
    handle_rc(d, rc, norm, nn, &pos);
    return 0;
}

/* Find a start line in a complete line: a request line (TOKEN SP target SP
 * HTTP/d.d) returns 1, a status line (HTTP/d.d SP ddd) returns 2, with *off
 * where it begins. The start line may be glued to the end of a body that had
 * no trailing newline ("...}GET /x HTTP/1.1"), so it is looked for anywhere
 * in the line, not only at its start. */
static int find_start(const char *s, size_t n, size_t *off)
{
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    if (n >= 12 && s[n - 9] == ' ' && memcmp(s + n - 8, "HTTP/", 5) == 0 &&
        isdigit((unsigned char)s[n - 3]) && s[n - 2] == '.' && isdigit((unsigned char)s[n - 1])) {
        size_t te = n - 9, ts = te;
        while (ts > 0 && s[ts - 1] != ' ')
            ts--;
        int ok = ts > 1 && ts < te;
        for (size_t i = ts; ok && i < te; i++)
            if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] == 0x7f)
                ok = 0;
        if (ok) {
            size_t ke = ts - 1, ks = ke;
            while (ks > 0 && ke - ks < TOK_MAX && is_tok_char((unsigned char)s[ks - 1]))
                ks--;
            /* a known method glued to junk ("\x05PGET") wins over the
             * whole token; else any token that starts with a letter */
            char tok[TOK_MAX + 1];
            memcpy(tok, s + ks, ke - ks);
            tok[ke - ks] = '\0';
            if (ks < ke && known_method(tok) && (ks == 0 || !is_tok_char((unsigned char)s[ks - 1]))) {
                *off = ks;
                return 1;
            }
            for (size_t i = 0; ks < ke && i < AR_ARRAY_LEN(known_methods); i++) {
                size_t ml = strlen(known_methods[i]);
                if (ml < ke - ks && memcmp(s + ke - ml, known_methods[i], ml) == 0) {
                    *off = ke - ml;
                    return 1;
                }
            }
            if (ks < ke && is_tok_start((unsigned char)s[ks]) &&
                (ks == 0 || !is_tok_char((unsigned char)s[ks - 1]))) {
                *off = ks;
                return 1;
            }
        }
    }
    for (size_t i = 0; i + 12 <= n; i++) {
        const char *v = s + i;
        if ((v[0] == 'H' || v[0] == 'h') && ar_strncaseeq(v, "HTTP/", 5) && isdigit((unsigned char)v[5]) &&
            v[6] == '.' && isdigit((unsigned char)v[7]) && v[8] == ' ' &&
            isdigit((unsigned char)v[9]) && isdigit((unsigned char)v[10]) &&
            isdigit((unsigned char)v[11]) && (i + 12 == n || v[12] == ' ')) {
            *off = i;
            return 2;
        }
    }
    return 0;
}

static void skipped(struct hdir *d, size_t n)
{
    if (!d->quiet && d->h->seen)
        AR_ADD(d->h->env.ctr, http_skipped_bytes, n);
}

static void scan(struct hdir *d, const uint8_t *data, size_t len)
{
    struct ar_http *h = d->h;
    size_t pos = 0;
    size_t cap = h->env.lim->max_target + 64;

    while (pos < len) {
        const uint8_t *nl = memchr(data + pos, '\n', len - pos);
        size_t take = nl ? (size_t)(nl - (data + pos)) + 1 : len - pos;
        size_t need = take >= cap ? cap : AR_MIN(cap, d->ncarry + take);
        if (need > d->carry_cap) {
            size_t nc = d->carry_cap ? d->carry_cap : 256;
            while (nc < need)
                nc *= 2;
            nc = AR_MIN(nc, cap);
            d->carry = ar_xrealloc(d->carry, nc + 1);
            d->carry_cap = nc;
        }
        /* keep only the last `cap` bytes of an overlong line */
        if (take >= cap) {
            skipped(d, d->ncarry + take - cap);
            memcpy(d->carry, data + pos + take - cap, cap);
            d->ncarry = cap;
        } else {
            if (d->ncarry + take > cap) {
                size_t drop = d->ncarry + take - cap;
                skipped(d, drop);
                memmove(d->carry, d->carry + drop, d->ncarry - drop);
                d->ncarry -= drop;
            }
            memcpy(d->carry + d->ncarry, data + pos, take);
            d->ncarry += take;
        }
        pos += take;
        if (!nl)
            return; /* wait for the end of the line */
        size_t off = 0;
        int kind = find_start(d->carry, d->ncarry, &off);
        if (kind && h->client_side >= 0) {
            int want = d->side == h->client_side ? 1 : 2;
            if (kind != want)
                kind = 0;
        }
        if (!kind) {
            skipped(d, d->ncarry);
            d->ncarry = 0;
            continue;
        }
        skipped(d, off);
        if (h->client_side < 0) {
            h->client_side = kind == 1 ? d->side : !d->side;
            /* the other direction now knows its role too */
            struct hdir *o = &h->d[!d->side];
            if (o->st == DS_PARSE)
                parser_init(o, kind != 1);
        } else if (!d->quiet) {
            AR_INC(h->env.ctr, http_resyncs);
        }
        /* take the line out of carry: processing may scan again */
        char *line = d->carry;
        size_t n = d->ncarry;
        d->carry = NULL;
        d->ncarry = 0;
        d->carry_cap = 0;
        d->quiet = 0;
        if (kind == 1) {
            d->line_trunc = 0;
            if (begin_request_line(d, line + off, n - off) < 0)
                parse_error(d);
            if (len - pos)
                process(d, data + pos, len - pos);
        } else {
            memcpy(line + off, "HTTP/", 5); /* "http/1.1 200" is read too */
            parser_init(d, 0);
            d->st = DS_PARSE;
            process(d, (const uint8_t *)line + off, n - off);
            if (len - pos)
                process(d, data + pos, len - pos);
        }
        free(line);
        return;
    }
}

static void start(struct hdir *d, const uint8_t *data, size_t len)
{
    size_t cap = d->h->env.lim->max_target + 64;
    size_t pos = 0;
    while (pos < len && d->nline == 0 && !d->line_trunc && (data[pos] == '\r' || data[pos] == '\n'))
        pos++; /* CRLF between messages */
    if (pos == len)
        return;
    /* the first bytes must look like a method token */
    if (d->nline == 0 && !d->line_trunc && !is_tok_start(data[pos])) {
        parse_error(d);
        process(d, data + pos, len - pos);
        return;
    }
    const uint8_t *nl = memchr(data + pos, '\n', len - pos);
    size_t take = nl ? (size_t)(nl - (data + pos)) + 1 : len - pos;
    size_t want = AR_MIN(cap, d->nline + take);
    if (want > d->line_cap) {
        /* grown on demand: most request lines are short; bounded by max_target */
        size_t nc = d->line_cap ? d->line_cap : 256;
        while (nc < want)
            nc *= 2;
        nc = AR_MIN(nc, cap);
        d->line = ar_xrealloc(d->line, nc + 1);
        d->line_cap = nc;
    }
    size_t room = cap - d->nline;
    memcpy(d->line + d->nline, data + pos, take < room ? take : room);
    if (take > room) {
        d->line_trunc = 1;
        d->nline = cap;
    } else {
        d->nline += take;
    }
    if (d->line_trunc) {
        /* keep the last bytes: the version is at the end */
        const uint8_t *e = data + pos + take;
        size_t k = take < sizeof(d->tail) ? take : sizeof(d->tail);
        if (d->ntail + k > sizeof(d->tail)) {
            size_t drop = d->ntail + k - sizeof(d->tail);
            memmove(d->tail, d->tail + drop, d->ntail - drop);
            d->ntail -= drop;
        }
        memcpy(d->tail + d->ntail, e - k, k);
        d->ntail += k;
    }
    pos += take;
    if (!nl)
        return;
    size_t n = d->nline;
    d->nline = 0;
    int rc = begin_request_line(d, d->line, n);
    d->line_trunc = 0;
    d->ntail = 0;
    if (rc < 0) {
        /* not a request line: maybe a request glued after junk */
        char *line = d->line;
        d->line = NULL;
        d->line_cap = 0;
        parse_error(d);
        scan(d, (const uint8_t *)line, n);
        free(line);
    }
    if (pos < len)
        process(d, data + pos, len - pos);
}

static void process(struct hdir *d, const uint8_t *data, size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        switch (d->st) {
        case DS_DEAD:
            return;
        case DS_SCAN:
            scan(d, data + pos, len - pos);
            return;
        case DS_START:
            start(d, data + pos, len - pos);
            return;
        case DS_PARSE: {
            const char *b = (const char *)data + pos;
            llhttp_errno_t rc = llhttp_execute(&d->p, b, len - pos);
            size_t at = 0;
            handle_rc(d, rc, b, len - pos, &at);
            pos += at;
            break;
        }
        }
    }
}

/* ---- public ------------------------------------------------------------- */

struct ar_http *ar_http_new(const struct ar_http_env *env, const char *ep0, const char *ep1,
                            int client_side)
{
    struct ar_http *h = ar_xcalloc(1, sizeof(*h));
    h->env = *env;
    ar_strlcpy(h->ep[0], ep0, sizeof(h->ep[0]));
    ar_strlcpy(h->ep[1], ep1, sizeof(h->ep[1]));
    h->client_side = client_side;
    for (int s = 0; s < 2; s++) {
        struct hdir *d = &h->d[s];
        d->h = h;
        d->side = s;
        if (client_side < 0) {
            parser_init(d, 1);
            to_scan(d, 0);
        } else if (s == client_side) {
            parser_init(d, 1);
            d->st = DS_START;
        } else {
            parser_init(d, 0);
            d->st = DS_PARSE;
        }
    }
    return h;
}

void ar_http_data(struct ar_http *h, int side, const uint8_t *data, size_t len, double ts)
{
    if (h->done || !len)
        return;
    h->cur_ts = ts;
    process(&h->d[side & 1], data, len);
}

/* The stream ended or broke inside a request head (HTTP/0.9, a cut capture,
 * a snaplen):
 * keep the request its line announced. */
static void flush_partial(struct hdir *d)
{
    if (d->st == DS_START && d->nline) {
        size_t n = d->nline;
        d->nline = 0;
        if (begin_request_line(d, d->line, n) < 0)
            return;
    }
    if (d->st == DS_PARSE && d->p.type == HTTP_REQUEST && d->in_message && !d->pushed &&
        d->method[0]) {
        push_request(d);
        d->in_message = 0;
    }
}

void ar_http_gap(struct ar_http *h, int side, uint32_t bytes)
{
    struct hdir *d = &h->d[side & 1];
    if (h->done || d->st == DS_DEAD)
        return;
    /* Inside a body of known length: skip the missing bytes and go on. */
    if (d->st == DS_PARSE && d->in_body && !(d->p.flags & F_CHUNKED) &&
        (d->p.flags & F_CONTENT_LENGTH) && d->p.content_length > bytes &&
        llhttp_get_errno(&d->p) == HPE_OK) {
        d->p.content_length -= bytes;
        return;
    }
    /* A head cut by the gap still tells what its first line said. */
    if (d->st == DS_PARSE && d->in_message && !d->in_body) {
        if (d->p.type == HTTP_REQUEST)
            flush_partial(d);
        else if (d->status_done)
            response_head(d, d->p.status_code);
    }
    parser_init(d, d->h->client_side < 0 || d->side == d->h->client_side);
    to_scan(d, 0);
}

void ar_http_fin(struct ar_http *h, int side)
{
    struct hdir *d = &h->d[side & 1];
    flush_partial(d);
    if (h->done || d->st != DS_PARSE)
        return;
    if (llhttp_finish(&d->p) != HPE_OK)
        parser_init(d, d->p.type == HTTP_REQUEST);
}

void ar_http_end(struct ar_http *h)
{
    if (!h->done) {
        flush_partial(&h->d[0]);
        flush_partial(&h->d[1]);
    }
    while (h->qlen) {
        emit(h, q_front(h), -1, NULL, 0);
        q_pop(h);
    }
    while (h->norphans)
        orphan_release(h);
}

void ar_http_free(struct ar_http *h)
{
    if (!h)
        return;
    while (h->qlen)
        q_pop(h);
    free(h->q);
    for (int s = 0; s < 2; s++) {
        free(h->d[s].carry);
        free(h->d[s].line);
        free(h->d[s].url);
    }
    free(h);
}

int ar_http_seen(const struct ar_http *h)
{
    return h->seen;
}

int ar_http_done(const struct ar_http *h)
{
    return h->done;
}

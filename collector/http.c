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
#define HOST_MAX 256
#define CT_MAX 96
#define QUERY_MAX 512
#define QNAME_MAX 64
#define FIELD_MAX 32
#define VAL_MAX 256

struct pending {
    char method[TOK_MAX + 1];
    char host[HOST_MAX];
    int has_host;
    char *path;
    char query[QUERY_MAX];
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
    size_t ncarry;
    char tok[TOK_MAX + 2];  /* START: method token so far */
    size_t ntok;
    int in_message;
    int in_body;            /* head complete, body being parsed */
    /* the message being parsed */
    double msg_ts;
    char method[TOK_MAX + 1];
    char *url;
    size_t url_len;
    int url_trunc;
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
};

/* Methods llhttp 8.1 parses in HTTP mode (llhttp.h HTTP_METHOD_MAP). */
static const char *const known_methods[] = {
    "DELETE", "GET", "HEAD", "POST", "PUT", "CONNECT", "OPTIONS", "TRACE", "COPY", "LOCK",
    "MKCOL", "MOVE", "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK", "BIND", "REBIND", "UNBIND",
    "ACL", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE",
    "UNSUBSCRIBE", "PATCH", "PURGE", "MKCALENDAR", "LINK", "UNLINK", "SOURCE",
};

static int is_known_method(const char *m)
{
    for (size_t i = 0; i < AR_ARRAY_LEN(known_methods); i++)
        if (strcmp(known_methods[i], m) == 0)
            return 1;
    return 0;
}

static int is_tok_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
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
    x.host = rq && rq->has_host ? rq->host : NULL;
    x.path = rq ? rq->path : NULL;
    x.query = rq ? rq->query : "";
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
    free(h->q[h->qhead].path);
    h->q[h->qhead].path = NULL;
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
            unsigned ncap = h->qcap ? h->qcap * 2 : 4;
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
    for (size_t i = 0; i < n; i++)
        dst[i] = lower ? (char)tolower((unsigned char)s[i]) : s[i];
    dst[n] = '\0';
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

/* Split the request-target into path and query parameter names. */
static void split_target(struct hdir *d, struct pending *rq)
{
    const char *u = d->url ? d->url : "";
    size_t n = d->url_len;
    size_t start = 0;

    /* absolute-form: scheme://authority/path */
    if (strcmp(rq->method, "CONNECT") != 0) {
        const char *sep = n > 3 ? memchr(u, ':', n < 16 ? n : 16) : NULL;
        if (sep && (size_t)(sep - u) + 2 < n && sep[1] == '/' && sep[2] == '/') {
            size_t a = (size_t)(sep - u) + 3, e = a;
            while (e < n && u[e] != '/' && u[e] != '?' && u[e] != '#')
                e++;
            if (!d->has_host) {
                trim_copy(rq->host, sizeof(rq->host), u + a, e - a, 0);
                rq->has_host = 1;
            }
            start = e;
        }
    }
    size_t q = start;
    while (q < n && u[q] != '?' && u[q] != '#')
        q++;
    if (q == start && start > 0)
        rq->path = ar_xstrdup("/");
    else
        rq->path = ar_xstrndup(u + start, q - start);

    if (q >= n || u[q] != '?')
        return;
    size_t qlen = 0, names = 0;
    size_t i = q + 1;
    while (i < n && u[i] != '#') {
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
        if (nl > QNAME_MAX)
            nl = QNAME_MAX;
        /* dedupe */
        int dup = 0;
        for (size_t a = 0; a < qlen && !dup;) {
            size_t b = a;
            while (b < qlen && rq->query[b] != '&')
                b++;
            if (b - a == nl && memcmp(rq->query + a, u + s, nl) == 0)
                dup = 1;
            a = b + 1;
        }
        if (dup)
            continue;
        if (names >= d->h->env.lim->max_query_names || qlen + nl + 2 > sizeof(rq->query)) {
            AR_INC(d->h->env.ctr, limit_max_query_names);
            break;
        }
        if (qlen)
            rq->query[qlen++] = '&';
        memcpy(rq->query + qlen, u + s, nl);
        qlen += nl;
        rq->query[qlen] = '\0';
        names++;
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
    d->msg_ts = d->h->cur_ts;
    d->url_len = 0;
    d->url_trunc = 0;
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

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    struct hdir *d = D(p);
    size_t max = d->h->env.lim->max_target;
    if (over(d, len))
        return -1;
    if (!d->url)
        d->url = ar_xmalloc(max + 1);
    size_t room = max - d->url_len;
    if (len > room) {
        if (!d->url_trunc)
            AR_INC(d->h->env.ctr, limit_max_target);
        d->url_trunc = 1;
        len = room;
    }
    memcpy(d->url + d->url_len, at, len);
    d->url_len += len;
    d->url[d->url_len] = '\0';
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
#define IS(s) (n == sizeof(s) - 1 && ar_strncaseeq(f, s, n))
    if (IS("host"))
        d->which = H_HOST;
    else if (IS("content-type"))
        d->which = H_CTYPE;
    else if (IS("authorization") || IS("proxy-authorization"))
        d->which = H_AUTHZ;
    else if (IS("cookie"))
        d->which = H_COOKIE;
    else if (IS("x-api-key") || IS("api-key") || IS("apikey") || IS("x-apikey") ||
             IS("x-auth-token") || IS("x-api-token"))
        d->which = H_APIKEY;
    else
        d->which = H_OTHER;
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
    switch (d->which) {
    case H_HOST:
        if (!d->has_host) {
            trim_copy(d->host, sizeof(d->host), d->val, d->val_len, 0);
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
    ar_strlcpy(rq->method, d->method, sizeof(rq->method));
    if (d->has_host) {
        ar_strlcpy(rq->host, d->host, sizeof(rq->host));
        rq->has_host = 1;
    }
    ar_strlcpy(rq->req_ct, d->ctype, sizeof(rq->req_ct));
    rq->auth = d->auth;
    rq->ts = d->msg_ts;
    split_target(d, rq);
    h->seen = 1;
    return rq;
}

static int on_headers_complete(llhttp_t *p)
{
    struct hdir *d = D(p);
    struct ar_http *h = d->h;

    d->in_body = 1;
    if (p->type == HTTP_REQUEST) {
        push_request(d);
        return 0;
    }
    int status = p->status_code;
    h->seen = 1;
    if (status >= 100 && status < 200 && status != 101)
        return 0; /* interim: the final response follows */
    struct pending *rq = q_front(h);
    emit(h, rq, status, d->ctype, d->msg_ts);
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

static llhttp_settings_t settings;
static int settings_ready;

static void settings_init(void)
{
    if (settings_ready)
        return;
    llhttp_settings_init(&settings);
    settings.on_message_begin = on_message_begin;
    settings.on_url = on_url;
    settings.on_header_field = on_header_field;
    settings.on_header_field_complete = on_header_field_complete;
    settings.on_header_value = on_header_value;
    settings.on_header_value_complete = on_header_value_complete;
    settings.on_headers_complete = on_headers_complete;
    settings.on_message_complete = on_message_complete;
    settings_ready = 1;
}

static void parser_init(struct hdir *d, int request)
{
    llhttp_init(&d->p, request ? HTTP_REQUEST : HTTP_RESPONSE, &settings);
    d->p.data = d;
    llhttp_set_lenient_headers(&d->p, 1);
    llhttp_set_lenient_keep_alive(&d->p, 1);
    llhttp_set_lenient_chunked_length(&d->p, 1);
    llhttp_set_lenient_transfer_encoding(&d->p, 1);
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
    d->ntok = 0;
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
        d->ntok = 0;
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
        if (d->over_limit && d->p.type == HTTP_REQUEST && d->url_len && d->in_message) {
            /* head too big: keep the request line so pairing stays right */
            push_request(d);
        }
        parser_init(d, d->p.type == HTTP_REQUEST);
        parse_error(d);
        *pos = at;
        return;
    }
}

/* buf starts with "TOKEN SP": feed llhttp a method it knows. */
static void begin_request(struct hdir *d, const char *buf, size_t n, size_t toklen,
                          const uint8_t *rest, size_t restlen)
{
    memcpy(d->method, buf, toklen);
    d->method[toklen] = '\0';
    const char *feed = is_known_method(d->method) ? d->method : "POST";
    if (d->p.type != HTTP_REQUEST)
        parser_init(d, 1);
    d->st = DS_PARSE;
    size_t pos = 0;
    llhttp_errno_t rc = llhttp_execute(&d->p, feed, strlen(feed));
    if (rc == HPE_OK)
        rc = llhttp_execute(&d->p, buf + toklen, n - toklen);
    handle_rc(d, rc, buf + toklen, n - toklen, &pos);
    if (d->st == DS_START && pos < n - toklen) {
        /* a whole message inside buf (cannot happen for one line, but be safe) */
        process(d, (const uint8_t *)buf + toklen + pos, n - toklen - pos);
    }
    if (restlen)
        process(d, rest, restlen);
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
            if (ks < ke && s[ks] >= 'A' && s[ks] <= 'Z' &&
                (ks == 0 || !is_tok_char((unsigned char)s[ks - 1]))) {
                *off = ks;
                return 1;
            }
            for (size_t i = 0; ks < ke && i < AR_ARRAY_LEN(known_methods); i++) {
                size_t ml = strlen(known_methods[i]);
                if (ml <= ke - ks && memcmp(s + ke - ml, known_methods[i], ml) == 0) {
                    *off = ke - ml;
                    return 1;
                }
            }
        }
    }
    for (size_t i = 0; i + 12 <= n; i++) {
        const char *v = s + i;
        if (v[0] == 'H' && memcmp(v, "HTTP/", 5) == 0 && isdigit((unsigned char)v[5]) &&
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
        if (!d->carry)
            d->carry = ar_xmalloc(cap + 1);
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
        d->quiet = 0;
        if (kind == 1) {
            size_t t = off;
            while (line[t] != ' ')
                t++;
            begin_request(d, line + off, n - off, t - off, data + pos, len - pos);
        } else {
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
    size_t pos = 0;
    while (pos < len) {
        unsigned char c = data[pos];
        if (d->ntok == 0 && (c == '\r' || c == '\n')) {
            pos++; /* CRLF between messages */
            continue;
        }
        if (c == ' ' && d->ntok > 0) {
            d->tok[d->ntok] = ' ';
            size_t t = d->ntok;
            d->ntok = 0;
            begin_request(d, d->tok, t + 1, t, data + pos + 1, len - pos - 1);
            return;
        }
        if (!is_tok_char(c) || d->ntok >= TOK_MAX || (d->ntok == 0 && !(c >= 'A' && c <= 'Z'))) {
            char tok[TOK_MAX + 2];
            size_t nt = d->ntok;
            memcpy(tok, d->tok, nt);
            d->ntok = 0;
            parse_error(d);
            if (nt)
                scan(d, (const uint8_t *)tok, nt); /* may still hold a glued start line */
            process(d, data + pos, len - pos);
            return;
        }
        d->tok[d->ntok++] = (char)c;
        pos++;
    }
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
    settings_init();
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
    parser_init(d, d->h->client_side < 0 || d->side == d->h->client_side);
    to_scan(d, 0);
}

void ar_http_fin(struct ar_http *h, int side)
{
    struct hdir *d = &h->d[side & 1];
    if (h->done || d->st != DS_PARSE)
        return;
    if (llhttp_finish(&d->p) != HPE_OK)
        parser_init(d, d->p.type == HTTP_REQUEST);
}

void ar_http_end(struct ar_http *h)
{
    while (h->qlen) {
        emit(h, q_front(h), -1, NULL, 0);
        q_pop(h);
    }
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

int ar_http_looks_like(const uint8_t *buf, size_t len)
{
    if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0)
        return 2;
    size_t t = 0;
    while (t < len && t <= TOK_MAX && is_tok_char(buf[t]))
        t++;
    if (t >= 3 && t < len && buf[t] == ' ' && buf[0] >= 'A' && buf[0] <= 'Z')
        return 1;
    return 0;
}

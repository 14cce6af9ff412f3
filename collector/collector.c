/* collector.c - the packet path: decode -> flow -> classify -> reassembly -> http. */
#include <stdlib.h>
#include <string.h>
#include "../core/log.h"
#include "../core/util.h"
#include "classify.h"
#include "collector.h"
#include "decode.h"
#include "flow.h"
#include "http.h"
#include "pcapfile.h"
#include "reasm.h"

enum app_kind { K_UNDECIDED, K_HTTP, K_TLS, K_OTHER };

struct ar_collector {
    struct ar_limits lim;
    struct ar_counters *ctr;
    struct ar_counters *pctr;   /* packet-level counters: ctr, or sink on shards > 0 */
    struct ar_counters sink;
    unsigned shard, nshards;    /* nshards 0: not sharded */
    uint64_t shard_seed;
    uint64_t npackets;
    struct ar_collector_hooks hooks;
    struct ar_flow_table *ft;
    struct ar_classifier *cls;  /* nDPI, made when a flow first needs it */
    int cls_failed;
    uint64_t ooo_total;
    struct ar_reasm_ctx rctx;
    struct ar_http_env henv;
    double now;
    double last_expire;
};

struct flow_app {
    struct ar_collector *c;
    struct ar_flow *f;
    struct ar_http *http;
    struct ar_dpi_flow *dpi;
    uint32_t dpi_pkts;
    uint8_t kind;
    uint8_t tls_reported;
    uint8_t no_http;        /* TLS: no HTTP/1 parsing on this flow */
    uint8_t http_done;      /* closed: HTTP state emitted, counted and freed */
};

/* "a.b.c.d:port" without inet_ntop and snprintf (once per side of every HTTP
 * flow: they showed in the profile); IPv6 goes through ar_fmt_endpoint. */
static char *put_uint(char *o, unsigned v)
{
    char tmp[8];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *o++ = tmp[--n];
    return o;
}

static void fmt_endpoint(char out[64], int family, const uint8_t addr[16], uint16_t port)
{
    if (family != 4) {
        ar_fmt_endpoint(out, 64, family, addr, port);
        return;
    }
    char *o = out;
    for (int i = 0; i < 4; i++) {
        o = put_uint(o, addr[i]);
        *o++ = i < 3 ? '.' : ':';
    }
    o = put_uint(o, port);
    *o = '\0';
}

static void endpoints(const struct ar_flow *f, char ep[2][64])
{
    fmt_endpoint(ep[0], f->family, f->addr[0], f->port[0]);
    fmt_endpoint(ep[1], f->family, f->addr[1], f->port[1]);
}

/* 1 when a flow's first payload is plainly HTTP/1: a status line, or a request
 * line of a common method that ends in HTTP/1.x within this packet. nDPI's
 * verdict only matters to tell TLS apart (TLS flows are not parsed), and such
 * bytes are never TLS, so nDPI is skipped: it was an eighth of the work. */
static int plainly_http1(const uint8_t *p, uint32_t n)
{
    static const struct { const char *m; uint8_t len; } methods[] = {
        { "GET ", 4 }, { "POST ", 5 }, { "PUT ", 4 }, { "HEAD ", 5 },
        { "DELETE ", 7 }, { "PATCH ", 6 }, { "OPTIONS ", 8 },
    };
    if (n >= 12 && memcmp(p, "HTTP/1.", 7) == 0 && (p[7] == '0' || p[7] == '1') && p[8] == ' ')
        return 1;
    size_t i;
    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (n > methods[i].len && memcmp(p, methods[i].m, methods[i].len) == 0)
            break;
    if (i == sizeof(methods) / sizeof(methods[0]))
        return 0;
    const uint8_t *nl = memchr(p, '\n', n);
    if (!nl)
        return 0;
    size_t ll = (size_t)(nl - p);
    if (ll && p[ll - 1] == '\r')
        ll--;
    return ll >= 9 && memcmp(p + ll - 9, " HTTP/1.", 8) == 0 &&
           (p[ll - 1] == '0' || p[ll - 1] == '1');
}

static struct ar_http *app_http(struct flow_app *a)
{
    if (!a->http && !a->no_http && !a->http_done) {
        char ep[2][64];
        endpoints(a->f, ep);
        a->http = ar_http_new(&a->c->henv, ep[0], ep[1], a->f->syn_seen ? 0 : -1);
    }
    return a->http;
}

static void on_data(void *ud, int dir, const uint8_t *data, uint32_t len)
{
    struct flow_app *a = ud;
    struct ar_http *h = app_http(a);
    if (h)
        ar_http_data(h, dir, data, len, a->c->now);
}

static void on_gap(void *ud, int dir, uint32_t missing)
{
    struct flow_app *a = ud;
    if (a->http)
        ar_http_gap(a->http, dir, missing);
}

/* What an HTTP flow's parser still holds, emitted; the flow counted. */
static void http_end(struct ar_collector *c, struct flow_app *a)
{
    ar_http_end(a->http);
    if (ar_http_seen(a->http))
        AR_INC(c->ctr, flows_http);
    else if (a->kind != K_TLS)
        AR_INC(c->ctr, flows_other);
    ar_http_free(a->http);
    a->http = NULL;
}

static void on_fin(void *ud, int dir)
{
    struct flow_app *a = ud;
    if (a->http)
        ar_http_fin(a->http, dir);
    /* An HTTP flow whose two directions are delivered up to their FIN: its
     * parser state (2.6 KB) is emitted, counted and freed now, not when the
     * closed flow expires flow_timeout_closed later. Reassembly still sees
     * the late segments (counted as before); no parser is made again. */
    if (a->http && a->kind == K_HTTP && a->f->st[0].fin_done && a->f->st[1].fin_done) {
        http_end(a->c, a);
        a->http_done = 1;
    }
}

static void report_tls(struct flow_app *a)
{
    struct ar_collector *c = a->c;
    if (a->tls_reported || !a->dpi)
        return;
    a->tls_reported = 1;
    AR_INC(c->ctr, tls_connections);
    if (!c->hooks.on_tls)
        return;
    char ep[2][64], sni[128], alpn[256];
    endpoints(a->f, ep);
    ar_dpi_tls_info(a->dpi, sni, sizeof(sni), alpn, sizeof(alpn));
    struct ar_tls t = { a->f->first_ts, ep[0], ep[1], sni, alpn };
    c->hooks.on_tls(&t, c->hooks.ud);
}

static void decide(struct flow_app *a, enum ar_dpi_result r)
{
    switch (r) {
    case AR_DPI_PENDING:
        return;
    case AR_DPI_TLS:
        a->kind = K_TLS;
        AR_INC(a->c->ctr, flows_tls);
        report_tls(a);
        if (!a->http || !ar_http_seen(a->http)) {
            a->no_http = 1;
            ar_http_free(a->http);
            a->http = NULL;
        }
        break;
    case AR_DPI_HTTP:
        a->kind = K_HTTP;
        break;
    default:
        a->kind = K_OTHER;
        break;
    }
    ar_dpi_flow_free(a->dpi);
    a->dpi = NULL;
}

static void flow_free(struct ar_flow *f, void *ud)
{
    struct ar_collector *c = ud;
    struct flow_app *a = f->app;
    if (a) {
        ar_stream_flush(&f->st[0], &c->rctx, a, 0);
        ar_stream_flush(&f->st[1], &c->rctx, a, 1);
        if (a->http)
            http_end(c, a);
        else if (a->kind != K_TLS && !a->http_done)
            AR_INC(c->ctr, flows_other);
        ar_dpi_flow_free(a->dpi);
        free(a);
        f->app = NULL;
    }
    ar_stream_free(&f->st[0], &c->rctx);
    ar_stream_free(&f->st[1], &c->rctx);
}

struct ar_collector *ar_collector_new(const struct ar_limits *lim,
                                      const struct ar_collector_hooks *hooks,
                                      struct ar_counters *ctr)
{
    struct ar_collector *c = ar_xcalloc(1, sizeof(*c));
    c->lim = *lim;
    c->ctr = ctr;
    c->pctr = ctr;
    if (hooks)
        c->hooks = *hooks;
    c->ft = ar_flow_table_new(&c->lim, ctr, flow_free, c);
    c->rctx.lim = &c->lim;
    c->rctx.ctr = ctr;
    c->rctx.ooo_total = &c->ooo_total;
    c->rctx.on_data = on_data;
    c->rctx.on_gap = on_gap;
    c->rctx.on_fin = on_fin;
    c->henv.lim = &c->lim;
    c->henv.ctr = ctr;
    c->henv.on_exchange = c->hooks.on_exchange;
    c->henv.ud = c->hooks.ud;
    c->last_expire = -1;
    return c;
}

void ar_collector_expire(struct ar_collector *c, double now)
{
    ar_flow_expire(c->ft, now);
    c->last_expire = now;
}

/* nDPI's module takes 30 ms and 8 MB to build: only when a flow first needs
 * it, i.e. never on a capture of plain HTTP/1 alone. */
static struct ar_classifier *classifier(struct ar_collector *c)
{
    if (!c->cls && !c->cls_failed) {
        char err[256];
        c->cls = ar_classifier_new(err, sizeof(err));
        if (!c->cls) {
            c->cls_failed = 1;
            ar_warn("nDPI: %s: flows are not classified (HTTP/1 is still parsed)", err);
        }
    }
    return c->cls;
}

void ar_collector_set_shard(struct ar_collector *c, unsigned k, unsigned n, uint64_t seed)
{
    c->shard = k;
    c->nshards = n > 1 ? n : 0;
    c->shard_seed = seed;
    c->pctr = k == 0 ? c->ctr : &c->sink;
}

uint64_t ar_collector_packets(const struct ar_collector *c)
{
    return c->npackets;
}

int ar_collector_logs(const struct ar_collector *c)
{
    return c->shard == 0;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* One (address, port) end, keyed. IPv4: the address fills the low 4 bytes
 * of the first word (the rest is zero), so the port fits beside it and one
 * mix does; IPv6 mixes both halves. */
static uint64_t end_hash(uint64_t seed, int family, const uint8_t a[16], uint16_t port)
{
    uint64_t lo, hi;
    memcpy(&lo, a, 8);
    if (family == 4)
        return mix64((lo | (uint64_t)port << 32) ^ seed);
    memcpy(&hi, a + 8, 8);
    return mix64(lo ^ seed) ^ mix64(hi + port);
}

/* The same shard for both directions: the two ends are mixed apart and
 * added, which does not depend on their order. */
static unsigned shard_index(uint64_t seed, unsigned n, const struct ar_pkt *p)
{
    uint64_t h = mix64(end_hash(seed, p->family, p->src, p->sport) +
                       end_hash(seed, p->family, p->dst, p->dport));
    return (unsigned)(((h >> 32) * n) >> 32);
}

static unsigned shard_of(const struct ar_collector *c, const struct ar_pkt *p)
{
    return shard_index(c->shard_seed, c->nshards, p);
}

unsigned ar_shard_of_frame(uint64_t seed, unsigned n, int dlt, const uint8_t *data,
                           uint32_t caplen)
{
    struct ar_pkt p;
    return ar_decode_fast(dlt, data, caplen, &p) ? shard_index(seed, n, &p) : AR_OWNER_ANY;
}

static void tick(struct ar_collector *c)
{
    if ((c->npackets & (AR_COLLECTOR_TICK - 1)) == 0 && c->hooks.on_tick)
        c->hooks.on_tick(c->hooks.ud);
}

/* A TCP packet's time: every shard expires its flows at the same packets
 * (packet time), its own or not. */
static void clock_packet(struct ar_collector *c, double ts)
{
    c->now = ts;
    if (c->last_expire < 0)
        c->last_expire = ts;
    else if (ts - c->last_expire >= 1.0)
        ar_collector_expire(c, ts);
}

/* mine: the packet is known to be this shard's (its owner was found by the
 * reader), so it is not hashed again */
static void one_packet(struct ar_collector *c, int dlt, double ts, const uint8_t *data,
                       uint32_t caplen, uint32_t wirelen, int mine)
{
    struct ar_pkt pkt;
    AR_INC(c->pctr, packets);
    AR_ADD(c->pctr, bytes, wirelen);
    if (ar_decode(dlt, data, caplen, &pkt, c->pctr) != AR_DEC_TCP)
        return;
    clock_packet(c, ts);
    if (c->nshards && !mine && shard_of(c, &pkt) != c->shard)
        return;

    int dir;
    struct ar_flow *f = ar_flow_get(c->ft, &pkt, ts, &dir);
    if (!f)
        return;
    struct flow_app *a = f->app;
    if (!a) {
        a = ar_xcalloc(1, sizeof(*a));
        a->c = c;
        a->f = f;
        f->app = a;
        if (!(pkt.flags & AR_TCP_SYN))
            AR_INC(c->ctr, tcp_midstream);
    }
    /* nDPI gets the payload packets of a flow until it decides; its state
     * (about 2 KB) is allocated at the first one, so that a flow that never
     * carries data (a SYN flood, a port scan) costs only its flow entry */
    if (a->kind == K_UNDECIDED && pkt.payload_len && !a->dpi &&
        plainly_http1(pkt.payload, pkt.payload_len)) {
        decide(a, AR_DPI_HTTP);
    } else if (a->kind == K_UNDECIDED && pkt.payload_len && !classifier(c)) {
        decide(a, AR_DPI_UNKNOWN); /* no nDPI (out of memory): parse as HTTP */
    } else if (a->kind == K_UNDECIDED && pkt.payload_len) {
        if (!a->dpi)
            a->dpi = ar_dpi_flow_new();
        enum ar_dpi_result r = ar_dpi_packet(c->cls, a->dpi, pkt.l3, pkt.l3_len, ts);
        a->dpi_pkts++;
        if (r == AR_DPI_PENDING && a->dpi_pkts >= c->lim.ndpi_packets) {
            AR_INC(c->ctr, limit_ndpi_packets);
            r = ar_dpi_giveup(c->cls, a->dpi);
        }
        decide(a, r);
    }
    if (a->no_http)
        return;
    if (pkt.flags & AR_TCP_ACK)
        ar_stream_ack(&f->st[!dir], &c->rctx, a, !dir, pkt.ack);
    if (pkt.payload_wire_len || (pkt.flags & (AR_TCP_SYN | AR_TCP_FIN)))
        ar_stream_segment(&f->st[dir], &c->rctx, a, dir, pkt.seq, pkt.flags, pkt.payload,
                          pkt.payload_len, pkt.payload_wire_len);
}

void ar_collector_packet(struct ar_collector *c, int dlt, double ts, const uint8_t *data,
                         uint32_t caplen, uint32_t wirelen)
{
    c->npackets++;
    one_packet(c, dlt, ts, data, caplen, wirelen, 0);
    tick(c);
}

void ar_collector_packet_owned(struct ar_collector *c, int dlt, double ts, const uint8_t *data,
                               uint32_t caplen, uint32_t wirelen, unsigned owner)
{
    c->npackets++;
    if (owner == AR_OWNER_ANY || !c->nshards || owner == c->shard) {
        one_packet(c, dlt, ts, data, caplen, wirelen, owner == c->shard);
    } else {
        /* another shard's plain TCP segment: what one_packet does with it,
         * but the decode (which counts nothing on this frame) and the hash */
        AR_INC(c->pctr, packets);
        AR_ADD(c->pctr, bytes, wirelen);
        clock_packet(c, ts);
    }
    tick(c);
}

void ar_collector_finish(struct ar_collector *c)
{
    ar_flow_table_clear(c->ft);
}

void ar_collector_free(struct ar_collector *c)
{
    if (!c)
        return;
    ar_flow_table_free(c->ft);
    ar_classifier_free(c->cls);
    free(c);
}

struct ar_counters *ar_collector_counters(struct ar_collector *c)
{
    return c->pctr;
}

/* daemon.c - `apiroster capture -i IFACE`: live capture as a service.
 *
 * Three threads.
 *
 *  packet thread (the main thread): poll() on the capture descriptor with a
 *    timeout of at most a second, pcap_dispatch, decode, flows, HTTP, and the
 *    catalog (templating). It wakes at least once a second even on a quiet
 *    interface to read pcap_stats, expire flows by wall time, feed the systemd
 *    watchdog, look at the signal flags and hand work to the writer. It never
 *    touches SQLite and never waits for the writer.
 *
 *  writer thread: owns the store (SQLite), its own templater (re-templating of
 *    stored rows when a parent collapses), the config reload and the
 *    [sources] import hook.
 *
 *  push thread (pusher.c): its own store connection; every [push] interval
 *    it sends the outbox to the targets. It blocks on the network, so only
 *    it does: a slow receiver delays no flush and no packet.
 *
 * The hand-off is one snapshot slot. Every flush_interval the packet thread
 * moves what it gathered (the catalog, the counters delta since the last
 * hand-off, the TLS server names, a copy of its templater's collapses) into
 * the slot and takes the writer's other, empty catalog. When the writer is
 * still busy with the previous snapshot (a slow disk, a failing flush), the
 * packet thread keeps accumulating in its catalog, counts flush_deferred, and
 * tries again every 50 ms: a flush that overran the interval delays the next
 * hand-off by its overrun only (what a kill -9 loses stays one interval plus
 * the flush in progress; docs/decisions.md).
 * That catalog is bounded by [limits] max_endpoints: once full, new endpoints
 * are dropped and counted (limit_max_endpoints, db_dropped) until the writer
 * frees the slot; known endpoints still count. The mutex is only ever held to
 * move pointers, never across SQLite.
 *
 * Signals only set flags. SIGTERM/SIGINT: stop, close every flow, final
 * flush, exit 0. SIGHUP: the writer reloads the config, logs the keys that
 * need a restart, runs the [sources] hook and hands back the reloadable
 * values; the packet thread applies them (BPF filter, flush interval, log
 * level) at its next wake. Flows and catalog are kept. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "../collector/collector.h"
#include "../core/hash.h"
#include "../core/json.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../inventory/catalog.h"
#include "../inventory/store.h"
#include "../inventory/template.h"
#include "agent.h"
#include "roster.h"

/* ---- TLS server names seen between two hand-offs ------------------------ */

struct tls_ent {
    char *name, alpn[32];
    uint64_t conns;
    double first, last;
};

/* Open addressing on a seeded hash (names come from the network), at most
 * max entries (limits.h max_tls_hosts, counted as limit_max_tls_hosts). */
struct tls_agg {
    struct tls_ent *v;
    size_t n, cap;
    uint32_t *idx;          /* index + 1, 0 = empty */
    size_t idxsz;
    struct ar_hash_key key;
};

static void tls_reindex(struct tls_agg *t, size_t sz)
{
    free(t->idx);
    t->idxsz = sz;
    t->idx = ar_xcalloc(sz, sizeof(*t->idx));
    for (size_t i = 0; i < t->n; i++) {
        size_t j = ar_hash(&t->key, t->v[i].name, strlen(t->v[i].name)) & (sz - 1);
        while (t->idx[j])
            j = (j + 1) & (sz - 1);
        t->idx[j] = (uint32_t)i + 1;
    }
}

static void tls_add(struct tls_agg *t, const char *name, const char *alpn, double ts,
                    uint64_t max, struct ar_counters *ctr)
{
    if (!t->idx)
        tls_reindex(t, 64);
    size_t n = strlen(name);
    size_t j = ar_hash(&t->key, name, n) & (t->idxsz - 1);
    while (t->idx[j]) {
        struct tls_ent *e = &t->v[t->idx[j] - 1];
        if (!strcmp(e->name, name)) {
            e->conns++;
            if (ts < e->first)
                e->first = ts;
            if (ts > e->last)
                e->last = ts;
            return;
        }
        j = (j + 1) & (t->idxsz - 1);
    }
    if (t->n >= max) {
        AR_INC(ctr, limit_max_tls_hosts);
        return;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->v = ar_xrealloc(t->v, t->cap * sizeof(*t->v));
    }
    struct tls_ent *e = &t->v[t->n];
    e->name = ar_xstrdup(name);
    ar_strlcpy(e->alpn, alpn ? alpn : "", sizeof(e->alpn));
    e->conns = 1;
    e->first = e->last = ts;
    t->idx[j] = (uint32_t)++t->n;
    if (t->n * 2 > t->idxsz)
        tls_reindex(t, t->idxsz * 2);
}

static void tls_clear(struct tls_agg *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].name);
    t->n = 0;
    if (t->idx)
        memset(t->idx, 0, t->idxsz * sizeof(*t->idx));
}

static void tls_free(struct tls_agg *t)
{
    tls_clear(t);
    free(t->v);
    free(t->idx);
}

/* ---- the hand-off ----------------------------------------------------- */

/* A catalog with its own counters: whoever holds the box may bump them. */
struct catbox {
    struct ar_catalog *cat;
    struct ar_counters ctr;
};

struct collapse {
    char *host, *parent, *child;
};

struct snapshot {
    struct catbox *box;
    struct ar_counters delta;
    struct tls_agg tls;         /* swapped with the packet side's */
    struct collapse *col;
    size_t ncol;
};

/* Reloadable values handed from the writer to the packet thread. */
struct settings {
    char *filter;               /* combined BPF expression */
    uint64_t flush_interval;
    enum ar_log_level level;
    void (*packet_apply)(void *, struct ar_templater *);
    void *packet_arg;
    int ok;                     /* 0: the reload failed, nothing to apply */
};

struct shared {
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* writer waits: a snapshot, a reload, stop */
    pthread_cond_t idle;        /* packet thread waits (only at exit): writer idle */
    int have_snap;              /* the slot holds a snapshot (being written or not) */
    struct snapshot snap;
    struct catbox *spare;       /* the empty catalog, for the packet thread to take */
    int reload_req;
    int have_settings;
    struct settings settings;
    int draining;               /* the packet thread is stopping */
    int stop;                   /* the last snapshot is in the slot */
    int final_failed;
};

static volatile sig_atomic_t sig_stop, sig_hup;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        sig_hup = 1;
    else
        sig_stop = 1;
}

struct live {
    const struct ar_live_args *args;
    struct ar_config cfg;       /* writer side after start (reload replaces it) */
    const char *db_path;
    struct shared sh;

    /* packet side */
    struct ar_live *cap;
    struct ar_collector *col;
    struct ar_templater *tp;
    struct catbox boxes[2];
    struct catbox *cur;
    struct ar_counters ctr;     /* collector + templater + folded catalog counters */
    struct ar_counters handed;  /* part of ctr already handed to the writer */
    struct tls_agg tls;
    struct ar_limits lim;
    uint64_t flush_interval;

    struct ar_pusher *pusher;   /* push thread, its own store connection */

    /* writer side */
    pthread_t writer;
    struct ar_store *store;
    struct ar_templater *wtp;
    struct ar_counters wctr;    /* counted by the store during flushes */
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_level(const char *s, enum ar_log_level *out)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    for (int i = 0; i < 4; i++)
        if (s && !strcmp(s, names[i])) {
            *out = (enum ar_log_level)i;
            return 0;
        }
    return -1;
}

/* ---- the filter: the user's, without the push targets' own traffic ----- */

/* "https://user@host:8443/path" -> host, port. 0 or -1. */
static int url_host_port(const char *url, char *host, size_t hostsz, unsigned *port)
{
    const char *p = strstr(url, "://");
    if (!p)
        return -1;
    *port = (p - url == 5 && !strncmp(url, "https", 5)) ? 443 : 80;
    p += 3;
    const char *end = p + strcspn(p, "/?#");
    const char *at = memchr(p, '@', (size_t)(end - p));
    if (at)
        p = at + 1;
    const char *hend, *colon = NULL;
    if (*p == '[') {
        p++;
        hend = memchr(p, ']', (size_t)(end - p));
        if (!hend)
            return -1;
        if (hend[1] == ':')
            colon = hend + 1;
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        hend = colon ? colon : end;
    }
    size_t n = (size_t)(hend - p);
    if (!n || n >= hostsz)
        return -1;
    for (size_t i = 0; i < n; i++) /* a BPF expression: no room for anything odd */
        if (!(p[i] == '.' || p[i] == '-' || p[i] == ':' || p[i] == '_' ||
              (p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'z') ||
              (p[i] >= 'A' && p[i] <= 'Z')))
            return -1;
    memcpy(host, p, n);
    host[n] = '\0';
    if (colon) {
        char *e;
        unsigned long v = strtoul(colon + 1, &e, 10);
        if (e == colon + 1 || e != end || !v || v > 65535)
            return -1;
        *port = (unsigned)v;
    }
    return 0;
}

/* The user's filter (flag, else config) and "not (host H and port P)" for
 * every push target. A target whose clause does not compile (a name that
 * does not resolve here) is left out with a warning. Returns malloc'd text. */
static char *build_filter(const struct ar_config *cfg, const char *flag)
{
    const char *user = flag ? flag : cfg->filter;
    size_t cap = 256 + (user ? strlen(user) : 0) + (size_t)cfg->npush * 300;
    char *out = ar_xmalloc(cap);
    size_t len = 0;
    out[0] = '\0';
    if (user && *user)
        len += (size_t)snprintf(out, cap, "(%s)", user);
    for (int i = 0; i < cfg->npush; i++) {
        char host[256], clause[320], err[512];
        unsigned port;
        if (url_host_port(cfg->push[i].url, host, sizeof(host), &port) < 0) {
            ar_warn("push url of line %d: cannot read its host and port; its traffic is not "
                    "filtered out", cfg->push[i].line);
            continue;
        }
        snprintf(clause, sizeof(clause), "not (host %s and tcp port %u)", host, port);
        if (ar_live_check_filter(clause, err, sizeof(err)) < 0) {
            ar_warn("push target %s:%u: %s; its traffic is not filtered out", host, port, err);
            continue;
        }
        len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? " and " : "", clause);
    }
    return out;
}

/* ---- packet side ------------------------------------------------------ */

static void fold(struct ar_counters *dst, struct ar_counters *src)
{
    ar_counters_add(dst, src);
    memset(src, 0, sizeof(*src));
}

/* Move the gathered state into the slot if the writer is free. 1 handed,
 * 0 writer busy. Called with sh.mu NOT held. */
static int hand_off(struct live *L)
{
    struct shared *sh = &L->sh;
    pthread_mutex_lock(&sh->mu);
    if (sh->have_snap) {
        pthread_mutex_unlock(&sh->mu);
        return 0;
    }
    struct catbox *spare = sh->spare;
    sh->spare = NULL;
    pthread_mutex_unlock(&sh->mu);

    /* the spare is ours now: its counters (what the last flush counted) join ours */
    fold(&L->ctr, &spare->ctr);
    fold(&L->ctr, &L->cur->ctr);
    struct snapshot *s = &sh->snap; /* free slot: only we write it until have_snap */
    s->box = L->cur;
    for (int i = 0; i < AR_CTR__COUNT; i++)
        s->delta.v[i] = L->ctr.v[i] - L->handed.v[i];
    L->handed = L->ctr;
    struct tls_agg t = s->tls; /* the writer left it empty */
    s->tls = L->tls;
    L->tls = t;
    s->ncol = 0;
    size_t pos = 0;
    const char *h, *p, *c;
    while (ar_templater_collapse_iter(L->tp, &pos, &h, &p, &c)) {
        s->col = ar_xrealloc(s->col, (s->ncol + 1) * sizeof(*s->col));
        s->col[s->ncol].host = ar_xstrdup(h ? h : "");
        s->col[s->ncol].parent = ar_xstrdup(p ? p : "");
        s->col[s->ncol].child = ar_xstrdup(c ? c : "");
        s->ncol++;
    }
    L->cur = spare;

    pthread_mutex_lock(&sh->mu);
    sh->have_snap = 1;
    pthread_cond_signal(&sh->cv);
    pthread_mutex_unlock(&sh->mu);
    return 1;
}

static void on_exchange(const struct ar_exchange *x, void *ud)
{
    struct live *L = ud;
    if (!x->method)
        return;
    if (ar_catalog_count(L->cur->cat) >= L->lim.max_endpoints)
        hand_off(L); /* if the writer is busy, the catalog counts what it drops */
    ar_catalog_add(L->cur->cat, x);
}

static void on_tls(const struct ar_tls *t, void *ud)
{
    struct live *L = ud;
    if (t->server_name[0]) {
        char name[256];
        size_t n = strlen(t->server_name);
        if (n >= sizeof(name))
            n = sizeof(name) - 1;
        for (size_t i = 0; i < n; i++)
            name[i] = (char)((t->server_name[i] >= 'A' && t->server_name[i] <= 'Z')
                                 ? t->server_name[i] + 32 : t->server_name[i]);
        name[n] = '\0';
        tls_add(&L->tls, name, t->alpn, t->ts, L->lim.max_tls_hosts, &L->ctr);
    }
}

static void read_stats(struct live *L)
{
    struct ar_live_stats st;
    char err[512];
    if (ar_live_stats(L->cap, &st, err, sizeof(err)) < 0) {
        ar_warn("%s", err);
        return;
    }
    L->ctr.v[AR_CTR_kernel_received] = st.received;
    L->ctr.v[AR_CTR_kernel_drops] = st.kernel_drops;
    L->ctr.v[AR_CTR_iface_drops] = st.iface_drops;
}

static void status(struct live *L)
{
    char buf[512];
    snprintf(buf, sizeof(buf),
             "STATUS=capturing on %s: %" PRIu64 " packets, %" PRIu64 " exchanges, %" PRIu64
             " kernel drops, %" PRIu64 " interface drops, %" PRIu64 " deferred flushes",
             L->args->iface, AR_GET(&L->ctr, packets), AR_GET(&L->ctr, exchanges),
             AR_GET(&L->ctr, kernel_drops), AR_GET(&L->ctr, iface_drops),
             AR_GET(&L->ctr, flush_deferred));
    ar_sd_notify(buf);
}

static void apply_settings(struct live *L)
{
    struct shared *sh = &L->sh;
    pthread_mutex_lock(&sh->mu);
    if (!sh->have_settings) {
        pthread_mutex_unlock(&sh->mu);
        return;
    }
    struct settings s = sh->settings;
    memset(&sh->settings, 0, sizeof(sh->settings));
    sh->have_settings = 0;
    pthread_mutex_unlock(&sh->mu);
    if (s.ok) {
        char err[1024];
        if (ar_live_set_filter(L->cap, s.filter, err, sizeof(err)) < 0)
            ar_err("reload: %s; the previous filter stays", err);
        else
            ar_info("reload: capture filter '%s'", s.filter);
        L->flush_interval = s.flush_interval;
        ar_log_set_level(s.level);
        if (s.packet_apply)
            s.packet_apply(s.packet_arg, L->tp);
        ar_info("reload: done");
    }
    free(s.filter);
    ar_sd_notify("READY=1");
    status(L);
}

/* ---- writer side ------------------------------------------------------ */

static void dump_line(void *ud, const char *text)
{
    (void)ud;
    ar_info("config: %s", text);
}

static void restart_key(void *ud, const char *key)
{
    (void)ud;
    ar_warn("reload: %s changed; it takes effect at the next restart", key);
}

static void writer_reload(struct live *L)
{
    struct settings s;
    memset(&s, 0, sizeof(s));
    struct ar_config nc;
    char err[1024];
    ar_config_init(&nc);
    const char *path = L->args->config_path ? L->args->config_path : L->cfg.path;
    if (path && ar_config_load(&nc, path, err, sizeof(err)) < 0) {
        ar_err("reload: %s; the running configuration stays", err);
        ar_config_free(&nc);
        goto out;
    }
    ar_config_restart_needed(&L->cfg, &nc, restart_key, NULL);
    struct ar_reload_ctx rc = { &nc, L->store, L->wtp, NULL, NULL };
    if (ar_agent_reload_sources(&rc, err, sizeof(err)) < 0)
        ar_err("reload: sources: %s; the previous sources stay", err);
    s.packet_apply = rc.packet_apply;
    s.packet_arg = rc.packet_arg;
    s.filter = build_filter(&nc, L->args->filter_flag);
    s.flush_interval = nc.flush_interval;
    if (parse_level(nc.log_level, &s.level) < 0)
        s.level = AR_LOG_INFO;
    s.ok = 1;
    ar_config_free(&L->cfg);
    L->cfg = nc; /* keeps the non-reloadable values too: compared at the next reload */
    ar_pusher_reload(L->pusher);
out:
    pthread_mutex_lock(&L->sh.mu);
    free(L->sh.settings.filter);
    L->sh.settings = s;
    L->sh.have_settings = 1;
    pthread_mutex_unlock(&L->sh.mu);
}

static void snap_release(struct snapshot *s)
{
    for (size_t i = 0; i < s->ncol; i++) {
        free(s->col[i].host);
        free(s->col[i].parent);
        free(s->col[i].child);
    }
    s->ncol = 0;
    tls_clear(&s->tls);
}

/* Write the snapshot: 0, or -1 (logged; the snapshot stays for a retry). */
static int writer_flush(struct live *L, int *tls_noted)
{
    struct snapshot *s = &L->sh.snap;
    char err[1024];
    for (size_t i = 0; i < s->ncol; i++)
        ar_templater_seed_collapse(L->wtp, s->col[i].host, s->col[i].parent, s->col[i].child);
    /* the store keeps TLS names until its next successful flush: note them once */
    if (!*tls_noted) {
        for (size_t i = 0; i < s->tls.n; i++) {
            struct tls_ent *e = &s->tls.v[i];
            for (uint64_t k = 0; k + 1 < e->conns; k++)
                ar_store_note_tls(L->store, e->name, e->alpn, e->first);
            ar_store_note_tls(L->store, e->name, e->alpn, e->last);
        }
        *tls_noted = 1;
    }
    struct ar_counters delta = s->delta;
    ar_counters_add(&delta, &L->wctr);
    /* the flush's start and end, with the hits it carries: at debug level, so
     * that a test can tell what was committed and what was in flight */
    uint64_t hits = 0;
    size_t pos = 0;
    struct ar_endpoint *e;
    while ((e = ar_catalog_iter(s->box->cat, &pos)))
        hits += e->hits;
    size_t neps = ar_catalog_count(s->box->cat);
    ar_debug("flush: writing %zu endpoints, %" PRIu64 " hits", neps, hits);
    double t0 = mono_now();
    if (ar_store_flush(L->store, s->box->cat, L->wtp, &delta, err, sizeof(err)) < 0) {
        ar_err("%s (retried at the next flush interval)", err);
        AR_INC(&L->wctr, flush_failed);
        return -1;
    }
    memset(&L->wctr, 0, sizeof(L->wctr));
    ar_debug("flushed %zu endpoints, %" PRIu64 " hits, %zu TLS names in %.3f s", neps, hits,
             s->tls.n, mono_now() - t0);
    ar_catalog_clear(s->box->cat);
    return 0;
}

static void *writer_main(void *arg)
{
    struct live *L = arg;
    struct shared *sh = &L->sh;
    int tls_noted = 0, failed = 0;
    pthread_mutex_lock(&sh->mu);
    for (;;) {
        /* A failed snapshot is retried after a flush interval, or at once
         * when the packet thread is stopping (then only once). */
        while (!sh->reload_req && !sh->stop &&
               !(sh->have_snap && (!failed || sh->draining))) {
            if (!failed || !sh->have_snap) {
                pthread_cond_wait(&sh->cv, &sh->mu);
                continue;
            }
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += (time_t)L->cfg.flush_interval;
            if (pthread_cond_timedwait(&sh->cv, &sh->mu, &until) == ETIMEDOUT)
                failed = 0;
        }
        int reload = sh->reload_req, have = sh->have_snap;
        int last_try = sh->draining || sh->stop;
        sh->reload_req = 0;
        pthread_mutex_unlock(&sh->mu);

        if (reload)
            writer_reload(L);
        if (have) {
            if (writer_flush(L, &tls_noted) == 0) {
                snap_release(&sh->snap);
                tls_noted = 0;
                failed = 0;
                pthread_mutex_lock(&sh->mu);
                sh->spare = sh->snap.box;
                sh->snap.box = NULL;
                sh->have_snap = 0;
                pthread_cond_broadcast(&sh->idle);
                pthread_mutex_unlock(&sh->mu);
            } else if (last_try) {
                pthread_mutex_lock(&sh->mu);
                sh->final_failed = 1;
                pthread_cond_broadcast(&sh->idle);
                pthread_mutex_unlock(&sh->mu);
                return NULL;
            } else {
                failed = 1;
            }
        }
        pthread_mutex_lock(&sh->mu);
        if (sh->stop && !sh->have_snap && !sh->reload_req)
            break;
    }
    pthread_mutex_unlock(&sh->mu);
    return NULL;
}

/* ---- start, loop, stop ------------------------------------------------ */

static void summary_json(const struct ar_counters *c)
{
    struct ar_json j;
    ar_json_init(&j);
    ar_json_obj_open(&j);
    for (int i = 0; i < AR_CTR__COUNT; i++)
        ar_json_kuint(&j, ar_counter_name(i), c->v[i]);
    ar_json_obj_close(&j);
    ar_json_append(&j, "\n", 1);
    ar_write_stdout(&j);
    ar_json_free(&j);
}

static struct ar_templater *new_templater(const struct ar_config *cfg, struct ar_counters *ctr)
{
    struct ar_templater *tp = ar_templater_new(&cfg->lim, ctr);
    if (cfg->words && *cfg->words && ar_templater_load_words(tp, cfg->words) < 0 && ctr)
        ar_warn("%s: cannot read the word list; only built-in API words stay literal",
                cfg->words);
    for (int i = 0; i < cfg->npins; i++)
        ar_templater_pin(tp, cfg->pins[i].host, cfg->pins[i].pattern);
    return tp;
}

static void packet_loop(struct live *L)
{
    char err[1024];
    struct pollfd pfd = { .fd = ar_live_fd(L->cap), .events = POLLIN };
    uint64_t wd_usec = ar_sd_watchdog_usec();
    double wd_every = wd_usec ? (double)wd_usec / 2e6 : 0;
    double t = mono_now();
    double next_tick = t + 1.0, next_flush = t + (double)L->flush_interval,
           next_wd = wd_every ? t : 0;
    /* A hand-off found the writer busy: try again every AR_RETRY_S until it
     * is free, not a whole interval later. A flush that overran the interval
     * then delays the next one by its overrun only, so that what a crash can
     * lose stays one interval plus the flush in progress. */
    const double AR_RETRY_S = 0.05;
    double deferred_since = 0, next_retry = 0;

    while (!sig_stop) {
        t = mono_now();
        double wake = next_tick;
        if (next_flush < wake)
            wake = next_flush;
        if (deferred_since && next_retry < wake)
            wake = next_retry;
        if (wd_every && next_wd < wake)
            wake = next_wd;
        int timeout = (int)((wake - t) * 1000.0 + 0.999); /* not a ms early */
        if (timeout < 0)
            timeout = 0;
        if (timeout > 1000)
            timeout = 1000;
        int pr = poll(&pfd, 1, timeout);
        if (pr < 0 && errno != EINTR) {
            ar_err("poll: %s", strerror(errno));
            break;
        }
        /* Drain what is ready, in batches, but come back to the timers within
         * about 100 ms under load. */
        double budget_end = mono_now() + 0.1;
        int n;
        do {
            n = ar_live_dispatch(L->cap, L->col, 4096, err, sizeof(err));
            if (n < 0) {
                ar_err("%s", err);
                sig_stop = 1;
                break;
            }
        } while (n > 0 && !sig_stop && mono_now() < budget_end);

        t = mono_now();
        if (wd_every && t >= next_wd) {
            ar_sd_notify("WATCHDOG=1");
            next_wd = t + wd_every;
        }
        if (t >= next_tick) {
            next_tick = t + 1.0;
            read_stats(L);
            /* packet time drives the timeouts; on a quiet link, wall time */
            ar_collector_expire(L->col, wall_now());
            apply_settings(L);
        }
        if (t >= next_flush) {
            next_flush = t + (double)L->flush_interval;
            read_stats(L);
            if (hand_off(L)) {
                deferred_since = 0;
            } else {
                AR_INC(&L->ctr, flush_deferred);
                ar_warn("flush deferred: the writer is still busy with the previous one");
                if (!deferred_since)
                    deferred_since = t;
                next_retry = t + AR_RETRY_S;
            }
            status(L);
        } else if (deferred_since && t >= next_retry) {
            read_stats(L);
            if (hand_off(L)) {
                ar_debug("deferred flush handed over %.3f s late", t - deferred_since);
                deferred_since = 0;
            } else {
                next_retry = t + AR_RETRY_S;
            }
        }
        if (sig_hup) {
            sig_hup = 0;
            ar_info("SIGHUP: reloading the configuration");
            ar_sd_notify("RELOADING=1");
            pthread_mutex_lock(&L->sh.mu);
            L->sh.reload_req = 1;
            pthread_cond_signal(&L->sh.cv);
            pthread_mutex_unlock(&L->sh.mu);
        }
    }
}

static int stop_and_flush(struct live *L)
{
    struct shared *sh = &L->sh;
    ar_sd_notify("STOPPING=1");
    ar_info("stopping: closing flows and writing the last flush");
    /* what the kernel already queued is read, not lost (at most a few batches) */
    char err[512];
    for (int i = 0; i < 64 && ar_live_dispatch(L->cap, L->col, 4096, err, sizeof(err)) > 0; i++)
        ;
    read_stats(L);
    ar_collector_finish(L->col);
    /* let the writer finish (or retry once) the snapshot it has, then hand
     * it the last one */
    pthread_mutex_lock(&sh->mu);
    sh->draining = 1;
    pthread_cond_signal(&sh->cv);
    while (sh->have_snap && !sh->final_failed)
        pthread_cond_wait(&sh->idle, &sh->mu);
    int failed = sh->final_failed;
    pthread_mutex_unlock(&sh->mu);
    if (!failed)
        hand_off(L);
    pthread_mutex_lock(&sh->mu);
    sh->stop = 1;
    pthread_cond_signal(&sh->cv);
    pthread_mutex_unlock(&sh->mu);
    pthread_join(L->writer, NULL);
    return sh->final_failed ? -1 : 0;
}

int ar_capture_live(const struct ar_live_args *a)
{
    static struct live L; /* one per process; big (the config) */
    char err[1024];
    memset(&L, 0, sizeof(L));
    L.args = a;
    ar_load_config(&L.cfg, a->config_path);
    enum ar_log_level lvl;
    if (parse_level(L.cfg.log_level, &lvl) == 0)
        ar_log_set_level(lvl);
    L.lim = L.cfg.lim;
    L.flush_interval = L.cfg.flush_interval;
    L.db_path = ar_db_path(a->db_flag, &L.cfg);
    ar_info("apiroster %s starting: live capture on %s, database %s", "0.1.0", a->iface,
            L.db_path);
    ar_config_dump(&L.cfg, dump_line, NULL);

    char *filter = build_filter(&L.cfg, a->filter_flag);
    if (ar_live_check_filter(filter, err, sizeof(err)) < 0)
        ar_die(AR_EXIT_USAGE, "%s", err);
    ar_info("capture filter: '%s'", filter);

    /* privileged part: the capture handle and the notify socket */
    struct ar_live_opts o = { a->iface, L.cfg.snaplen, L.cfg.buffer, 0, filter };
    if (ar_live_open(&o, &L.cap, err, sizeof(err)) < 0)
        ar_die(AR_EXIT_FAIL, "%s", err);
    free(filter);
    ar_sd_init();
    struct ar_privs pv;
    if (ar_drop_privileges(L.cfg.user, &pv, err, sizeof(err)) < 0)
        ar_die(AR_EXIT_FAIL, "%s", err);
    ar_info("running as user %s (uid %u), no capabilities, no-new-privileges", pv.user,
            (unsigned)pv.uid);

    /* the database is opened as that user, so every file SQLite makes is its own */
    if (!(L.store = ar_roster_open_capture(L.db_path, &L.cfg, err, sizeof(err))))
        ar_die(AR_EXIT_USAGE, "%s%s", err,
               pv.dropped ? " (the database and its directory must be writable by the "
                            "capture user: see [capture] user)" : "");
    ar_store_set_limits(L.store, &L.lim, &L.wctr);
    L.tp = new_templater(&L.cfg, &L.ctr);
    L.wtp = new_templater(&L.cfg, NULL);
    if (ar_store_load_collapses(L.store, L.tp, err, sizeof(err)) < 0 ||
        ar_store_load_collapses(L.store, L.wtp, err, sizeof(err)) < 0)
        ar_die(AR_EXIT_FAIL, "%s", err);
    struct ar_reload_ctx rc = { &L.cfg, L.store, L.wtp, NULL, NULL };
    if (ar_agent_reload_sources(&rc, err, sizeof(err)) < 0)
        ar_die(AR_EXIT_USAGE, "%s", err);
    if (rc.packet_apply) /* no packet thread yet: apply now */
        rc.packet_apply(rc.packet_arg, L.tp);

    for (int i = 0; i < 2; i++)
        L.boxes[i].cat = ar_catalog_new(&L.lim, &L.boxes[i].ctr, L.tp);
    L.cur = &L.boxes[0];
    ar_hash_key_random(&L.tls.key);
    ar_hash_key_random(&L.sh.snap.tls.key);
    struct ar_collector_hooks hooks = { .on_exchange = on_exchange, .on_tls = on_tls, .ud = &L };
    L.col = ar_collector_new(&L.lim, &hooks, &L.ctr);
    if (!L.col)
        ar_die(AR_EXIT_FAIL, "cannot initialize the collector (nDPI)");

    pthread_mutex_init(&L.sh.mu, NULL);
    pthread_cond_init(&L.sh.cv, NULL);
    pthread_cond_init(&L.sh.idle, NULL);
    L.sh.spare = &L.boxes[1];

    /* the writer runs with the signals blocked: they reach the packet thread */
    sigset_t all, old;
    sigemptyset(&all);
    sigaddset(&all, SIGTERM);
    sigaddset(&all, SIGINT);
    sigaddset(&all, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    if (pthread_create(&L.writer, NULL, writer_main, &L) != 0)
        ar_die(AR_EXIT_FAIL, "cannot start the writer thread");
    L.pusher = ar_pusher_start(L.db_path, a->config_path ? a->config_path : L.cfg.path);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    ar_info("capturing on %s (link type %d), flush every %" PRIu64 " s", a->iface,
            ar_live_datalink(L.cap), L.flush_interval);
    ar_sd_notify("READY=1");
    status(&L);

    packet_loop(&L);
    ar_pusher_stop(L.pusher);
    int rc_stop = stop_and_flush(&L);

    const struct ar_counters *c = &L.ctr;
    ar_info("stopped: %" PRIu64 " packets, %" PRIu64 " exchanges, %" PRIu64 " kernel drops, %" PRIu64
            " interface drops, %" PRIu64 " gaps, %" PRIu64 " parse errors",
            AR_GET(c, packets), AR_GET(c, exchanges), AR_GET(c, kernel_drops),
            AR_GET(c, iface_drops), AR_GET(c, tcp_gaps), AR_GET(c, http_parse_errors));
    if (a->json)
        summary_json(c);

    ar_collector_free(L.col);
    ar_live_close(L.cap);
    for (int i = 0; i < 2; i++)
        ar_catalog_free(L.boxes[i].cat);
    snap_release(&L.sh.snap);
    free(L.sh.snap.col);
    tls_free(&L.sh.snap.tls);
    tls_free(&L.tls);
    free(L.sh.settings.filter);
    ar_templater_free(L.tp);
    ar_templater_free(L.wtp);
    ar_store_close(L.store);
    ar_config_free(&L.cfg);
    ar_sd_close();
    pthread_mutex_destroy(&L.sh.mu);
    pthread_cond_destroy(&L.sh.cv);
    pthread_cond_destroy(&L.sh.idle);
    return rc_stop < 0 ? AR_EXIT_FAIL : AR_EXIT_OK;
}

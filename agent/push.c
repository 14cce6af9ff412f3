/* push.c - send the outbox's deliveries with libcurl (the only file that
 * includes curl): Standard Webhooks headers, TLS verified, no redirects, no
 * proxy from the environment, retry state kept in the database.
 *
 * libcurl is opened (dlopen) the first time something is sent, not linked:
 * with the thirty libraries it pulls in (TLS, Kerberos, LDAP, SSH, ...) it
 * took 6 ms at the start of every command, a capture of 100 ms included. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <curl/curl.h>
#include "../core/json.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../inventory/outbox.h"
#include "../inventory/store.h"
#include "../ownership/team.h"
#include "openapi.h"
#include "push.h"
#include "webhook.h"

#define SECRET_FILE_MAX 4096

/* A target ready to send: its config, key and extra headers. */
struct target {
    const struct ar_push_cfg *cfg;
    struct ar_outbox_target ot;
    char team[256];                 /* the TEAM of [push "TEAM"], canonical (team.h) */
    uint8_t key[AR_SECRET_MAX];
    size_t keylen;
    char **extra;                   /* from headers_file; values never logged */
    size_t nextra;
};

static double now_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double rand01(void)
{
    uint64_t r = 0;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
        r = (uint64_t)rand() * 2654435761u;
    return (double)(r >> 11) / 9007199254740992.0;     /* 2^53 */
}

static void label_of(const struct ar_push_cfg *p, char *out, size_t outsz)
{
    if (p->team)
        snprintf(out, outsz, "[push \"%s\"]", p->team);
    else
        snprintf(out, outsz, "[push]");
}

/* ---- the OpenAPI hook --------------------------------------------------- */

/* ---- checking and loading targets ------------------------------------- */

/* ---- libcurl, opened on first use ---------------------------------------- */

static struct {
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    void (*easy_cleanup)(CURL *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    char err[256];                  /* why it could not be opened */
} cu;
static pthread_once_t cu_once = PTHREAD_ONCE_INIT;

static void cu_open(void)
{
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(cu.err, sizeof(cu.err), "cannot load libcurl (%s)", dlerror());
        return;
    }
    CURLcode (*global_init)(long) = NULL;
    /* POSIX's way to take a function from dlsym */
#define SYM(var, name) \
    if (!(*(void **)&(var) = dlsym(h, name))) { \
        snprintf(cu.err, sizeof(cu.err), "libcurl.so.4 has no %s", name); \
        return; \
    }
    SYM(global_init, "curl_global_init");
    SYM(cu.easy_init, "curl_easy_init");
    SYM(cu.easy_setopt, "curl_easy_setopt");
    SYM(cu.easy_perform, "curl_easy_perform");
    SYM(cu.easy_getinfo, "curl_easy_getinfo");
    SYM(cu.easy_strerror, "curl_easy_strerror");
    SYM(cu.easy_cleanup, "curl_easy_cleanup");
    SYM(cu.slist_append, "curl_slist_append");
    SYM(cu.slist_free_all, "curl_slist_free_all");
#undef SYM
    if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        snprintf(cu.err, sizeof(cu.err), "libcurl: curl_global_init failed");
}

/* 0 once libcurl is there (the first call opens it), or -1 with the reason. */
static int cu_ready(char *err, size_t errsz)
{
    pthread_once(&cu_once, cu_open);
    if (!cu.err[0])
        return 0;
    ar_strlcpy(err, cu.err, errsz);
    return -1;
}

static int add_header(void *ud, const char *line)
{
    struct target *t = ud;
    t->extra = ar_xrealloc(t->extra, (t->nextra + 1) * sizeof(*t->extra));
    t->extra[t->nextra++] = ar_xstrdup(line);
    return 0;
}

static void free_headers(struct target *t)
{
    for (size_t i = 0; i < t->nextra; i++) {
        memset(t->extra[i], 0, strlen(t->extra[i]));    /* values may be credentials */
        free(t->extra[i]);
    }
    free(t->extra);
    t->extra = NULL;
    t->nextra = 0;
}

static int where(const struct ar_config *cfg, const struct ar_push_cfg *p, char *err,
                 size_t errsz, const char *fmt, const char *a, const char *b)
{
    char why[900];
    snprintf(why, sizeof(why), fmt, a, b);
    snprintf(err, errsz, "%s:%d: %s", cfg->path ? cfg->path : "(config)", p->line, why);
    return -1;
}

static int target_load(const struct ar_config *cfg, const struct ar_push_cfg *p, struct target *t,
                       char *err, size_t errsz)
{
    char why[512];
    memset(t, 0, sizeof(*t));
    t->cfg = p;
    /* owners are stored canonical: [push "@shop/orders"] routes the deltas of
     * shop/orders, and is the target shop/orders however it is spelled */
    if (p->team && ar_team_canon(p->team, t->team, sizeof(t->team)) < 0)
        return where(cfg, p, err, errsz, "[push \"%s\"]: not a team name%s", p->team, "");
    t->ot.name = p->team ? t->team : "";
    t->ot.url = p->url;
    t->ot.team = p->team ? t->team : NULL;
    t->ot.batch = p->batch ? p->batch : 1;
    if (!p->url || (strncasecmp(p->url, "https://", 8) && strncasecmp(p->url, "http://", 7)))
        return where(cfg, p, err, errsz, "url must start with https:// or http://%s%s", "", "");
    if (!p->secret_file)
        return where(cfg, p, err, errsz, "no secret_file: deliveries are always signed "
                     "(Standard Webhooks)%s%s", "", "");
    FILE *fp = fopen(p->secret_file, "r");
    if (!fp)
        return where(cfg, p, err, errsz, "secret_file %s: %s", p->secret_file, strerror(errno));
    char buf[SECRET_FILE_MAX + 1];
    size_t n = fread(buf, 1, sizeof(buf), fp);
    int bad = ferror(fp);
    fclose(fp);
    if (bad || n > SECRET_FILE_MAX)
        return where(cfg, p, err, errsz, "secret_file %s: %s", p->secret_file,
                     bad ? "read error" : "larger than 4 KiB");
    int k = ar_webhook_key(buf, n, t->key, sizeof(t->key), why, sizeof(why));
    memset(buf, 0, sizeof(buf));
    if (k < 0)
        return where(cfg, p, err, errsz, "secret_file %s: %s", p->secret_file, why);
    t->keylen = (size_t)k;
    if (p->headers_file && ar_headers_load(p->headers_file, add_header, t, why,
                                           sizeof(why)) < 0) {
        free_headers(t);
        return where(cfg, p, err, errsz, "headers_file: %s%s", why, "");
    }
    return 0;
}

static void target_release(struct target *t)
{
    free_headers(t);
    memset(t->key, 0, sizeof(t->key));
}

int ar_push_check(const struct ar_config *cfg, char *err, size_t errsz)
{
    for (int i = 0; i < cfg->npush; i++) {
        struct target t;
        int rc = target_load(cfg, &cfg->push[i], &t, err, errsz);
        target_release(&t);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* ---- one attempt -------------------------------------------------------- */

struct resp {
    char retry_after[80];
    int have_retry_after;
};

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len > sizeof(name) - 1 && !strncasecmp(buf, name, sizeof(name) - 1)) {
        size_t vl = len - (sizeof(name) - 1);
        if (vl >= sizeof(r->retry_after))
            vl = sizeof(r->retry_after) - 1;
        memcpy(r->retry_after, buf + sizeof(name) - 1, vl);
        r->retry_after[vl] = '\0';
        r->have_retry_after = 1;
    }
    return len;
}

static const atomic_int *cancel_flag;

void ar_push_cancel_on(const atomic_int *flag)
{
    cancel_flag = flag;
}

static int cancelled(void)
{
    return cancel_flag && atomic_load(cancel_flag);
}

static int on_progress(void *ud, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
    (void)ud; (void)dlt; (void)dln; (void)ult; (void)uln;
    return cancelled();     /* non-zero: CURLE_ABORTED_BY_CALLBACK */
}

static size_t on_body(char *buf, size_t size, size_t n, void *ud)
{
    (void)buf;
    (void)ud;
    return size * n;        /* the receiver's answer is not needed */
}

enum outcome { OUT_DELIVERED, OUT_RETRY, OUT_GONE, OUT_DEAD, OUT_LOCAL };

struct attempt {
    long http;
    double retry_after;     /* -1: none */
    char error[256];
};

static int slist_add(struct curl_slist **l, const char *line)
{
    struct curl_slist *n = cu.slist_append(*l, line);
    if (!n)
        return -1;
    *l = n;
    return 0;
}

static enum outcome send_one(struct target *t, const struct ar_delivery *d, struct attempt *a)
{
    char hdr[256], sig[128];
    struct curl_slist *h = NULL;
    struct resp r = { .have_retry_after = 0 };
    char curlerr[CURL_ERROR_SIZE] = "";
    enum outcome out = OUT_LOCAL;
    long long ts = (long long)time(NULL);
    size_t blen = strlen(d->body);

    a->http = 0;
    a->retry_after = -1;
    a->error[0] = '\0';
    if (ar_webhook_sign(t->key, t->keylen, d->webhook_id, ts, d->body, blen, sig,
                        sizeof(sig)) < 0) {
        snprintf(a->error, sizeof(a->error), "cannot sign (OpenSSL HMAC)");
        return OUT_LOCAL;
    }
    CURL *c = cu.easy_init();
    if (!c) {
        snprintf(a->error, sizeof(a->error), "cannot start libcurl");
        return OUT_LOCAL;
    }
    int ok = slist_add(&h, "content-type: application/json") == 0;
    snprintf(hdr, sizeof(hdr), "webhook-id: %s", d->webhook_id);
    ok = ok && slist_add(&h, hdr) == 0;
    snprintf(hdr, sizeof(hdr), "webhook-timestamp: %lld", ts);
    ok = ok && slist_add(&h, hdr) == 0;
    snprintf(hdr, sizeof(hdr), "webhook-signature: %s", sig);
    ok = ok && slist_add(&h, hdr) == 0;
    ok = ok && slist_add(&h, "Expect:") == 0;          /* no 100-continue round trip */
    for (size_t i = 0; ok && i < t->nextra; i++)
        ok = slist_add(&h, t->extra[i]) == 0;
    if (!ok) {
        snprintf(a->error, sizeof(a->error), "out of memory");
        goto out;
    }
    cu.easy_setopt(c, CURLOPT_URL, t->cfg->url);
    cu.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    cu.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    cu.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    cu.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    cu.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    cu.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    cu.easy_setopt(c, CURLOPT_PROXY, "");             /* ignore *_proxy variables */
    cu.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)t->cfg->connect_timeout);
    cu.easy_setopt(c, CURLOPT_TIMEOUT, (long)t->cfg->timeout);
    cu.easy_setopt(c, CURLOPT_USERAGENT, "apiroster/0.1.0");
    cu.easy_setopt(c, CURLOPT_POST, 1L);
    cu.easy_setopt(c, CURLOPT_POSTFIELDS, d->body);
    cu.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    cu.easy_setopt(c, CURLOPT_HTTPHEADER, h);
    cu.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    cu.easy_setopt(c, CURLOPT_HEADERDATA, &r);
    cu.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    cu.easy_setopt(c, CURLOPT_ERRORBUFFER, curlerr);
    cu.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    cu.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);

    CURLcode rc = cu.easy_perform(c);
    if (rc != CURLE_OK) {
        /* Connection refused, timeout, TLS failure...: the receiver may come back. */
        snprintf(a->error, sizeof(a->error), "%s%s%s", cu.easy_strerror(rc),
                 curlerr[0] ? ": " : "", curlerr);
        out = OUT_RETRY;
        goto out;
    }
    cu.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->http);
    if (r.have_retry_after) {
        double w;
        if (ar_retry_after_parse(r.retry_after, (time_t)time(NULL), &w) == 0)
            a->retry_after = w;
    }
    if (a->http >= 200 && a->http < 300) {
        out = OUT_DELIVERED;
    } else if (a->http == 410) {
        snprintf(a->error, sizeof(a->error), "HTTP 410 Gone: target disabled");
        out = OUT_GONE;
    } else if (a->http == 429 || (a->http >= 500 && a->http < 600)) {
        snprintf(a->error, sizeof(a->error), "HTTP %ld", a->http);
        out = OUT_RETRY;
    } else {
        snprintf(a->error, sizeof(a->error), "HTTP %ld%s", a->http,
                 a->http >= 300 && a->http < 400 ? " (redirects are not followed)" : "");
        out = OUT_DEAD;
    }
out:
    cu.slist_free_all(h);
    cu.easy_cleanup(c);
    return out;
}

/* ---- the run ------------------------------------------------------------ */

struct idlist {
    int64_t *v;
    size_t n;
    double now;
    int force;
};

static int collect(const struct ar_delivery *d, void *ud)
{
    struct idlist *l = ud;
    if (!l->force && d->next_attempt > l->now)
        return 0;
    l->v = ar_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    l->v[l->n++] = d->id;
    return 0;
}

struct send_ctx {
    struct ar_store *s;
    struct target *t;
    struct ar_push_target_report *tr;
    int stop;               /* this target is done for this run */
    int dberr;
};

static int attempt_cb(const struct ar_delivery *d, void *ud)
{
    struct send_ctx *x = ud;
    struct ar_push_target_report *tr = x->tr;
    struct attempt a;
    if (d->status != AR_DELIVERY_PENDING || !d->body)
        return 0;
    if (cancelled()) {
        x->stop = 1;
        return 0;
    }
    enum outcome o = send_one(x->t, d, &a);
    if (o == OUT_RETRY && cancelled()) {   /* our stop, not the receiver: not an attempt */
        x->stop = 1;
        return 0;
    }
    double now = now_wall();
    int rc = 0;
    tr->attempts++;
    tr->last_http = (int)a.http;
    switch (o) {
    case OUT_DELIVERED:
        tr->delivered++;
        rc = ar_outbox_delivered(x->s, d->id, now, (int)a.http);
        ar_debug("push: %s: %s delivered (HTTP %ld)", tr->label, d->webhook_id, a.http);
        break;
    case OUT_GONE:
        rc = ar_outbox_retry_at(x->s, d->id, now, now, (int)a.http, a.error);
        if (rc == 0)
            rc = ar_outbox_disable(x->s, x->t->ot.name, now, "HTTP 410 Gone");
        tr->newly_disabled = 1;
        ar_warn("push: %s answered 410 Gone: target disabled (its deliveries are kept; "
                "change its url to enable it again)", tr->label);
        x->stop = 1;
        break;
    case OUT_RETRY:
    case OUT_LOCAL: {
        double wait = ar_backoff((unsigned)(d->attempts + 1), rand01());
        if (a.retry_after > wait)
            wait = a.retry_after;
        tr->retried++;
        rc = ar_outbox_retry_at(x->s, d->id, now, now + wait, (int)a.http, a.error);
        ar_warn("push: %s: %s: %s; next attempt in %.0fs", tr->label, d->webhook_id, a.error,
                wait);
        x->stop = 1;    /* keep order; the receiver is not taking deliveries now */
        break;
    }
    case OUT_DEAD:
        tr->dead++;
        rc = ar_outbox_dead(x->s, d->id, now, (int)a.http, a.error);
        ar_warn("push: %s: %s: %s; delivery failed (kept; apiroster push --retry-failed "
                "sends it again)", tr->label, d->webhook_id, a.error);
        break;
    }
    if (o != OUT_DELIVERED)
        ar_strlcpy(tr->last_error, a.error, sizeof(tr->last_error));
    if (rc < 0)
        x->dberr = 1;
    return 0;
}

struct dry_ctx {
    void (*fn)(void *, const char *, const char *, int, const char *);
    void *ud;
    const char *label;
    double now;
};

static int dry_cb(const struct ar_delivery *d, void *ud)
{
    struct dry_ctx *c = ud;
    c->fn(c->ud, c->label, d->webhook_id, d->attempts == 0 && d->created == c->now,
          d->body ? d->body : "");
    return 0;
}

static int finish_state(struct ar_store *s, struct target *t, struct ar_push_target_report *tr,
                        struct ar_push_report *rep)
{
    struct ar_outbox_state st;
    char err[512];
    if (ar_outbox_state(s, &t->ot, &st, err, sizeof(err)) < 0) {
        if (!rep->err[0])
            ar_strlcpy(rep->err, err, sizeof(rep->err));
        return -1;
    }
    tr->pending = st.pending;
    tr->failed = st.failed;
    tr->unassigned = st.unassigned;
    tr->disabled = st.disabled;
    tr->disabled_at = st.disabled_at;
    tr->next_attempt = st.next_attempt;
    if (!tr->last_error[0])
        ar_strlcpy(tr->last_error, st.last_error, sizeof(tr->last_error));
    rep->pending += st.pending + st.unassigned;
    rep->failed += st.failed;
    return 0;
}

/* Plan the target's deliveries. format = openapi: the team's (or the whole
 * roster's) document, built in the planning transaction so that it holds
 * every change the delivery consumes; only when there are changes. */
static int plan(struct ar_store *s, struct target *t, const char *host, double now, int own_tx,
                int *created, int *disabled, int *reenabled, char *err, size_t errsz)
{
    if (!t->cfg->format || strcmp(t->cfg->format, "openapi"))
        return ar_outbox_plan(s, &t->ot, host, now, created, disabled, reenabled, err, errsz);
    struct ar_outbox_state st;
    struct ar_json doc;
    int rc = -1;
    ar_json_init(&doc);
    if (own_tx && ar_outbox_begin(s, err, errsz) < 0)
        return -1;
    if (ar_outbox_state(s, &t->ot, &st, err, errsz) < 0)
        goto out;
    if (st.unassigned &&
        ar_openapi_document(s, NULL, t->ot.team, &doc, err, errsz) < 0)
        goto out;
    t->ot.document = st.unassigned ? doc.buf : "{}";
    rc = ar_outbox_plan(s, &t->ot, host, now, created, disabled, reenabled, err, errsz);
    t->ot.document = NULL;
    if (rc == 0 && own_tx)
        rc = ar_outbox_commit(s, err, errsz);
out:
    if (rc < 0 && own_tx)
        ar_outbox_rollback(s);
    ar_json_free(&doc);
    return rc;
}

static int run(struct ar_store *s, const struct ar_config *cfg, unsigned flags,
               void (*dry)(void *, const char *, const char *, int, const char *), void *ud,
               struct ar_push_report *rep)
{
    char host[256] = "";
    int refused = 0, dberr = 0, remaining = 0;
    double now = now_wall();
    memset(rep, 0, sizeof(*rep));
    if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
        ar_strlcpy(host, "unknown", sizeof(host));
    if (dry && ar_outbox_begin(s, rep->err, sizeof(rep->err)) < 0)
        return -1;
    if (!dry && cu_ready(rep->err, sizeof(rep->err)) < 0)
        return -1;
    for (int i = 0; i < cfg->npush && i < AR_MAX_PUSH; i++) {
        const struct ar_push_cfg *p = &cfg->push[i];
        struct ar_push_target_report *tr = &rep->t[rep->ntargets++];
        struct target t;
        char err[1024];
        label_of(p, tr->label, sizeof(tr->label));
        ar_strlcpy(tr->name, p->team ? p->team : "", sizeof(tr->name));
        if (target_load(cfg, p, &t, err, sizeof(err)) < 0) {
            tr->refused = 1;
            refused = 1;
            ar_strlcpy(tr->last_error, err, sizeof(tr->last_error));
            if (!rep->err[0])
                ar_strlcpy(rep->err, err, sizeof(rep->err));
            target_release(&t);
            continue;
        }
        ar_strlcpy(tr->name, t.ot.name, sizeof(tr->name));
        if ((flags & AR_PUSH_RETRY_FAILED) && !dry &&
            ar_outbox_requeue_failed(s, t.ot.name, now) < 0)
            goto dbfail;
        int created, disabled, reenabled;
        if (plan(s, &t, host, now, !dry, &created, &disabled, &reenabled, err, sizeof(err)) < 0)
            goto dbfail;
        tr->planned = (uint64_t)created;
        tr->reenabled = reenabled;
        if (reenabled)
            ar_info("push: %s: url changed since it was disabled: enabled again", tr->label);
        if (dry) {
            struct dry_ctx dc = { .fn = dry, .ud = ud, .label = tr->label, .now = now };
            if (ar_outbox_each_delivery(s, t.ot.name, 1, dry_cb, &dc, err, sizeof(err)) < 0)
                goto dbfail;
        } else if (!disabled) {
            struct idlist l = { .now = now, .force = (flags & AR_PUSH_FORCE) != 0 };
            if (ar_outbox_each_delivery(s, t.ot.name, 0, collect, &l, err, sizeof(err)) < 0) {
                free(l.v);
                goto dbfail;
            }
            struct send_ctx x = { .s = s, .t = &t, .tr = tr };
            for (size_t k = 0; k < l.n && !x.stop; k++)
                if (ar_outbox_get(s, l.v[k], attempt_cb, &x, err, sizeof(err)) < 0)
                    x.dberr = 1;
            free(l.v);
            if (x.dberr) {
                snprintf(err, sizeof(err), "cannot record a delivery attempt in the database");
                goto dbfail;
            }
        }
        if (finish_state(s, &t, tr, rep) < 0)
            dberr = 1;
        rep->attempts += tr->attempts;
        rep->delivered += tr->delivered;
        if (tr->pending || tr->failed || tr->unassigned || tr->disabled)
            remaining = 1;
        target_release(&t);
        continue;
dbfail:
        if (!rep->err[0])
            ar_strlcpy(rep->err, err, sizeof(rep->err));
        dberr = 1;
        target_release(&t);
    }
    if (dry)
        ar_outbox_rollback(s);
    if (dberr)
        return -1;
    if (refused)
        return 2;
    return remaining ? 1 : 0;
}

int ar_push_run(struct ar_store *s, const struct ar_config *cfg, unsigned flags,
                struct ar_push_report *rep)
{
    return run(s, cfg, flags, NULL, NULL, rep);
}

int ar_push_dry_run(struct ar_store *s, const struct ar_config *cfg,
                    void (*fn)(void *ud, const char *label, const char *webhook_id, int is_new,
                               const char *body),
                    void *ud, struct ar_push_report *rep)
{
    return run(s, cfg, AR_PUSH_FORCE, fn, ud, rep);
}

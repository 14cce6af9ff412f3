/* shards.c - capture files read on several cores.
 *
 * n shard threads each read every file and decode every packet, but each one
 * tracks only the flows that hash to it (ar_collector_set_shard): flow table,
 * reassembly, nDPI and HTTP run in parallel. Their exchanges and TLS
 * summaries come back to the calling thread, which runs the caller's hooks
 * (catalog, templater, store: single-threaded as before) in a fixed order: by
 * the index of the packet that completed them, then by shard, with what the
 * end of the input closes last. That order depends only on the files, never
 * on how the threads were scheduled, so every result does too.
 *
 * Between a shard and the caller: chunks of records (an exchange or a TLS
 * summary, its strings copied). A shard hands its chunk over when it is full
 * and at every tick of its collector (AR_COLLECTOR_TICK packets), with the
 * number of packets it has processed: no record of that shard can then come
 * before that packet. At most SH_CHUNKS chunks per shard are in flight; a
 * shard that gets that far ahead waits, so memory stays bounded. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../core/hash.h"
#include "../core/util.h"
#include "shards.h"

#define SH_CHUNK (64u * 1024)   /* bytes of records per chunk (one record may need more) */
#define SH_CHUNKS 16            /* chunks in flight per shard */
#define SEQ_END UINT64_MAX      /* records made by the end of the input */

enum { REC_EXCHANGE = 1, REC_TLS = 2 };
#define X_STRINGS 9
#define T_STRINGS 4
#define NO_STRING UINT32_MAX

struct chunk {
    struct chunk *next;
    size_t len, cap, pos;       /* pos: the caller's read offset */
    uint8_t *data;
};

struct shard {
    struct ar_shards *sh;
    unsigned k;
    pthread_t tid;
    struct ar_collector *col;
    struct ar_counters ctr;
    struct ar_limits lim;
    struct chunk *cur;          /* being filled by the shard */
    int finishing;              /* ar_collector_finish is running */
    int rc;
    char err[512];
    /* under sh->mu */
    struct chunk *qhead, *qtail;
    unsigned inflight;          /* chunks queued, held by the caller, or being filled */
    uint64_t upto;              /* packets processed when the last chunk was handed over */
    int done;
    int waiting;                /* the shard waits for space */
    struct chunk *spare;        /* chunks read through, for the shard to fill again */
    pthread_cond_t space;
    /* the caller's side */
    struct chunk *rd;
};

struct ar_shards {
    pthread_mutex_t mu;
    pthread_cond_t more;        /* a shard handed something over */
    pthread_cond_t start;
    int go;                     /* 1: run, -1: do not (a thread could not start) */
    int caller_waiting;         /* signal `more` only then */
    unsigned n;
    struct shard *s;
    char *const *files;
    int nfiles;
    const char *filter;
    struct ar_capture_feed *feed;   /* the files, read once for all shards */
};

/* ---- the shard's side --------------------------------------------------- */

static struct chunk *chunk_new(size_t cap)
{
    struct chunk *c = ar_xcalloc(1, sizeof(*c));
    c->cap = cap;
    c->data = ar_xmalloc(cap);
    return c;
}

static void chunk_free(struct chunk *c)
{
    if (c) {
        free(c->data);
        free(c);
    }
}

/* Hand the current chunk over (if it holds anything) with how far the shard
 * got: every record of a packet index up to `upto` is then handed over. Wait
 * while SH_CHUNKS are in flight. */
static void hand_over(struct shard *s, uint64_t upto, int done)
{
    struct ar_shards *sh = s->sh;
    pthread_mutex_lock(&sh->mu);
    if (s->cur && s->cur->len) {
        if (s->qtail)
            s->qtail->next = s->cur;
        else
            s->qhead = s->cur;
        s->qtail = s->cur;
        s->cur = NULL;
    }
    s->upto = upto;
    s->done = done;
    if (sh->caller_waiting)
        pthread_cond_signal(&sh->more);
    while (!done && !s->cur && s->inflight >= SH_CHUNKS) {
        s->waiting = 1;
        pthread_cond_wait(&s->space, &sh->mu);
        s->waiting = 0;
    }
    if (!done && !s->cur) {
        s->inflight++;
        if ((s->cur = s->spare)) {
            s->spare = s->cur->next;
            s->cur->next = NULL;
            s->cur->len = s->cur->pos = 0;
        }
    }
    pthread_mutex_unlock(&sh->mu);
    if (!done && !s->cur)
        s->cur = chunk_new(SH_CHUNK);
}

static uint8_t *reserve(struct shard *s, size_t n)
{
    if (s->cur->len + n > s->cur->cap) {
        /* in the middle of a packet, unless the input is over */
        uint64_t done = ar_collector_packets(s->col) - !s->finishing;
        hand_over(s, done, 0);
        if (n > s->cur->cap) {              /* a record bigger than a chunk */
            free(s->cur->data);
            s->cur->data = ar_xmalloc(n);
            s->cur->cap = n;
        }
    }
    uint8_t *p = s->cur->data + s->cur->len;
    s->cur->len += n;
    return p;
}

/* A record: kind (1 byte), seq (8), ts (8), status (4), then its strings,
 * each as a length (4; NO_STRING for NULL) and its bytes with their NUL. */
#define REC_HEAD 21

static void put_record(struct shard *s, int kind, double ts, int status,
                       const char *const *str, int nstr)
{
    uint32_t len[X_STRINGS];
    size_t need = REC_HEAD;
    for (int i = 0; i < nstr; i++) {
        len[i] = str[i] ? (uint32_t)strlen(str[i]) : NO_STRING;
        need += 4 + (str[i] ? (size_t)len[i] + 1 : 0);
    }
    uint8_t *p = reserve(s, need);
    uint64_t seq = s->finishing ? SEQ_END : ar_collector_packets(s->col);
    int32_t st = status;
    p[0] = (uint8_t)kind;
    memcpy(p + 1, &seq, 8);
    memcpy(p + 9, &ts, 8);
    memcpy(p + 17, &st, 4);
    p += REC_HEAD;
    for (int i = 0; i < nstr; i++) {
        memcpy(p, &len[i], 4);
        p += 4;
        if (str[i]) {
            memcpy(p, str[i], (size_t)len[i] + 1);
            p += len[i] + 1;
        }
    }
}

static void shard_exchange(const struct ar_exchange *x, void *ud)
{
    const char *str[X_STRINGS] = { x->client, x->server, x->method, x->host, x->path,
                                   x->query, x->req_ct, x->resp_ct, x->auth };
    put_record(ud, REC_EXCHANGE, x->ts, x->status, str, X_STRINGS);
}

static void shard_tls(const struct ar_tls *t, void *ud)
{
    const char *str[T_STRINGS] = { t->client, t->server, t->server_name, t->alpn };
    put_record(ud, REC_TLS, t->ts, 0, str, T_STRINGS);
}

static void shard_tick(void *ud)
{
    struct shard *s = ud;
    hand_over(s, ar_collector_packets(s->col), 0);
}

static void *shard_main(void *arg)
{
    struct shard *s = arg;
    struct ar_shards *sh = s->sh;
    pthread_mutex_lock(&sh->mu);
    while (!sh->go)
        pthread_cond_wait(&sh->start, &sh->mu);
    int go = sh->go > 0;
    pthread_mutex_unlock(&sh->mu);
    if (!go)
        return NULL;
    s->rc = ar_capture_files_fed(s->col, sh->feed, s->k, sh->files, sh->nfiles, sh->filter, s->err,
                                 sizeof(s->err));
    ar_capture_feed_leave(sh->feed, s->k);
    s->finishing = 1;
    ar_collector_finish(s->col);
    hand_over(s, SEQ_END, 1);
    return NULL;
}

/* ---- the caller's side --------------------------------------------------- */

static uint64_t rec_seq(const struct chunk *c)
{
    uint64_t seq;
    memcpy(&seq, c->data + c->pos + 1, 8);
    return seq;
}

static const char *get_str(const uint8_t **p)
{
    uint32_t n;
    memcpy(&n, *p, 4);
    *p += 4;
    if (n == NO_STRING)
        return NULL;
    const char *v = (const char *)*p;
    *p += n + 1;
    return v;
}

/* Run the hook of the record at c->pos and move past it. */
static void deliver(struct chunk *c, const struct ar_collector_hooks *hooks)
{
    const uint8_t *p = c->data + c->pos;
    int kind = p[0];
    double ts;
    int32_t status;
    memcpy(&ts, p + 9, 8);
    memcpy(&status, p + 17, 4);
    p += REC_HEAD;
    const char *str[X_STRINGS];
    int nstr = kind == REC_EXCHANGE ? X_STRINGS : T_STRINGS;
    for (int i = 0; i < nstr; i++)
        str[i] = get_str(&p);
    c->pos = (size_t)(p - c->data);
    if (kind == REC_EXCHANGE) {
        /* the order of shard_exchange's str[] */
        struct ar_exchange x = { .ts = ts, .client = str[0], .server = str[1], .method = str[2],
                                 .host = str[3], .path = str[4], .query = str[5], .status = status,
                                 .req_ct = str[6], .resp_ct = str[7], .auth = str[8] };
        if (hooks->on_exchange)
            hooks->on_exchange(&x, hooks->ud);
    } else {
        struct ar_tls t = { .ts = ts, .client = str[0], .server = str[1], .server_name = str[2],
                            .alpn = str[3] };
        if (hooks->on_tls)
            hooks->on_tls(&t, hooks->ud);
    }
}

/* Under sh->mu: the shard whose next record comes first, or -1 when every
 * shard is done and drained, or -2 when that cannot be known yet. Records of
 * that shard with a seq below *bound (any, when *bound is 0) come before
 * everything the other shards hold or may still send. */
static int next_shard(struct ar_shards *sh, uint64_t *bound)
{
    int best = -1;
    uint64_t bseq = 0;
    for (unsigned k = 0; k < sh->n; k++) {
        struct shard *s = &sh->s[k];
        if (s->rd && s->rd->pos >= s->rd->len) {   /* read through: give it back */
            s->rd->next = s->spare;
            s->spare = s->rd;
            s->rd = NULL;
            s->inflight--;
            if (s->waiting)
                pthread_cond_signal(&s->space);
        }
        if (!s->rd && s->qhead) {
            s->rd = s->qhead;
            if (!(s->qhead = s->rd->next))
                s->qtail = NULL;
        }
        if (s->rd && (best < 0 || rec_seq(s->rd) < bseq)) {
            best = (int)k;
            bseq = rec_seq(s->rd);
        }
    }
    /* A shard with nothing queued may still send a record that comes first:
     * one of a packet after its `upto`, or sorted after best at upto + 1. */
    int all_done = 1;
    for (unsigned k = 0; k < sh->n; k++) {
        const struct shard *s = &sh->s[k];
        if (s->rd || s->done)
            continue;
        all_done = 0;
        if (best >= 0 && (bseq <= s->upto || (bseq == s->upto + 1 && (int)k > best)))
            continue;
        return -2;
    }
    if (best < 0)
        return all_done ? -1 : -2;
    *bound = 0;
    for (unsigned k = 0; k < sh->n; k++) {
        const struct shard *s = &sh->s[k];
        uint64_t b = s->rd ? rec_seq(s->rd) : s->done ? 0 : s->upto + 1;
        if ((int)k != best && b && (!*bound || b < *bound))
            *bound = b;
    }
    return best;
}

int ar_capture_sharded(unsigned n, const struct ar_limits *lim, char *const *files, int nfiles,
                       const char *filter, const struct ar_collector_hooks *hooks,
                       void (*ready)(void *ud), struct ar_counters *ctr, char *err, size_t errsz)
{
    struct ar_shards sh = { .n = n, .files = files, .nfiles = nfiles, .filter = filter };
    struct ar_hash_key seed;
    ar_hash_key_random(&seed);
    sh.s = ar_xcalloc(n, sizeof(*sh.s));
    sh.feed = ar_capture_feed_new(n, seed.k0, files, nfiles);
    pthread_mutex_init(&sh.mu, NULL);
    pthread_cond_init(&sh.more, NULL);
    pthread_cond_init(&sh.start, NULL);
    for (unsigned k = 0; k < n; k++) {
        struct shard *s = &sh.s[k];
        s->sh = &sh;
        s->k = k;
        /* the table-wide bounds are shared out; per-flow ones stay */
        s->lim = *lim;
        s->lim.max_flows = (lim->max_flows + n - 1) / n;
        s->lim.ooo_total_bytes = (lim->ooo_total_bytes + n - 1) / n;
        struct ar_collector_hooks h = { .on_exchange = shard_exchange, .on_tls = shard_tls,
                                        .on_tick = shard_tick, .ud = s };
        s->col = ar_collector_new(&s->lim, &h, &s->ctr);
        ar_collector_set_shard(s->col, k, n, seed.k0);
        s->cur = chunk_new(SH_CHUNK);
        s->inflight = 1;
        pthread_cond_init(&s->space, NULL);
    }
    unsigned started = 0;
    while (started < n && pthread_create(&sh.s[started].tid, NULL, shard_main, &sh.s[started]) == 0)
        started++;
    pthread_mutex_lock(&sh.mu);
    sh.go = started == n ? 1 : -1;
    pthread_cond_broadcast(&sh.start);
    if (sh.go > 0) {
        pthread_mutex_unlock(&sh.mu);
        if (ready)
            ready(hooks->ud);
        pthread_mutex_lock(&sh.mu);
        int help = 1;               /* read ahead before waiting next time */
        for (;;) {
            uint64_t bound;
            int k = next_shard(&sh, &bound);
            if (k == -1)
                break;
            if (k == -2) {
                if (help) {
                    /* nothing to deliver yet: read ahead for the shards
                     * instead; then look again, as a shard may have handed
                     * something over (or ended) while the lock was let go */
                    pthread_mutex_unlock(&sh.mu);
                    help = ar_capture_feed_help(sh.feed);
                    pthread_mutex_lock(&sh.mu);
                    continue;
                }
                help = 1;
                sh.caller_waiting = 1;
                pthread_cond_wait(&sh.more, &sh.mu);
                sh.caller_waiting = 0;
                continue;
            }
            struct chunk *c = sh.s[k].rd;
            pthread_mutex_unlock(&sh.mu);
            do
                deliver(c, hooks);
            while (c->pos < c->len && (!bound || rec_seq(c) < bound));
            pthread_mutex_lock(&sh.mu);
        }
    }
    pthread_mutex_unlock(&sh.mu);
    int rc = sh.go > 0 ? 0 : 1;
    for (unsigned k = 0; k < n; k++) {
        struct shard *s = &sh.s[k];
        if (k < started)
            pthread_join(s->tid, NULL);
        if (rc == 0 && s->rc < 0) {     /* the first shard's reason: they all read the same */
            ar_strlcpy(err, s->err, errsz);
            rc = -1;
        }
        ar_counters_add(ctr, &s->ctr);
        ar_collector_free(s->col);
        chunk_free(s->cur);
        chunk_free(s->rd);
        for (struct chunk *c = s->qhead, *nx; c; c = nx) {
            nx = c->next;
            chunk_free(c);
        }
        for (struct chunk *c = s->spare, *nx; c; c = nx) {
            nx = c->next;
            chunk_free(c);
        }
        pthread_cond_destroy(&s->space);
    }
    pthread_cond_destroy(&sh.more);
    pthread_cond_destroy(&sh.start);
    pthread_mutex_destroy(&sh.mu);
    ar_capture_feed_free(sh.feed);
    free(sh.s);
    return rc;
}

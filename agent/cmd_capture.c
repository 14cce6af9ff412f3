/* cmd_capture.c - `apiroster capture`: the main job.
 *
 * packets -> collector -> exchanges -> catalog (templates, aggregation) ->
 * store (one transaction per flush). Files are read in order; the roster in
 * the database is only written when every file was read: a bad file leaves
 * the database exactly as it was (exit 2). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "../collector/collector.h"
#include "../core/json.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../inventory/catalog.h"
#include "../inventory/store.h"
#include "../inventory/template.h"
#include "agent.h"
#include "roster.h"
#include "shards.h"

struct run {
    struct ar_config cfg;
    const char *db_path;
    struct ar_store *store;
    struct ar_templater *tp;
    struct ar_catalog *cat;
    struct ar_model *model;      /* specs, catalogs, rules: the judge of the roster */
    struct ar_counters ctr;      /* since the start of the run */
    struct ar_counters flushed;  /* part of ctr already written */
    const char *xpath, *tpath;   /* --exchanges, --tls */
    FILE *xfp, *tfp;
    int xerrno, terrno;          /* errno of the first failed write to each, or 0 */
    struct ar_json j;
    int flush_failed;
    int flushes;                 /* flushes made so far (at max_endpoints, before the end) */
    pthread_t words_tid;         /* building tp (words_main), when words_started */
    int words_started;
};

/* One JSON line to fp; after a failed write nothing more is written there
 * (the run fails at the end, before the database is written). */
static void write_line(struct run *r, FILE *fp, int *err_slot)
{
    ar_json_append(&r->j, "\n", 1);
    errno = 0;
    if (!*err_slot && ar_json_write(&r->j, fp) < 0)
        *err_slot = errno ? errno : EIO;
    ar_json_reset(&r->j);
}

static void flush(struct run *r)
{
    char err[1024];
    struct ar_counters delta;
    for (int i = 0; i < AR_CTR__COUNT; i++)
        delta.v[i] = r->ctr.v[i] - r->flushed.v[i];
    if (ar_store_flush(r->store, r->cat, r->tp, &delta, err, sizeof(err)) < 0) {
        ar_err("%s", err);
        r->flush_failed = 1;
        return;
    }
    r->flushed = r->ctr;
    r->flushes++;
    ar_catalog_clear(r->cat);
}

static void on_exchange(const struct ar_exchange *x, void *ud)
{
    struct run *r = ud;
    if (r->xfp) {
        struct ar_json *j = &r->j;
        ar_json_obj_open(j);
        ar_json_kdouble(j, "ts", x->ts, 6);
        ar_json_kstr(j, "client", x->client);
        ar_json_kstr(j, "server", x->server);
        ar_json_kstr(j, "method", x->method);
        ar_json_kstr(j, "host", x->host);
        ar_json_kstr(j, "path", x->path);
        ar_json_key(j, "query");
        ar_json_arr_open(j);
        for (const char *q = x->query; *q;) {
            const char *e = strchr(q, '&');
            size_t n = e ? (size_t)(e - q) : strlen(q);
            ar_json_strn(j, q, n);
            q += n + (e ? 1 : 0);
        }
        ar_json_arr_close(j);
        ar_json_key(j, "status");
        if (x->status < 0)
            ar_json_null(j);
        else
            ar_json_int(j, x->status);
        ar_json_kstr(j, "req_content_type", x->req_ct);
        ar_json_kstr(j, "resp_content_type", x->resp_ct);
        ar_json_kstr(j, "auth", x->auth);
        ar_json_obj_close(j);
        write_line(r, r->xfp, &r->xerrno);
    }
    if (x->method) {
        if (ar_catalog_count(r->cat) >= r->cfg.lim.max_endpoints)
            flush(r);
        ar_catalog_add(r->cat, x);
    }
}

static void on_tls(const struct ar_tls *t, void *ud)
{
    struct run *r = ud;
    /* --tls lists the connections whose ClientHello named a server (SNI);
     * the summary counts all of them */
    if (r->tfp && t->server_name[0]) {
        struct ar_json *j = &r->j;
        ar_json_obj_open(j);
        ar_json_kdouble(j, "ts", t->ts, 6);
        ar_json_kstr(j, "client", t->client);
        ar_json_kstr(j, "server", t->server);
        ar_json_kstr(j, "server_name", t->server_name);
        ar_json_kstr(j, "alpn", t->alpn);
        ar_json_obj_close(j);
        write_line(r, r->tfp, &r->terrno);
    }
    if (t->server_name[0])
        ar_store_note_tls(r->store, t->server_name, t->alpn, t->ts);
}

static void summary(const struct run *r, double secs, int json)
{
    const struct ar_counters *c = &r->ctr;
    double mb = (double)AR_GET(c, bytes) / 1e6;
    fprintf(stderr,
            "apiroster: %" PRIu64 " packets, %.1f MB, %" PRIu64 " flows, %" PRIu64
            " exchanges (%" PRIu64 " without response), %" PRIu64 " TLS connections, %" PRIu64
            " gaps, %" PRIu64 " parse errors, %.2f s, %.1f MB/s\n",
            AR_GET(c, packets), mb, AR_GET(c, flows), AR_GET(c, exchanges),
            AR_GET(c, requests_no_response), AR_GET(c, tls_connections), AR_GET(c, tcp_gaps),
            AR_GET(c, http_parse_errors), secs, secs > 0 ? mb / secs : 0.0);
    uint64_t unsup = AR_GET(c, pkt_unsupported);
    if (unsup) /* a link type we do not decode reads as an empty capture otherwise */
        fprintf(stderr, "apiroster: %" PRIu64 " of %" PRIu64 " packets not decoded (%s)\n", unsup,
                AR_GET(c, packets), ar_counter_help(AR_CTR_pkt_unsupported));
    for (int i = 0; i < AR_CTR__COUNT; i++) {
        const char *n = ar_counter_name(i);
        if (!strncmp(n, "limit_", 6) && c->v[i] && strcmp(n, "limit_flow_timeout") &&
            strcmp(n, "limit_flow_timeout_closed"))
            fprintf(stderr, "apiroster: %s hit %" PRIu64 " times (%s)\n", n + 6, c->v[i],
                    ar_counter_help(i));
    }
    if (!json)
        return;
    struct ar_json j;
    ar_json_init(&j);
    ar_json_obj_open(&j);
    for (int i = 0; i < AR_CTR__COUNT; i++) {
        ar_json_kuint(&j, ar_counter_name(i), c->v[i]);
    }
    ar_json_kdouble(&j, "seconds", secs, 3);
    ar_json_kdouble(&j, "mb_per_s", secs > 0 ? mb / secs : 0.0, 1);
    ar_json_obj_close(&j);
    ar_json_append(&j, "\n", 1);
    ar_write_stdout(&j);
    ar_json_free(&j);
}

static FILE *open_out(const char *path)
{
    FILE *fp = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!fp)
        ar_die(AR_EXIT_USAGE, "%s: cannot write: %m", path);
    setvbuf(fp, NULL, _IOFBF, 1 << 20);
    return fp;
}

/* The templater with its word list and pins: from the configuration only. */
static void *words_main(void *ud)
{
    struct run *r = ud;
    r->tp = ar_templater_new(&r->cfg.lim, &r->ctr);
    if (r->cfg.words && *r->cfg.words && ar_templater_load_words(r->tp, r->cfg.words) < 0)
        ar_warn("%s: cannot read the word list; only built-in API words stay literal",
                r->cfg.words);
    for (int i = 0; i < r->cfg.npins; i++)
        ar_templater_pin(r->tp, r->cfg.pins[i].host, r->cfg.pins[i].pattern);
    return NULL;
}

/* What the exchanges go into: the roster, templater, specs and rules,
 * catalog. Made while the shard threads already read (ar_capture_sharded's
 * ready): opening the database and reading the word list (started on a
 * thread of its own as soon as the configuration is read) take a tenth of
 * a file capture's time, and need none of its packets. */
static void consumer_setup(void *ud)
{
    struct run *r = ud;
    char err[1024];
    if (!(r->store = ar_roster_open_capture(r->db_path, &r->cfg, err, sizeof(err))))
        ar_die(AR_EXIT_USAGE, "%s", err);
    ar_store_set_limits(r->store, &r->cfg.lim, &r->ctr);
    /* the outputs only once every input, the database included, was checked */
    if (r->xpath)
        r->xfp = open_out(r->xpath);
    if (r->tpath)
        r->tfp = open_out(r->tpath);
    if (r->words_started)
        pthread_join(r->words_tid, NULL);
    else
        words_main(r);
    r->words_started = 0;
    if (ar_store_load_collapses(r->store, r->tp, err, sizeof(err)) < 0)
        ar_die(AR_EXIT_FAIL, "%s", err);
    r->model = ar_roster_attach(r->store, &r->cfg, r->tp);
    r->cat = ar_catalog_new(&r->cfg.lim, &r->ctr, r->tp);
}

/* [capture] workers; 0 (auto): one per CPU (at most 8: beyond that the one
 * consumer of the exchanges is the bound), or 1 when the files hold less than
 * AUTO_SHARD_BYTES (each worker builds its own nDPI module, 30 ms of CPU:
 * more than a small capture takes to read). */
#define AUTO_SHARD_BYTES (32u << 20)
static unsigned workers(const struct ar_config *cfg, char *const *files, int nfiles)
{
    if (cfg->workers)
        return (unsigned)cfg->workers;
    uint64_t bytes = 0;
    for (int i = 0; i < nfiles; i++) {
        struct stat st;
        if (stat(files[i], &st) == 0)
            bytes += (uint64_t)st.st_size;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return bytes < AUTO_SHARD_BYTES || n < 1 ? 1 : n > 8 ? 8 : (unsigned)n;
}

static void usage(FILE *fp)
{
    fprintf(fp, "usage: apiroster capture -r FILE [-r FILE...] [--db PATH] [--config PATH]\n"
                "                         [--filter BPF] [--exchanges FILE] [--tls FILE] [--json]\n"
                "       apiroster capture -i IFACE|any [--db PATH] [--config PATH] [--filter BPF] [--json]\n"
                "Reads pcap/pcapng files in order and adds the endpoints they show to the roster;\n"
                "with -i, captures live until SIGTERM/SIGINT, flushing every flush_interval\n"
                "(SIGHUP reloads the configuration).\n");
}

int cmd_capture(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "read", required_argument, 0, 'r' }, { "interface", required_argument, 0, 'i' },
        { "db", required_argument, 0, 'd' },   { "config", required_argument, 0, 'c' },
        { "filter", required_argument, 0, 'f' }, { "exchanges", required_argument, 0, 'x' },
        { "tls", required_argument, 0, 't' },  { "json", no_argument, 0, 'j' },
        { "help", no_argument, 0, 'h' },       { 0, 0, 0, 0 },
    };
    struct run r;
    memset(&r, 0, sizeof(r));
    char **files = ar_xcalloc((size_t)argc + 1, sizeof(char *));
    int nfiles = 0, json = 0, opt;
    const char *db = NULL, *config = NULL, *filter = NULL, *xpath = NULL, *tpath = NULL,
               *iface = NULL;
    char err[1024];

    while ((opt = getopt_long(argc, argv, "r:i:", lopts, NULL)) != -1) {
        switch (opt) {
        case 'r': files[nfiles++] = optarg; break;
        case 'i': iface = optarg; break;
        case 'd': db = optarg; break;
        case 'c': config = optarg; break;
        case 'f': filter = optarg; break;
        case 'x': xpath = optarg; break;
        case 't': tpath = optarg; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); free(files); return AR_EXIT_OK;
        default: usage(stderr); free(files); return AR_EXIT_USAGE;
        }
    }
    if (optind < argc)
        ar_die(AR_EXIT_USAGE, "capture: unexpected argument '%s' (files go after -r)", argv[optind]);
    if (iface && nfiles)
        ar_die(AR_EXIT_USAGE, "capture: -i and -r cannot be used together");
    if (iface) {
        if (xpath || tpath)
            ar_die(AR_EXIT_USAGE, "capture: --exchanges and --tls are for files (-r), not -i");
        struct ar_live_args la = { iface, config, filter, db, json };
        free(files);
        return ar_capture_live(&la);
    }
    if (!nfiles) {
        usage(stderr);
        free(files);
        return AR_EXIT_USAGE;
    }
    for (int i = 0; i < nfiles; i++)
        if (access(files[i], R_OK) != 0)
            ar_die(AR_EXIT_USAGE, "%s: %m", files[i]);

    ar_load_config(&r.cfg, config);
    if (!filter)
        filter = r.cfg.filter;
    r.db_path = ar_db_path(db, &r.cfg);
    /* an output file must not be what is read: the roster, a capture, the config */
    {
        const char **in = ar_xcalloc((size_t)nfiles + 2, sizeof(*in));
        const char **what = ar_xcalloc((size_t)nfiles + 2, sizeof(*what));
        int nin = 0;
        for (int i = 0; i < nfiles; i++, nin++) {
            in[nin] = files[i];
            what[nin] = "the capture file read by -r";
        }
        in[nin] = r.cfg.path;
        what[nin++] = "the configuration";
        ar_refuse_clobber(xpath, "--exchanges", r.db_path, in, what, nin);
        in[nin] = xpath;
        what[nin++] = "the file of --exchanges";
        ar_refuse_clobber(tpath, "--tls", r.db_path, in, what, nin);
        free(in);
        free(what);
    }
    r.words_started = pthread_create(&r.words_tid, NULL, words_main, &r) == 0;
    /* every file and the filter are checked before the database is touched */
    if (ar_capture_check(files, nfiles, filter, err, sizeof(err)) < 0)
        ar_die(AR_EXIT_USAGE, "%s", err);

    ar_json_init(&r.j);
    r.xpath = xpath;
    r.tpath = tpath;

    struct ar_collector_hooks hooks = { on_exchange, on_tls, NULL, &r };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned n = workers(&r.cfg, files, nfiles);
    int rc = n > 1 ? ar_capture_sharded(n, &r.cfg.lim, files, nfiles, filter, &hooks,
                                        consumer_setup, &r.ctr, err, sizeof(err))
                   : 1;
    if (rc == 1) {
        if (!r.cat)         /* consumer_setup has not run (no shards) */
            consumer_setup(&r);
        struct ar_collector *col = ar_collector_new(&r.cfg.lim, &hooks, &r.ctr);
        rc = ar_capture_files(col, files, nfiles, filter, err, sizeof(err));
        if (rc == 0)
            ar_collector_finish(col);
        ar_collector_free(col);
    }
    /* what was written before the error stays (a flush at max_endpoints) */
    char kept[160] = "nothing written to the database";
    if (r.flushes)
        snprintf(kept, sizeof(kept), "the database keeps the %d flush%s made before it "
                 "(max_endpoints reached), nothing after", r.flushes, r.flushes == 1 ? "" : "es");
    if (rc < 0) {
        ar_store_close(r.store);
        ar_die(AR_EXIT_USAGE, "%s; %s", err, kept);
    }
    /* --exchanges and --tls complete, or the run is not written to the
     * database either: run again, it counts once */
    const char *outs[2] = { xpath, tpath };
    FILE *fps[2] = { r.xfp, r.tfp };
    int errs[2] = { r.xerrno, r.terrno };
    char why[1024] = "";     /* the first failure (both are closed) */
    for (int i = 0; i < 2; i++)
        if (fps[i] && ar_close_output(fps[i], strcmp(outs[i], "-") ? outs[i] : "stdout", errs[i],
                                      err, sizeof(err)) < 0 && !why[0])
            ar_strlcpy(why, err, sizeof(why));
    if (why[0]) {
        ar_store_close(r.store);
        ar_die(AR_EXIT_FAIL, "%s; %s", why, kept);
    }
    flush(&r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

    summary(&r, secs, json);

    /* a flush that found the database corrupt: bad input, the next capture rebuilds it */
    int code = !r.flush_failed ? AR_EXIT_OK
                               : ar_store_is_corrupt(r.store) ? AR_EXIT_USAGE : AR_EXIT_FAIL;
    ar_catalog_free(r.cat);
    ar_templater_free(r.tp);
    ar_store_close(r.store);
    ar_model_free(r.model);
    ar_json_free(&r.j);
    ar_config_free(&r.cfg);
    free(files);
    return code;
}

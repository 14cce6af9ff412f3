/* cmd_query.c - `apiroster endpoints`, `stats` and `config`: read the roster. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/json.h"
#include "../core/util.h"
#include "../inventory/catalog.h"
#include "../inventory/store.h"
#include "../ownership/team.h"
#include "../collector/collector.h"
#include "agent.h"
#include "roster.h"

static const struct option common_opts[] = {
    { "db", required_argument, 0, 'd' },   { "config", required_argument, 0, 'c' },
    { "host", required_argument, 0, 'H' }, { "method", required_argument, 0, 'm' },
    { "state", required_argument, 0, 's' }, { "owner", required_argument, 0, 'o' },
    { "json", no_argument, 0, 'j' },       { "help", no_argument, 0, 'h' },
    { 0, 0, 0, 0 },
};

struct qargs {
    const char *db, *config, *host, *method, *state, *owner;
    int json;
};

static void parse(int argc, char **argv, struct qargs *a, const char *usage_line, int filters)
{
    int opt;
    memset(a, 0, sizeof(*a));
    while ((opt = getopt_long(argc, argv, "", common_opts, NULL)) != -1) {
        switch (opt) {
        case 'd': a->db = optarg; break;
        case 'c': a->config = optarg; break;
        case 'H': if (!filters) goto bad; a->host = optarg; break;
        case 'm': if (!filters) goto bad; a->method = optarg; break;
        case 's': if (!filters) goto bad; a->state = optarg; break;
        case 'o': if (!filters) goto bad; a->owner = optarg; break;
        case 'j': a->json = 1; break;
        case 'h': printf("usage: %s\n", usage_line); exit(AR_EXIT_OK);
        default: goto bad;
        }
    }
    if (optind < argc)
        ar_die(AR_EXIT_USAGE, "unexpected argument '%s'\nusage: %s", argv[optind], usage_line);
    return;
bad:
    ar_die(AR_EXIT_USAGE, "usage: %s", usage_line);
}

static struct ar_store *open_ro(const struct qargs *a, struct ar_config *cfg)
{
    char err[1024];
    struct ar_store *s;
    ar_load_config(cfg, a->config);
    if (ar_store_open(ar_db_path(a->db, cfg), AR_STORE_RO, &s, err, sizeof(err)) < 0)
        ar_die(AR_EXIT_USAGE, "%s", err);
    return s;
}

static void json_valset(struct ar_json *j, const struct ar_valset *v)
{
    ar_json_arr_open(j);
    for (uint32_t i = 0; i < v->n; i++)
        ar_json_str(j, v->v[i]);
    ar_json_arr_close(j);
}

struct ep_out {
    struct ar_json j;
    int json;
    uint64_t n;
};

static int cmp_status(const void *a, const void *b)
{
    const struct ar_status_count *x = a, *y = b;
    return (x->code > y->code) - (x->code < y->code);
}

static void statuses_text(const struct ar_endpoint *e, char *out, size_t outsz)
{
    struct ar_status_count *s = ar_xcalloc(e->nstatuses ? e->nstatuses : 1, sizeof(*s));
    if (e->nstatuses)       /* an encrypted row has none (and no array) */
        memcpy(s, e->statuses, e->nstatuses * sizeof(*s));
    qsort(s, e->nstatuses, sizeof(*s), cmp_status);
    size_t len = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < e->nstatuses && len + 24 < outsz; i++) {
        char code[16];
        if (s[i].code < 0)
            strcpy(code, "-");
        else
            snprintf(code, sizeof(code), "%d", s[i].code);
        len += (size_t)snprintf(out + len, outsz - len, "%s%s:%" PRIu64, i ? "," : "", code,
                                s[i].count);
    }
    free(s);
}

static int print_endpoint(const struct ar_endpoint *e, void *ud)
{
    struct ep_out *o = ud;
    char first[40], last[40];
    ar_fmt_time(first, sizeof(first), e->first_seen);
    ar_fmt_time(last, sizeof(last), e->last_seen);
    o->n++;
    if (!o->json) {
        char st[256];
        statuses_text(e, st, sizeof(st));
        printf("%-28s %-7s %-48s %8" PRIu64 "  %-10s %-20s %-24s %s\n",
               e->host[0] ? ar_vis(e->host) : "-", ar_vis(e->method), ar_vis(e->tmpl), e->hits,
               e->v.state ? ar_vis(e->v.state) : "-", e->v.owner ? ar_vis(e->v.owner) : "-", st,
               ar_vis(e->rule));
        return 0;
    }
    struct ar_json *j = &o->j;
    ar_json_obj_open(j);
    ar_json_kstr(j, "host", e->host);
    ar_json_kstr(j, "method", e->method);
    ar_json_kstr(j, "path", e->tmpl);
    ar_json_kuint(j, "hits", e->hits);
    ar_json_kstr(j, "first_seen", first);
    ar_json_kstr(j, "last_seen", last);
    ar_json_key(j, "statuses");
    ar_json_obj_open(j);
    for (uint32_t i = 0; i < e->nstatuses; i++) {
        char code[16];
        if (e->statuses[i].code < 0)
            strcpy(code, "none");
        else
            snprintf(code, sizeof(code), "%d", e->statuses[i].code);
        ar_json_key(j, code);
        ar_json_uint(j, e->statuses[i].count);
    }
    ar_json_obj_close(j);
    ar_json_key(j, "query");
    json_valset(j, &e->query);
    ar_json_key(j, "auth");
    json_valset(j, &e->auth);
    ar_json_key(j, "content_types");
    ar_json_obj_open(j);
    ar_json_key(j, "request");
    json_valset(j, &e->req_ct);
    ar_json_key(j, "response");
    json_valset(j, &e->resp_ct);
    ar_json_obj_close(j);
    ar_json_kuint(j, "clients", ar_hll_estimate(e->hll));
    ar_json_key(j, "servers");
    json_valset(j, &e->servers);
    ar_json_kstr(j, "rule", e->rule);
    ar_json_key(j, "noise");
    ar_json_bool(j, ar_endpoint_is_noise(e));
    ar_json_kstr(j, "state", e->v.state);
    ar_json_kstr(j, "reason", e->v.reason);
    ar_json_key(j, "spec");
    if (e->v.spec_source) {
        ar_json_obj_open(j);
        ar_json_kstr(j, "source", e->v.spec_source);
        ar_json_kstr(j, "pointer", e->v.spec_pointer);
        ar_json_kstr(j, "template", e->v.spec_tmpl);
        ar_json_obj_close(j);
    } else {
        ar_json_null(j);
    }
    ar_json_kstr(j, "owner", e->v.owner);
    ar_json_kstr(j, "owner_source", e->v.owner_source);
    ar_json_kstr(j, "owner_evidence", e->v.owner_evidence);
    ar_json_key(j, "alternatives");
    ar_json_raw(j, e->v.owner_alt ? e->v.owner_alt : "[]");
    ar_json_obj_close(j);
    if (j->len > (1 << 20)) {
        ar_write_stdout(j);
        j->len = 0;
    }
    return 0;
}

/* The states an endpoint can have (a verdict of agent/model.c). */
static const char *const ep_states[] = { "documented", "shadow", "zombie", "noise", "encrypted" };

int cmd_endpoints(int argc, char **argv)
{
    struct qargs a;
    struct ar_config cfg;
    char err[1024], team[256];
    parse(argc, argv, &a, "apiroster endpoints [--db PATH] [--config PATH] [--host H] "
          "[--method M] [--state documented|shadow|zombie|noise|encrypted] [--owner TEAM] "
          "[--json]", 1);
    if (a.state) {
        size_t k = 0;
        while (k < AR_ARRAY_LEN(ep_states) && strcmp(a.state, ep_states[k]))
            k++;
        if (k == AR_ARRAY_LEN(ep_states))
            ar_die(AR_EXIT_USAGE, "endpoints: --state takes documented, shadow, zombie, noise or "
                   "encrypted, not '%s'", ar_vis(a.state));
    }
    if (a.owner && *a.owner) {  /* owners are stored canonical: @shop/orders is shop/orders */
        if (ar_team_canon(a.owner, team, sizeof(team)) < 0)
            ar_die(AR_EXIT_USAGE, "endpoints: --owner '%s' is not a team name", ar_vis(a.owner));
        a.owner = team;
    }
    struct ar_store *s = open_ro(&a, &cfg);
    struct ar_endpoint_filter f = { .host = a.host, .method = a.method, .state = a.state,
                                    .owner = a.owner };
    struct ep_out o;
    memset(&o, 0, sizeof(o));
    o.json = a.json;
    ar_json_init(&o.j);
    if (a.json)
        ar_json_arr_open(&o.j);
    else
        printf("%-28s %-7s %-48s %8s  %-10s %-20s %-24s %s\n", "HOST", "METHOD", "PATH", "HITS",
               "STATE", "OWNER", "STATUSES", "RULE");
    if (ar_store_each_endpoint(s, &f, print_endpoint, &o, err, sizeof(err)) < 0)
        ar_die_store(s, err);
    if (a.json) {
        ar_json_arr_close(&o.j);
        ar_json_append(&o.j, "\n", 1);
        ar_write_stdout(&o.j);
    } else {
        printf("%" PRIu64 " endpoints\n", o.n);
    }
    ar_json_free(&o.j);
    ar_store_close(s);
    ar_config_free(&cfg);
    return AR_EXIT_OK;
}

struct tls_out {
    struct ar_json *j;
    int json;
};

static int print_tls(const char *name, const char *alpn, uint64_t conns, void *ud)
{
    struct tls_out *t = ud;
    if (!t->json) {
        printf("  %-40s %-16s %" PRIu64 " connections\n", ar_vis(name),
               alpn[0] ? ar_vis(alpn) : "-", conns);
        return 0;
    }
    ar_json_obj_open(t->j);
    ar_json_kstr(t->j, "server_name", name);
    ar_json_kstr(t->j, "alpn", alpn);
    ar_json_kuint(t->j, "connections", conns);
    ar_json_obj_close(t->j);
    return 0;
}

/* Per host: TLS connections next to plaintext exchanges. The store keeps
 * exchanges, not plaintext connections: tls / (tls + exchanges) is a lower
 * bound of the share of the host's connections that were encrypted. */
static int print_share(const char *host, uint64_t tls, uint64_t http, void *ud)
{
    struct tls_out *t = ud;
    double share = tls + http ? (double)tls / (double)(tls + http) : 0.0;
    if (!t->json) {
        printf("  %-40s %10" PRIu64 " %10" PRIu64 "   %5.1f%%\n",
               host[0] ? ar_vis(host) : "(no Host)", tls,
               http, share * 100.0);
        return 0;
    }
    ar_json_obj_open(t->j);
    ar_json_kstr(t->j, "host", host);
    ar_json_kuint(t->j, "tls_connections", tls);
    ar_json_kuint(t->j, "http_exchanges", http);
    ar_json_kdouble(t->j, "encrypted_share_min", share, 4);
    ar_json_obj_close(t->j);
    return 0;
}

int cmd_stats(int argc, char **argv)
{
    struct qargs a;
    struct ar_config cfg;
    char err[1024];
    parse(argc, argv, &a, "apiroster stats [--db PATH] [--config PATH] [--json]", 0);
    struct ar_store *s = open_ro(&a, &cfg);
    struct ar_store_stats st;
    if (ar_store_stats(s, &st, err, sizeof(err)) < 0)
        ar_die_store(s, err);
    struct ar_json j;
    ar_json_init(&j);
    struct tls_out t = { &j, a.json };
    if (a.json) {
        ar_json_obj_open(&j);
        ar_json_kuint(&j, "runs", st.runs);
        ar_json_key(&j, "counters");
        ar_json_obj_open(&j);
        for (int i = 0; i < AR_CTR__COUNT; i++) {
            ar_json_kuint(&j, ar_counter_name(i), st.total.v[i]);
        }
        ar_json_obj_close(&j);
        ar_json_key(&j, "tls_only_hosts");
        ar_json_arr_open(&j);
    } else {
        printf("runs: %" PRIu64 "\n", st.runs);
        for (int i = 0; i < AR_CTR__COUNT; i++)
            if (st.total.v[i] || strncmp(ar_counter_name(i), "limit_", 6))
                printf("%-28s %14" PRIu64 "  %s\n", ar_counter_name(i), st.total.v[i],
                       ar_counter_help(i));
        printf("TLS-only hosts (SNI seen, no plaintext HTTP endpoint):\n");
    }
    if (ar_store_each_tls_only(s, print_tls, &t, err, sizeof(err)) < 0)
        ar_die_store(s, err);
    if (a.json) {
        ar_json_arr_close(&j);
        ar_json_key(&j, "hosts");
        ar_json_arr_open(&j);
    } else {
        const struct ar_counters *c = &st.total;
        printf("capture health: %" PRIu64 " kernel drops, %" PRIu64 " interface drops, %" PRIu64
               " reassembly gaps, %" PRIu64 " parse errors, %" PRIu64 " deferred flushes\n",
               AR_GET(c, kernel_drops), AR_GET(c, iface_drops), AR_GET(c, tcp_gaps),
               AR_GET(c, http_parse_errors), AR_GET(c, flush_deferred));
        printf("hosts: TLS connections, plaintext HTTP exchanges, encrypted share (at least):\n");
    }
    if (ar_store_each_host_share(s, print_share, &t, err, sizeof(err)) < 0)
        ar_die_store(s, err);
    if (a.json) {
        ar_json_arr_close(&j);
        ar_json_obj_close(&j);
        ar_json_append(&j, "\n", 1);
        ar_write_stdout(&j);
    }
    ar_json_free(&j);
    ar_store_close(s);
    ar_config_free(&cfg);
    return AR_EXIT_OK;
}

static void print_line(void *ud, const char *text)
{
    fprintf((FILE *)ud, "%s\n", text);
}

int cmd_config(int argc, char **argv)
{
    static const char usage[] = "apiroster config check|show [--config PATH]";
    const char *path = NULL;
    int show = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "check"))
            show = 0;
        else if (!strcmp(argv[i], "show"))
            show = 1;
        else if (!strcmp(argv[i], "--config") && i + 1 < argc)
            path = argv[++i];
        else if (!strncmp(argv[i], "--config=", 9) && argv[i][9])
            path = argv[i] + 9;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: %s\n", usage);   /* as every other --help: stdout, exit 0 */
            return AR_EXIT_OK;
        } else
            ar_die(AR_EXIT_USAGE, "usage: %s", usage);
    }
    struct ar_config cfg;
    ar_load_config(&cfg, path);
    if (show)
        ar_config_dump(&cfg, print_line, stdout);
    else {
        /* what a capture would refuse at start is refused here too: the filter
         * compiles, and [sources] and [owners] load (into a database in memory) */
        char err[1024];
        if (cfg.filter && ar_live_check_filter(cfg.filter, err, sizeof(err)) < 0)
            ar_die(AR_EXIT_USAGE, "%s: %s", cfg.path, err);
        struct ar_store *s;
        if (ar_store_open(":memory:", AR_STORE_RW, &s, err, sizeof(err)) < 0)
            ar_die(AR_EXIT_FAIL, "%s", err);
        struct ar_model *m = ar_roster_attach(s, &cfg, NULL);
        ar_store_close(s);
        ar_model_free(m);
        printf("%s: ok\n", path ? path : "built-in defaults");
    }
    ar_config_free(&cfg);
    return AR_EXIT_OK;
}

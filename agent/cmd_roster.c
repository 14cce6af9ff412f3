/* cmd_roster.c - `apiroster diff`, `owner`, `owners` and `export openapi`:
 * the roster read against the imported specs, catalogs and rules. */
#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/json.h"
#include "../core/util.h"
#include "agent.h"
#include "model.h"

static const struct option opts[] = {
    { "db", required_argument, 0, 'd' },    { "config", required_argument, 0, 'c' },
    { "host", required_argument, 0, 'H' },  { "owner", required_argument, 0, 'o' },
    { "output", required_argument, 0, 'O' }, { "json", no_argument, 0, 'j' },
    { "help", no_argument, 0, 'h' },        { 0, 0, 0, 0 },
};

struct args {
    const char *db, *config, *host, *owner, *output;
    int json;
    struct ar_config cfg;
    struct ar_store *s;
    struct ar_model *m;
};

static void parse(int argc, char **argv, struct args *a, const char *usage, const char *allowed)
{
    int opt;
    memset(a, 0, sizeof(*a));
    while ((opt = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        if (opt == 'h') {
            printf("usage: %s\n", usage);
            exit(AR_EXIT_OK);
        }
        if (opt == '?' || !strchr(allowed, opt))
            ar_die(AR_EXIT_USAGE, "usage: %s", usage);
        switch (opt) {
        case 'd': a->db = optarg; break;
        case 'c': a->config = optarg; break;
        case 'H': a->host = optarg; break;
        case 'o': a->owner = optarg; break;
        case 'O': a->output = optarg; break;
        case 'j': a->json = 1; break;
        }
    }
}

static void open_all(struct args *a)
{
    char err[1024];
    ar_load_config(&a->cfg, a->config);
    if (ar_store_open(ar_db_path(a->db, &a->cfg), AR_STORE_RO, &a->s, err, sizeof(err)) < 0)
        ar_die(AR_EXIT_USAGE, "%s", err);
    if (!(a->m = ar_model_load(a->s, &a->cfg, err, sizeof(err))))
        ar_die(AR_EXIT_USAGE, "%s", err);
}

static void close_all(struct args *a)
{
    ar_store_close(a->s);
    ar_model_free(a->m);
    ar_config_free(&a->cfg);
}

static void flush_json(struct ar_json *j)
{
    ar_json_append(j, "\n", 1);
    ar_write_stdout(j);
    ar_json_free(j);
}

/* Every endpoint, copied (with its verdict), in store order. */
struct eplist {
    struct ar_endpoint **v;
    size_t n;
};

static int keep_ep(const struct ar_endpoint *e, void *ud)
{
    struct eplist *l = ud;
    struct ar_endpoint *c = ar_endpoint_new(e->host, e->method, e->tmpl, e->rule);
    c->hits = e->hits;
    c->first_seen = e->first_seen;
    c->last_seen = e->last_seen;
    for (uint32_t i = 0; i < e->nstatuses; i++)
        ar_endpoint_add_status(c, e->statuses[i].code, e->statuses[i].count, UINT64_MAX);
    const struct ar_valset *src[] = { &e->query, &e->req_ct, &e->resp_ct, &e->auth };
    struct ar_valset *dst[] = { &c->query, &c->req_ct, &c->resp_ct, &c->auth };
    for (size_t k = 0; k < AR_ARRAY_LEN(src); k++)
        for (uint32_t i = 0; i < src[k]->n; i++)
            ar_valset_add(dst[k], src[k]->v[i], UINT64_MAX);
#define AR_X(f) c->v.f = e->v.f ? ar_xstrdup(e->v.f) : NULL;
    AR_VERDICT_FIELDS(AR_X)
#undef AR_X
    l->v = ar_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    l->v[l->n++] = c;
    return 0;
}

static void eplist_load(struct args *a, struct eplist *l, const char *host, const char *owner)
{
    char err[1024];
    struct ar_endpoint_filter f = { .host = host, .owner = owner };
    l->v = NULL;
    l->n = 0;
    if (ar_store_each_endpoint(a->s, &f, keep_ep, l, err, sizeof(err)) < 0)
        ar_die_store(a->s, err);
}

static void eplist_free(struct eplist *l)
{
    for (size_t i = 0; i < l->n; i++)
        ar_endpoint_free(l->v[i]);
    free(l->v);
}

/* A documented operation never seen: (spec, operation), once whatever its
 * servers, with the first server's host ("" for any host). */
struct unused {
    const char *host, *method, *tmpl, *source, *pointer;
    char *owner;
};

static int seen_op(const struct eplist *l, const char *source, const char *pointer)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i]->v.spec_source && !strcmp(l->v[i]->v.spec_source, source) &&
            l->v[i]->v.spec_pointer && !strcmp(l->v[i]->v.spec_pointer, pointer) &&
            l->v[i]->v.state && strcmp(l->v[i]->v.state, "shadow") && strcmp(l->v[i]->v.state, "noise"))
            return 1;
    return 0;
}

static size_t unused_ops(const struct ar_model *m, const struct eplist *l, struct unused **out)
{
    const struct ar_specset *ss = ar_model_specs(m);
    size_t n = 0, count = ar_specset_count(ss);
    *out = NULL;
    for (size_t i = 0; i < count; i++) {
        struct ar_spec_entry e;
        if (ar_specset_entry(ss, i, &e) < 0)
            continue;
        int dup = 0;
        for (size_t k = 0; k < n && !dup; k++)
            dup = !strcmp((*out)[k].source, e.source) && !strcmp((*out)[k].pointer, e.op->pointer);
        if (dup || seen_op(l, e.source, e.op->pointer))
            continue;
        /* its owner, as an endpoint of that template would have */
        struct ar_endpoint *ep = ar_endpoint_new(e.server->host, e.op->method, e.tmpl, "spec");
        struct ar_spec_match sm;
        ar_specset_match(ss, e.server->host, e.op->method, e.tmpl, &sm);
        struct ar_owner_result res;
        ar_model_owner(m, ep, &sm, &res);
        *out = ar_xrealloc(*out, (n + 1) * sizeof(**out));
        (*out)[n++] = (struct unused){ e.server->host, e.op->method, e.tmpl, e.source,
                                       e.op->pointer, res.team ? ar_xstrdup(res.team) : NULL };
        ar_owner_result_free(&res);
        ar_endpoint_free(ep);
    }
    return n;
}

static void unused_free(struct unused *u, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(u[i].owner);
    free(u);
}

/* ---- diff ------------------------------------------------------------- */

/* encrypted: a TLS-only host (rule tls, #7), counted per host like any endpoint */
static const char *const states[] = { "documented", "shadow", "zombie", "unused", "noise",
                                      "encrypted" };

static int state_idx(const char *s)
{
    for (size_t i = 0; i < AR_ARRAY_LEN(states); i++)
        if (s && !strcmp(s, states[i]))
            return (int)i;
    return 1; /* not judged yet: undocumented */
}

static int cmp_host(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void ep_json(struct ar_json *j, const struct ar_endpoint *e)
{
    ar_json_obj_open(j);
    ar_json_kstr(j, "method", e->method);
    ar_json_kstr(j, "template", e->tmpl);
    ar_json_kstr(j, "state", e->v.state ? e->v.state : "shadow");
    ar_json_kstr(j, "reason", e->v.reason);
    ar_json_kuint(j, "hits", e->hits);
    ar_json_kstr(j, "spec", e->v.spec_source);
    ar_json_kstr(j, "operation", e->v.spec_pointer);
    ar_json_kstr(j, "owner", e->v.owner);
    ar_json_kstr(j, "owner_source", e->v.owner_source);
    ar_json_kstr(j, "owner_evidence", e->v.owner_evidence);
    ar_json_obj_close(j);
}

int cmd_diff(int argc, char **argv)
{
    struct args a;
    parse(argc, argv, &a, "apiroster diff [--db PATH] [--config PATH] [--host H] [--json]", "dcHj");
    open_all(&a);
    struct eplist l;
    eplist_load(&a, &l, a.host, NULL);
    struct unused *u;
    size_t nu = unused_ops(a.m, &l, &u);

    /* hosts: those of endpoints and of unused operations ("" = a spec without host) */
    const char **hosts = NULL;
    size_t nh = 0;
    for (size_t i = 0; i < l.n + nu; i++) {
        const char *h = i < l.n ? l.v[i]->host : u[i - l.n].host;
        if (a.host && i >= l.n && strcasecmp(h, a.host))
            continue;
        int have = 0;
        for (size_t k = 0; k < nh && !have; k++)
            have = !strcmp(hosts[k], h);
        if (!have) {
            hosts = ar_xrealloc(hosts, (nh + 1) * sizeof(*hosts));
            hosts[nh++] = h;
        }
    }
    qsort(hosts, nh, sizeof(*hosts), cmp_host);

    struct ar_json j;
    ar_json_init(&j);
    uint64_t total[AR_ARRAY_LEN(states)] = { 0 };
    if (a.json) {
        ar_json_obj_open(&j);
        ar_json_key(&j, "hosts");
        ar_json_arr_open(&j);
    } else {
        printf("%-32s %10s %8s %8s %8s %8s %9s\n", "HOST", "DOCUMENTED", "SHADOW", "ZOMBIE",
               "UNUSED", "NOISE", "ENCRYPTED");
    }
    for (size_t h = 0; h < nh; h++) {
        uint64_t c[AR_ARRAY_LEN(states)] = { 0 };
        for (size_t i = 0; i < l.n; i++)
            if (!strcmp(l.v[i]->host, hosts[h]))
                c[state_idx(l.v[i]->v.state)]++;
        for (size_t i = 0; i < nu; i++)
            if (!strcmp(u[i].host, hosts[h]))
                c[3]++;
        for (size_t k = 0; k < AR_ARRAY_LEN(states); k++)
            total[k] += c[k];
        if (!a.json) {
            printf("%-32s %10" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
                   " %9" PRIu64 "\n", hosts[h][0] ? ar_vis(hosts[h]) : "(any host)", c[0], c[1],
                   c[2],
                   c[3], c[4], c[5]);
            continue;
        }
        ar_json_obj_open(&j);
        ar_json_kstr(&j, "host", hosts[h][0] ? hosts[h] : NULL);
        for (size_t k = 0; k < AR_ARRAY_LEN(states); k++)
            ar_json_kuint(&j, states[k], c[k]);
        ar_json_key(&j, "endpoints");
        ar_json_arr_open(&j);
        for (size_t i = 0; i < l.n; i++)
            if (!strcmp(l.v[i]->host, hosts[h]))
                ep_json(&j, l.v[i]);
        for (size_t i = 0; i < nu; i++) {
            if (strcmp(u[i].host, hosts[h]))
                continue;
            ar_json_obj_open(&j);
            ar_json_kstr(&j, "method", u[i].method);
            ar_json_kstr(&j, "template", u[i].tmpl);
            ar_json_kstr(&j, "state", "unused");
            ar_json_kstr(&j, "reason", "documented, never seen");
            ar_json_kuint(&j, "hits", 0);
            ar_json_kstr(&j, "spec", u[i].source);
            ar_json_kstr(&j, "operation", u[i].pointer);
            ar_json_kstr(&j, "owner", u[i].owner);
            ar_json_obj_close(&j);
        }
        ar_json_arr_close(&j);
        ar_json_obj_close(&j);
    }
    if (a.json) {
        ar_json_arr_close(&j);
        ar_json_key(&j, "totals");
        ar_json_obj_open(&j);
        for (size_t k = 0; k < AR_ARRAY_LEN(states); k++)
            ar_json_kuint(&j, states[k], total[k]);
        ar_json_obj_close(&j);
        ar_json_obj_close(&j);
        flush_json(&j);
    } else {
        printf("%-32s %10" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
               " %9" PRIu64 "\n", "total", total[0], total[1], total[2], total[3], total[4],
               total[5]);
        for (size_t i = 0; i < l.n; i++) {
            const struct ar_endpoint *e = l.v[i];
            int k = state_idx(e->v.state);
            if (k == 0)
                continue;
            printf("%-10s %s %s %s  %s%s%s%s\n", states[k], ar_vis(e->method), ar_vis(e->host),
                   ar_vis(e->tmpl), e->v.reason ? ar_vis(e->v.reason) : "",
                   e->v.spec_source ? "  " : "", e->v.spec_source ? ar_vis(e->v.spec_source) : "",
                   e->v.owner ? "" : "  (unowned)");
        }
        for (size_t i = 0; i < nu; i++)
            printf("%-10s %s %s %s  %s#%s\n", "unused", ar_vis(u[i].method),
                   u[i].host[0] ? ar_vis(u[i].host) : "(any host)", ar_vis(u[i].tmpl),
                   ar_vis(u[i].source), ar_vis(u[i].pointer));
    }
    free(hosts);
    unused_free(u, nu);
    eplist_free(&l);
    close_all(&a);
    return AR_EXIT_OK;
}

/* ---- owner ------------------------------------------------------------ */

/* "https://Host:443/a/./b;x=1?q" -> host "host" (as the roster writes hosts:
 * ar_host_norm, and ":443" of https dropped too), path "/a/b": path parameters
 * cut as a capture cuts them, dot segments removed as a client does before
 * sending (RFC 3986 5.2.4). Returns 0, or -1 when url is not
 * http(s)://host[:port][/path] or its path does not fit. */
static int split_url(const char *url, char *host, size_t hostsz, char *path, size_t pathsz)
{
    size_t sl = !strncasecmp(url, "http://", 7) ? 7 : !strncasecmp(url, "https://", 8) ? 8 : 0;
    if (!sl)
        return -1;
    const char *p = url + sl;
    size_t hl = strcspn(p, "/?#");
    char raw[AR_HOST_MAX + 2];
    if (!hl || hl >= sizeof(raw) || memchr(p, '@', hl))
        return -1; /* no host, too long, or userinfo (never a credential on the command line) */
    memcpy(raw, p, hl);
    raw[hl] = '\0';
    if (sl == 8 && hl > 4 && !strcmp(raw + hl - 4, ":443"))
        raw[hl - 4] = '\0';
    if (ar_host_norm(raw, host, hostsz) < 0)
        return -1;
    p += hl;
    size_t pl = strcspn(p, "?#");
    if (pl + 2 > pathsz)
        return -1;
    char *cut = ar_xmalloc(pl + 2);
    pl = ar_path_cut_params(p, pl, cut);
    size_t o = 0;
    for (size_t i = 0; i < pl;) { /* each segment: cut[i] == '/', then up to the next '/' */
        size_t e = i + 1;
        while (e < pl && cut[e] != '/')
            e++;
        int dot = e - i == 2 && cut[i + 1] == '.';
        int dotdot = e - i == 3 && cut[i + 1] == '.' && cut[i + 2] == '.';
        if (dotdot)
            while (o > 0 && path[--o] != '/')
                ;
        if (!dot && !dotdot) {
            memcpy(path + o, cut + i, e - i);
            o += e - i;
        } else if (e == pl) {
            path[o++] = '/'; /* "/a/." is "/a/", "/a/b/.." is "/a/" */
        }
        i = e;
    }
    free(cut);
    if (!o)
        path[o++] = '/';
    path[o] = '\0';
    return 0;
}

int cmd_owner(int argc, char **argv)
{
    struct args a;
    const char *usage = "apiroster owner [--db PATH] [--config PATH] [--json] METHOD URL";
    parse(argc, argv, &a, usage, "dcj");
    if (argc - optind != 2)
        ar_die(AR_EXIT_USAGE, "usage: %s", usage);
    char method[32], host[512], path[8192], err[1024];
    const char *m = argv[optind];
    size_t ml = strlen(m);
    if (!ml || ml >= sizeof(method) || strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_") != ml)
        ar_die(AR_EXIT_USAGE, "owner: bad method '%s'", m);
    for (size_t i = 0; i <= ml; i++)
        method[i] = (char)toupper((unsigned char)m[i]);
    if (split_url(argv[optind + 1], host, sizeof(host), path, sizeof(path)) < 0)
        ar_die(AR_EXIT_USAGE, "owner: '%s' is not an http(s)://HOST[:PORT][/PATH] URL", argv[optind + 1]);
    open_all(&a);

    /* the template this URL falls under, as a capture would make it */
    struct ar_templater *tp = ar_templater_new(&a.cfg.lim, NULL);
    if (a.cfg.words && *a.cfg.words)
        ar_templater_load_words(tp, a.cfg.words);
    for (int i = 0; i < a.cfg.npins; i++)
        ar_templater_pin(tp, a.cfg.pins[i].host, a.cfg.pins[i].pattern);
    if (ar_store_load_collapses(a.s, tp, err, sizeof(err)) < 0)
        ar_die_store(a.s, err);
    ar_model_seed_templater(a.m, tp);
    char tmpl[8192];
    const char *rule;
    ar_template(tp, host, path, tmpl, sizeof(tmpl), &rule);
    ar_templater_free(tp);

    /* seen? (the stored endpoint, with its statuses) */
    struct eplist l;
    eplist_load(&a, &l, host, NULL);
    struct ar_endpoint *e = NULL;
    for (size_t i = 0; i < l.n && !e; i++)
        if (!strcmp(l.v[i]->method, method) && !strcmp(l.v[i]->tmpl, tmpl))
            e = l.v[i];
    int seen = e != NULL;
    struct ar_endpoint *fresh = seen ? NULL : ar_endpoint_new(host, method, tmpl, rule);
    if (!seen)
        e = fresh;

    struct ar_verdict v = { 0 };
    ar_model_judge(a.m, e, &v);
    struct ar_spec_match sm;
    enum ar_match_kind k = ar_specset_match(ar_model_specs(a.m), host, method, tmpl, &sm);
    struct ar_owner_result res;
    int owned = ar_model_owner(a.m, e, k == AR_MATCH_NONE ? NULL : &sm, &res);

    if (a.json) {
        struct ar_json j;
        ar_json_init(&j);
        ar_json_obj_open(&j);
        ar_json_kstr(&j, "host", host);
        ar_json_kstr(&j, "method", method);
        ar_json_kstr(&j, "template", v.spec_tmpl ? v.spec_tmpl : tmpl);
        ar_json_kstr(&j, "path_template", tmpl);
        ar_json_kstr(&j, "rule", rule);
        ar_json_kstr(&j, "state", v.state);
        ar_json_kstr(&j, "reason", v.reason);
        ar_json_key(&j, "spec");
        if (v.spec_source) {
            ar_json_obj_open(&j);
            ar_json_kstr(&j, "source", v.spec_source);
            ar_json_kstr(&j, "pointer", v.spec_pointer);
            ar_json_obj_close(&j);
        } else {
            ar_json_null(&j);
        }
        ar_owner_result_json_fields(&j, &res);
        ar_json_key(&j, "seen");
        ar_json_bool(&j, seen);
        if (seen)
            ar_json_kuint(&j, "hits", e->hits);
        ar_json_obj_close(&j);
        flush_json(&j);
    } else {
        printf("%s %s%s  ->  %s %s%s\n", ar_vis(method), ar_vis(host), ar_vis(path), ar_vis(host),
               ar_vis(v.spec_tmpl ? v.spec_tmpl : tmpl), seen ? "" : "  (never seen)");
        printf("state:    %s%s%s%s\n", ar_vis(v.state), v.reason ? " (" : "",
               v.reason ? ar_vis(v.reason) : "", v.reason ? ")" : "");
        if (v.spec_source)
            printf("spec:     %s#%s\n", ar_vis(v.spec_source),
                   v.spec_pointer ? ar_vis(v.spec_pointer) : "");
        printf("owner:    %s\n", res.team ? ar_vis(res.team)
                                 : res.unowned ? "(explicitly unowned)" : "(unowned)");
        printf("source:   %s%s%s\n", ar_owner_source_name(res.source), res.evidence ? "  " : "",
               res.evidence ? ar_vis(res.evidence) : "");
        for (size_t i = 0; i < res.nalts; i++)
            printf("disagree: %s from %s  %s\n",
                   res.alts[i].team ? ar_vis(res.alts[i].team) : "(unowned)",
                   ar_owner_source_name(res.alts[i].source), ar_vis(res.alts[i].evidence));
        for (size_t i = 0; i < res.nunresolved; i++)
            printf("ignored:  %s from %s  %s: %s\n", ar_vis(res.unresolved[i].team),
                   ar_owner_source_name(res.unresolved[i].source),
                   ar_vis(res.unresolved[i].evidence), ar_vis(res.unresolved[i].reason));
    }
    ar_owner_result_free(&res);
    ar_verdict_clear(&v);
    ar_endpoint_free(fresh);
    eplist_free(&l);
    close_all(&a);
    return owned ? AR_EXIT_OK : AR_EXIT_FAIL;
}

/* ---- owners ----------------------------------------------------------- */

struct team {
    char *name;     /* NULL: unowned */
    uint64_t c[AR_ARRAY_LEN(states)];
    uint64_t endpoints;
};

static struct team *team_of(struct team **v, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if ((!name && !(*v)[i].name) || (name && (*v)[i].name && !strcmp((*v)[i].name, name)))
            return &(*v)[i];
    *v = ar_xrealloc(*v, (*n + 1) * sizeof(**v));
    struct team *t = &(*v)[(*n)++];
    memset(t, 0, sizeof(*t));
    t->name = name ? ar_xstrdup(name) : NULL;
    return t;
}

static int cmp_team(const void *a, const void *b)
{
    const struct team *x = a, *y = b;
    if (!x->name || !y->name)
        return !x->name - !y->name;   /* unowned last */
    return strcmp(x->name, y->name);
}

int cmd_owners(int argc, char **argv)
{
    struct args a;
    parse(argc, argv, &a, "apiroster owners [--db PATH] [--config PATH] [--json]", "dcj");
    open_all(&a);
    struct eplist l;
    eplist_load(&a, &l, NULL, NULL);
    struct unused *u;
    size_t nu = unused_ops(a.m, &l, &u);
    struct team *t = NULL;
    size_t nt = 0;
    for (size_t i = 0; i < l.n; i++) {
        struct team *x = team_of(&t, &nt, l.v[i]->v.owner);
        x->endpoints++;
        x->c[state_idx(l.v[i]->v.state)]++;
    }
    for (size_t i = 0; i < nu; i++)
        team_of(&t, &nt, u[i].owner)->c[3]++;
    qsort(t, nt, sizeof(*t), cmp_team);
    struct ar_json j;
    ar_json_init(&j);
    if (a.json)
        ar_json_arr_open(&j);
    else
        printf("%-32s %9s %10s %7s %7s %7s %7s %9s\n", "OWNER", "ENDPOINTS", "DOCUMENTED",
               "SHADOW", "ZOMBIE", "UNUSED", "NOISE", "ENCRYPTED");
    for (size_t i = 0; i < nt; i++) {
        if (!a.json) {
            printf("%-32s %9" PRIu64 " %10" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64
                   " %7" PRIu64 " %9" PRIu64 "\n", t[i].name ? ar_vis(t[i].name) : "(unowned)",
                   t[i].endpoints, t[i].c[0], t[i].c[1], t[i].c[2], t[i].c[3], t[i].c[4],
                   t[i].c[5]);
        } else {
            ar_json_obj_open(&j);
            ar_json_kstr(&j, "owner", t[i].name);
            ar_json_kuint(&j, "endpoints", t[i].endpoints);
            for (size_t k = 0; k < AR_ARRAY_LEN(states); k++)
                ar_json_kuint(&j, states[k], t[i].c[k]);
            ar_json_obj_close(&j);
        }
        free(t[i].name);
    }
    if (a.json) {
        ar_json_arr_close(&j);
        flush_json(&j);
    } else {
        ar_json_free(&j);
    }
    free(t);
    unused_free(u, nu);
    eplist_free(&l);
    close_all(&a);
    return AR_EXIT_OK;
}

/* model.c - specs, catalogs, rules and config owners, and the judge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/json.h"
#include "../core/util.h"
#include "model.h"

struct file_buf {
    char *path;
    char *data;
    size_t len;
};

struct spec_src {
    char *source;                 /* file path, or "CATALOG#api:NAME" for an inline definition */
    struct ar_spec *spec;
    const struct ar_entity *api;  /* the catalog API entity whose definition this is */
    const struct ar_bcatalog *cat;
};

struct pin {
    struct ar_rules *rule;        /* one line: PATTERN TEAM */
    char evidence[300];
};

struct ar_model {
    struct spec_src *specs;
    size_t nspecs;
    struct ar_specset *ss;
    struct ar_bcatalog **cats;
    size_t ncats;
    struct ar_rules **rules;
    size_t nrules;
    struct pin *pins;
    size_t npins;
    struct ar_hostrule *hosts;
    char (*host_ev)[300];
    size_t nhosts;
    const char **known;           /* teams named anywhere but in specs */
    size_t nknown;
};

/* ---- loading ----------------------------------------------------------- */

struct src_row {
    int64_t id;
    char *path, *kind;
};
struct src_list {
    struct src_row *v;
    size_t n;
};

static int collect_src(const struct ar_source *src, void *ud)
{
    struct src_list *l = ud;
    l->v = ar_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    l->v[l->n].id = src->id;
    l->v[l->n].path = ar_xstrdup(src->path);
    l->v[l->n].kind = ar_xstrdup(src->kind);
    l->n++;
    return 0;
}

struct file_list {
    struct file_buf *v;
    size_t n;
};

static int collect_file(const struct ar_source_file *f, void *ud)
{
    struct file_list *l = ud;
    l->v = ar_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    l->v[l->n].path = ar_xstrdup(f->path);
    l->v[l->n].data = ar_xmalloc(f->len + 1);
    memcpy(l->v[l->n].data, f->data, f->len);
    l->v[l->n].data[f->len] = '\0';
    l->v[l->n].len = f->len;
    l->n++;
    return 0;
}

static void files_free(struct file_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].data);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static const struct file_buf *files_find(const struct file_list *l, const char *path)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].path, path))
            return &l->v[i];
    return NULL;
}

/* ar_spec_read_fn over the files stored with a source. */
static int read_stored(void *ud, const char *path, char **data, size_t *len)
{
    const struct file_buf *f = files_find(ud, path);
    if (!f)
        return -1;
    *data = ar_xmalloc(f->len + 1);
    memcpy(*data, f->data, f->len + 1);
    *len = f->len;
    return 0;
}

static void add_spec(struct ar_model *m, const char *source, struct ar_spec *spec,
                     const struct ar_entity *api, const struct ar_bcatalog *cat)
{
    m->specs = ar_xrealloc(m->specs, (m->nspecs + 1) * sizeof(*m->specs));
    m->specs[m->nspecs++] = (struct spec_src){ ar_xstrdup(source), spec, api, cat };
}

static void add_known(struct ar_model *m, const char *team)
{
    for (size_t i = 0; i < m->nknown; i++)
        if (ar_team_eq(m->known[i], team))
            return;
    m->known = ar_xrealloc(m->known, (m->nknown + 1) * sizeof(*m->known));
    m->known[m->nknown++] = team;
}

void ar_path_join(const char *base, const char *ref, char *out, size_t outsz)
{
    char tmp[4096];
    if (ref[0] == '/') {
        ar_strlcpy(tmp, ref, sizeof(tmp));
    } else {
        const char *slash = strrchr(base, '/');
        size_t dl = slash ? (size_t)(slash - base) : 0;
        snprintf(tmp, sizeof(tmp), "%.*s%s%s", (int)dl, base, dl ? "/" : "", ref);
    }
    /* lexically: drop "." segments, fold "x/.." */
    size_t n = 0;
    int abs = tmp[0] == '/';
    out[0] = '\0';
    for (char *seg = strtok(tmp, "/"); seg; seg = strtok(NULL, "/")) {
        if (!strcmp(seg, "."))
            continue;
        if (!strcmp(seg, "..")) {
            char *prev = strrchr(out, '/');
            if (n && strcmp(prev ? prev + 1 : out, "..")) {
                n = prev ? (size_t)(prev - out) : 0;
                out[n] = '\0';
                continue;
            }
            if (abs)
                continue;
        }
        int w = snprintf(out + n, outsz - n, "%s%s", (n || abs) ? "/" : "", seg);
        if (w < 0 || (size_t)w >= outsz - n)
            break;
        n += (size_t)w;
    }
    if (!n)
        ar_strlcpy(out, abs ? "/" : ".", outsz);
}

static int is_remote(const char *ref)
{
    return strstr(ref, "://") != NULL;
}

static int load_catalog(struct ar_model *m, const char *path, struct file_list *files, char *err,
                        size_t errsz)
{
    const struct file_buf *own = &files->v[0];
    struct ar_bcatalog *cat = ar_bcatalog_parse(path, own->data, own->len, err, errsz);
    if (!cat)
        return -1;
    m->cats = ar_xrealloc(m->cats, (m->ncats + 1) * sizeof(*m->cats));
    m->cats[m->ncats++] = cat;
    for (size_t i = 0; i < ar_bcatalog_team_count(cat); i++)
        add_known(m, ar_bcatalog_team(cat, i));
    for (size_t i = 0; i < ar_bcatalog_count(cat); i++) {
        const struct ar_entity *e = ar_bcatalog_entity(cat, i);
        if (e->kind != AR_ENT_API)
            continue;
        struct ar_spec *spec = NULL;
        char source[1024], why[1024];
        if (e->definition) {
            snprintf(source, sizeof(source), "%s#api:%s", path, e->name);
            if (ar_spec_load(source, e->definition, strlen(e->definition), NULL, NULL, &spec, why,
                             sizeof(why)) < 0)
                continue;   /* not an OpenAPI definition (GraphQL, AsyncAPI...) */
        } else if (e->definition_ref && !is_remote(e->definition_ref)) {
            ar_path_join(path, e->definition_ref, source, sizeof(source));
            /* A spec imported on its own is linked after loading (link_apis). */
            const struct file_buf *f = files_find(files, source);
            if (!f || ar_spec_load(source, f->data, f->len, read_stored, files, &spec, why,
                                   sizeof(why)) < 0)
                continue;
        } else {
            continue;
        }
        add_spec(m, source, spec, e, cat);
    }
    return 0;
}

/* A spec imported on its own that a catalog API names as its definition:
 * link them, so that the API's owner and lifecycle apply to its operations. */
static void link_apis(struct ar_model *m)
{
    for (size_t c = 0; c < m->ncats; c++) {
        const struct ar_bcatalog *cat = m->cats[c];
        for (size_t i = 0; i < ar_bcatalog_count(cat); i++) {
            const struct ar_entity *e = ar_bcatalog_entity(cat, i);
            if (e->kind != AR_ENT_API || !e->definition_ref || is_remote(e->definition_ref))
                continue;
            char path[1024];
            ar_path_join(ar_bcatalog_file(cat), e->definition_ref, path, sizeof(path));
            for (size_t k = 0; k < m->nspecs; k++)
                if (!m->specs[k].api && !strcmp(m->specs[k].source, path)) {
                    m->specs[k].api = e;
                    m->specs[k].cat = cat;
                }
        }
    }
}

static int load_owners(struct ar_model *m, const struct ar_config *cfg, char *err, size_t errsz)
{
    char why[512];
    for (int i = 0; i < cfg->nitems; i++) {
        const struct ar_cfg_item *it = &cfg->items[i];
        if (!strcmp(it->key, "pin")) {
            /* PATTERN TEAM: a one-line rules file, so that it matches as rules do */
            const char *sp = strpbrk(it->value, " \t");
            if (!sp) {
                snprintf(err, errsz, "%s:%d: owner pin needs PATTERN TEAM", it->file, it->line);
                return -1;
            }
            char name[300];
            snprintf(name, sizeof(name), "%s:%d", it->file, it->line);
            struct ar_rules *r = ar_rules_parse(name, it->value, strlen(it->value), why, sizeof(why));
            if (!r || ar_rules_team_count(r) == 0) {
                snprintf(err, errsz, "%s:%d: bad owner pin: %s", it->file, it->line,
                         r ? "no team" : why);
                ar_rules_free(r);
                return -1;
            }
            m->pins = ar_xrealloc(m->pins, (m->npins + 1) * sizeof(*m->pins));
            m->pins[m->npins].rule = r;
            ar_strlcpy(m->pins[m->npins].evidence, name, sizeof(m->pins[0].evidence));
            m->npins++;
            add_known(m, ar_rules_team(r, 0));
        } else if (!strcmp(it->key, "host")) {
            m->hosts = ar_xrealloc(m->hosts, (m->nhosts + 1) * sizeof(*m->hosts));
            m->host_ev = ar_xrealloc(m->host_ev, (m->nhosts + 1) * sizeof(*m->host_ev));
            memset(&m->hosts[m->nhosts], 0, sizeof(*m->hosts));
            if (ar_hostrule_parse(it->value, &m->hosts[m->nhosts], why, sizeof(why)) < 0) {
                snprintf(err, errsz, "%s:%d: bad host rule: %s", it->file, it->line, why);
                ar_hostrule_clear(&m->hosts[m->nhosts]);
                return -1;
            }
            snprintf(m->host_ev[m->nhosts], sizeof(m->host_ev[0]), "%s:%d", it->file, it->line);
            add_known(m, m->hosts[m->nhosts].team);
            m->nhosts++;
        }
    }
    return 0;
}

struct ar_model *ar_model_load(struct ar_store *s, const struct ar_config *cfg, char *err,
                               size_t errsz)
{
    struct ar_model *m = ar_xcalloc(1, sizeof(*m));
    struct src_list srcs = { 0 };
    struct file_list files = { 0 };
    int ok = 0;
    if (ar_store_each_source(s, collect_src, &srcs, err, errsz) < 0)
        goto out;
    for (size_t i = 0; i < srcs.n; i++) {
        const struct src_row *r = &srcs.v[i];
        files_free(&files);
        if (ar_store_source_files(s, r->id, collect_file, &files, err, errsz) < 0)
            goto out;
        if (!files.n) {
            snprintf(err, errsz, "%s: imported without its bytes", r->path);
            goto out;
        }
        if (!strcmp(r->kind, "spec")) {
            struct ar_spec *spec;
            if (ar_spec_load(r->path, files.v[0].data, files.v[0].len, read_stored, &files, &spec,
                             err, errsz) < 0)
                goto out;
            add_spec(m, r->path, spec, NULL, NULL);
        } else if (!strcmp(r->kind, "catalog")) {
            if (load_catalog(m, r->path, &files, err, errsz) < 0)
                goto out;
        } else {
            struct ar_rules *rules = ar_rules_parse(r->path, files.v[0].data, files.v[0].len, err,
                                                    errsz);
            if (!rules)
                goto out;
            m->rules = ar_xrealloc(m->rules, (m->nrules + 1) * sizeof(*m->rules));
            m->rules[m->nrules++] = rules;
            for (size_t t = 0; t < ar_rules_team_count(rules); t++)
                add_known(m, ar_rules_team(rules, t));
        }
    }
    if (cfg && load_owners(m, cfg, err, errsz) < 0)
        goto out;
    link_apis(m);
    m->ss = ar_specset_new();
    for (size_t i = 0; i < m->nspecs; i++)
        ar_specset_add(m->ss, m->specs[i].spec, m->specs[i].source);
    ok = 1;
out:
    files_free(&files);
    for (size_t i = 0; i < srcs.n; i++) {
        free(srcs.v[i].path);
        free(srcs.v[i].kind);
    }
    free(srcs.v);
    if (!ok) {
        ar_model_free(m);
        return NULL;
    }
    return m;
}

void ar_model_free(struct ar_model *m)
{
    if (!m)
        return;
    ar_specset_free(m->ss);
    for (size_t i = 0; i < m->nspecs; i++) {
        free(m->specs[i].source);
        ar_spec_free(m->specs[i].spec);
    }
    free(m->specs);
    for (size_t i = 0; i < m->ncats; i++)
        ar_bcatalog_free(m->cats[i]);
    free(m->cats);
    for (size_t i = 0; i < m->nrules; i++)
        ar_rules_free(m->rules[i]);
    free(m->rules);
    for (size_t i = 0; i < m->npins; i++)
        ar_rules_free(m->pins[i].rule);
    free(m->pins);
    for (size_t i = 0; i < m->nhosts; i++)
        ar_hostrule_clear(&m->hosts[i]);
    free(m->hosts);
    free(m->host_ev);
    free(m->known);
    free(m);
}

const struct ar_specset *ar_model_specs(const struct ar_model *m)
{
    return m->ss;
}

size_t ar_model_spec_count(const struct ar_model *m)
{
    return m->nspecs;
}

void ar_model_seed_templater(const struct ar_model *m, struct ar_templater *tp)
{
    size_t n = ar_specset_count(m->ss);
    for (size_t i = 0; i < n; i++) {
        struct ar_spec_entry e;
        if (ar_specset_entry(m->ss, i, &e) == 0)
            ar_templater_add_spec(tp, e.server->host[0] ? e.server->host : NULL, e.tmpl);
    }
}

/* ---- judging ----------------------------------------------------------- */

void ar_host_noport(const char *host, char *out, size_t outsz)
{
    ar_strlcpy(out, host, outsz);
    char *c = out[0] == '[' ? strchr(out, ']') : out;
    if (c && (c = strrchr(c, ':')) && !strchr(c + 1, ':'))
        *c = '\0';
}

static const struct spec_src *spec_of(const struct ar_model *m, const struct ar_spec *spec)
{
    for (size_t i = 0; i < m->nspecs; i++)
        if (m->specs[i].spec == spec)
            return &m->specs[i];
    return NULL;
}

struct cands {
    struct ar_owner_cand v[32];
    char ev[32][1100];
    size_t n;
};

static void cand(struct cands *c, enum ar_owner_source src, const char *team, int unowned,
                 const char *fmt, const char *a, const char *b)
{
    if (c->n >= AR_ARRAY_LEN(c->v))
        return;
    snprintf(c->ev[c->n], sizeof(c->ev[0]), fmt, a, b);
    c->v[c->n] = (struct ar_owner_cand){ src, team, unowned, c->ev[c->n] };
    c->n++;
}

/* The owners a spec operation names: its x-owner, then its catalog API. */
static void spec_cands(const struct ar_model *m, const struct ar_spec_match *sm, struct cands *c,
                       int inferred)
{
    const struct spec_src *ss = spec_of(m, sm->spec);
    if (sm->op->owner)
        cand(c, inferred ? AR_OWN_INFERRED : AR_OWN_SPEC, sm->op->owner, 0, "%s#%s", sm->source,
             sm->op->owner_pointer ? sm->op->owner_pointer : "");
    if (!ss || !ss->api)
        return;
    char line[32];
    snprintf(line, sizeof(line), "%u", ss->api->line);
    if (ss->api->owner)
        cand(c, inferred ? AR_OWN_INFERRED : AR_OWN_CATALOG, ss->api->owner, 0, "%s:%s",
             ar_bcatalog_file(ss->cat), line);
    const struct ar_entity *prov[8];
    size_t np = ar_bcatalog_api_providers(ss->cat, ss->api->ns, ss->api->name, prov, 8);
    for (size_t i = 0; i < np && i < 8; i++) {
        snprintf(line, sizeof(line), "%u", prov[i]->line);
        if (prov[i]->owner)
            cand(c, inferred ? AR_OWN_INFERRED : AR_OWN_CATALOG, prov[i]->owner, 0, "%s:%s",
                 ar_bcatalog_file(ss->cat), line);
    }
}

int ar_model_owner(const struct ar_model *m, const struct ar_endpoint *e,
                   const struct ar_spec_match *sm, struct ar_owner_result *res)
{
    struct cands c = { .n = 0 };
    char host[512], subject[4096];
    ar_host_noport(e->host, host, sizeof(host));
    snprintf(subject, sizeof(subject), "%s%s", host, e->tmpl);

    for (size_t i = m->npins; i-- > 0;) {      /* the last matching pin wins */
        struct ar_rule_hit hit;
        if (ar_rules_match(m->pins[i].rule, subject, &hit)) {
            cand(&c, AR_OWN_PIN, hit.owners[0], 0, "%s%s", m->pins[i].evidence, "");
            break;
        }
    }
    if (sm && sm->kind != AR_MATCH_NONE)
        spec_cands(m, sm, &c, 0);
    for (size_t i = 0; i < m->nrules; i++) {
        struct ar_rule_hit hits[8];
        size_t n = ar_rules_match_all(m->rules[i], subject, hits, 8);
        for (size_t k = 0; k < n && k < 8; k++) {
            char line[32];
            snprintf(line, sizeof(line), "%u", hits[k].line);
            cand(&c, AR_OWN_RULES, hits[k].nowners ? hits[k].owners[0] : NULL, hits[k].unowned,
                 "%s:%s", ar_rules_file(m->rules[i]), line);
        }
    }
    long h = ar_hostrules_match(m->hosts, m->nhosts, e->host);
    if (h >= 0)
        cand(&c, AR_OWN_HOST, m->hosts[h].team, 0, "%s%s", m->host_ev[h], "");
    if ((!sm || sm->kind == AR_MATCH_NONE) && ar_specset_count(m->ss)) {
        /* the nearest documented ancestor (any method). Ancestors with more
         * segments than any spec template are skipped: trying each ancestor
         * of a 4000-segment template was quadratic (F3). A prefix with S
         * slashes has at least S - 1 segments: cut before the
         * (max_segs + 3)-th slash, the first ancestor tried has max_segs + 1
         * slashes. */
        size_t max_segs = ar_specset_max_segs(m->ss);
        char anc[4096];
        ar_strlcpy(anc, e->tmpl, sizeof(anc));
        size_t slashes = 0;
        for (char *p = anc; *p; p++)
            if (*p == '/' && ++slashes == max_segs + 3) {
                *p = '\0';
                break;
            }
        char *slash;
        while ((slash = strrchr(anc, '/')) && slash != anc) {
            *slash = '\0';
            struct ar_spec_match am;
            if (ar_specset_match(m->ss, e->host, "GET", anc, &am) != AR_MATCH_NONE) {
                spec_cands(m, &am, &c, 1);
                break;
            }
        }
    }
    return ar_owner_resolve(c.v, c.n, m->known, m->nknown, res);
}

static char *dup_or_null(const char *s)
{
    return s ? ar_xstrdup(s) : NULL;
}

void ar_model_judge(void *ud, const struct ar_endpoint *e, struct ar_verdict *v)
{
    const struct ar_model *m = ud;
    struct ar_spec_match sm;
    /* A TLS-only host (rule tls, method and template "*", #7): encrypted, no
     * spec match; owned as its host root is (HOST + "/": pins, rules, host
     * rules; no spec, no inferred owner), judged on a copy whose template is
     * "/" (the stored row keeps "*"). */
    int tls = e->rule && !strcmp(e->rule, "tls");
    char root_tmpl[] = "/";
    struct ar_endpoint root;
    enum ar_match_kind k = AR_MATCH_NONE;
    if (tls) {
        root = *e;
        root.tmpl = root_tmpl;
        v->state = ar_xstrdup("encrypted");
        v->reason = ar_xstrdup("TLS only: SNI seen, HTTP not visible here");
        e = &root;
    } else if ((k = ar_specset_match(m->ss, e->host, e->method, e->tmpl, &sm)) == AR_MATCH_OP) {
        const struct spec_src *ss = spec_of(m, sm.spec);
        int api_deprecated = ss && ss->api && ss->api->lifecycle &&
                             ar_strcaseeq(ss->api->lifecycle, "deprecated");
        v->state = ar_xstrdup(sm.op->deprecated || api_deprecated ? "zombie" : "documented");
        if (sm.op->deprecated)
            v->reason = ar_xstrdup("deprecated operation");
        else if (api_deprecated)
            v->reason = ar_xstrdup("deprecated API (catalog lifecycle)");
        v->spec_pointer = ar_xstrdup(sm.op->pointer);
    } else {
        v->state = ar_xstrdup(ar_endpoint_is_noise(e) ? "noise" : "shadow");
        v->reason = ar_xstrdup(ar_endpoint_is_noise(e) ? "only answered 404/405"
                               : k == AR_MATCH_PATH ? "undocumented method" : "unknown path");
        if (k == AR_MATCH_PATH) {     /* the path item: the operation's pointer minus the method */
            char ptr[2048];
            ar_strlcpy(ptr, sm.op->pointer, sizeof(ptr));
            char *slash = strrchr(ptr, '/');
            if (slash)
                *slash = '\0';
            v->spec_pointer = ar_xstrdup(ptr);
        }
    }
    if (k != AR_MATCH_NONE) {
        v->spec_source = ar_xstrdup(sm.source);
        v->spec_tmpl = ar_xstrdup(sm.op->path);
    }

    struct ar_owner_result res;
    ar_model_owner(m, e, k == AR_MATCH_NONE ? NULL : &sm, &res);
    v->owner = dup_or_null(res.team);
    v->owner_source = ar_xstrdup(ar_owner_source_name(res.source));
    v->owner_evidence = dup_or_null(res.evidence);
    if (res.nalts) {
        struct ar_json j;
        ar_json_init(&j);
        ar_json_arr_open(&j);
        for (size_t i = 0; i < res.nalts; i++) {
            ar_json_obj_open(&j);
            ar_json_kstr(&j, "owner", res.alts[i].team);
            ar_json_kstr(&j, "source", ar_owner_source_name(res.alts[i].source));
            ar_json_kstr(&j, "evidence", res.alts[i].evidence);
            ar_json_obj_close(&j);
        }
        ar_json_arr_close(&j);
        ar_json_append(&j, "", 1);
        v->owner_alt = ar_xstrdup(j.buf);
        ar_json_free(&j);
    }
    ar_owner_result_free(&res);
}

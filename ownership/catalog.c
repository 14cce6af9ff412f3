/* catalog.c - Backstage catalog files read with libfyaml (see catalog.h). */
#include "catalog.h"

#include <libfyaml.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/util.h"
#include "team.h"

struct ar_bcatalog {
    char *file;
    struct ar_entity *ents;
    size_t nents, capents;
    size_t ndocs;
    char **warnings;
    size_t nwarnings;
    char **teams;
    size_t nteams;
    void **pool;          /* every string and array the entities point to */
    size_t npool, cappool;
};

static void *keep(struct ar_bcatalog *c, void *p)
{
    if (c->npool == c->cappool) {
        c->cappool = c->cappool ? c->cappool * 2 : 64;
        c->pool = ar_xrealloc(c->pool, c->cappool * sizeof(*c->pool));
    }
    c->pool[c->npool++] = p;
    return p;
}

static void warn(struct ar_bcatalog *c, unsigned line, const char *fmt, ...)
{
    char msg[256], full[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "%s:%u: %s", c->file, line, msg);
    c->warnings = ar_xrealloc(c->warnings, (c->nwarnings + 1) * sizeof(*c->warnings));
    c->warnings[c->nwarnings++] = ar_xstrdup(full);
}

static const char *const kind_names[] = {
    [AR_ENT_API] = "API",           [AR_ENT_COMPONENT] = "Component",
    [AR_ENT_GROUP] = "Group",       [AR_ENT_SYSTEM] = "System",
    [AR_ENT_USER] = "User",         [AR_ENT_DOMAIN] = "Domain",
    [AR_ENT_RESOURCE] = "Resource", [AR_ENT_LOCATION] = "Location",
};

enum ar_entity_kind ar_entity_kind_from(const char *s)
{
    for (size_t i = 0; s && i < AR_ARRAY_LEN(kind_names); i++)
        if (kind_names[i] && ar_strcaseeq(s, kind_names[i]))
            return (enum ar_entity_kind)i;
    return AR_ENT_OTHER;
}

/* ------------------------------------------------------------ node helpers */

static struct fy_node *get(struct fy_node *map, const char *key)
{
    if (!map || !fy_node_is_mapping(map))
        return NULL;
    struct fy_node *v = fy_node_mapping_lookup_value_by_simple_key(map, key, (size_t)-1);
    if (v && fy_node_is_alias(v))
        return NULL;
    return v;
}

/* A scalar child as a kept string, or NULL. */
static const char *scalar(struct ar_bcatalog *c, struct fy_node *map, const char *key)
{
    struct fy_node *v = get(map, key);
    if (!v || !fy_node_is_scalar(v))
        return NULL;
    size_t n = 0;
    const char *s = fy_node_get_scalar(v, &n);
    if (!s)
        return NULL;
    return keep(c, ar_xstrndup(s, n));
}

/* A sequence of scalars (or one scalar) as a kept array of kept strings. */
static const char *const *strlist(struct ar_bcatalog *c, struct fy_node *map, const char *key,
                                  size_t *n)
{
    *n = 0;
    struct fy_node *v = get(map, key);
    if (!v)
        return NULL;
    if (fy_node_is_scalar(v) && !fy_node_is_alias(v)) {
        size_t len = 0;
        const char *s = fy_node_get_scalar(v, &len);
        if (!s)
            return NULL;
        const char **arr = keep(c, ar_xmalloc(sizeof(*arr)));
        arr[0] = keep(c, ar_xstrndup(s, len));
        *n = 1;
        return arr;
    }
    if (!fy_node_is_sequence(v))
        return NULL;
    int cnt = fy_node_sequence_item_count(v);
    if (cnt <= 0)
        return NULL;
    const char **arr = keep(c, ar_xmalloc((size_t)cnt * sizeof(*arr)));
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(v, &it)) != NULL) {
        if (!fy_node_is_scalar(item) || fy_node_is_alias(item))
            continue;
        size_t len = 0;
        const char *s = fy_node_get_scalar(item, &len);
        if (s && *n < (size_t)cnt)
            arr[(*n)++] = keep(c, ar_xstrndup(s, len));
    }
    return arr;
}

static unsigned node_line(struct fy_node *root)
{
    struct fy_node *n = root;
    if (fy_node_is_mapping(root)) {
        void *it = NULL;
        struct fy_node_pair *p = fy_node_mapping_iterate(root, &it);
        if (p && fy_node_pair_key(p))
            n = fy_node_pair_key(p);
    }
    struct fy_token *t = fy_node_get_scalar_token(n);
    const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
    return m ? (unsigned)m->line + 1 : 0;
}

/* ------------------------------------------------------------ entities */

static void read_entity(struct ar_bcatalog *c, struct fy_node *root, unsigned doc)
{
    unsigned line = node_line(root);
    if (!root || !fy_node_is_mapping(root)) {
        warn(c, line, "document %u skipped: not an entity (not a mapping)", doc + 1);
        return;
    }
    const char *kind = scalar(c, root, "kind");
    const char *apiv = scalar(c, root, "apiVersion");
    if (!kind || !apiv) {
        warn(c, line, "document %u skipped: not an entity (no %s)", doc + 1,
             !kind && !apiv ? "kind/apiVersion" : !kind ? "kind" : "apiVersion");
        return;
    }
    struct fy_node *meta = get(root, "metadata");
    const char *name = scalar(c, meta, "name");
    if (!name || !*name) {
        warn(c, line, "document %u skipped: %s entity without metadata.name", doc + 1, kind);
        return;
    }
    if (c->nents == c->capents) {
        c->capents = c->capents ? c->capents * 2 : 8;
        c->ents = ar_xrealloc(c->ents, c->capents * sizeof(*c->ents));
    }
    struct ar_entity *e = &c->ents[c->nents++];
    memset(e, 0, sizeof(*e));
    e->kind = ar_entity_kind_from(kind);
    e->kind_name = kind;
    e->api_version = apiv;
    e->name = name;
    e->ns = scalar(c, meta, "namespace");
    if (!e->ns || !*e->ns)
        e->ns = "default";
    e->line = line;
    e->doc = doc;

    struct fy_node *spec = get(root, "spec");
    e->owner = scalar(c, spec, "owner");
    if (e->owner) {
        char canon[256];
        if (ar_team_canon(e->owner, canon, sizeof(canon)) > 0)
            e->owner_team = keep(c, ar_xstrdup(canon));
    }
    e->type = scalar(c, spec, "type");
    e->lifecycle = scalar(c, spec, "lifecycle");
    e->system = scalar(c, spec, "system");

    switch (e->kind) {
    case AR_ENT_API: {
        struct fy_node *d = get(spec, "definition");
        if (d && fy_node_is_scalar(d)) {
            e->definition = scalar(c, spec, "definition");
        } else if (d && fy_node_is_mapping(d)) {
            static const char *const subst[] = {"$text", "$yaml", "$json"};
            for (size_t i = 0; i < AR_ARRAY_LEN(subst) && !e->definition_ref; i++) {
                const char *ref = scalar(c, d, subst[i]);
                if (ref) {
                    e->definition_ref = ref;
                    e->definition_subst = subst[i];
                }
            }
            if (!e->definition_ref)
                warn(c, line, "API %s: spec.definition is a mapping without $text, $yaml or $json",
                     name);
        }
        break;
    }
    case AR_ENT_COMPONENT:
        e->provides_apis = strlist(c, spec, "providesApis", &e->nprovides_apis);
        break;
    case AR_ENT_GROUP:
        e->parent = scalar(c, spec, "parent");
        e->children = strlist(c, spec, "children", &e->nchildren);
        e->members = strlist(c, spec, "members", &e->nmembers);
        break;
    case AR_ENT_USER:
        e->member_of = strlist(c, spec, "memberOf", &e->nmember_of);
        break;
    default:
        break;
    }
}

/* The first error libfyaml reports. Collected errors (FYPCF_COLLECT_DIAG)
 * leak in libfyaml 0.7.12, so errors are taken from its formatted output
 * instead: "SOURCE:LINE:COL: error: MESSAGE". */
struct diag_cap {
    int have;
    int line, col;
    char msg[200];
};

static void diag_out(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    (void)diag;
    struct diag_cap *cap = user;
    static const char tag[] = ": error: ";
    if (cap->have || len < sizeof(tag))
        return;
    const char *t = NULL;
    for (size_t i = 0; i + sizeof(tag) - 1 <= len && !t; i++)
        if (memcmp(buf + i, tag, sizeof(tag) - 1) == 0)
            t = buf + i;
    if (!t)
        return;
    /* LINE:COL right before the tag */
    const char *p = t;
    int col = 0, line = 0, mul = 1;
    while (p > buf && p[-1] >= '0' && p[-1] <= '9' && mul < 100000000) {
        col += (p[-1] - '0') * mul;
        mul *= 10;
        p--;
    }
    if (mul == 1 || p == buf || p[-1] != ':')
        return;
    p--;
    mul = 1;
    while (p > buf && p[-1] >= '0' && p[-1] <= '9' && mul < 100000000) {
        line += (p[-1] - '0') * mul;
        mul *= 10;
        p--;
    }
    if (mul == 1)
        return;
    const char *m = t + sizeof(tag) - 1;
    size_t mn = (size_t)(buf + len - m);
    while (mn && (m[mn - 1] == '\n' || m[mn - 1] == '\r'))
        mn--;
    cap->have = 1;
    cap->line = line;
    cap->col = col;
    snprintf(cap->msg, sizeof(cap->msg), "%.*s", (int)mn, m);
}

void ar_bcatalog_free(struct ar_bcatalog *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->npool; i++)
        free(c->pool[i]);
    free(c->pool);
    for (size_t i = 0; i < c->nwarnings; i++)
        free(c->warnings[i]);
    free(c->warnings);
    for (size_t i = 0; i < c->nteams; i++)
        free(c->teams[i]);
    free(c->teams);
    free(c->ents);
    free(c->file);
    free(c);
}

struct ar_bcatalog *ar_bcatalog_parse(const char *file, const char *data, size_t len,
                                      char *err, size_t errsz)
{
    if (err && errsz)
        err[0] = '\0';
    struct ar_bcatalog *c = ar_xcalloc(1, sizeof(*c));
    c->file = ar_xstrdup(file ? file : "(catalog)");

    unsigned bl = 0, bc = 0;
    const char *why = NULL;
    if (ar_yaml_text_check(data, data ? len : 0, &bl, &bc, &why) != 0) {
        if (err && errsz)
            snprintf(err, errsz, "%s:%u:%u: %s", c->file, bl, bc, why);
        ar_bcatalog_free(c);
        return NULL;
    }

    struct diag_cap cap = {0};
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = diag_out;
    dcfg.user = &cap;
    dcfg.colorize = false;
    dcfg.show_source = false;
    dcfg.show_position = true;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    if (!diag) {
        if (err && errsz)
            snprintf(err, errsz, "%s:1:1: out of memory", c->file);
        ar_bcatalog_free(c);
        return NULL;
    }
    struct fy_parse_cfg cfg = {
        .flags = FYPCF_QUIET,
        .diag = diag,
    };
    struct fy_parser *fyp = fy_parser_create(&cfg);
    /* libfyaml reads from a buffer that must stay valid: data may not be
     * NUL-terminated, so parse a copy. */
    char *copy = ar_xmalloc(len + 1);
    if (len)
        memcpy(copy, data, len);
    copy[len] = '\0';
    int ok = fyp && fy_parser_set_string(fyp, copy, len) == 0;
    if (ok) {
        struct fy_document *fyd;
        while ((fyd = fy_parse_load_document(fyp)) != NULL) {
            struct fy_node *root = fy_document_root(fyd);
            size_t rlen = 0;
            /* the length, not the text: formatting the text of some scalars
             * leaks in libfyaml 0.7.12 (fuzz_rules, a multi-line quoted one) */
            if (root && fy_node_is_scalar(root) && !fy_node_is_alias(root))
                rlen = fy_node_get_scalar_length(root);
            else if (root)
                rlen = 1;
            if (rlen) /* an empty document (a lone "---") is skipped silently */
                read_entity(c, root, (unsigned)c->ndocs);
            c->ndocs++;
            fy_parse_document_destroy(fyp, fyd);
        }
        ok = !fy_parser_get_stream_error(fyp);
    }
    if (!ok && err && errsz) {
        if (cap.have)
            snprintf(err, errsz, "%s:%d:%d: %s", c->file, cap.line, cap.col, cap.msg);
        else
            snprintf(err, errsz, "%s:1:1: YAML error", c->file);
    }
    if (fyp)
        fy_parser_destroy(fyp);
    fy_diag_unref(diag);
    free(copy);
    if (!ok) {
        ar_bcatalog_free(c);
        return NULL;
    }
    /* known teams: Group entities by canonical name */
    for (size_t i = 0; i < c->nents; i++) {
        const struct ar_entity *e = &c->ents[i];
        if (e->kind != AR_ENT_GROUP)
            continue;
        char ref[512], canon[256];
        snprintf(ref, sizeof(ref), "%s/%s", e->ns, e->name);
        if (ar_team_canon(ref, canon, sizeof(canon)) <= 0)
            continue;
        c->teams = ar_xrealloc(c->teams, (c->nteams + 1) * sizeof(*c->teams));
        c->teams[c->nteams++] = ar_xstrdup(canon);
    }
    return c;
}

const char *ar_bcatalog_file(const struct ar_bcatalog *c)
{
    return c ? c->file : NULL;
}

size_t ar_bcatalog_count(const struct ar_bcatalog *c)
{
    return c ? c->nents : 0;
}

const struct ar_entity *ar_bcatalog_entity(const struct ar_bcatalog *c, size_t i)
{
    return c && i < c->nents ? &c->ents[i] : NULL;
}

size_t ar_bcatalog_document_count(const struct ar_bcatalog *c)
{
    return c ? c->ndocs : 0;
}

size_t ar_bcatalog_warning_count(const struct ar_bcatalog *c)
{
    return c ? c->nwarnings : 0;
}

const char *ar_bcatalog_warning(const struct ar_bcatalog *c, size_t i)
{
    return c && i < c->nwarnings ? c->warnings[i] : NULL;
}

size_t ar_bcatalog_team_count(const struct ar_bcatalog *c)
{
    return c ? c->nteams : 0;
}

const char *ar_bcatalog_team(const struct ar_bcatalog *c, size_t i)
{
    return c && i < c->nteams ? c->teams[i] : NULL;
}

const struct ar_entity *ar_bcatalog_find(const struct ar_bcatalog *c, enum ar_entity_kind kind,
                                         const char *ns, const char *name)
{
    if (!c || !name)
        return NULL;
    if (!ns)
        ns = "default";
    for (size_t i = 0; i < c->nents; i++) {
        const struct ar_entity *e = &c->ents[i];
        if (e->kind == kind && ar_strcaseeq(e->name, name) && ar_strcaseeq(e->ns, ns))
            return e;
    }
    return NULL;
}

/* Does ref "[kind:][ns/]name" (default kind API, default namespace defns)
 * name the API ns/name? */
static int ref_is_api(const char *ref, const char *defns, const char *ns, const char *name)
{
    const char *s = ref;
    const char *colon = strchr(s, ':');
    const char *slash = strchr(s, '/');
    if (colon && (!slash || colon < slash)) {
        if (!ar_strncaseeq(s, "api:", 4) || colon != s + 3)
            return 0;
        s = colon + 1;
        slash = strchr(s, '/');
    }
    const char *rns = defns;
    char nsbuf[256];
    if (slash) {
        size_t n = (size_t)(slash - s);
        if (n >= sizeof(nsbuf))
            return 0;
        memcpy(nsbuf, s, n);
        nsbuf[n] = '\0';
        rns = nsbuf;
        s = slash + 1;
    }
    return ar_strcaseeq(s, name) && ar_strcaseeq(rns, ns);
}

size_t ar_bcatalog_api_providers(const struct ar_bcatalog *c, const char *api_ns,
                                 const char *api_name, const struct ar_entity **out,
                                 size_t max)
{
    if (!c || !api_name)
        return 0;
    if (!api_ns)
        api_ns = "default";
    size_t n = 0;
    for (size_t i = 0; i < c->nents; i++) {
        const struct ar_entity *e = &c->ents[i];
        if (e->kind != AR_ENT_COMPONENT)
            continue;
        for (size_t k = 0; k < e->nprovides_apis; k++)
            if (ref_is_api(e->provides_apis[k], e->ns, api_ns, api_name)) {
                if (n < max && out)
                    out[n] = e;
                n++;
                break;
            }
    }
    return n;
}

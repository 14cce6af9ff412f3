/* openapi.c - the observed API as an OpenAPI 3.1 document (JSON, which is
 * also YAML), for `apiroster export openapi` and push targets with
 * format = openapi. Only names and shapes: paths, parameter names, methods,
 * status codes, content types, auth schemes. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../core/json.h"
#include "../core/util.h"
#include "../inventory/store.h"
#include "openapi.h"

static const char *const oas_methods[] = { "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD",
                                           "PATCH", "TRACE" };

/* auth word (collector/http.c) -> security scheme */
static const struct {
    const char *word, *name, *type, *scheme, *in, *param;
} auths[] = {
    { "basic", "basicAuth", "http", "basic", NULL, NULL },
    { "bearer", "bearerAuth", "http", "bearer", NULL, NULL },
    { "digest", "digestAuth", "http", "digest", NULL, NULL },
    { "negotiate", "negotiateAuth", "http", "negotiate", NULL, NULL },
    { "ntlm", "ntlmAuth", "http", "ntlm", NULL, NULL },
    { "apikey", "apiKeyHeader", "apiKey", NULL, "header", "X-API-Key" },
    { "cookie", "cookieAuth", "apiKey", NULL, "cookie", "session" },
};

struct ep {
    char *host, *method, *tmpl, *state, *reason, *owner;
    char *shape;            /* tmpl with every {name} as {}: paths that differ only by
                             * parameter names (on different hosts) are one path item */
    uint64_t hits;          /* with the endpoints merged into this one's operation */
    uint64_t own_hits;      /* this endpoint's */
    double first, last;
    struct ar_status_count *st;
    uint32_t nst;
    char **query, **req_ct, **resp_ct, **auth;
    uint32_t nquery, nreq, nresp, nauth;
};

struct eps {
    struct ep *v;
    size_t n;
    const char *owner;
};

static char **copy_set(const struct ar_valset *s, uint32_t *n)
{
    char **v = ar_xcalloc(s->n + 1, sizeof(*v));
    for (uint32_t i = 0; i < s->n; i++)
        v[i] = ar_xstrdup(s->v[i]);
    *n = s->n;
    return v;
}

static void free_set(char **v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int keep(const struct ar_endpoint *e, void *ud)
{
    struct eps *l = ud;
    if (e->tmpl[0] != '/' || (e->v.state && !strcmp(e->v.state, "noise")) ||
        !strcmp(e->host, "(invalid)"))
        return 0;   /* CONNECT/asterisk targets are not paths; scanner noise and
                     * requests without a real host are not API */
    l->v = ar_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    struct ep *p = &l->v[l->n++];
    memset(p, 0, sizeof(*p));
    p->host = ar_xstrdup(e->host);
    p->method = ar_xstrdup(e->method);
    p->tmpl = ar_xstrdup(e->tmpl);
    p->shape = ar_xstrdup(e->tmpl);
    char *w = p->shape;
    for (const char *r = e->tmpl; *r; r++) {
        *w++ = *r;
        const char *close;
        if (*r == '{' && (close = strchr(r, '}')))
            r = close - 1;
    }
    *w = '\0';
    p->state = ar_xstrdup(e->v.state ? e->v.state : "shadow");
    p->reason = e->v.reason ? ar_xstrdup(e->v.reason) : NULL;
    p->owner = e->v.owner ? ar_xstrdup(e->v.owner) : NULL;
    p->hits = p->own_hits = e->hits;
    p->first = e->first_seen;
    p->last = e->last_seen;
    p->st = ar_xcalloc(e->nstatuses + 1, sizeof(*p->st));
    memcpy(p->st, e->statuses, e->nstatuses * sizeof(*p->st));
    p->nst = e->nstatuses;
    p->query = copy_set(&e->query, &p->nquery);
    p->req_ct = copy_set(&e->req_ct, &p->nreq);
    p->resp_ct = copy_set(&e->resp_ct, &p->nresp);
    p->auth = copy_set(&e->auth, &p->nauth);
    return 0;
}

static void eps_free(struct eps *l)
{
    for (size_t i = 0; i < l->n; i++) {
        struct ep *p = &l->v[i];
        free(p->host); free(p->method); free(p->tmpl); free(p->shape); free(p->state); free(p->reason);
        free(p->owner); free(p->st);
        free_set(p->query, p->nquery); free_set(p->req_ct, p->nreq);
        free_set(p->resp_ct, p->nresp); free_set(p->auth, p->nauth);
    }
    free(l->v);
}

static int cmp_ep(const void *a, const void *b)
{
    const struct ep *x = a, *y = b;
    int c = strcmp(x->shape, y->shape);
    if (!c)
        c = strcmp(x->host, y->host);
    return c ? c : strcmp(x->tmpl, y->tmpl);
}

static int cmp_status(const void *a, const void *b)
{
    const struct ar_status_count *x = a, *y = b;
    return (x->code > y->code) - (x->code < y->code);
}

static int oas_method(const char *m)
{
    for (size_t i = 0; i < AR_ARRAY_LEN(oas_methods); i++)
        if (!strcmp(m, oas_methods[i]))
            return 1;
    return 0;
}

static void lower(const char *s, char *out, size_t outsz)
{
    size_t i = 0;
    for (; s[i] && i + 1 < outsz; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
}

static void server_url(const char *host, char *out, size_t outsz)
{
    /* the agent reads plaintext HTTP (behind TLS termination): the scheme it saw */
    snprintf(out, outsz, "http://%s", host);
}

/* {name} parameters of a template, each once. */
static size_t path_params(const char *tmpl, char names[][128], size_t max)
{
    size_t n = 0;
    for (const char *p = tmpl; (p = strchr(p, '{')) && n < max;) {
        const char *e = strchr(p, '}');
        if (!e)
            break;
        size_t len = (size_t)(e - p - 1);
        if (len && len < 128) {
            int dup = 0;
            for (size_t i = 0; i < n && !dup; i++)
                dup = strlen(names[i]) == len && !strncmp(names[i], p + 1, len);
            if (!dup) {
                memcpy(names[n], p + 1, len);
                names[n++][len] = '\0';
            }
        }
        p = e + 1;
    }
    return n;
}

static void schema_string(struct ar_json *j)
{
    ar_json_key(j, "schema");
    ar_json_obj_open(j);
    ar_json_kstr(j, "type", "string");
    ar_json_obj_close(j);
}

static void content(struct ar_json *j, char **cts, uint32_t n)
{
    ar_json_key(j, "content");
    ar_json_obj_open(j);
    for (uint32_t i = 0; i < n; i++) {
        ar_json_key(j, cts[i]);
        ar_json_obj_open(j);
        ar_json_obj_close(j);
    }
    ar_json_obj_close(j);
}

/* Adds the values of add missing from *v. */
static void set_union(char ***v, uint32_t *n, char *const *add, uint32_t nadd)
{
    for (uint32_t i = 0; i < nadd; i++) {
        uint32_t k = 0;
        while (k < *n && strcmp((*v)[k], add[i]))
            k++;
        if (k < *n)
            continue;
        *v = ar_xrealloc(*v, (*n + 2) * sizeof(**v));
        (*v)[(*n)++] = ar_xstrdup(add[i]);
        (*v)[*n] = NULL;
    }
}

/* Folds s into d, the operation written for both: hits and statuses summed,
 * first and last seen widened, value sets joined. */
static void merge_op(struct ep *d, const struct ep *s)
{
    d->hits += s->hits;
    if (s->first && (!d->first || s->first < d->first))
        d->first = s->first;
    if (s->last > d->last)
        d->last = s->last;
    for (uint32_t i = 0; i < s->nst; i++) {
        uint32_t k = 0;
        while (k < d->nst && d->st[k].code != s->st[i].code)
            k++;
        if (k == d->nst) {
            d->st = ar_xrealloc(d->st, (d->nst + 1) * sizeof(*d->st));
            d->st[d->nst++] = s->st[i];
        } else {
            d->st[k].count += s->st[i].count;
        }
    }
    set_union(&d->query, &d->nquery, s->query, s->nquery);
    set_union(&d->req_ct, &d->nreq, s->req_ct, s->nreq);
    set_union(&d->resp_ct, &d->nresp, s->resp_ct, s->nresp);
    set_union(&d->auth, &d->nauth, s->auth, s->nauth);
}

/* The endpoints whose hits one operation holds, when there are several. */
static void merged_list(struct ar_json *j, const struct ep *grp, size_t n, const char *method)
{
    size_t same = 0;
    for (size_t k = 0; k < n; k++)
        same += !strcmp(grp[k].method, method);
    if (same < 2)
        return;
    ar_json_key(j, "x-apiroster-merged");
    ar_json_arr_open(j);
    for (size_t k = 0; k < n; k++) {
        if (strcmp(grp[k].method, method))
            continue;
        ar_json_obj_open(j);
        ar_json_kstr(j, "host", grp[k].host);
        ar_json_kstr(j, "path", grp[k].tmpl);
        ar_json_kuint(j, "hits", grp[k].own_hits);
        ar_json_kstr(j, "state", grp[k].state);
        ar_json_obj_close(j);
    }
    ar_json_arr_close(j);
}

static void operation(struct ar_json *j, const struct ep *e, const char *op_id, int multi_host,
                      const struct ep *grp, size_t ngrp)
{
    char m[16], ts[40];
    lower(e->method, m, sizeof(m));
    ar_json_key(j, m);
    ar_json_obj_open(j);
    ar_json_kstr(j, "operationId", op_id);
    char summary[256];
    snprintf(summary, sizeof(summary), "%s (observed %" PRIu64 " time%s)", e->state, e->hits,
             e->hits == 1 ? "" : "s");
    ar_json_kstr(j, "summary", summary);
    if (e->nquery) {
        ar_json_key(j, "parameters");
        ar_json_arr_open(j);
        for (uint32_t i = 0; i < e->nquery; i++) {
            ar_json_obj_open(j);
            ar_json_kstr(j, "name", e->query[i]);
            ar_json_kstr(j, "in", "query");
            schema_string(j);
            ar_json_obj_close(j);
        }
        ar_json_arr_close(j);
    }
    if (e->nreq) {
        ar_json_key(j, "requestBody");
        ar_json_obj_open(j);
        content(j, e->req_ct, e->nreq);
        ar_json_obj_close(j);
    }
    ar_json_key(j, "responses");
    ar_json_obj_open(j);
    qsort(e->st, e->nst, sizeof(*e->st), cmp_status);
    int any = 0;
    for (uint32_t i = 0; i < e->nst; i++) {
        int c = e->st[i].code;
        if (c < 100 || c > 599)
            continue;
        char code[8], desc[64];
        snprintf(code, sizeof(code), "%d", c);
        snprintf(desc, sizeof(desc), "observed %" PRIu64 " time%s", e->st[i].count,
                 e->st[i].count == 1 ? "" : "s");
        ar_json_key(j, code);
        ar_json_obj_open(j);
        ar_json_kstr(j, "description", desc);
        if (c >= 200 && c < 300 && e->nresp && c != 204)
            content(j, e->resp_ct, e->nresp);
        ar_json_obj_close(j);
        any = 1;
    }
    if (!any) {
        ar_json_key(j, "default");
        ar_json_obj_open(j);
        ar_json_kstr(j, "description", "no response observed");
        ar_json_obj_close(j);
    }
    ar_json_obj_close(j);
    ar_json_key(j, "security");
    ar_json_arr_open(j);
    for (uint32_t i = 0; i < e->nauth; i++) {
        if (!strcmp(e->auth[i], "none")) {
            ar_json_obj_open(j);        /* also called without credentials */
            ar_json_obj_close(j);
        }
        for (size_t k = 0; k < AR_ARRAY_LEN(auths); k++)
            if (!strcmp(e->auth[i], auths[k].word)) {
                ar_json_obj_open(j);
                ar_json_key(j, auths[k].name);
                ar_json_arr_open(j);
                ar_json_arr_close(j);
                ar_json_obj_close(j);
            }
    }
    ar_json_arr_close(j);
    ar_json_kstr(j, "x-apiroster-state", e->state);
    if (e->reason)
        ar_json_kstr(j, "x-apiroster-reason", e->reason);
    ar_json_kstr(j, "x-owner", e->owner);
    ar_json_kuint(j, "x-apiroster-hits", e->hits);
    ar_fmt_time(ts, sizeof(ts), e->first);
    ar_json_kstr(j, "x-apiroster-first-seen", ts);
    ar_fmt_time(ts, sizeof(ts), e->last);
    ar_json_kstr(j, "x-apiroster-last-seen", ts);
    if (multi_host)
        ar_json_kstr(j, "x-apiroster-host", e->host);
    merged_list(j, grp, ngrp, e->method);
    ar_json_obj_close(j);
}

static void op_id(const struct ep *e, char *out, size_t outsz, char (*used)[200], size_t nused)
{
    char base[200];
    size_t n = 0;
    lower(e->method, base, sizeof(base));
    n = strlen(base);
    int sep = 1;
    for (const char *p = e->tmpl; *p && n + 2 < sizeof(base); p++) {
        if (isalnum((unsigned char)*p)) {
            if (sep && n)
                base[n++] = '_';
            base[n++] = *p;
            sep = 0;
        } else {
            sep = 1;
        }
    }
    base[n] = '\0';
    ar_strlcpy(out, base, outsz);
    for (int k = 2;; k++) {
        int dup = 0;
        for (size_t i = 0; i < nused && !dup; i++)
            dup = !strcmp(used[i], out);
        if (!dup)
            return;
        snprintf(out, outsz, "%.180s_%d", base, k);
    }
}

int ar_openapi_document(struct ar_store *s, const char *host, const char *owner,
                        struct ar_json *out, char *err, size_t errsz)
{
    struct eps l = { 0 };
    struct ar_endpoint_filter f = { .host = host, .owner = owner };
    if (ar_store_each_endpoint(s, &f, keep, &l, err, errsz) < 0) {
        eps_free(&l);
        return -1;
    }
    if (l.n)            /* qsort of NULL is undefined, even for 0 elements */
        qsort(l.v, l.n, sizeof(*l.v), cmp_ep);

    /* hosts, auth schemes in use */
    const char **hosts = NULL;
    size_t nh = 0;
    int auth_used[AR_ARRAY_LEN(auths)] = { 0 };
    double last = 0;
    for (size_t i = 0; i < l.n; i++) {
        int have = 0;
        for (size_t k = 0; k < nh && !have; k++)
            have = !strcmp(hosts[k], l.v[i].host);
        if (!have && l.v[i].host[0]) {
            hosts = ar_xrealloc(hosts, (nh + 1) * sizeof(*hosts));
            hosts[nh++] = l.v[i].host;
        }
        for (uint32_t a = 0; a < l.v[i].nauth; a++)
            for (size_t k = 0; k < AR_ARRAY_LEN(auths); k++)
                auth_used[k] |= !strcmp(l.v[i].auth[a], auths[k].word);
        if (l.v[i].last > last)
            last = l.v[i].last;
    }

    char buf[600];
    struct ar_json *j = out;
    ar_json_obj_open(j);
    ar_json_kstr(j, "openapi", "3.1.0");
    ar_json_key(j, "info");
    ar_json_obj_open(j);
    snprintf(buf, sizeof(buf), "Observed API%s%s%s%s", host ? " of " : "", host ? host : "",
             owner ? " owned by " : "", owner ? owner : "");
    ar_json_kstr(j, "title", buf);
    char ts[40];
    ar_fmt_time(ts, sizeof(ts), last);
    ar_json_kstr(j, "version", l.n ? ts : "empty");
    ar_json_kstr(j, "description", "Reconstructed by apiroster from passively observed HTTP "
                 "traffic: paths, parameter names, methods, status codes, content types and "
                 "auth schemes; never values. x-apiroster-state tells each operation's state "
                 "against the published specs.");
    ar_json_key(j, "license");
    ar_json_obj_open(j);
    ar_json_kstr(j, "name", "Proprietary (inventory of the operator's own API)");
    ar_json_kstr(j, "identifier", "LicenseRef-apiroster-inventory");
    ar_json_obj_close(j);
    ar_json_obj_close(j);
    ar_json_key(j, "servers");
    ar_json_arr_open(j);
    for (size_t i = 0; i < nh; i++) {
        server_url(hosts[i], buf, sizeof(buf));
        ar_json_obj_open(j);
        ar_json_kstr(j, "url", buf);
        ar_json_obj_close(j);
    }
    if (!nh) {
        ar_json_obj_open(j);
        ar_json_kstr(j, "url", "/");
        ar_json_obj_close(j);
    }
    ar_json_arr_close(j);

    ar_json_key(j, "paths");
    ar_json_obj_open(j);
    char (*used)[200] = ar_xcalloc(l.n + 1, sizeof(*used));
    size_t nused = 0;
    for (size_t i = 0; i < l.n;) {
        size_t end = i;
        while (end < l.n && !strcmp(l.v[end].shape, l.v[i].shape))
            end++;
        size_t key = i;   /* the busiest endpoint's names for the path item */
        for (size_t k = i; k < end; k++)
            if (l.v[k].hits > l.v[key].hits)
                key = k;
        ar_json_key(j, l.v[key].tmpl);
        ar_json_obj_open(j);
        if (nh > 1) {   /* the hosts that serve this path */
            ar_json_key(j, "servers");
            ar_json_arr_open(j);
            for (size_t k = i; k < end; k++) {
                if (!l.v[k].host[0] || (k > i && !strcmp(l.v[k].host, l.v[k - 1].host)))
                    continue;
                server_url(l.v[k].host, buf, sizeof(buf));
                ar_json_obj_open(j);
                ar_json_kstr(j, "url", buf);
                ar_json_obj_close(j);
            }
            ar_json_arr_close(j);
        }
        char names[32][128];
        size_t np = path_params(l.v[key].tmpl, names, 32);
        if (np) {
            ar_json_key(j, "parameters");
            ar_json_arr_open(j);
            for (size_t k = 0; k < np; k++) {
                ar_json_obj_open(j);
                ar_json_kstr(j, "name", names[k]);
                ar_json_kstr(j, "in", "path");
                ar_json_key(j, "required");
                ar_json_bool(j, 1);
                schema_string(j);
                ar_json_obj_close(j);
            }
            ar_json_arr_close(j);
        }
        ar_json_key(j, "x-apiroster-other-methods");
        ar_json_arr_open(j);
        for (size_t k = i; k < end; k++) {
            int seen = 0;
            for (size_t o = i; o < k && !seen; o++)
                seen = !strcmp(l.v[o].method, l.v[k].method);
            if (!oas_method(l.v[k].method) && !seen)
                ar_json_str(j, l.v[k].method);
        }
        ar_json_arr_close(j);
        /* One operation per method. Every endpoint of the path item with that
         * method is folded into it (hits, statuses and values summed), and
         * listed in x-apiroster-merged: the same path on two hosts, or
         * /files/{email}, /files/{fileId} and /files/{file} (typed and
         * collapsed children of one parent, three roster endpoints and one
         * OpenAPI path). Writing only the busiest one dropped the others'
         * hits. State, owner and names are the busiest one's. */
        for (size_t k = i; k < end; k++) {
            if (!oas_method(l.v[k].method))
                continue;
            int best = 1;
            for (size_t o = i; o < end && best; o++)
                if (o != k && !strcmp(l.v[o].method, l.v[k].method) &&
                    (l.v[o].own_hits > l.v[k].own_hits ||
                     (l.v[o].own_hits == l.v[k].own_hits && o < k)))
                    best = 0;
            if (!best)
                continue;
            for (size_t o = i; o < end; o++)
                if (o != k && !strcmp(l.v[o].method, l.v[k].method))
                    merge_op(&l.v[k], &l.v[o]);
            op_id(&l.v[k], used[nused], sizeof(used[0]), used, nused);
            operation(j, &l.v[k], used[nused], nh > 1, &l.v[i], end - i);
            nused++;
        }
        ar_json_obj_close(j);
        i = end;
    }
    ar_json_obj_close(j);
    ar_json_key(j, "components");
    ar_json_obj_open(j);
    ar_json_key(j, "securitySchemes");
    ar_json_obj_open(j);
    for (size_t k = 0; k < AR_ARRAY_LEN(auths); k++) {
        if (!auth_used[k])
            continue;
        ar_json_key(j, auths[k].name);
        ar_json_obj_open(j);
        ar_json_kstr(j, "type", auths[k].type);
        if (auths[k].scheme)
            ar_json_kstr(j, "scheme", auths[k].scheme);
        if (auths[k].in) {
            ar_json_kstr(j, "in", auths[k].in);
            ar_json_kstr(j, "name", auths[k].param);
            ar_json_kstr(j, "description", "seen on the wire; the exact header or cookie "
                         "name is not kept");
        }
        ar_json_obj_close(j);
    }
    ar_json_obj_close(j);
    ar_json_obj_close(j);
    ar_json_obj_close(j);

    free(used);
    free(hosts);
    size_t n = l.n;
    eps_free(&l);
    return n > 0x7fffffff ? 0x7fffffff : (int)n;
}

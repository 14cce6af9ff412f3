/* check_catalog.c - the in-memory endpoint catalog: aggregation, bounds,
 * noise, HyperLogLog, merge and re-templating after a collapse. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../core/counters.h"
#include "../../core/limits.h"
#include "../../core/util.h"
#include "../../inventory/catalog.h"
#include "../../inventory/template.h"


static struct ar_limits lim;
static struct ar_counters ctr;
static struct ar_templater *tp;
static struct ar_catalog *cat;

static void setup(void)
{
    ar_limits_default(&lim);
    memset(&ctr, 0, sizeof(ctr));
    tp = ar_templater_new(&lim, &ctr);
    cat = ar_catalog_new(&lim, &ctr, tp);
}

static void teardown(void)
{
    ar_catalog_free(cat);
    ar_templater_free(tp);
}

/* An exchange with sensible defaults; override fields after. */
static struct ar_exchange xch(double ts, const char *method, const char *host, const char *path,
                              int status)
{
    struct ar_exchange x = {
        .ts = ts, .client = "192.0.2.1:40000", .server = "10.0.0.1:80", .method = method,
        .host = host, .path = path, .query = "", .status = status, .req_ct = "",
        .resp_ct = "", .auth = "none",
    };
    return x;
}

/* What a fresh templater makes of a path (so tests do not hard-code the
 * templater's parameter names). */
static void expect_tmpl(const char *host, const char *path, char *out, size_t outsz)
{
    struct ar_counters c2;
    memset(&c2, 0, sizeof(c2));
    struct ar_templater *t = ar_templater_new(&lim, &c2);
    const char *rule;
    ar_template(t, host, path, out, outsz, &rule);
    ar_templater_free(t);
}

static struct ar_endpoint *find(const char *host, const char *method, const char *tmpl)
{
    size_t pos = 0;
    struct ar_endpoint *e;
    while ((e = ar_catalog_iter(cat, &pos)))
        if (!strcmp(e->host, host) && !strcmp(e->method, method) && !strcmp(e->tmpl, tmpl))
            return e;
    return NULL;
}

static uint64_t status_count(const struct ar_endpoint *e, int code)
{
    for (uint32_t i = 0; i < e->nstatuses; i++)
        if (e->statuses[i].code == code)
            return e->statuses[i].count;
    return 0;
}

START_TEST(test_aggregate)
{
    char t[256];
    expect_tmpl("api.shop.test", "/orders/8812", t, sizeof(t));
    ck_assert_ptr_nonnull(strchr(t, '{'));

    struct ar_exchange x = xch(100.0, "GET", "api.shop.test", "/orders/8812", 200);
    x.query = "page&size";
    x.resp_ct = "application/json";
    x.auth = "bearer";
    ar_catalog_add(cat, &x);
    x = xch(50.0, "GET", "API.Shop.TEST", "/orders/17", 200);
    x.query = "size&sort";
    x.resp_ct = "application/json";
    x.client = "192.0.2.2:40001";
    x.server = "10.0.0.2:80";
    ar_catalog_add(cat, &x);
    x = xch(200.0, "GET", "api.shop.test", "/orders/99", 404);
    x.req_ct = "application/json";
    x.resp_ct = "application/problem+json";
    ar_catalog_add(cat, &x);
    x = xch(150.0, "POST", "api.shop.test", "/orders/99", -1);
    ar_catalog_add(cat, &x);

    ck_assert_uint_eq(ar_catalog_count(cat), 2);
    struct ar_endpoint *e = find("api.shop.test", "GET", t);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->hits, 3);
    ck_assert(e->first_seen == 50.0);
    ck_assert(e->last_seen == 200.0);
    ck_assert_uint_eq(e->nstatuses, 2);
    ck_assert_uint_eq(status_count(e, 200), 2);
    ck_assert_uint_eq(status_count(e, 404), 1);
    ck_assert_uint_eq(e->query.n, 3);
    ck_assert(ar_valset_has(&e->query, "page"));
    ck_assert(ar_valset_has(&e->query, "size"));
    ck_assert(ar_valset_has(&e->query, "sort"));
    ck_assert_uint_eq(e->req_ct.n, 1);          /* "" is not a content type */
    ck_assert_str_eq(e->req_ct.v[0], "application/json");
    ck_assert_uint_eq(e->resp_ct.n, 2);
    ck_assert_uint_eq(e->auth.n, 2);            /* "none" counts as a scheme */
    ck_assert(ar_valset_has(&e->auth, "bearer"));
    ck_assert(ar_valset_has(&e->auth, "none"));
    ck_assert_uint_eq(e->servers.n, 2);
    ck_assert_uint_eq(ar_hll_estimate(e->hll), 2);
    ck_assert_ptr_nonnull(e->rule);
    ck_assert(!ar_endpoint_is_noise(e));

    e = find("api.shop.test", "POST", t);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->hits, 1);
    ck_assert_uint_eq(e->nstatuses, 1);
    ck_assert_int_eq(e->statuses[0].code, -1);  /* no response */
    ck_assert_uint_eq(e->statuses[0].count, 1);
    ck_assert_uint_eq(AR_GET(&ctr, limit_max_endpoint_values), 0);
}
END_TEST

START_TEST(test_skip_and_defaults)
{
    struct ar_exchange x = xch(1.0, NULL, "h.test", NULL, 200);   /* response only */
    ar_catalog_add(cat, &x);
    ck_assert_uint_eq(ar_catalog_count(cat), 0);

    x = xch(1.0, "GET", NULL, "/health", 200);                      /* no Host */
    ar_catalog_add(cat, &x);
    ck_assert_uint_eq(ar_catalog_count(cat), 1);
    size_t pos = 0;
    struct ar_endpoint *e = ar_catalog_iter(cat, &pos);
    ck_assert_str_eq(e->host, "");
    ck_assert_str_eq(e->method, "GET");
    ck_assert_ptr_null(ar_catalog_iter(cat, &pos));

    x = xch(2.0, "get", NULL, "/health", 200);                      /* method kept as sent */
    ar_catalog_add(cat, &x);
    ck_assert_uint_eq(ar_catalog_count(cat), 2);

    ar_catalog_clear(cat);
    ck_assert_uint_eq(ar_catalog_count(cat), 0);
    pos = 0;
    ck_assert_ptr_null(ar_catalog_iter(cat, &pos));
    ar_catalog_add(cat, &x);
    ck_assert_uint_eq(ar_catalog_count(cat), 1);
}
END_TEST

/* One roster host per server name: case, a trailing dot and the default port do
 * not split it; what is not a host is counted and kept apart. */
START_TEST(test_host_normalized)
{
    static const char *const same[] = { "Api.Shop.Test", "api.shop.test.", "api.shop.test:80",
                                        "API.SHOP.TEST.:080" };
    for (size_t i = 0; i < 4; i++) {
        struct ar_exchange x = xch(1.0, "GET", same[i], "/health", 200);
        ar_catalog_add(cat, &x);
    }
    static const char *const others[] = { "api.shop.test:8080", "[2001:DB8::1]:80", "[2001:db8::1]" };
    for (size_t i = 0; i < 3; i++) {
        struct ar_exchange x = xch(1.0, "GET", others[i], "/health", 200);
        ar_catalog_add(cat, &x);
    }
    ck_assert_uint_eq(find("api.shop.test", "GET", "/health")->hits, 4);
    ck_assert_uint_eq(find("api.shop.test:8080", "GET", "/health")->hits, 1);
    ck_assert_uint_eq(find("[2001:db8::1]", "GET", "/health")->hits, 2);
    ck_assert_uint_eq(ar_catalog_count(cat), 3);
    ck_assert_uint_eq(AR_GET(&ctr, host_invalid), 0);

    static const char *const bad[] = { "a b.test", "a.test/../../x", "user@host", ":abc",
                                       "h:123456", "[::1", "h\x1b]0;t\x07", "x:80:80",
                                       ":8080", "[]", ".:80", "h:0", "h:99999" };
    for (size_t i = 0; i < 13; i++) {
        struct ar_exchange x = xch(1.0, "GET", bad[i], "/health", 200);
        ar_catalog_add(cat, &x);
    }
    char longhost[300];
    memset(longhost, 'a', 299);
    longhost[299] = 0;
    struct ar_exchange x = xch(1.0, "GET", longhost, "/health", 200);
    ar_catalog_add(cat, &x);
    ck_assert_uint_eq(AR_GET(&ctr, host_invalid), 14);
    ck_assert_uint_eq(find("(invalid)", "GET", "/health")->hits, 14);
    ck_assert_uint_eq(ar_catalog_count(cat), 4);

    /* the exact forms (the port written again without leading zeros) */
    static const char *const norm[][2] = {
        { "H.Test:08080", "h.test:8080" }, { "[::1]:0443", "[::1]:443" },
        { "x:65535", "x:65535" }, { "x:1", "x:1" }, { "X_Y-Z.", "x_y-z" }, { "", "" },
        { "[AbCd::1]", "[abcd::1]" }, { "x:65536", NULL }, { "\xc3\xa9.test", NULL },
        { "[::g]", NULL }, { "x:8a", NULL },
    };
    for (size_t i = 0; i < sizeof(norm) / sizeof(norm[0]); i++) {
        char out[AR_HOST_MAX + 1];
        int rc = ar_host_norm(norm[i][0], out, sizeof(out));
        if (!norm[i][1]) {
            ck_assert_msg(rc == -1, "%s: %s", norm[i][0], out);
            continue;
        }
        ck_assert_int_eq(rc, 0);
        ck_assert_str_eq(out, norm[i][1]);
    }
}
END_TEST

START_TEST(test_value_bounds)
{
    lim.max_endpoint_values = 2;
    struct ar_exchange x = xch(1.0, "GET", "h.test", "/search", 200);
    x.query = "q&page&size";                    /* 3 names, room for 2 */
    ar_catalog_add(cat, &x);
    x.status = 201;
    x.query = "q";
    ar_catalog_add(cat, &x);
    x.status = 500;                             /* third distinct code: dropped */
    ar_catalog_add(cat, &x);
    x.status = 200;
    ar_catalog_add(cat, &x);

    size_t pos = 0;
    struct ar_endpoint *e = ar_catalog_iter(cat, &pos);
    ck_assert_uint_eq(e->hits, 4);
    ck_assert_uint_eq(e->query.n, 2);
    ck_assert(ar_valset_has(&e->query, "q"));
    ck_assert(ar_valset_has(&e->query, "page"));
    ck_assert(!ar_valset_has(&e->query, "size"));
    ck_assert_uint_eq(e->nstatuses, 2);
    ck_assert_uint_eq(status_count(e, 200), 2);
    ck_assert_uint_eq(status_count(e, 201), 1);
    ck_assert_uint_eq(status_count(e, 500), 0);
    ck_assert_uint_eq(AR_GET(&ctr, limit_max_endpoint_values), 2);   /* "size", 500 */
}
END_TEST

START_TEST(test_endpoint_bound)
{
    lim.max_endpoints = 2;
    struct ar_exchange x = xch(1.0, "GET", "h.test", "/a", 200);
    ar_catalog_add(cat, &x);
    x.path = "/b";
    ar_catalog_add(cat, &x);
    x.path = "/c";                              /* a third endpoint: dropped */
    ar_catalog_add(cat, &x);
    x.method = "PUT";
    ar_catalog_add(cat, &x);
    x.method = "GET";
    x.path = "/a";                              /* existing endpoint still counts */
    ar_catalog_add(cat, &x);
    ck_assert_uint_eq(ar_catalog_count(cat), 2);
    ck_assert_uint_eq(AR_GET(&ctr, db_dropped), 2);
    ck_assert_uint_eq(AR_GET(&ctr, limit_max_endpoints), 2);
    ck_assert_uint_eq(find("h.test", "GET", "/a")->hits, 2);
    ck_assert_ptr_null(find("h.test", "GET", "/c"));
}
END_TEST

START_TEST(test_noise)
{
    struct ar_exchange x = xch(1.0, "GET", "h.test", "/wp-admin", 404);
    ar_catalog_add(cat, &x);
    x.method = "POST";
    x.status = 405;
    ar_catalog_add(cat, &x);
    x.status = 404;
    ar_catalog_add(cat, &x);
    x.status = -1;                              /* no response does not change it */
    ar_catalog_add(cat, &x);
    x.method = "PUT";                           /* only unanswered: no evidence */
    ar_catalog_add(cat, &x);
    x.method = "DELETE";
    x.status = 404;
    ar_catalog_add(cat, &x);
    x.status = 204;
    ar_catalog_add(cat, &x);

    ck_assert(ar_endpoint_is_noise(find("h.test", "GET", "/wp-admin")));
    ck_assert(ar_endpoint_is_noise(find("h.test", "POST", "/wp-admin")));
    ck_assert(!ar_endpoint_is_noise(find("h.test", "PUT", "/wp-admin")));
    ck_assert(!ar_endpoint_is_noise(find("h.test", "DELETE", "/wp-admin")));
}
END_TEST

START_TEST(test_hll_small)
{
    uint8_t h[AR_HLL_REGS];
    memset(h, 0, sizeof(h));
    ck_assert_uint_eq(ar_hll_estimate(h), 0);
    ar_hll_add(h, "192.0.2.1:1");
    ck_assert_uint_eq(ar_hll_estimate(h), 1);
    ar_hll_add(h, "192.0.2.1:1");               /* same client again */
    ck_assert_uint_eq(ar_hll_estimate(h), 1);
    /* The key is fixed: the same client lands in the same register with the
     * same rank in another HLL (another run). */
    uint8_t h2[AR_HLL_REGS];
    memset(h2, 0, sizeof(h2));
    ar_hll_add(h2, "192.0.2.1:1");
    ck_assert_mem_eq(h, h2, AR_HLL_REGS);
}
END_TEST

static void add_clients(uint8_t *h, int from, int to)
{
    char c[64];
    for (int i = from; i < to; i++) {
        snprintf(c, sizeof(c), "10.%d.%d.%d:%d", (i >> 16) & 255, (i >> 8) & 255, i & 255,
                 1024 + i % 50000);
        ar_hll_add(h, c);
    }
}

static void ck_within(uint64_t est, double want, double tol)
{
    double err = ((double)est - want) / want;
    if (err < 0)
        err = -err;
    ck_assert_msg(err <= tol, "estimate %llu for %.0f distinct: error %.1f%% > %.0f%%",
                  (unsigned long long)est, want, err * 100, tol * 100);
}

START_TEST(test_hll_10k)
{
    struct ar_exchange x = xch(1.0, "GET", "h.test", "/x", 200);
    char c[64];
    for (int i = 0; i < 10000; i++) {
        snprintf(c, sizeof(c), "10.%d.%d.%d:%d", (i >> 16) & 255, (i >> 8) & 255, i & 255,
                 1024 + i % 50000);
        x.client = c;
        ar_catalog_add(cat, &x);
    }
    size_t pos = 0;
    struct ar_endpoint *e = ar_catalog_iter(cat, &pos);
    ck_assert_uint_eq(e->hits, 10000);
    uint64_t est = ar_hll_estimate(e->hll);
    ck_within(est, 10000, 0.20); /* 3 standard errors of a 256-register HLL */
    /* Seeing the same clients again changes nothing. */
    uint8_t again[AR_HLL_REGS];
    memcpy(again, e->hll, AR_HLL_REGS);
    add_clients(again, 0, 10000);
    ck_assert_mem_eq(again, e->hll, AR_HLL_REGS);
}
END_TEST

/* Over many independent sets the error averages to what 256 registers promise. */
START_TEST(test_hll_error_over_sets)
{
    double sq = 0;
    const int sets = 40;
    for (int k = 0; k < sets; k++) {
        uint8_t h[AR_HLL_REGS] = { 0 };
        add_clients(h, k * 100000, k * 100000 + 5000);
        double err = ((double)ar_hll_estimate(h) - 5000.0) / 5000.0;
        sq += err * err;
    }
    double rms = sqrt(sq / sets);
    ck_assert_msg(rms < 0.10, "rms error %.3f over %d sets", rms, sets);
}
END_TEST

START_TEST(test_merge)
{
    struct ar_endpoint *a = ar_endpoint_new("h.test", "GET", "/x", "literal");
    struct ar_endpoint *b = ar_endpoint_new("h.test", "GET", "/x", "literal");
    a->hits = 5; a->first_seen = 10; a->last_seen = 20;
    b->hits = 7; b->first_seen = 5; b->last_seen = 15;
    ar_endpoint_add_status(a, 200, 4, 16);
    ar_endpoint_add_status(a, -1, 1, 16);
    ar_endpoint_add_status(b, 200, 6, 16);
    ar_endpoint_add_status(b, 500, 1, 16);
    ar_valset_add(&a->query, "q", 16);
    ar_valset_add(&b->query, "q", 16);
    ar_valset_add(&b->query, "page", 16);
    ar_valset_add(&b->auth, "basic", 16);
    ar_valset_add(&a->servers, "10.0.0.1:80", 16);
    add_clients(a->hll, 0, 6000);
    add_clients(b->hll, 4000, 10000);
    uint8_t both[AR_HLL_REGS];
    memset(both, 0, sizeof(both));
    add_clients(both, 0, 10000);

    ar_endpoint_merge(a, b, &lim, &ctr);
    ck_assert_uint_eq(a->hits, 12);
    ck_assert(a->first_seen == 5);
    ck_assert(a->last_seen == 20);
    ck_assert_uint_eq(a->nstatuses, 3);
    ck_assert_uint_eq(status_count(a, 200), 10);
    ck_assert_uint_eq(status_count(a, 500), 1);
    ck_assert_uint_eq(status_count(a, -1), 1);
    ck_assert_uint_eq(a->query.n, 2);
    ck_assert_uint_eq(a->auth.n, 1);
    ck_assert_uint_eq(a->servers.n, 1);
    /* Union of registers == registers of the union. */
    ck_assert_mem_eq(a->hll, both, AR_HLL_REGS);
    ck_within(ar_hll_estimate(a->hll), 10000, 0.20);
    /* b unchanged */
    ck_assert_uint_eq(b->hits, 7);
    ar_endpoint_free(a);
    ar_endpoint_free(b);
}
END_TEST

/* A parent collapses (more than max_children distinct literal children):
 * what the catalog already holds under it is re-templated and merged. */
START_TEST(test_collapse_retemplates_held)
{
    static const char *const kids[] = { "item-alpha.json", "item-bravo.json",
        "item-charlie.json", "item-delta.json", "item-echo.json", "item-foxtrot.json",
        "item-golf.json" };
    lim.max_children = 4;
    /* the templater copies its limits: make it again */
    ar_catalog_free(cat);
    ar_templater_free(tp);
    tp = ar_templater_new(&lim, &ctr);
    cat = ar_catalog_new(&lim, &ctr, tp);
    struct ar_exchange x = xch(0, "GET", "shop.test", "/catalog/12345", 200);
    ar_catalog_add(cat, &x);                    /* a typed sibling, added first */
    struct ar_endpoint *typed = NULL;
    size_t tpos = 0;
    typed = ar_catalog_iter(cat, &tpos);
    char typed_tmpl[128];
    snprintf(typed_tmpl, sizeof(typed_tmpl), "%s", typed->tmpl);
    ck_assert_ptr_nonnull(strchr(typed_tmpl, '{'));
    char path[128];
    for (size_t i = 0; i < AR_ARRAY_LEN(kids); i++) {
        snprintf(path, sizeof(path), "/catalog/%s", kids[i]);
        x.path = path;
        x.ts = 100.0 + (double)i;
        x.status = i == 0 ? 304 : 200;
        ar_catalog_add(cat, &x);
    }
    x.path = "/other";                          /* untouched by the collapse */
    ar_catalog_add(cat, &x);

    size_t pos = 0, under = 0;
    struct ar_endpoint *e, *c = NULL;
    while ((e = ar_catalog_iter(cat, &pos)))
        if (!strncmp(e->tmpl, "/catalog/", 9)) {
            under++;
            c = e;
        }
    ck_assert_uint_eq(under, 2);
    ck_assert_uint_eq(ar_catalog_count(cat), 3);
    /* the typed sibling keeps its template (never "%7B...%7D") */
    ck_assert_ptr_nonnull(find("shop.test", "GET", typed_tmpl));
    ck_assert_uint_eq(find("shop.test", "GET", typed_tmpl)->hits, 1);
    c = NULL;
    pos = 0;
    while ((e = ar_catalog_iter(cat, &pos))) {
        ck_assert_ptr_null(strstr(e->tmpl, "%7B"));
        if (!strncmp(e->tmpl, "/catalog/", 9) && strcmp(e->tmpl, typed_tmpl))
            c = e;
    }
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(strchr(c->tmpl, '{'));
    ck_assert_uint_eq(c->hits, AR_ARRAY_LEN(kids));
    ck_assert(c->first_seen == 100.0);
    ck_assert(c->last_seen == 100.0 + (double)(AR_ARRAY_LEN(kids) - 1));
    ck_assert_uint_eq(status_count(c, 304), 1);
    ck_assert_uint_eq(status_count(c, 200), AR_ARRAY_LEN(kids) - 1);
    ck_assert_str_eq(c->rule, "collapse");
    ck_assert_uint_eq(find("shop.test", "GET", "/other")->hits, 1);
}
END_TEST

/* Repeated exchanges are taken from the catalog's memo of (Host, method,
 * path): a repeat after a collapse must land on the collapsed endpoint (the
 * one it memorized was merged and freed), one after a pin on the pinned
 * template, and an invalid host counts at every exchange. */
START_TEST(test_repeats_across_changes)
{
    static const char *const kids[] = { "item-alpha", "item-bravo", "item-charlie",
        "item-delta", "item-echo" };
    lim.max_children = 4;
    ar_catalog_free(cat);
    ar_templater_free(tp);
    tp = ar_templater_new(&lim, &ctr);
    cat = ar_catalog_new(&lim, &ctr, tp);
    char path[128];
    struct ar_exchange x = xch(1.0, "GET", "Shop.Test", "/", 200);
    for (size_t i = 0; i < 4; i++) {             /* below the bound: literal, twice each */
        snprintf(path, sizeof(path), "/catalog/%s", kids[i]);
        x.path = path;
        ar_catalog_add(cat, &x);
        ar_catalog_add(cat, &x);
    }
    ck_assert_uint_eq(ar_catalog_count(cat), 4);
    ck_assert_uint_eq(find("shop.test", "GET", "/catalog/item-alpha")->hits, 2);
    snprintf(path, sizeof(path), "/catalog/%s", kids[4]);   /* the fifth: collapse */
    ar_catalog_add(cat, &x);
    ck_assert_uint_eq(ar_catalog_count(cat), 1);
    x.path = "/catalog/item-alpha";                          /* memorized before it */
    ar_catalog_add(cat, &x);
    ar_catalog_add(cat, &x);
    ck_assert_uint_eq(ar_catalog_count(cat), 1);
    size_t pos = 0;
    struct ar_endpoint *c = ar_catalog_iter(cat, &pos);
    ck_assert_ptr_nonnull(strchr(c->tmpl, '{'));
    ck_assert_uint_eq(c->hits, 11);
    ck_assert_str_eq(c->rule, "collapse");

    x.path = "/orders/open";
    ar_catalog_add(cat, &x);
    ar_catalog_add(cat, &x);
    ck_assert_uint_eq(find("shop.test", "GET", "/orders/open")->hits, 2);
    ck_assert_int_eq(ar_templater_pin(tp, NULL, "/orders/{state}"), 0);
    ar_catalog_add(cat, &x);
    ck_assert_uint_eq(find("shop.test", "GET", "/orders/open")->hits, 2);
    ck_assert_uint_eq(find("shop.test", "GET", "/orders/{state}")->hits, 1);
    ck_assert_str_eq(find("shop.test", "GET", "/orders/{state}")->rule, "pin");

    uint64_t before = AR_GET(&ctr, host_invalid);
    x.host = "bad host";
    x.path = "/health";
    for (int i = 0; i < 3; i++)
        ar_catalog_add(cat, &x);
    ck_assert_uint_eq(AR_GET(&ctr, host_invalid), before + 3);
    ck_assert_uint_eq(find("(invalid)", "GET", "/health")->hits, 3);
    x.method = "POST";                          /* another method, same host and path */
    ar_catalog_add(cat, &x);
    ck_assert_uint_eq(find("(invalid)", "POST", "/health")->hits, 1);
    ar_catalog_clear(cat);                      /* a flush: nothing memorized survives */
    x.method = "GET";
    ar_catalog_add(cat, &x);
    ck_assert_uint_eq(ar_catalog_count(cat), 1);
    ck_assert_uint_eq(find("(invalid)", "GET", "/health")->hits, 1);
}
END_TEST

static Suite *catalog_suite(void)
{
    Suite *s = suite_create("catalog");
    TCase *tc = tcase_create("catalog");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_aggregate);
    tcase_add_test(tc, test_skip_and_defaults);
    tcase_add_test(tc, test_host_normalized);
    tcase_add_test(tc, test_value_bounds);
    tcase_add_test(tc, test_endpoint_bound);
    tcase_add_test(tc, test_noise);
    tcase_add_test(tc, test_hll_small);
    tcase_add_test(tc, test_hll_10k);
    tcase_add_test(tc, test_hll_error_over_sets);
    tcase_add_test(tc, test_merge);
    tcase_add_test(tc, test_collapse_retemplates_held);
    tcase_add_test(tc, test_repeats_across_changes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(catalog_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* check_template.c - path templating (inventory/template.c).
 *
 * Most cases run twice (loop index 0: built-in vocabulary only, 1: with
 * /usr/share/dict/words when it exists) and must give the same answer. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../inventory/template.h"

#define DICT "/usr/share/dict/words"

static struct ar_counters ctr;

static struct ar_templater *mk(int with_dict)
{
    memset(&ctr, 0, sizeof(ctr));
    struct ar_templater *t = ar_templater_new(NULL, &ctr);
    ck_assert_ptr_nonnull(t);
    if (with_dict && access(DICT, R_OK) == 0)
        ck_assert_int_eq(ar_templater_load_words(t, DICT), 0);
    return t;
}

static struct ar_templater *mk_lim(uint64_t max_children, uint64_t max_tracked)
{
    struct ar_limits lim;
    ar_limits_default(&lim);
    lim.max_children = max_children;
    lim.max_tracked_children = max_tracked;
    memset(&ctr, 0, sizeof(ctr));
    return ar_templater_new(&lim, &ctr);
}

/* Templates path and checks the output, the rule and the return value. */
#define T3(t, host, path, want, want_rule, want_ret)                                        \
    do {                                                                                     \
        char out_[1024];                                                                     \
        const char *rule_ = NULL;                                                            \
        int ret_ = ar_template((t), (host), (path), out_, sizeof(out_), &rule_);            \
        ck_assert_msg(strcmp(out_, (want)) == 0, "%s: got \"%s\", want \"%s\"", (path), out_, \
                      (want));                                                               \
        ck_assert_msg(rule_ && strcmp(rule_, (want_rule)) == 0, "%s: rule %s, want %s",      \
                      (path), rule_ ? rule_ : "(null)", (want_rule));                        \
        ck_assert_msg(ret_ == (want_ret), "%s: returned %d, want %d", (path), ret_,          \
                      (want_ret));                                                           \
    } while (0)
#define T(t, path, want, want_rule) T3(t, "api.example.test", path, want, want_rule, 0)

/* ---------------------------------------------------------------- words */

START_TEST(test_users_me_next_to_param)
{
    struct ar_templater *t = mk(_i);
    T(t, "/users/42", "/users/{userId}", "typed");
    T(t, "/users/me", "/users/me", "literal");
    T(t, "/users/7", "/users/{userId}", "typed");
    T(t, "/users/me", "/users/me", "literal");
    T(t, "/users/search", "/users/search", "literal");
    T(t, "/users/me/orders/9", "/users/me/orders/{orderId}", "typed");
    ar_templater_free(t);
}
END_TEST

START_TEST(test_public_specs_v2_not_absorbed)
{
    struct ar_templater *t = mk(_i);
    char p[64];
    for (int i = 1; i <= 50; i++) {
        snprintf(p, sizeof(p), "/public-specs/%d", i);
        T(t, p, "/public-specs/{publicSpecId}", "typed");
    }
    T(t, "/public-specs/v2", "/public-specs/v2", "literal");
    T(t, "/public-specs/v2/openapi.json", "/public-specs/v2/openapi.json", "literal");
    ar_templater_free(t);
}
END_TEST

START_TEST(test_words_stay_literal)
{
    struct ar_templater *t = mk(_i);
    T(t, "/hello.world", "/hello.world", "literal");
    T(t, "/api/hello.world", "/api/hello.world", "literal");
    T(t, "/api/v2", "/api/v2", "literal");
    T(t, "/api/v1/getUserProfileSettingsV2", "/api/v1/getUserProfileSettingsV2", "literal");
    T(t, "/api/v1/user-profile_settings.update", "/api/v1/user-profile_settings.update", "literal");
    T(t, "/x86_64/linux", "/x86_64/linux", "literal");
    T(t, "/api/2.0/users", "/api/2.0/users", "literal");
    T(t, "/healthz", "/healthz", "literal");
    T(t, "/graphql", "/graphql", "literal");
    ar_templater_free(t);
}
END_TEST

START_TEST(test_versions_and_short_digit_words)
{
    struct ar_templater *t = mk(_i);
    const char *lit[] = { "/x/v1", "/x/v2", "/x/V3", "/x/v10", "/x/v1beta1", "/x/v2.1", "/x/oauth2",
                          "/x/s3", "/x/h2", "/x/ipv6", "/x/ec2", "/x/mp4", "/x/web3", "/x/step-2",
                          "/x/sha256", "/x/i18n", "/x/covid19" };
    for (size_t i = 0; i < sizeof(lit) / sizeof(lit[0]); i++)
        T(t, lit[i], lit[i], "literal");
    T(t, "/v1/42", "/v1/{id}", "typed");
    ar_templater_free(t);
}
END_TEST

START_TEST(test_word_list_loading)
{
    char path[] = "/tmp/check_template_words_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *txt = "Aaron's\r\nmovie\r\nmovies\n\n  spec  \nwolf\n";
    ck_assert_int_eq((int)write(fd, txt, strlen(txt)), (int)strlen(txt));
    close(fd);
    struct ar_templater *t = mk(0);
    size_t before = ar_templater_word_count(t);
    ck_assert_int_eq(ar_templater_load_words(t, path), 0);
    ck_assert_uint_eq(ar_templater_word_count(t), before + 5);     /* aaron movie movies spec wolf */
    ck_assert_int_eq(ar_templater_load_words(t, "/nonexistent/words"), -1);
    T(t, "/movies/7", "/movies/{movieId}", "typed");               /* movie is a word, movy not */
    T(t, "/wolves/7", "/wolves/{wolfId}", "typed");
    ar_templater_free(t);
    unlink(path);

    t = mk(0);
    T(t, "/movies/7", "/movies/{movyId}", "typed");                 /* rule-based without words */
    ar_templater_free(t);
}
END_TEST

/* ---------------------------------------------------------------- typed */

START_TEST(test_integers_and_naming)
{
    struct ar_templater *t = mk(_i);
    T(t, "/orders/8812", "/orders/{orderId}", "typed");
    T(t, "/users/42/orders", "/users/{userId}/orders", "typed");
    T(t, "/categories/17", "/categories/{categoryId}", "typed");
    T(t, "/addresses/1", "/addresses/{addressId}", "typed");
    T(t, "/boxes/1", "/boxes/{boxId}", "typed");
    T(t, "/statuses/1", "/statuses/{statusId}", "typed");
    T(t, "/people/1", "/people/{personId}", "typed");
    T(t, "/line-items/1", "/line-items/{lineItemId}", "typed");
    T(t, "/api_keys/1", "/api_keys/{apiKeyId}", "typed");
    T(t, "/Users/1", "/Users/{userId}", "typed");
    T(t, "/42", "/{id}", "typed");
    T(t, "/x/1/2/3", "/x/{xId}/{id}/{id2}", "typed");
    T(t, "/users/1/users/2", "/users/{userId}/users/{userId2}", "typed");
    T(t, "/hosts/10.0.0.1", "/hosts/{ip}", "typed");
    ar_templater_free(t);
}
END_TEST

START_TEST(test_dates)
{
    struct ar_templater *t = mk(_i);
    T(t, "/api/v1/reports/daily/2026-11-30", "/api/v1/reports/daily/{date}", "typed");
    T(t, "/events/2026-11-30T10:00:00Z", "/events/{date}", "typed");
    T(t, "/events/2026-11-30T10%3A00%3A00.123%2B01%3A00", "/events/{date}", "typed");
    T(t, "/exports/report-2026-11-30.csv", "/exports/report-{date}.csv", "typed");
    T(t, "/exports/2026-11-30.csv", "/exports/{date}.csv", "typed");
    T(t, "/exports/from-2026-01-01-to-2026-02-01", "/exports/from-{date}-to-{date2}", "typed");
    T(t, "/x/2026-13-30", "/x/2026-13-30", "literal");  /* month 13: not a date, no letter */
    ar_templater_free(t);
}
END_TEST

START_TEST(test_emails)
{
    struct ar_templater *t = mk(_i);
    T(t, "/api/v1/users/by-email/ada.42@example.com", "/api/v1/users/by-email/{email}", "typed");
    T(t, "/api/v1/users/by-email/ada.42%40example.com", "/api/v1/users/by-email/{email}", "typed");
    T(t, "/users/grace%2Bwork%40mail.example.co.uk/prefs", "/users/{email}/prefs", "typed");
    T(t, "/users/not@an-email", "/users/not@an-email", "literal");
    ar_templater_free(t);
}
END_TEST

START_TEST(test_uuids_objectids_tokens)
{
    struct ar_templater *t = mk(_i);
    T(t, "/orders/3f2504e0-4f89-41d3-9a0c-0305e82c3301", "/orders/{orderId}", "typed");
    T(t, "/orders/3F2504E0-4F89-41D3-9A0C-0305E82C3301", "/orders/{orderId}", "typed");
    T(t, "/orders/3f2504e04f8941d39a0c0305e82c3301", "/orders/{orderId}", "typed");
    T(t, "/3f2504e0-4f89-41d3-9a0c-0305e82c3301", "/{uuid}", "typed");
    T(t, "/3f2504e04f8941d39a0c0305e82c3301", "/{uuid}", "typed");
    T(t, "/5f8d0d55b54764421b7156c3", "/{objectId}", "typed");
    T(t, "/accounts/5f8d0d55b54764421b7156c3", "/accounts/{accountId}", "typed");
    T(t, "/deadbeefdeadbee1", "/{token}", "typed");                /* 16 hex with a digit */
    T(t, "/deadbeefdeadbeef", "/deadbeefdeadbeef", "literal");     /* no digit */
    T(t, "/dGhpcyBpcyBhIHRva2VuIHdpdGggZGlnaXRzIDEyMw", "/{token}", "typed");
    T(t, "/kHqZpWmRtXbVnLsJdFgYcA", "/{token}", "typed");          /* mixed case, no digits */
    T(t, "/s/kHqZpWmRtXbVnLsJdFgYcA", "/s/{sId}", "typed");
    T(t, "/main.3f9a1c2b4d5e6f70.js", "/main.{token}.js", "typed");
    T(t, "/invoices/invoice_3f2504e0-4f89-41d3-9a0c-0305e82c3301.pdf", "/invoices/invoice_{uuid}.pdf",
      "typed");
    T(t, "/files/3f2504e0-4f89-41d3-9a0c-0305e82c3301.pdf", "/files/{fileId}.pdf", "typed");
    ar_templater_free(t);
}
END_TEST

START_TEST(test_jwt)
{
    struct ar_templater *t = mk(_i);
    const char *jwt = "/sessions/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
                      "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    T(t, jwt, "/sessions/{sessionId}", "typed");
    T(t, "/eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "/{token}", "typed");   /* alg none */
    ar_templater_free(t);
}
END_TEST

START_TEST(test_alnum_ids)
{
    struct ar_templater *t = mk(_i);
    T(t, "/SKU-000123", "/{sku}", "typed");
    T(t, "/SKU-000123.json", "/{sku}.json", "typed");
    T(t, "/products/SKU-000123", "/products/{productId}", "typed");
    T(t, "/products/SKU-000123.json", "/products/{productId}.json", "typed");
    T(t, "/things/a1b2c3d4", "/things/{thingId}", "typed");
    T(t, "/orders/ord_8812x9", "/orders/{orderId}", "typed");
    T(t, "/ord_8812x9", "/{ord}", "typed");
    T(t, "/a1b2c3d4", "/{id}", "typed");
    T(t, "/u/u12345", "/u/{uId}", "typed");
    T(t, "/static/app.3f9a1c.js", "/static/app.3f9a1c.js", "literal");
    T(t, "/static/styles.9c1d2e.css", "/static/styles.9c1d2e.css", "literal");
    T(t, "/static/3f9a1c.js", "/static/3f9a1c.js", "literal");      /* short hex: a hash */
    ar_templater_free(t);
}
END_TEST

/* ------------------------------------------------------------- collapse */

START_TEST(test_collapse_10000_slugs)
{
    struct ar_templater *t = mk(_i);
    char p[128], out[256];
    const char *rule;
    int ones = 0, first_one = -1;
    for (int i = 0; i < 10000; i++) {
        /* letters only, so that none is typed: "slug-aaab" ... */
        snprintf(p, sizeof(p), "/blog/posts/slug-%c%c%c%c", 'a' + i / 4096 % 26, 'a' + i / 256 % 16,
                 'a' + i / 16 % 16, 'a' + i % 16);
        int r = ar_template(t, "blog.example.test", p, out, sizeof(out), &rule);
        if (r) {
            ones++;
            first_one = i;
        }
        if (i < 16) {
            ck_assert_str_eq(out, p);
            ck_assert_str_eq(rule, "literal");
        } else {
            ck_assert_str_eq(out, "/blog/posts/{post}");
            ck_assert_str_eq(rule, "collapse");
        }
    }
    ck_assert_int_eq(ones, 1);
    ck_assert_int_eq(first_one, 16);                  /* the 17th distinct child */
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_children], 1);
    /* vocabulary never collapses; other hosts are not affected */
    T3(t, "blog.example.test", "/blog/posts/search", "/blog/posts/search", "literal", 0);
    T3(t, "blog.example.test", "/blog/posts/v2", "/blog/posts/v2", "literal", 0);
    T3(t, "blog.example.test", "/blog/posts/slug-x/comments/3", "/blog/posts/{post}/comments/{commentId}",
       "collapse", 0);
    T3(t, "other.example.test", "/blog/posts/slug-x", "/blog/posts/slug-x", "literal", 0);
    /* a different shape is counted apart */
    T3(t, "blog.example.test", "/blog/posts/feed.xml", "/blog/posts/feed.xml", "literal", 0);

    size_t pos = 0, n = 0;
    const char *h, *par, *ct;
    while (ar_templater_collapse_iter(t, &pos, &h, &par, &ct)) {
        ck_assert_str_eq(h, "blog.example.test");
        ck_assert_str_eq(par, "/blog/posts");
        ck_assert_str_eq(ct, "{post}");
        n++;
    }
    ck_assert_uint_eq(n, 1);
    ar_templater_free(t);
}
END_TEST

START_TEST(test_few_words_stay_literal)
{
    struct ar_templater *t = mk(_i);
    for (int round = 0; round < 50; round++) {
        T(t, "/shop/items/apples", "/shop/items/apples", "literal");
        T(t, "/shop/items/pears", "/shop/items/pears", "literal");
        T(t, "/shop/items/plums", "/shop/items/plums", "literal");
    }
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_children], 0);
    ar_templater_free(t);
}
END_TEST

START_TEST(test_collapse_root_exempt_and_limits)
{
    struct ar_templater *t = mk_lim(2, 3);
    char p[64];
    /* the root never collapses (scanners spray it) */
    for (int i = 0; i < 30; i++) {
        snprintf(p, sizeof(p), "/page%c%c", 'a' + i % 26, 'a' + i / 26);
        T(t, p, p, "literal");
    }
    T(t, "/a/x", "/a/x", "literal");
    T(t, "/a/y", "/a/y", "literal");
    T3(t, "api.example.test", "/a/z", "/a/{a}", "collapse", 1);
    T(t, "/a/x", "/a/{a}", "collapse");
    T(t, "/b/x", "/b/x", "literal");                  /* tracked parents: /a, /b */
    T(t, "/c/x", "/c/x", "literal");                  /* /c: the third */
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_tracked_children], 0);
    T(t, "/d/x", "/d/x", "literal");                  /* /d is not tracked */
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_tracked_children], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_children], 1);
    ar_templater_free(t);

    /* max_children = 0 disables the collapse */
    t = mk_lim(0, 10);
    for (int i = 0; i < 30; i++) {
        snprintf(p, sizeof(p), "/a/page%c%c", 'a' + i % 26, 'a' + i / 26);
        T(t, p, p, "literal");
    }
    ar_templater_free(t);
}
END_TEST

/* The collapse tracks parents at most max_collapse_depth segments deep. A path
 * of 4000 one-letter segments once asked for a tracked entry (host + prefix,
 * hashed again) at every segment: 3999 look-ups, 3991 of them refused by
 * max_tracked_children, quadratic in the path (F3). */
START_TEST(test_collapse_depth)
{
    struct ar_limits lim;
    ar_limits_default(&lim);
    lim.max_children = 2;
    lim.max_tracked_children = 8;
    ck_assert_uint_eq(lim.max_collapse_depth, 16);
    memset(&ctr, 0, sizeof(ctr));
    struct ar_templater *t = ar_templater_new(&lim, &ctr);
    size_t n = 8000;
    char *deep = malloc(n + 1), *out = malloc(2 * n);
    ck_assert_ptr_nonnull(deep);
    ck_assert_ptr_nonnull(out);
    for (size_t i = 0; i < n; i += 2) {
        deep[i] = '/';
        deep[i + 1] = (char)('b' + i / 2 % 24);
    }
    deep[n] = '\0';
    const char *rule;
    ck_assert_int_eq(ar_template(t, "h.test", deep, out, 2 * n, &rule), 0);
    ck_assert_str_eq(out, deep);
    ck_assert_str_eq(rule, "literal");
    /* children of parents 1..16 segments deep: 8 tracked, 8 refused */
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_tracked_children], 8);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_collapse_depth], 1);    /* once per path */
    free(deep);
    free(out);
    ar_templater_free(t);

    /* max_collapse_depth = 2: /a/b/X collapses, /a/b/c/X is not counted */
    lim.max_collapse_depth = 2;
    lim.max_tracked_children = 100;
    memset(&ctr, 0, sizeof(ctr));
    t = ar_templater_new(&lim, &ctr);
    T(t, "/a/b/x", "/a/b/x", "literal");
    T(t, "/a/b/y", "/a/b/y", "literal");
    T3(t, "api.example.test", "/a/b/z", "/a/b/{b}", "collapse", 1);
    T(t, "/a/c/d/x", "/a/c/d/x", "literal");
    T(t, "/a/c/d/y", "/a/c/d/y", "literal");
    T(t, "/a/c/d/z", "/a/c/d/z", "literal");
    T(t, "/a/b/c/w", "/a/b/{b}/w", "collapse");   /* c: 2 deep, counted; w: 3 deep */
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_children], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_collapse_depth], 4);
    ar_templater_free(t);
}
END_TEST

START_TEST(test_collapse_purges_below)
{
    struct ar_templater *t = mk_lim(3, 100);
    T(t, "/u/alice/repos", "/u/alice/repos", "literal");
    T(t, "/u/bob/repos", "/u/bob/repos", "literal");
    T(t, "/u/carol/repos", "/u/carol/repos", "literal");
    T3(t, "api.example.test", "/u/dave/repos", "/u/{u}/repos", "collapse", 1);
    T(t, "/u/erin/repos", "/u/{u}/repos", "collapse");
    /* the children of /u/{u} are counted afresh */
    T(t, "/u/erin/stars", "/u/{u}/stars", "collapse");
    T(t, "/u/erin/gists", "/u/{u}/gists", "collapse");
    T3(t, "api.example.test", "/u/erin/forks", "/u/{u}/{slug}", "collapse", 1);
    T(t, "/u/frank/repos", "/u/{u}/{slug}", "collapse");
    ar_templater_free(t);
}
END_TEST

START_TEST(test_seed_collapse)
{
    struct ar_templater *t = mk(_i);
    ar_templater_seed_collapse(t, "Shop.Example.Test", "/catalog/categories", "{category}.json");
    ar_templater_seed_collapse(t, "shop.example.test", "/bad", "nobrace");     /* ignored */
    T3(t, "shop.example.test", "/catalog/categories/books.json", "/catalog/categories/{category}.json",
       "collapse", 0);
    T3(t, "shop.example.test", "/catalog/categories/books", "/catalog/categories/books", "literal", 0);
    T3(t, "shop.example.test", "/catalog/categories/v2.json", "/catalog/categories/v2.json", "literal",
       0);
    size_t pos = 0, n = 0;
    const char *h, *par, *ct;
    while (ar_templater_collapse_iter(t, &pos, &h, &par, &ct)) {
        ck_assert_str_eq(h, "shop.example.test");
        ck_assert_str_eq(par, "/catalog/categories");
        ck_assert_str_eq(ct, "{category}.json");
        n++;
    }
    ck_assert_uint_eq(n, 1);
    ar_templater_free(t);
}
END_TEST

/* ------------------------------------------------------- pins and specs */

START_TEST(test_pins)
{
    struct ar_templater *t = mk(_i);
    ck_assert_int_eq(ar_templater_pin(t, NULL, "/users/{login}"), 0);
    ck_assert_int_eq(ar_templater_pin(t, "*", "/orders/8812"), 0);
    ck_assert_int_eq(ar_templater_pin(t, "shop.example.test", "/catalog/products/{sku}.json"), 0);
    ck_assert_int_eq(ar_templater_pin(t, "Shop.Example.Test", "/p/{a}-{b}"), 0);
    ck_assert_int_eq(ar_templater_pin(t, NULL, "users/{x}"), -1);
    ck_assert_int_eq(ar_templater_pin(t, NULL, "/a/{x"), -1);
    ck_assert_int_eq(ar_templater_pin(t, NULL, "/a/{}"), -1);
    ck_assert_int_eq(ar_templater_pin(t, NULL, "/a/x}"), -1);
    ck_assert_int_eq(ar_templater_pin(t, NULL, "/a/{a}{b}{c}{d}"), -1);
    ck_assert_int_eq(ar_templater_pin(t, NULL, NULL), -1);

    T(t, "/users/42", "/users/{login}", "pin");
    T(t, "/users/me", "/users/{login}", "pin");
    T(t, "/users/42/orders", "/users/{userId}/orders", "typed");     /* one segment, no more */
    T(t, "/orders/8812", "/orders/8812", "pin");                     /* literal, never merged */
    T(t, "/orders/8813", "/orders/{orderId}", "typed");
    T3(t, "shop.example.test", "/catalog/products/SKU-000123.json", "/catalog/products/{sku}.json", "pin",
       0);
    T3(t, "shop.example.test:8080", "/catalog/products/x.json", "/catalog/products/{sku}.json", "pin", 0);
    T3(t, "shop.example.test", "/catalog/products/.json", "/catalog/products/.json", "literal", 0);
    T3(t, "other.example.test", "/catalog/products/x.json", "/catalog/products/x.json", "literal", 0);
    T3(t, "shop.example.test", "/p/1-2-3", "/p/{a}-{b}", "pin", 0);
    T3(t, "shop.example.test", "/p/x", "/p/x", "literal", 0);
    ar_templater_free(t);
}
END_TEST

START_TEST(test_specs)
{
    struct ar_templater *t = mk(_i);
    ck_assert_int_eq(ar_templater_add_spec(t, "api.example.test", "/items/{id}"), 0);
    ck_assert_int_eq(ar_templater_add_spec(t, "api.example.test", "/items/latest"), 0);
    ck_assert_int_eq(ar_templater_add_spec(t, "api.example.test", "/items/{id}/parts/{part}"), 0);
    ck_assert_int_eq(ar_templater_add_spec(t, "api.example.test", "/{tenant}/parts/special"), 0);
    ck_assert_int_eq(ar_templater_add_spec(t, "api.example.test", "/items/{id}/special"), 0);
    ck_assert_int_eq(ar_templater_add_spec(t, "api.example.test", "/docs/{name}.json"), 0);
    ck_assert_int_eq(ar_templater_add_spec(t, "api.example.test", "/docs/{name}"), 0);
    ck_assert_int_eq(ar_templater_add_spec(t, NULL, "/status/{code}"), 0);

    T(t, "/items/77", "/items/{id}", "spec");
    T(t, "/items/latest", "/items/latest", "spec");                  /* concrete beats parameter */
    T(t, "/items/7/parts/x", "/items/{id}/parts/{part}", "spec");
    T(t, "/items/parts/special", "/items/{id}/special", "spec");      /* left to right: items wins */
    T(t, "/zz/parts/special", "/{tenant}/parts/special", "spec");
    T(t, "/docs/readme.json", "/docs/{name}.json", "spec");
    T(t, "/docs/readme.yaml", "/docs/{name}", "spec");
    T(t, "/docs/a/b.json", "/docs/a/b.json", "literal");             /* {x} never spans '/' */
    T(t, "/status/404", "/status/{code}", "spec");
    T3(t, "other.example.test", "/items/77", "/items/{itemId}", "typed", 0);

    /* a pin beats a spec */
    ck_assert_int_eq(ar_templater_pin(t, NULL, "/items/{itemNumber}"), 0);
    T(t, "/items/77", "/items/{itemNumber}", "pin");
    T(t, "/items/latest", "/items/{itemNumber}", "pin");
    ar_templater_free(t);
}
END_TEST

/* ----------------------------------------------------------- benchmark */

START_TEST(test_benchmark_shapes)
{
    static const char *const cats[] = {
        "electronics", "books", "garden", "kitchen", "toys", "sports", "outdoor", "office", "audio",
        "video", "gaming", "health", "beauty", "grocery", "pets", "automotive", "tools", "baby",
        "music", "movies", "software", "jewelry", "shoes", "bags", "furniture", "lighting",
        "bedding", "bath", "crafts", "party", "travel", "luggage", "watches", "cameras", "phones",
        "tablets", "laptops", "monitors", "storage", "networking" };
    static const char *const nouns[][2] = {
        { "users", "user" }, { "orders", "order" }, { "search", "search" }, { "auth", "auth" },
        { "sessions", "session" }, { "accounts", "account" }, { "reports", "report" },
        { "files", "file" }, { "admin", "admin" }, { "events", "event" }, { "widgets", "widget" },
        { "invoices", "invoice" }, { "coupons", "coupon" }, { "tickets", "ticket" },
        { "shipments", "shipment" } };
    struct ar_templater *t = mk(_i);
    const char *api = "api.example.test", *shop = "shop.example.test";
    T3(t, api, "/api/v1/users/42", "/api/v1/users/{userId}", "typed", 0);
    T3(t, api, "/api/v1/users/42/orders", "/api/v1/users/{userId}/orders", "typed", 0);
    T3(t, api, "/api/v1/users?page=2&limit=10", "/api/v1/users", "literal", 0);
    T3(t, "orders.internal:3000", "/api/v1/orders/0b6e3c55-5d1f-4c3e-9a7b-2f1d6c8e9a01/items/3",
       "/api/v1/orders/{orderId}/items/{itemId}", "typed", 0);
    T3(t, api, "/api/v2/products/SKU-004711", "/api/v2/products/{productId}", "typed", 0);
    T3(t, api, "/api/v1/accounts/65f1a2b3c4d5e6f708192a3b/transactions?from=2024-01-02",
       "/api/v1/accounts/{accountId}/transactions", "typed", 0);
    T3(t, api, "/api/v1/sessions/9f86d081884c7d659a2feaa0c55ad015", "/api/v1/sessions/{sessionId}",
       "typed", 0);
    T3(t, api, "/api/v1/files/1c9a3f0e-7b2d-4e8f-8a6c-5d4e3f2a1b0c/download",
       "/api/v1/files/{fileId}/download", "typed", 0);
    T3(t, api, "/api/v1/users/by-email/ada.42%40example.com", "/api/v1/users/by-email/{email}", "typed",
       0);
    T3(t, api, "/api/v1/reports/daily/2024-03-09", "/api/v1/reports/daily/{date}", "typed", 0);
    T3(t, api, "/api/v1/auth/login", "/api/v1/auth/login", "literal", 0);
    T3(t, api, "/api/v1/admin/metrics", "/api/v1/admin/metrics", "literal", 0);
    T3(t, api, "/healthz", "/healthz", "literal", 0);
    T3(t, shop, "/catalog/products/SKU-002500.json", "/catalog/products/{productId}.json", "typed", 0);
    T3(t, shop, "/catalog/index.json", "/catalog/index.json", "literal", 0);
    T3(t, shop, "/static/app.3f9a1c.js", "/static/app.3f9a1c.js", "literal", 0);
    T3(t, shop, "/gw/api/v1/users/42", "/gw/api/v1/users/{userId}", "typed", 0);

    /* 15 distinct children of /api/v1 (5 nouns + 10 known): all stay literal */
    char p[128];
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof(nouns) / sizeof(nouns[0]); i++) {
            char want[128];
            snprintf(p, sizeof(p), "/api/v1/%s/%d", nouns[i][0], 17 + round);
            snprintf(want, sizeof(want), "/api/v1/%s/{%sId}", nouns[i][0], nouns[i][1]);
            T3(t, api, p, want, "typed", 0);
        }
    }
    T3(t, api, "/api/v1/widgets/17", "/api/v1/widgets/{widgetId}", "typed", 0);

    /* 40 categories collapse into one template, exactly once */
    int ones = 0;
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof(cats) / sizeof(cats[0]); i++) {
            char out[256];
            const char *rule;
            snprintf(p, sizeof(p), "/catalog/categories/%s.json", cats[i]);
            ones += ar_template(t, shop, p, out, sizeof(out), &rule);
            if (round == 1 || i >= 16) {
                ck_assert_str_eq(out, "/catalog/categories/{category}.json");
                ck_assert_str_eq(rule, "collapse");
            } else {
                ck_assert_str_eq(out, p);
                ck_assert_str_eq(rule, "literal");
            }
        }
    }
    ck_assert_int_eq(ones, 1);

    static const char *const scanner[] = { "/wp-login.php", "/.env", "/admin.php", "/.git/config",
                                           "/phpmyadmin/index.php" };
    for (size_t i = 0; i < sizeof(scanner) / sizeof(scanner[0]); i++)
        T3(t, shop, scanner[i], scanner[i], "literal", 0);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_children], 1);
    ar_templater_free(t);
}
END_TEST

/* ---------------------------------------------------------------- paths */

START_TEST(test_path_forms)
{
    struct ar_templater *t = mk(_i);
    T(t, "/a//b/", "/a//b/", "literal");
    T(t, "/users/42/", "/users/{userId}/", "typed");
    T(t, "//42", "//{id}", "typed");
    T(t, "/", "/", "literal");
    T(t, "*", "*", "literal");
    T(t, "shop.example.test:443", "shop.example.test:443", "literal");
    T(t, "http://example.com/users/42?x=1", "/users/{userId}", "typed");
    T(t, "https://example.com", "/", "literal");
    T(t, "/users/42?email=a@b.c#frag", "/users/{userId}", "typed");
    T(t, "/f/{weird}", "/f/{weird}", "typed");      /* already a parameter */
    T(t, "/f/{we ird}", "/f/%7Bwe ird%7D", "literal"); /* not one: escaped */
    T(t, "/f/a}b", "/f/a%7Db", "literal");
    T(t, "/hello%20world/x", "/hello%20world/x", "literal");
    T(t, "", "", "literal");

    char out[16];
    const char *rule = NULL;
    ck_assert_int_eq(ar_template(t, NULL, NULL, out, sizeof(out), &rule), 0);
    ck_assert_str_eq(out, "");
    ck_assert_str_eq(rule, "literal");
    /* truncated output stays NUL-terminated */
    memset(out, 'X', sizeof(out));
    ar_template(t, "h", "/api/v1/users/42/orders/7/items/9", out, sizeof(out), &rule);
    ck_assert_uint_eq(strlen(out), sizeof(out) - 1);
    ck_assert_int_eq(strncmp(out, "/api/v1/users/{", sizeof(out) - 1), 0);
    ar_template(t, "h", "/users/42", out, 1, &rule);
    ck_assert_str_eq(out, "");
    ar_template(t, "h", "/users/42", NULL, 0, NULL);

    /* a long path is handled (the scratch buffer grows) */
    size_t n = 8192;
    char *big = malloc(n + 1), *bo = malloc(4 * n);
    ck_assert_ptr_nonnull(big);
    ck_assert_ptr_nonnull(bo);
    for (size_t i = 0; i < n; i += 2) {
        big[i] = '/';
        big[i + 1] = '7';
    }
    big[n] = '\0';
    ar_template(t, "h", big, bo, 4 * n, &rule);
    ck_assert_str_eq(rule, "typed");
    ck_assert_int_eq(strncmp(bo, "/{id}/{id2}/{id3}/", 18), 0);
    free(big);
    free(bo);
    ar_templater_free(t);
}
END_TEST

/* Templating a template changes nothing: the catalog and the store re-template
 * what they hold when a parent collapses. */
START_TEST(test_idempotent)
{
    static const char *const paths[] = {
        "/api/v1/users/42/orders", "/api/v1/orders/3f2c1a9e-5b7d-4e2a-9c1f-0a1b2c3d4e5f/items/3",
        "/catalog/products/SKU-002500.json", "/api/v1/reports/daily/2026-11-30",
        "/api/v1/users/by-email/a.b@example.com", "/x/42/43/44", "/users/me",
        /* a 40-character name and its {name2}: 41 characters, still a name */
        "/abcdefghijabcdefghijabcdefghijabcdefghij/1/abcdefghijabcdefghijabcdefghijabcdefghij/2",
    };
    struct ar_templater *t = mk(_i);
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        char once[512], twice[512];
        const char *r1 = NULL, *r2 = NULL;
        ar_template(t, "h.test", paths[i], once, sizeof(once), &r1);
        ar_template(t, "h.test", once, twice, sizeof(twice), &r2);
        ck_assert_str_eq(once, twice);
        ck_assert_str_eq(r1, r2);
    }
    T(t, "/x/{id}/{id2}/44", "/x/{id}/{id2}/{id3}", "typed"); /* names stay unique */
    ar_templater_free(t);
}
END_TEST

/* Every {name} of a template appears once (OpenAPI wants unique names). */
static int names_unique(const char *tmpl)
{
    const char *names[1024];
    size_t lens[1024], n = 0;
    for (const char *p = tmpl; (p = strchr(p, '{')) != NULL; p++) {
        const char *c = strchr(p, '}');
        if (!c || n == 1024)
            return 0;
        for (size_t i = 0; i < n; i++)
            if (lens[i] == (size_t)(c - p - 1) && memcmp(names[i], p + 1, lens[i]) == 0)
                return 0;
        names[n] = p + 1;
        lens[n++] = (size_t)(c - p - 1);
    }
    return 1;
}

/* F9: /deep/x0/.../x15, /deep/x1/.../x16, ... made a chain of collapses whose
 * templates came back with {slug10}/{slug10}: the search for a free number
 * gave up after 8 tries and used a taken one. A name passed through from a
 * template ({id} already in the path) was not checked either. */
START_TEST(test_names_unique)
{
    struct ar_templater *t = mk(_i);
    static char held[100][1024];
    char p[512], out[1024];
    const char *rule;
    int collapses = 0;
    for (int i = 0; i < 100; i++) {
        int o = snprintf(p, sizeof(p), "/deep");
        for (int k = i; k < i + 16; k++)
            o += snprintf(p + o, sizeof(p) - (size_t)o, "/x%d", k);
        int r = ar_template(t, "deep.test", p, held[i], sizeof(held[i]), &rule);
        ck_assert_msg(names_unique(held[i]), "%s -> %s", p, held[i]);
        /* as the catalog does: a collapse re-templates what is held */
        for (int k = 0; r && k < i; k++) {
            ar_template(t, "deep.test", held[k], out, sizeof(out), &rule);
            ck_assert_msg(names_unique(out), "%s -> %s", held[k], out);
            memcpy(held[k], out, sizeof(out));
        }
        collapses += r;
    }
    ck_assert_int_eq(collapses, 5); /* deterministic: the same 100 paths every run */
    T(t, "/x/{id}/{id2}/{id3}/{id4}/{id5}/{id6}/{id7}/{id8}/{id9}/{id10}/7",
      "/x/{id}/{id2}/{id3}/{id4}/{id5}/{id6}/{id7}/{id8}/{id9}/{id10}/{id11}", "typed");
    /* a name already in the path is renamed when taken, as a new one would be */
    T(t, "/1/{id}", "/{id}/{id2}", "typed");
    T(t, "/1/2/{id2}/{id}", "/{id}/{id2}/{id3}/{id4}", "typed");
    T(t, "/{id}/{id}", "/{id}/{id2}", "typed");
    T(t, "/users/1/{userId}.json", "/users/{userId}/{userId2}.json", "typed");
    /* more names than the table first holds (it grows) */
    T(t, "/a/1/b/2/c/3/d/4/e/5/f/6/g/7/h/8/i/9/j/10/k/11/l/12/m/13/n/14/o/15/p/16/q/17/r/18/s/19"
         "/t/20/u/21/v/22/w/23/x/24/y/25/z/26/aa/27/bb/28/cc/29/dd/30/ee/31/ff/32/gg/33/1/2/3",
      "/a/{aId}/b/{bId}/c/{cId}/d/{dId}/e/{eId}/f/{fId}/g/{gId}/h/{hId}/i/{iId}/j/{jId}/k/{kId}"
      "/l/{lId}/m/{mId}/n/{nId}/o/{oId}/p/{pId}/q/{qId}/r/{rId}/s/{sId}/t/{tId}/u/{uId}/v/{vId}"
      "/w/{wId}/x/{xId}/y/{yId}/z/{zId}/aa/{aaId}/bb/{bbId}/cc/{ccId}/dd/{ddId}/ee/{eeId}"
      "/ff/{ffId}/gg/{ggId}/{id}/{id2}/{id3}", "typed");

    /* 4096 integers: {id} ... {id4096}, each name found in one look-up */
    size_t n = 8192;
    char *big = malloc(n + 1), *bo = malloc(8 * n);
    ck_assert_ptr_nonnull(big);
    ck_assert_ptr_nonnull(bo);
    for (size_t i = 0; i < n; i += 2) {
        big[i] = '/';
        big[i + 1] = '7';
    }
    big[n] = '\0';
    ar_template(t, "h", big, bo, 8 * n, &rule);
    ck_assert_int_eq(strncmp(bo, "/{id}/{id2}/{id3}/", 18), 0);
    ck_assert_str_eq(strrchr(bo, '/'), "/{id4096}");
    free(big);
    free(bo);
    ar_templater_free(t);
}
END_TEST

static Suite *template_suite(void)
{
    Suite *s = suite_create("template");
    TCase *tc = tcase_create("template");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_users_me_next_to_param, 0, 2);
    tcase_add_loop_test(tc, test_public_specs_v2_not_absorbed, 0, 2);
    tcase_add_loop_test(tc, test_words_stay_literal, 0, 2);
    tcase_add_loop_test(tc, test_versions_and_short_digit_words, 0, 2);
    tcase_add_test(tc, test_word_list_loading);
    tcase_add_loop_test(tc, test_integers_and_naming, 0, 2);
    tcase_add_loop_test(tc, test_dates, 0, 2);
    tcase_add_loop_test(tc, test_emails, 0, 2);
    tcase_add_loop_test(tc, test_uuids_objectids_tokens, 0, 2);
    tcase_add_loop_test(tc, test_jwt, 0, 2);
    tcase_add_loop_test(tc, test_alnum_ids, 0, 2);
    tcase_add_loop_test(tc, test_collapse_10000_slugs, 0, 2);
    tcase_add_loop_test(tc, test_few_words_stay_literal, 0, 2);
    tcase_add_test(tc, test_collapse_root_exempt_and_limits);
    tcase_add_test(tc, test_collapse_depth);
    tcase_add_test(tc, test_collapse_purges_below);
    tcase_add_loop_test(tc, test_seed_collapse, 0, 2);
    tcase_add_loop_test(tc, test_pins, 0, 2);
    tcase_add_loop_test(tc, test_specs, 0, 2);
    tcase_add_loop_test(tc, test_benchmark_shapes, 0, 2);
    tcase_add_loop_test(tc, test_path_forms, 0, 2);
    tcase_add_loop_test(tc, test_idempotent, 0, 2);
    tcase_add_loop_test(tc, test_names_unique, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(template_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

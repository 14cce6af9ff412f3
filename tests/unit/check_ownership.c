/* check_ownership.c - ownership/: CODEOWNERS-syntax rules over host/path,
 * Backstage catalogs, host rules, team names and resolution.
 *
 * The corpus cases read ../shared/corpus/ownership (AR_SHARED_DIR, or
 * $APIROSTER_SHARED); without it they are not run and the runner says so. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "../../ownership/ownership.h"

#ifndef AR_SHARED_DIR
#define AR_SHARED_DIR "../shared"
#endif

static char corpus_dir[1024];

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

static struct ar_rules *rules_s(const char *text)
{
    char err[256] = "";
    struct ar_rules *r = ar_rules_parse("t.rules", text, strlen(text), err, sizeof(err));
    ck_assert_msg(r != NULL, "parse failed: %s", err);
    return r;
}

/* Expects a parse error with exactly this message. */
#define RULES_ERR(text, want)                                                                 \
    do {                                                                                       \
        char err_[256] = "";                                                                   \
        struct ar_rules *r_ = ar_rules_parse("t.rules", (text), strlen(text), err_,            \
                                             sizeof(err_));                                    \
        ck_assert_msg(r_ == NULL, "parsed, want error %s", (want));                           \
        ck_assert_str_eq(err_, (want));                                                        \
    } while (0)

/* subject -> line and primary owner (NULL: explicitly unowned); line 0: no match */
#define HIT(r, subject, want_line, want_owner)                                                 \
    do {                                                                                       \
        struct ar_rule_hit h_;                                                                 \
        memset(&h_, 0, sizeof(h_));                                                            \
        int m_ = ar_rules_match((r), (subject), &h_);                                          \
        if ((want_line) == 0) {                                                                \
            ck_assert_msg(m_ == 0, "%s: matched line %u, want none", (subject), h_.line);     \
            break;                                                                             \
        }                                                                                      \
        ck_assert_msg(m_ == 1, "%s: no match, want line %u", (subject), (unsigned)(want_line)); \
        ck_assert_msg(h_.line == (unsigned)(want_line), "%s: line %u, want %u", (subject),     \
                      h_.line, (unsigned)(want_line));                                         \
        const char *want_ = (want_owner);                                                      \
        if (want_) {                                                                           \
            ck_assert_msg(!h_.unowned && h_.nowners > 0, "%s: unowned", (subject));            \
            ck_assert_str_eq(h_.owners[0], want_);                                             \
        } else {                                                                               \
            ck_assert_msg(h_.unowned && h_.nowners == 0, "%s: owned, want unowned", (subject)); \
        }                                                                                      \
    } while (0)

#define PM(pattern, subject, want)                                                             \
    ck_assert_msg(ar_rules_pattern_match((pattern), (subject)) == (want),                     \
                  "pattern %s vs %s: got %d, want %d", (pattern), (subject),                  \
                  ar_rules_pattern_match((pattern), (subject)), (want))

/* ---------------------------------------------------------------- rules */

START_TEST(test_rules_last_match_wins)
{
    struct ar_rules *r = rules_s("# api owners\n"                           /* 1 */
                                 "*            @org/default\n"              /* 2 */
                                 "\n"                                        /* 3 */
                                 "api.shop.test/orders/** @shop/orders @alice\n" /* 4 */
                                 "api.shop.test/orders/admin\n"             /* 5 */
                                 "*.json  docs@example.com   # inline comment\n" /* 6 */
                                 "  api.shop.test/orders/{orderId}/items @shop/items\n"); /* 7 */
    ck_assert_uint_eq(ar_rules_count(r), 5);
    ck_assert_uint_eq(ar_rules_section_count(r), 1);
    HIT(r, "api.shop.test/orders/123", 4, "@shop/orders");
    HIT(r, "api.shop.test/orders", 4, "@shop/orders");
    HIT(r, "api.shop.test/orders/{orderId}", 4, "@shop/orders");
    HIT(r, "api.shop.test/orders/{orderId}/items", 7, "@shop/items");
    HIT(r, "api.shop.test/orders/12/items", 4, "@shop/orders"); /* braces are literal */
    HIT(r, "api.shop.test/orders/admin", 5, NULL);
    HIT(r, "api.shop.test/orders/admin/users/3", 5, NULL);
    HIT(r, "api.shop.test/orders/x/spec.json", 6, "docs@example.com");
    HIT(r, "other.test/anything/at/all", 2, "@org/default");
    HIT(r, "other.test", 2, "@org/default");

    struct ar_rule_hit h;
    ck_assert_int_eq(ar_rules_match(r, "api.shop.test/orders/1", &h), 1);
    ck_assert_uint_eq(h.nowners, 2);
    ck_assert_str_eq(h.owners[1], "@alice");
    ck_assert_str_eq(h.pattern, "api.shop.test/orders/**");
    ck_assert_ptr_null(h.section);
    ck_assert_int_eq(h.defaulted, 0);
    /* one section: match_all gives the primary only */
    struct ar_rule_hit hs[4];
    ck_assert_uint_eq(ar_rules_match_all(r, "api.shop.test/orders/1", hs, 4), 1);
    ck_assert_uint_eq(hs[0].line, 4);

    ck_assert_uint_eq(ar_rules_team_count(r), 5);
    ck_assert_str_eq(ar_rules_team(r, 0), "@org/default");
    ck_assert_str_eq(ar_rules_team(r, 1), "@shop/orders");
    ck_assert_str_eq(ar_rules_team(r, 2), "@alice");
    ck_assert_str_eq(ar_rules_team(r, 3), "docs@example.com");
    ck_assert_str_eq(ar_rules_team(r, 4), "@shop/items");
    ck_assert_ptr_null(ar_rules_team(r, 5));
    ck_assert_str_eq(ar_rules_file(r), "t.rules");
    ar_rules_free(r);
}
END_TEST

START_TEST(test_rules_patterns)
{
    /* host globs: '*' stays within a segment but crosses dots */
    PM("*.shop.test/**", "api.shop.test/orders/1", 1);
    PM("*.shop.test/**", "a.b.shop.test/x", 1);
    PM("*.shop.test/**", "shop.test/x", 0);
    PM("*.shop.test/**", "api.shop.test", 1);       /* ** matches zero segments */
    PM("*/admin/**", "api.shop.test/admin/users", 1);
    PM("*/admin/**", "api.shop.test/v1/admin", 0);
    /* a lone '*' as last segment: direct children only */
    PM("api.shop.test/orders/*", "api.shop.test/orders/1", 1);
    PM("api.shop.test/orders/*", "api.shop.test/orders/1/items", 0);
    PM("api.shop.test/orders/*", "api.shop.test/orders", 0);
    /* what a pattern names, with everything beneath it */
    PM("api.shop.test/orders/", "api.shop.test/orders", 1);
    PM("api.shop.test/orders/", "api.shop.test/orders/1/2", 1);
    PM("api.shop.test/orders", "api.shop.test/orders/1", 1);
    PM("api.shop.test/orders/", "api.shop.test/ordersx", 0);
    PM("api.shop.test/orders/**", "api.shop.test/orders", 1);
    /* no slash (or only a trailing one): any depth */
    PM("orders", "api.shop.test/v1/orders/9", 1);
    PM("orders/", "api.shop.test/v1/orders/9", 1);
    PM("orders", "api.shop.test/v1/myorders", 0);
    PM("*.json", "h/a/b/c.json", 1);
    PM("*.json", "h/a/json", 0);
    PM("*", "anything/at/all", 1);
    PM("**", "x", 1);
    /* a leading '/' anchors at the host */
    PM("/orders", "api.shop.test/orders", 0);
    PM("/orders", "orders/1", 1);
    PM("v1/orders", "api.shop.test/v1/orders", 0); /* a middle '/' anchors too */
    /* '?' is one character, never '/' */
    PM("/h/a?c", "h/abc", 1);
    PM("/h/a?c", "h/ac", 0);
    PM("/h/a?c", "h/a/c", 0);
    /* '**' in the middle: zero or more segments */
    PM("h/**/items", "h/items", 1);
    PM("h/**/items", "h/a/b/items", 1);
    PM("h/**/items", "h/a/b/items/3", 1);
    PM("h/**/items", "h/itemsx", 0);
    PM("h/a**b", "h/axxb", 1);            /* '**' inside a segment is '*' */
    PM("h/a**b", "h/ax/xb", 0);
    /* literal braces, escapes */
    PM("h/orders/{orderId}", "h/orders/{orderId}", 1);
    PM("h/orders/{orderId}", "h/orders/12", 0);
    PM("h/a\\ b", "h/a b", 1);
    PM("\\#h/x", "#h/x", 1);
    PM("h/\\*", "h/*", 1);
    PM("h/\\*", "h/x", 0);
    PM("h/\\?", "h/x", 0);
    /* case-sensitive */
    PM("api.shop.test/Orders", "api.shop.test/orders", 0);
    /* the README examples */
    PM("*/health", "api.shop.test/health", 1);
    PM("*/health", "api.shop.test/v1/health", 0);
    PM("*.json", "api.shop.test/v1/openapi.json", 1);
    PM("api.shop.test/orders/admin", "api.shop.test/orders/admin/7", 1);
    /* refused */
    PM("h/[ab]", "h/a", -1);
    PM("/", "h", -1);
    PM("x\\", "x", -1);
}
END_TEST

START_TEST(test_rules_errors)
{
    RULES_ERR("x @a\n@team\n", "t.rules:2: a line of owners without a pattern");
    RULES_ERR("!x @a", "t.rules:1: negation (!) is not supported in CODEOWNERS");
    RULES_ERR("# c\nx notanowner",
              "t.rules:2: 'notanowner': not an owner (@user, @org/team or an e-mail address)");
    RULES_ERR("x @a\n[Docs\nx @a", "t.rules:2: unterminated '[': a GitLab section header is [Name]");
    RULES_ERR("\n\n[ ]", "t.rules:3: empty section name");
    RULES_ERR("[Docs][x]", "t.rules:1: bad approval count in a section header: [Name][N] needs digits");
    RULES_ERR("[Docs][2", "t.rules:1: bad approval count in a section header: [Name][N] needs digits");
    RULES_ERR("[Docs]x", "t.rules:1: unexpected text right after a section header");
    RULES_ERR("[Docs] team", "t.rules:1: 'team': not an owner after a section header");
    RULES_ERR("a/[bc] @x",
              "t.rules:1: character classes ([...]) are not supported in CODEOWNERS patterns");
    RULES_ERR("x\\", "t.rules:1: a pattern cannot end with a lone '\\'");
    RULES_ERR("ok @a\r\nbad\x01 @b\r\n", "t.rules:2: control character in line");
    RULES_ERR("/ @a", "t.rules:1: empty pattern");
    RULES_ERR("x @", "t.rules:1: '@': not an owner (@user, @org/team or an e-mail address)");
    RULES_ERR("x a@b", "t.rules:1: 'a@b': not an owner (@user, @org/team or an e-mail address)");

    char err[64];
    ck_assert_ptr_null(ar_rules_parse(NULL, "!x", 2, err, sizeof(err)));
    ck_assert_str_eq(err, "(rules):1: negation (!) is not supported in CODEOWNERS");
    /* a tiny error buffer is truncated, never overrun */
    char small[8];
    ck_assert_ptr_null(ar_rules_parse("f", "!x", 2, small, sizeof(small)));
    ck_assert_uint_eq(strlen(small), 7);
    ck_assert_ptr_null(ar_rules_parse("f", "!x", 2, NULL, 0));
}
END_TEST

START_TEST(test_rules_gitlab_sections)
{
    struct ar_rules *r = rules_s("* @general\n"                 /* 1 */
                                 "\n"                            /* 2 */
                                 "[Docs] @docs-team\n"           /* 3 */
                                 "docs/\n"                       /* 4 */
                                 "h/guide/** @writers\n"         /* 5 */
                                 "\n"                            /* 6 */
                                 "^[Database][2] @db @dba\n"     /* 7 */
                                 "h/db/\n"                       /* 8 */
                                 "h/db/legacy\n"                 /* 9 */
                                 "[docs]\n"                      /* 10 */
                                 "h/docs-extra/\n"               /* 11 */
                                 "h/guide/drafts @@maintainer # a GitLab role\n"); /* 12 */
    ck_assert_uint_eq(ar_rules_count(r), 7);
    ck_assert_uint_eq(ar_rules_section_count(r), 3);

    struct ar_rule_hit hs[4];
    /* two sections match: the primary is the last matching line of the file */
    ck_assert_uint_eq(ar_rules_match_all(r, "h/db/x", hs, 4), 2);
    ck_assert_uint_eq(hs[0].line, 8);
    ck_assert_str_eq(hs[0].section, "Database");
    ck_assert_int_eq(hs[0].optional, 1);
    ck_assert_int_eq(hs[0].defaulted, 1);
    ck_assert_uint_eq(hs[0].nowners, 2);
    ck_assert_str_eq(hs[0].owners[0], "@db");
    ck_assert_str_eq(hs[0].owners[1], "@dba");
    ck_assert_uint_eq(hs[1].line, 1);
    ck_assert_ptr_null(hs[1].section);
    ck_assert_str_eq(hs[1].owners[0], "@general");
    /* only max hits written, the count is still the number of sections */
    ck_assert_uint_eq(ar_rules_match_all(r, "h/db/x", hs, 1), 2);
    ck_assert_uint_eq(hs[0].line, 8);

    HIT(r, "h/db/legacy/1", 9, "@db");   /* no owner in a section with defaults */
    HIT(r, "h/docs/intro", 4, "@docs-team");
    HIT(r, "h/guide/start", 5, "@writers");
    /* [docs] is the Docs section again, without default owners */
    HIT(r, "h/docs-extra/1", 11, NULL);
    ck_assert_int_eq(ar_rules_match(r, "h/docs-extra/1", &hs[0]), 1);
    ck_assert_str_eq(hs[0].section, "Docs");
    ck_assert_uint_eq(ar_rules_match_all(r, "h/docs-extra/1", hs, 4), 2);
    ck_assert_uint_eq(hs[1].line, 1);
    /* in the Docs section the last matching line wins: 12 over 5 */
    ck_assert_uint_eq(ar_rules_match_all(r, "h/guide/drafts/7", hs, 4), 2);
    ck_assert_uint_eq(hs[0].line, 12);
    ck_assert_str_eq(hs[0].owners[0], "@@maintainer");
    ck_assert_str_eq(hs[0].section, "Docs");
    HIT(r, "other/x", 1, "@general");

    ck_assert_uint_eq(ar_rules_team_count(r), 6);
    ck_assert_str_eq(ar_rules_team(r, 0), "@general");
    ck_assert_str_eq(ar_rules_team(r, 1), "@docs-team");
    ck_assert_str_eq(ar_rules_team(r, 2), "@writers");
    ck_assert_str_eq(ar_rules_team(r, 3), "@db");
    ck_assert_str_eq(ar_rules_team(r, 4), "@dba");
    ck_assert_str_eq(ar_rules_team(r, 5), "@@maintainer");
    ar_rules_free(r);

    /* a section without any rule of the unnamed one */
    r = rules_s("[Only]\nh/x @a\n");
    ck_assert_uint_eq(ar_rules_section_count(r), 1);
    ar_rules_free(r);
}
END_TEST

START_TEST(test_rules_empty_and_odd)
{
    struct ar_rules *r = rules_s("");
    ck_assert_uint_eq(ar_rules_count(r), 0);
    ck_assert_uint_eq(ar_rules_team_count(r), 0);
    ck_assert_int_eq(ar_rules_match(r, "h/x", NULL), 0);
    ar_rules_free(r);

    r = rules_s("# only\n   # comments\n\t\n");
    ck_assert_uint_eq(ar_rules_count(r), 0);
    ar_rules_free(r);

    /* BOM, CRLF, no final newline, an escaped '#', tabs */
    r = rules_s("\xef\xbb\xbf\\#h/x\t@a\r\nh/a\\ b  @b\r\nh/c @c");
    ck_assert_uint_eq(ar_rules_count(r), 3);
    HIT(r, "#h/x/1", 1, "@a");
    HIT(r, "h/a b/1", 2, "@b");
    HIT(r, "h/c", 3, "@c");
    HIT(r, "h/d", 0, NULL);
    struct ar_rule_hit h;
    ck_assert_int_eq(ar_rules_match(r, "#h/x", &h), 1);
    ck_assert_str_eq(h.pattern, "\\#h/x");
    ar_rules_free(r);

    /* data need not be NUL-terminated */
    char buf[8];
    memcpy(buf, "h/x @a!!", 8);
    char err[128];
    r = ar_rules_parse("f", buf, 6, err, sizeof(err));
    ck_assert_ptr_nonnull(r);
    HIT(r, "h/x", 1, "@a");
    ar_rules_free(r);
    ar_rules_free(NULL);
}
END_TEST

START_TEST(test_rules_fuzz)
{
    /* random bytes, random text made of rule characters, nasty globs */
    static const char alphabet[] = "*?/\\#[]^@ \t\n\r!.ab{}";
    unsigned seed = 12345;
    uint8_t buf[512];
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = (size_t)(rand_r(&seed) % (int)sizeof(buf));
        for (size_t i = 0; i < n; i++) {
            int c = rand_r(&seed);
            buf[i] = (iter & 1) ? (uint8_t)c
                                : (uint8_t)alphabet[(size_t)c % (sizeof(alphabet) - 1)];
        }
        ck_assert_int_eq(ar_ownership_fuzz_one(buf, n), 0);
    }
    /* many '**' against a long subject stays fast (no exponential backtracking) */
    char subj[4096];
    size_t k = 0;
    for (int i = 0; i < 600; i++)
        k += (size_t)snprintf(subj + k, sizeof(subj) - k, "a/");
    subj[k - 1] = '\0';
    PM("**/a/**/a/**/a/**/a/**/a/**/b", subj, 0);
    PM("**/a*a*a*a*a*a*a*a*b", subj, 0);
}
END_TEST

/* ---------------------------------------------------------------- teams */

START_TEST(test_team_canon)
{
    char out[64];
    static const char *const cases[][2] = {
        {"@shop/orders", "shop/orders"},
        {"shop/orders", "shop/orders"},
        {"group:shop/orders", "shop/orders"},
        {"group:default/orders", "orders"},
        {"group:default/team-c", "team-c"},
        {"team-c", "team-c"},
        {"group:team-c", "team-c"},
        {"default/team-c", "team-c"},
        {"Group:Default/Team-C", "team-c"},
        {"user:default/alice", "alice"},
        {"group:redhat/one-platform-devs", "redhat/one-platform-devs"},
        {"@@maintainer", "maintainer"},
        {"  @Alice  ", "alice"},
        {"Docs@Example.com", "docs@example.com"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_int_eq(ar_team_canon(cases[i][0], out, sizeof(out)), (int)strlen(cases[i][1]));
        ck_assert_str_eq(out, cases[i][1]);
    }
    ck_assert_int_eq(ar_team_canon("", out, sizeof(out)), -1);
    ck_assert_int_eq(ar_team_canon(" @ ", out, sizeof(out)), -1);
    ck_assert_int_eq(ar_team_canon("group:", out, sizeof(out)), -1);
    ck_assert_int_eq(ar_team_canon(NULL, out, sizeof(out)), -1);
    ck_assert_int_eq(ar_team_canon("a-long-team-name", out, 4), -1);
    ck_assert_int_eq(ar_team_eq("@shop/orders", "group:shop/orders"), 1);
    ck_assert_int_eq(ar_team_eq("@shop/orders", "group:default/orders"), 0);
    ck_assert_int_eq(ar_team_eq("team-c", "group:default/team-c"), 1);
}
END_TEST

/* ---------------------------------------------------------------- host rules */

static int hr_match(const char *line, const char *host)
{
    struct ar_hostrule hr;
    char why[128];
    ck_assert_msg(ar_hostrule_parse(line, &hr, why, sizeof(why)) == 0, "%s: %s", line, why);
    int m = ar_hostrule_match(&hr, host);
    ar_hostrule_clear(&hr);
    return m;
}

#define HR(line, host, want)                                                                   \
    ck_assert_msg(hr_match((line), (host)) == (want), "%s vs %s: want %d", (line), (host), (want))

START_TEST(test_hostrules)
{
    HR("*.shop.test @shop/web", "api.shop.test", 1);
    HR("*.shop.test @shop/web", "a.b.shop.test", 1);
    HR("*.shop.test @shop/web", "shop.test", 0);
    HR("*.shop.test @shop/web", "api.shop.test:8080", 1);  /* no port: any port */
    HR("*.SHOP.test @shop/web", "api.shop.test", 1);       /* case-insensitive */
    HR("*.shop.test @shop/web", "API.Shop.Test", 1);
    HR("api.*.test team", "api.shop.test", 1);
    HR("api.*.test team", "www.shop.test", 0);
    HR("api.shop.test team", "api.shop.test", 1);
    HR("api.shop.test team", "api.shop.testx", 0);
    HR("api.shop.test:8443 team", "api.shop.test:8443", 1);
    HR("api.shop.test:8443 team", "api.shop.test:443", 0);
    HR("api.shop.test:8443 team", "api.shop.test", 0);
    HR("api.shop.test:* team", "api.shop.test:1", 1);
    HR("api.sh?p.test team # comment", "api.shop.test", 1);
    HR("10.0.0.0/8 net", "10.200.3.4", 1);
    HR("10.0.0.0/8 net", "10.200.3.4:8080", 1);
    HR("10.0.0.0/8 net", "11.0.0.1", 0);
    HR("10.0.0.0/8 net", "api.shop.test", 0);
    HR("10.1.2.3/32:8080 net", "10.1.2.3:8080", 1);
    HR("10.1.2.3/32:8080 net", "10.1.2.3:8081", 0);
    HR("10.1.2.3/32:8080 net", "10.1.2.3", 0);
    HR("10.1.2.3 net", "10.1.2.3", 1);
    HR("10.1.2.3:8080 net", "10.1.2.3:8080", 1);
    HR("10.1.2.99/24 net", "10.1.2.7", 1);                 /* host bits ignored */
    HR("192.168.0.0/17 net", "192.168.127.1", 1);
    HR("192.168.0.0/17 net", "192.168.128.1", 0);
    HR("0.0.0.0/0 net", "1.2.3.4", 1);
    HR("[2001:db8::]/32:443 v6", "[2001:db8:1::5]:443", 1);
    HR("[2001:db8::]/32:443 v6", "[2001:db8:1::5]:80", 0);
    HR("[2001:db8::]/32:443 v6", "[2001:db9::5]:443", 0);
    HR("2001:db8::/32 v6", "[2001:db8::1]", 1);
    HR("2001:db8::/32 v6", "2001:db8::1", 1);              /* bare IPv6 literal */
    HR("2001:db8::/32 v6", "10.1.2.3", 0);
    HR("[::1]:8080 v6", "[::1]:8080", 1);
    HR("10.0.0.0/8 net", "[::ffff:10.0.0.1]", 0);          /* families differ */

    struct ar_hostrule hr;
    char why[128];
    ck_assert_int_eq(ar_hostrule_parse("  *.shop.test\t@shop/web  ", &hr, why, sizeof(why)), 0);
    ck_assert_int_eq(hr.kind, AR_HR_GLOB);
    ck_assert_str_eq(hr.pattern, "*.shop.test");
    ck_assert_str_eq(hr.team, "@shop/web");
    ar_hostrule_clear(&hr);
    ck_assert_int_eq(ar_hostrule_parse("[2001:db8::]/32:443 v6", &hr, why, sizeof(why)), 0);
    ck_assert_int_eq(hr.kind, AR_HR_CIDR);
    ck_assert_int_eq(hr.family, 6);
    ck_assert_uint_eq(hr.prefix, 32);
    ck_assert_int_eq(hr.port, 443);
    ar_hostrule_clear(&hr);

#define HR_ERR(line, want)                                                                     \
    do {                                                                                       \
        why[0] = '\0';                                                                         \
        ck_assert_int_eq(ar_hostrule_parse((line), &hr, why, sizeof(why)), -1);               \
        ck_assert_str_eq(why, (want));                                                         \
    } while (0)
    HR_ERR("*.shop.test", "a host rule is PATTERN TEAM");
    HR_ERR("", "a host rule is PATTERN TEAM");
    HR_ERR("a b c", "a host rule is PATTERN TEAM (one team)");
    HR_ERR("10.0.0.0/33 t", "bad prefix length: '10.0.0.0/33'");
    HR_ERR("10.0.0.0/ t", "bad prefix length: '10.0.0.0/'");
    HR_ERR("10.0.0/8 t", "not an IP address: '10.0.0/8'");
    HR_ERR("10.1.2.3:99999 t", "bad port: '10.1.2.3:99999'");
    HR_ERR("[2001:db8::/32 t", "unterminated '[' in an IPv6 address: '[2001:db8::/32'");
    HR_ERR("[2001:db8::]/129 t", "bad prefix length: '[2001:db8::]/129'");
    HR_ERR("[2001:db8::]x t", "unexpected text after an address: '[2001:db8::]x'");
    HR_ERR("api.shop.test:port t", "bad port: 'api.shop.test:port'");
    HR_ERR("api/shop t", "not an IP address: 'api/shop'");
    HR_ERR("ap!.test t",
           "not a host glob (letters, digits, '.', '-', '_', '*', '?'): 'ap!.test'");
    HR_ERR(":80 t", "empty host in a host pattern: ':80'");

    /* a list: the last matching rule wins */
    struct ar_hostrule v[3];
    ck_assert_int_eq(ar_hostrule_parse("*.shop.test web", &v[0], why, sizeof(why)), 0);
    ck_assert_int_eq(ar_hostrule_parse("api.shop.test api", &v[1], why, sizeof(why)), 0);
    ck_assert_int_eq(ar_hostrule_parse("10.0.0.0/8 net", &v[2], why, sizeof(why)), 0);
    ck_assert_int_eq(ar_hostrules_match(v, 3, "api.shop.test"), 1);
    ck_assert_int_eq(ar_hostrules_match(v, 3, "www.shop.test"), 0);
    ck_assert_int_eq(ar_hostrules_match(v, 3, "10.9.9.9:80"), 2);
    ck_assert_int_eq(ar_hostrules_match(v, 3, "example.test"), -1);
    for (int i = 0; i < 3; i++)
        ar_hostrule_clear(&v[i]);
}
END_TEST

/* ---------------------------------------------------------------- catalog */

static struct ar_bcatalog *cat_s(const char *text)
{
    char err[256] = "";
    struct ar_bcatalog *c = ar_bcatalog_parse("t.yaml", text, strlen(text), err, sizeof(err));
    ck_assert_msg(c != NULL, "parse failed: %s", err);
    return c;
}

START_TEST(test_catalog_inline)
{
    struct ar_bcatalog *c = cat_s(
        "foo: bar\n"                                     /* 1: not an entity */
        "---\n"                                          /* 2 */
        "apiVersion: backstage.io/v1alpha1\n"            /* 3 */
        "kind: Group\n"
        "metadata:\n"
        "  name: Orders\n"
        "  namespace: shop\n"
        "spec:\n"
        "  type: team\n"
        "  parent: shop-all\n"
        "  children: [orders-eu, orders-us]\n"
        "  members:\n"
        "    - alice\n"
        "---\n"                                          /* 14 */
        "just a scalar\n"                                /* 15 */
        "---\n"                                          /* 16 */
        "apiVersion: backstage.io/v1alpha1\n"            /* 17 */
        "kind: API\n"
        "metadata: {name: orders-api}\n"
        "spec:\n"
        "  type: openapi\n"
        "  lifecycle: deprecated\n"
        "  owner: group:shop/orders\n"
        "  system: shop\n"
        "  definition:\n"
        "    $yaml: ./orders.yaml\n"
        "---\n"                                          /* 27 */
        "apiVersion: backstage.io/v1alpha1\n"            /* 28 */
        "kind: Component\n"
        "metadata:\n"
        "  namespace: shop\n"
        "spec:\n"
        "  owner: x\n"
        "---\n"                                          /* 34 */
        "apiVersion: backstage.io/v1alpha1\n"            /* 35 */
        "kind: Component\n"
        "metadata:\n"
        "  name: orders-svc\n"
        "spec:\n"
        "  owner: shop/orders\n"
        "  providesApis: [orders-api, 'api:default/other', 'api:shop/orders-api']\n"
        "---\n"                                          /* 42 */
        "apiVersion: backstage.io/v1alpha1\n"            /* 43 */
        "kind: Template\n"
        "metadata:\n"
        "  name: tpl\n"
        "---\n");
    /* 8 documents: the final "---" opens an empty one, skipped silently */
    ck_assert_uint_eq(ar_bcatalog_document_count(c), 8);
    ck_assert_uint_eq(ar_bcatalog_count(c), 4);
    ck_assert_uint_eq(ar_bcatalog_warning_count(c), 3);
    ck_assert_str_eq(ar_bcatalog_warning(c, 0),
                     "t.yaml:1: document 1 skipped: not an entity (no kind/apiVersion)");
    ck_assert_str_eq(ar_bcatalog_warning(c, 1),
                     "t.yaml:15: document 3 skipped: not an entity (not a mapping)");
    ck_assert_str_eq(ar_bcatalog_warning(c, 2),
                     "t.yaml:28: document 5 skipped: Component entity without metadata.name");
    ck_assert_ptr_null(ar_bcatalog_warning(c, 3));

    const struct ar_entity *g = ar_bcatalog_entity(c, 0);
    ck_assert_int_eq(g->kind, AR_ENT_GROUP);
    ck_assert_str_eq(g->kind_name, "Group");
    ck_assert_str_eq(g->name, "Orders");
    ck_assert_str_eq(g->ns, "shop");
    ck_assert_str_eq(g->type, "team");
    ck_assert_str_eq(g->parent, "shop-all");
    ck_assert_uint_eq(g->nchildren, 2);
    ck_assert_str_eq(g->children[1], "orders-us");
    ck_assert_uint_eq(g->nmembers, 1);
    ck_assert_str_eq(g->members[0], "alice");
    ck_assert_uint_eq(g->line, 3);
    ck_assert_uint_eq(g->doc, 1);
    ck_assert_ptr_null(g->owner);

    const struct ar_entity *a = ar_bcatalog_entity(c, 1);
    ck_assert_int_eq(a->kind, AR_ENT_API);
    ck_assert_str_eq(a->name, "orders-api");
    ck_assert_str_eq(a->ns, "default");
    ck_assert_str_eq(a->owner, "group:shop/orders");
    ck_assert_str_eq(a->owner_team, "shop/orders");
    ck_assert_str_eq(a->lifecycle, "deprecated");
    ck_assert_str_eq(a->system, "shop");
    ck_assert_ptr_null(a->definition);
    ck_assert_str_eq(a->definition_ref, "./orders.yaml");
    ck_assert_str_eq(a->definition_subst, "$yaml");
    ck_assert_uint_eq(a->line, 17);

    const struct ar_entity *comp = ar_bcatalog_entity(c, 2);
    ck_assert_str_eq(comp->name, "orders-svc");
    ck_assert_uint_eq(comp->nprovides_apis, 3);
    ck_assert_uint_eq(comp->line, 35);
    ck_assert_int_eq(ar_bcatalog_entity(c, 3)->kind, AR_ENT_OTHER);
    ck_assert_str_eq(ar_bcatalog_entity(c, 3)->kind_name, "Template");
    ck_assert_ptr_null(ar_bcatalog_entity(c, 4));

    /* known teams: the Group, canonical */
    ck_assert_uint_eq(ar_bcatalog_team_count(c), 1);
    ck_assert_str_eq(ar_bcatalog_team(c, 0), "shop/orders");
    /* providers: "orders-api" defaults to the component's namespace (default) */
    const struct ar_entity *p[4];
    ck_assert_uint_eq(ar_bcatalog_api_providers(c, NULL, "orders-api", p, 4), 1);
    ck_assert_ptr_eq(p[0], comp);
    ck_assert_uint_eq(ar_bcatalog_api_providers(c, "default", "other", p, 4), 1);
    ck_assert_uint_eq(ar_bcatalog_api_providers(c, "shop", "orders-api", p, 4), 1);
    ck_assert_uint_eq(ar_bcatalog_api_providers(c, "shop", "other", p, 4), 0);
    ck_assert_uint_eq(ar_bcatalog_api_providers(c, NULL, "ORDERS-API", NULL, 0), 1);
    ck_assert_ptr_eq(ar_bcatalog_find(c, AR_ENT_API, NULL, "Orders-API"), a);
    ck_assert_ptr_eq(ar_bcatalog_find(c, AR_ENT_GROUP, "shop", "orders"), g);
    ck_assert_ptr_null(ar_bcatalog_find(c, AR_ENT_GROUP, NULL, "orders"));
    ck_assert_int_eq(ar_entity_kind_from("component"), AR_ENT_COMPONENT);
    ck_assert_int_eq(ar_entity_kind_from("Location"), AR_ENT_LOCATION);
    ck_assert_int_eq(ar_entity_kind_from("nope"), AR_ENT_OTHER);
    ar_bcatalog_free(c);
}
END_TEST

START_TEST(test_catalog_errors)
{
    char err[256];
    static const char *const bad[][2] = {
        {"a: [1, 2\n", "t.yaml:"},
        {"apiVersion: x\nkind: API\nkind: Group\n", "t.yaml:3:1: duplicate key"},
        {"a:\n  b: 1\n c: 2\n", "t.yaml:"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        struct ar_bcatalog *c =
            ar_bcatalog_parse("t.yaml", bad[i][0], strlen(bad[i][0]), err, sizeof(err));
        ck_assert_msg(c == NULL, "case %zu parsed", i);
        ck_assert_msg(strncmp(err, bad[i][1], strlen(bad[i][1])) == 0, "case %zu: %s", i, err);
        /* FILE:LINE:COL: reason */
        unsigned line = 0, col = 0;
        ck_assert_msg(sscanf(err, "t.yaml:%u:%u: ", &line, &col) == 2 && line > 0 && col > 0,
                      "case %zu: %s", i, err);
    }
    /* the unclosed flow sequence is reported where the file ends */
    ck_assert_ptr_null(ar_bcatalog_parse("t.yaml", bad[0][0], strlen(bad[0][0]), err, sizeof(err)));
    ck_assert_msg(strncmp(err, "t.yaml:2:1: ", 12) == 0, "%s", err);

    /* bytes YAML does not allow are refused before the YAML parser sees them */
    ck_assert_ptr_null(ar_bcatalog_parse("t.yaml", "a: 1\nb: x\001y\n", 13, err, sizeof(err)));
    ck_assert_str_eq(err, "t.yaml:2:5: control character (not allowed in YAML)");
    ck_assert_ptr_null(ar_bcatalog_parse("t.yaml", "a: \xc3\x28\n", 6, err, sizeof(err)));
    ck_assert_str_eq(err, "t.yaml:1:4: invalid UTF-8");
    ck_assert_ptr_null(ar_bcatalog_parse("t.yaml", "a: b\0", 5, err, sizeof(err)));
    ck_assert_str_eq(err, "t.yaml:1:5: control character (not allowed in YAML)");
    struct ar_bcatalog *u = cat_s("apiVersion: v1\nkind: Group\nmetadata: {name: \xc3\xa9quipe}\n");
    ck_assert_str_eq(ar_bcatalog_team(u, 0), "\xc3\xa9quipe");
    ar_bcatalog_free(u);

    /* a document that is one multi-line quoted scalar: no entity, and (under
     * ASan) no leak: formatting its text leaks in libfyaml 0.7.12 (fuzz_rules);
     * the stray '#' then makes it an error */
    static const char q[] = "\n''''''''''''''''''''''''''''''''#''''''''''\t\n\n\t\n";
    ck_assert_ptr_null(ar_bcatalog_parse("t.yaml", q, sizeof(q) - 1, err, sizeof(err)));
    ck_assert_msg(strncmp(err, "t.yaml:2:33: ", 13) == 0, "%s", err);

    /* empty file: no entity, no error; aliases are not followed */
    struct ar_bcatalog *c = cat_s("");
    ck_assert_uint_eq(ar_bcatalog_count(c), 0);
    ar_bcatalog_free(c);
    c = cat_s("apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: &n a1\n"
              "spec:\n  owner: *n\n  definition: |\n    openapi: 3.0.0\n");
    ck_assert_uint_eq(ar_bcatalog_count(c), 1);
    ck_assert_ptr_null(ar_bcatalog_entity(c, 0)->owner);
    ck_assert_str_eq(ar_bcatalog_entity(c, 0)->definition, "openapi: 3.0.0\n");
    ar_bcatalog_free(c);
}
END_TEST

/* ---------------------------------------------------------------- resolution */

static const char *json_of(struct ar_json *j, const struct ar_owner_result *res)
{
    ar_json_reset(j);
    ar_owner_result_json(j, res);
    ar_json_append(j, "", 1);
    return j->buf;
}

START_TEST(test_resolve_precedence_and_drift)
{
    const char *known[] = {"team-c", "shop/orders", "group:default/shop-web"};
    struct ar_owner_cand c[] = {
        {AR_OWN_RULES, "@shop/orders", 0, "o.rules:3"},
        {AR_OWN_CATALOG, "group:default/team-c", 0, "cat.yaml:1"},
        {AR_OWN_SPEC, "payments", 0, "spec.yaml#/info/x-owner"},
        {AR_OWN_HOST, "@shop-web", 0, "apiroster.conf:12"},
        {AR_OWN_INFERRED, "team-c", 0, "api.shop.test GET /orders"},
        {AR_OWN_RULES, "shop/orders", 0, "o.rules:9"},
    };
    struct ar_owner_result res;
    /* any order in, same answer: the precedence is the source's */
    for (int rev = 0; rev < 2; rev++) {
        struct ar_owner_cand in[6];
        for (int i = 0; i < 6; i++)
            in[i] = c[rev ? 5 - i : i];
        ck_assert_int_eq(ar_owner_resolve(in, 6, known, 3, &res), 1);
        ck_assert_str_eq(res.team, "team-c");
        ck_assert_str_eq(res.team_written, "group:default/team-c");
        ck_assert_int_eq(res.source, AR_OWN_CATALOG);
        ck_assert_str_eq(res.evidence, "cat.yaml:1");
        ck_assert_int_eq(res.unowned, 0);
        ck_assert_uint_eq(res.nunresolved, 1);
        ck_assert_str_eq(res.unresolved[0].team, "payments");
        ck_assert_str_eq(res.unresolved[0].reason, "not a known team");
        ck_assert_str_eq(res.unresolved[0].evidence, "spec.yaml#/info/x-owner");
        /* rules (once, same source and team) and host disagree; inferred agrees */
        ck_assert_uint_eq(res.nalts, 2);
        ck_assert_int_eq(res.alts[0].source, AR_OWN_RULES);
        ck_assert_str_eq(res.alts[0].team, "shop/orders");
        ck_assert_str_eq(res.alts[0].evidence, rev ? "o.rules:9" : "o.rules:3");
        ck_assert_int_eq(res.alts[1].source, AR_OWN_HOST);
        ck_assert_str_eq(res.alts[1].team, "shop-web");
        ar_owner_result_free(&res);
    }

    struct ar_json j;
    ar_json_init(&j);
    ck_assert_int_eq(ar_owner_resolve(c, 6, known, 3, &res), 1);
    ck_assert_str_eq(json_of(&j, &res),
                     "{\"owner\":\"team-c\",\"source\":\"catalog\",\"evidence\":\"cat.yaml:1\","
                     "\"alternatives\":[{\"owner\":\"shop/orders\",\"source\":\"rules\","
                     "\"evidence\":\"o.rules:3\"},{\"owner\":\"shop-web\",\"source\":\"host\","
                     "\"evidence\":\"apiroster.conf:12\"}],"
                     "\"unresolved\":[{\"owner\":\"payments\",\"source\":\"spec\","
                     "\"evidence\":\"spec.yaml#/info/x-owner\",\"reason\":\"not a known team\"}]}");
    /* the fields alone, inside an object the CLI opened */
    ar_json_reset(&j);
    ar_json_obj_open(&j);
    ar_json_kstr(&j, "host", "api.shop.test");
    ar_owner_result_json_fields(&j, &res);
    ar_json_obj_close(&j);
    ar_json_append(&j, "", 1);
    ck_assert_msg(strncmp(j.buf, "{\"host\":\"api.shop.test\",\"owner\":\"team-c\",", 41) == 0,
                  "%s", j.buf);
    ar_owner_result_free(&res);

    /* a known spec owner wins over the catalog; the same team is no alternative */
    struct ar_owner_cand c2[] = {
        {AR_OWN_CATALOG, "team-c", 0, "cat.yaml:1"},
        {AR_OWN_SPEC, "@Team-C", 0, "spec.yaml#/paths/~1pets/get/x-owner"},
    };
    ck_assert_int_eq(ar_owner_resolve(c2, 2, known, 3, &res), 1);
    ck_assert_int_eq(res.source, AR_OWN_SPEC);
    ck_assert_str_eq(res.team, "team-c");
    ck_assert_str_eq(res.evidence, "spec.yaml#/paths/~1pets/get/x-owner");
    ck_assert_uint_eq(res.nalts, 0);
    ar_owner_result_free(&res);

    /* a pin beats everything */
    struct ar_owner_cand c3[] = {
        {AR_OWN_SPEC, "team-c", 0, "s#/info/x-owner"},
        {AR_OWN_PIN, "incident-team", 0, "apiroster.conf:40"},
    };
    ck_assert_int_eq(ar_owner_resolve(c3, 2, known, 3, &res), 1);
    ck_assert_int_eq(res.source, AR_OWN_PIN);
    ck_assert_str_eq(res.team, "incident-team");
    ck_assert_uint_eq(res.nalts, 1);
    ck_assert_int_eq(res.alts[0].source, AR_OWN_SPEC);
    ar_owner_result_free(&res);

    /* no known teams at all: any spec owner is accepted */
    struct ar_owner_cand c4[] = {{AR_OWN_SPEC, "payments", 0, "s#/info/x-owner"},
                                 {AR_OWN_RULES, "@shop/orders", 0, "o.rules:3"}};
    ck_assert_int_eq(ar_owner_resolve(c4, 2, NULL, 0, &res), 1);
    ck_assert_int_eq(res.source, AR_OWN_SPEC);
    ck_assert_str_eq(res.team, "payments");
    ck_assert_uint_eq(res.nunresolved, 0);
    ck_assert_uint_eq(res.nalts, 1);
    ar_owner_result_free(&res);
    /* with known teams, the unknown spec owner falls through to the rules */
    ck_assert_int_eq(ar_owner_resolve(c4, 2, known, 3, &res), 1);
    ck_assert_int_eq(res.source, AR_OWN_RULES);
    ck_assert_str_eq(res.team, "shop/orders");
    ck_assert_str_eq(res.team_written, "@shop/orders");
    ck_assert_uint_eq(res.nunresolved, 1);
    ck_assert_uint_eq(res.nalts, 0);
    ar_owner_result_free(&res);
    ar_json_free(&j);
}
END_TEST

START_TEST(test_resolve_unowned_and_none)
{
    struct ar_json j;
    ar_json_init(&j);
    struct ar_owner_result res;
    struct ar_owner_cand c[] = {
        {AR_OWN_HOST, "@shop/web", 0, "apiroster.conf:12"},
        {AR_OWN_RULES, NULL, 1, "o.rules:9"},
    };
    ck_assert_int_eq(ar_owner_resolve(c, 2, NULL, 0, &res), 0);
    ck_assert_ptr_null(res.team);
    ck_assert_int_eq(res.unowned, 1);
    ck_assert_int_eq(res.source, AR_OWN_RULES);
    ck_assert_str_eq(res.evidence, "o.rules:9");
    ck_assert_uint_eq(res.nalts, 1);
    ck_assert_str_eq(res.alts[0].team, "shop/web");
    ck_assert_str_eq(json_of(&j, &res),
                     "{\"owner\":null,\"source\":\"rules\",\"evidence\":\"o.rules:9\","
                     "\"alternatives\":[{\"owner\":\"shop/web\",\"source\":\"host\","
                     "\"evidence\":\"apiroster.conf:12\"}],\"unresolved\":[]}");
    ar_owner_result_free(&res);

    /* an explicit unowned below a team is drift too */
    struct ar_owner_cand c2[] = {
        {AR_OWN_RULES, NULL, 1, "o.rules:9"},
        {AR_OWN_CATALOG, "team-c", 0, "cat.yaml:1"},
    };
    ck_assert_int_eq(ar_owner_resolve(c2, 2, NULL, 0, &res), 1);
    ck_assert_str_eq(res.team, "team-c");
    ck_assert_uint_eq(res.nalts, 1);
    ck_assert_ptr_null(res.alts[0].team);
    ck_assert_str_eq(res.alts[0].evidence, "o.rules:9");
    ar_owner_result_free(&res);

    /* nothing */
    ck_assert_int_eq(ar_owner_resolve(NULL, 0, NULL, 0, &res), 0);
    ck_assert_int_eq(res.source, AR_OWN_NONE);
    ck_assert_str_eq(json_of(&j, &res),
                     "{\"owner\":null,\"source\":\"none\",\"evidence\":null,"
                     "\"alternatives\":[],\"unresolved\":[]}");
    ar_owner_result_free(&res);

    /* an empty owner is unresolved, never a winner */
    struct ar_owner_cand c3[] = {{AR_OWN_PIN, "  ", 0, "apiroster.conf:3"}};
    ck_assert_int_eq(ar_owner_resolve(c3, 1, NULL, 0, &res), 0);
    ck_assert_int_eq(res.source, AR_OWN_NONE);
    ck_assert_uint_eq(res.nunresolved, 1);
    ck_assert_str_eq(res.unresolved[0].reason, "empty or unreadable owner");
    ar_owner_result_free(&res);

    /* source names */
    static const char *const names[] = {"pin", "spec", "catalog", "rules",
                                        "host", "inferred", "none"};
    for (int s = AR_OWN_PIN; s <= AR_OWN_NONE; s++) {
        enum ar_owner_source back;
        ck_assert_str_eq(ar_owner_source_name((enum ar_owner_source)s), names[s]);
        ck_assert_int_eq(ar_owner_source_from(names[s], &back), 0);
        ck_assert_int_eq(back, s);
    }
    enum ar_owner_source dummy;
    ck_assert_int_eq(ar_owner_source_from("spec ", &dummy), -1);
    ar_json_free(&j);
}
END_TEST

/* ---------------------------------------------------------------- corpus */

static struct ar_rules *corpus_rules(const char *name, char *err, size_t errsz)
{
    char path[1400];
    snprintf(path, sizeof(path), "%s/corpus/ownership/codeowners/%s", corpus_dir, name);
    size_t len;
    char *data = slurp(path, &len);
    struct ar_rules *r = ar_rules_parse(name, data, len, err, errsz);
    free(data);
    return r;
}

START_TEST(test_corpus_github_codeowners)
{
    static const struct {
        const char *file;
        size_t rules, teams;
    } files[] = {
        {"cilium-ebpf.CODEOWNERS", 11, 8},
        {"curl.CODEOWNERS", 0, 0},
        {"grafana-beyla.CODEOWNERS", 6, 2},
        {"mizu-docs.CODEOWNERS", 1, 1},
        {"nodejs-node.CODEOWNERS", 151, 31},
        {"oai-openapi-specification.CODEOWNERS", 6, 2},
        {"oisf-suricata.CODEOWNERS", 16, 6},
        {"opentelemetry-go.CODEOWNERS", 2, 6},
        {"optic.CODEOWNERS", 2, 3},
        {"postman-insights-agent.CODEOWNERS", 1, 2},
    };
    char err[256];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        err[0] = '\0';
        struct ar_rules *r = corpus_rules(files[i].file, err, sizeof(err));
        ck_assert_msg(r != NULL, "%s: %s", files[i].file, err);
        ck_assert_msg(ar_rules_count(r) == files[i].rules, "%s: %zu rules", files[i].file,
                      ar_rules_count(r));
        ck_assert_msg(ar_rules_team_count(r) == files[i].teams, "%s: %zu teams",
                      files[i].file, ar_rules_team_count(r));
        ar_rules_free(r);
    }

    struct ar_rules *r = corpus_rules("cilium-ebpf.CODEOWNERS", err, sizeof(err));
    HIT(r, "docs/windows-setup.md", 14, "@cilium/ebpf-go-windows-reviewers");
    HIT(r, "docs/a/b/windows.md", 14, "@cilium/ebpf-go-windows-reviewers");
    HIT(r, "docs/guide/index.md", 11, "@cilium/ebpf-go-reviewers");
    HIT(r, "internal/windows/x.c", 16, "@cilium/ebpf-go-windows-reviewers");
    HIT(r, "link/kprobe_windows.go", 17, "@cilium/ebpf-go-windows-reviewers");
    HIT(r, "link/kprobe.go", 4, "@mmat11");
    HIT(r, "internal/efw/enum.go", 15, "@cilium/ebpf-go-windows-reviewers");
    HIT(r, "README.md", 1, "@cilium/ebpf-lib-maintainers");
    struct ar_rule_hit h;
    ck_assert_int_eq(ar_rules_match(r, "docs/guide/index.md", &h), 1);
    ck_assert_uint_eq(h.nowners, 2);
    ck_assert_str_eq(h.owners[1], "@ti-mo");
    ar_rules_free(r);

    r = corpus_rules("nodejs-node.CODEOWNERS", err, sizeof(err));
    /* "/deps/llhttp/" + "*" (line 72) is overridden by the later /deps (line 178) */
    HIT(r, "deps/llhttp/src/api.c", 178, "@nodejs/security-wg");
    HIT(r, "deps/llhttp/llhttp.gyp", 178, "@nodejs/security-wg");
    HIT(r, "lib/internal/streams/pipeline.js", 33, "@nodejs/streams");
    HIT(r, "lib/internal/streams/sub/x.js", 0, NULL);
    HIT(r, "src/node_http_parser.cc", 78, "@nodejs/http");
    HIT(r, "common.gypi", 111, "@nodejs/gyp");
    HIT(r, "tools/gyp/common.gypi", 112, "@nodejs/gyp"); /* the later /tools/gyp rule */
    HIT(r, "README.md", 0, NULL);
    ck_assert_int_eq(ar_rules_match(r, "src/node_http_parser.cc", &h), 1);
    ck_assert_uint_eq(h.nowners, 2);
    ck_assert_str_eq(h.owners[1], "@nodejs/net");
    ck_assert_str_eq(ar_rules_team(r, 0), "@nodejs/tsc");
    ck_assert_str_eq(ar_rules_team(r, 1), "@nodejs/build");
    ar_rules_free(r);

    r = corpus_rules("oisf-suricata.CODEOWNERS", err, sizeof(err));
    HIT(r, "rust/src/dns/parser.rs", 17, "@jasonish");
    HIT(r, "rust/src/smb/smb.rs", 19, "@victorjulien");
    HIT(r, "src/detect.c", 11, "@victorjulien");
    HIT(r, "configure.ac", 10, "@OISF/oisf-team");
    ar_rules_free(r);

    r = corpus_rules("opentelemetry-go.CODEOWNERS", err, sizeof(err));
    HIT(r, "CODEOWNERS", 17, "@MrAlias");
    HIT(r, "sdk/trace/CODEOWNERS", 17, "@MrAlias");
    HIT(r, "sdk/x.go", 15, "@MrAlias");
    ck_assert_int_eq(ar_rules_match(r, "sdk/x.go", &h), 1);
    ck_assert_uint_eq(h.nowners, 6);
    ck_assert_str_eq(h.owners[5], "@flc1125");
    ar_rules_free(r);

    r = corpus_rules("optic.CODEOWNERS", err, sizeof(err));
    HIT(r, "projects/optic/src/x.ts", 2, "@niclim");
    HIT(r, "a/.github/workflows/ci.yml", 1, "@notnmeyer");
    HIT(r, "README.md", 0, NULL);
    ar_rules_free(r);

    r = corpus_rules("mizu-docs.CODEOWNERS", err, sizeof(err));
    HIT(r, "ui/src/App.tsx", 4, "@frontend");
    HIT(r, "agent/main.go", 0, NULL);
    ar_rules_free(r);

    r = corpus_rules("oai-openapi-specification.CODEOWNERS", err, sizeof(err));
    HIT(r, "versions/3.1.0.md", 5, "@oai/tsc");
    HIT(r, "LICENSE", 11, "@oai/tsc");
    HIT(r, "README.md", 2, "@oai/openapi-maintainers");
    ar_rules_free(r);

    r = corpus_rules("grafana-beyla.CODEOWNERS", err, sizeof(err));
    HIT(r, "docs/Makefile", 5, "@jdbaldry");
    HIT(r, "docs/sources/index.md", 1, "@grafana/beyla");
    ar_rules_free(r);

    r = corpus_rules("postman-insights-agent.CODEOWNERS", err, sizeof(err));
    HIT(r, "cmd/main.go", 4, "@mudit-postman");
    ar_rules_free(r);

    r = corpus_rules("curl.CODEOWNERS", err, sizeof(err));
    HIT(r, "lib/url.c", 0, NULL);
    ar_rules_free(r);
}
END_TEST

START_TEST(test_corpus_gitlab_codeowners)
{
    /* handled: the optional section header is read, every rule is in it */
    char err[256] = "";
    struct ar_rules *r = corpus_rules("kicad.gitlab-CODEOWNERS", err, sizeof(err));
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_uint_eq(ar_rules_count(r), 24);
    ck_assert_uint_eq(ar_rules_section_count(r), 1);
    ck_assert_uint_eq(ar_rules_team_count(r), 8);
    HIT(r, "vcpkg.json", 25, "@mroszko");
    HIT(r, "vcpkg-configuration.json", 25, "@mroszko");
    HIT(r, "eeschema/connection_graph.cpp", 40, "@craftyjon");
    HIT(r, "pcbnew/pcb_io/odbpp/odb_util.cpp", 51, "@SYSUeric66");
    HIT(r, "api/proto/x.proto", 27, "@craftyjon");
    HIT(r, "README.md", 0, NULL);
    struct ar_rule_hit h;
    ck_assert_int_eq(ar_rules_match(r, "vcpkg.json", &h), 1);
    ck_assert_str_eq(h.section, "Suggested Reviewers");
    ck_assert_int_eq(h.optional, 1);
    ck_assert_int_eq(ar_rules_match(r, "pcbnew/pcb_io/odbpp/odb_util.cpp", &h), 1);
    ck_assert_uint_eq(h.nowners, 3);
    ck_assert_str_eq(h.owners[2], "@craftyjon");
    ar_rules_free(r);
}
END_TEST

static struct ar_bcatalog *corpus_cat(const char *name)
{
    char path[1400], err[256] = "";
    snprintf(path, sizeof(path), "%s/corpus/ownership/backstage/%s", corpus_dir, name);
    size_t len;
    char *data = slurp(path, &len);
    struct ar_bcatalog *c = ar_bcatalog_parse(name, data, len, err, sizeof(err));
    free(data);
    ck_assert_msg(c != NULL, "%s: %s", name, err);
    ck_assert_msg(ar_bcatalog_warning_count(c) == 0, "%s: %s", name, ar_bcatalog_warning(c, 0));
    return c;
}

START_TEST(test_corpus_backstage)
{
    struct ar_bcatalog *c = corpus_cat("backstage-examples/petstore-api.yaml");
    ck_assert_uint_eq(ar_bcatalog_count(c), 1);
    const struct ar_entity *e = ar_bcatalog_entity(c, 0);
    ck_assert_int_eq(e->kind, AR_ENT_API);
    ck_assert_str_eq(e->name, "petstore");
    ck_assert_str_eq(e->ns, "default");
    ck_assert_str_eq(e->owner, "team-c");
    ck_assert_str_eq(e->owner_team, "team-c");
    ck_assert_str_eq(e->type, "openapi");
    ck_assert_str_eq(e->lifecycle, "experimental");
    ck_assert_uint_eq(e->line, 1);
    ck_assert_ptr_null(e->definition_ref);
    ck_assert_ptr_nonnull(e->definition);
    ck_assert_msg(strncmp(e->definition, "openapi: \"3.0.0\"\n", 17) == 0, "%.40s", e->definition);
    ck_assert_ptr_nonnull(strstr(e->definition, "  - url: http://petstore.swagger.io/v1\n"));
    ck_assert_ptr_nonnull(strstr(e->definition, "  /pets/{petId}:\n"));
    ck_assert_uint_eq(ar_bcatalog_team_count(c), 0);
    ar_bcatalog_free(c);

    c = corpus_cat("backstage-examples/petstore-31-api.yaml");
    e = ar_bcatalog_entity(c, 0);
    ck_assert_str_eq(e->name, "petstore31");
    ck_assert_str_eq(e->owner_team, "team-c");
    ck_assert_ptr_nonnull(strstr(e->definition, "3.1.0"));
    ar_bcatalog_free(c);

    c = corpus_cat("backstage-examples/spotify-api.yaml");
    e = ar_bcatalog_entity(c, 0);
    ck_assert_str_eq(e->name, "spotify");
    ck_assert_str_eq(e->owner, "team-a");
    ck_assert_ptr_null(e->definition);
    ck_assert_str_eq(e->definition_subst, "$text");
    ck_assert_str_eq(e->definition_ref,
                     "https://github.com/APIs-guru/openapi-directory/blob/"
                     "dab6854d4d599aafb0eb36e6c7ae1fe0c37509b7/APIs/spotify.com/2021.4.2/openapi.yaml");
    ar_bcatalog_free(c);

    c = corpus_cat("backstage-examples/wayback-search-api.yaml");
    e = ar_bcatalog_entity(c, 0);
    ck_assert_str_eq(e->name, "wayback-search");
    ck_assert_str_eq(e->owner, "team-a");
    ck_assert_str_eq(e->definition_ref, "https://github.com/APIs-guru/openapi-directory/blob/"
                                        "master/APIs/archive.org/search/1.0.0/openapi.yaml");
    ar_bcatalog_free(c);

    c = corpus_cat("backstage-examples/team-c-group.yaml");
    ck_assert_uint_eq(ar_bcatalog_document_count(c), 6);
    ck_assert_uint_eq(ar_bcatalog_count(c), 6);
    e = ar_bcatalog_entity(c, 0);
    ck_assert_int_eq(e->kind, AR_ENT_GROUP);
    ck_assert_str_eq(e->name, "team-c");
    ck_assert_str_eq(e->parent, "boxoffice");
    ck_assert_uint_eq(e->nchildren, 0);
    ck_assert_uint_eq(e->line, 1);
    e = ar_bcatalog_entity(c, 1);
    ck_assert_int_eq(e->kind, AR_ENT_USER);
    ck_assert_str_eq(e->name, "calum.leavy");
    ck_assert_uint_eq(e->line, 11);
    ck_assert_uint_eq(e->nmember_of, 1);
    ck_assert_str_eq(e->member_of[0], "team-c");
    ck_assert_str_eq(ar_bcatalog_entity(c, 5)->name, "tara.macgovern");
    ck_assert_uint_eq(ar_bcatalog_entity(c, 5)->line, 55);
    ck_assert_uint_eq(ar_bcatalog_team_count(c), 1);
    ck_assert_str_eq(ar_bcatalog_team(c, 0), "team-c");
    ar_bcatalog_free(c);

    c = corpus_cat("backstage-examples/petstore-component.yaml");
    e = ar_bcatalog_entity(c, 0);
    ck_assert_int_eq(e->kind, AR_ENT_COMPONENT);
    ck_assert_str_eq(e->owner, "sre");
    ck_assert_uint_eq(e->nprovides_apis, 3);
    ck_assert_str_eq(e->provides_apis[0], "petstore");
    ck_assert_str_eq(e->provides_apis[1], "streetlights");
    ck_assert_str_eq(e->provides_apis[2], "playback-order");
    const struct ar_entity *p[2];
    ck_assert_uint_eq(ar_bcatalog_api_providers(c, NULL, "petstore", p, 2), 1);
    ck_assert_ptr_eq(p[0], e);
    ck_assert_uint_eq(ar_bcatalog_api_providers(c, NULL, "searcher", p, 2), 0);
    ar_bcatalog_free(c);

    c = corpus_cat("one-platform-feedback-service.catalog-info.yaml");
    ck_assert_uint_eq(ar_bcatalog_count(c), 1);
    e = ar_bcatalog_entity(c, 0);
    ck_assert_str_eq(e->name, "one-platform-feedback-service");
    ck_assert_str_eq(e->ns, "devex");
    ck_assert_str_eq(e->owner, "group:redhat/one-platform-devs");
    ck_assert_str_eq(e->owner_team, "redhat/one-platform-devs");
    ck_assert_str_eq(e->lifecycle, "deprecated");
    ck_assert_str_eq(e->system, "devex/one-platform");
    ck_assert_uint_eq(e->line, 2);
    ar_bcatalog_free(c);

    c = corpus_cat("one-platform.catalog-info.yaml");
    e = ar_bcatalog_entity(c, 0);
    ck_assert_int_eq(e->kind, AR_ENT_LOCATION);
    ck_assert_str_eq(e->ns, "devex");
    ck_assert_str_eq(e->owner_team, "redhat/xe-compass-devs");
    ar_bcatalog_free(c);

    c = corpus_cat("backstage-examples/all-apis.yaml");
    e = ar_bcatalog_entity(c, 0);
    ck_assert_int_eq(e->kind, AR_ENT_LOCATION);
    ck_assert_str_eq(e->name, "example-apis");
    ar_bcatalog_free(c);

    c = corpus_cat("swagger-petstore.catalog-info.yaml");
    e = ar_bcatalog_entity(c, 0);
    ck_assert_str_eq(e->name, "swagger-petstore");
    ck_assert_str_eq(e->owner, "guests");
    ck_assert_str_eq(e->lifecycle, "unknown");
    ar_bcatalog_free(c);
}
END_TEST

/* The catalog examples together: the API's owner wins, the providing
 * Component's owner is drift, and team-c is a known team. */
START_TEST(test_corpus_resolve_petstore)
{
    static const char *const files[] = {"team-c-group.yaml", "petstore-api.yaml",
                                        "petstore-component.yaml"};
    struct ar_bcatalog *cats[3];
    const char *known[8];
    size_t nknown = 0;
    for (int i = 0; i < 3; i++) {
        char name[128];
        snprintf(name, sizeof(name), "backstage-examples/%s", files[i]);
        cats[i] = corpus_cat(name);
        for (size_t k = 0; k < ar_bcatalog_team_count(cats[i]); k++)
            known[nknown++] = ar_bcatalog_team(cats[i], k);
    }
    ck_assert_uint_eq(nknown, 1);
    const struct ar_entity *api = ar_bcatalog_find(cats[1], AR_ENT_API, NULL, "petstore");
    ck_assert_ptr_nonnull(api);
    const struct ar_entity *prov[2];
    ck_assert_uint_eq(ar_bcatalog_api_providers(cats[2], api->ns, api->name, prov, 2), 1);
    char ev_api[64], ev_comp[64];
    snprintf(ev_api, sizeof(ev_api), "petstore-api.yaml:%u", api->line);
    snprintf(ev_comp, sizeof(ev_comp), "petstore-component.yaml:%u", prov[0]->line);
    struct ar_owner_cand c[] = {
        {AR_OWN_CATALOG, api->owner, 0, ev_api},
        {AR_OWN_CATALOG, prov[0]->owner, 0, ev_comp},
        {AR_OWN_SPEC, "pets-team", 0, "petstore-api.yaml#/spec/definition/info/x-owner"},
    };
    struct ar_owner_result res;
    ck_assert_int_eq(ar_owner_resolve(c, 3, known, nknown, &res), 1);
    ck_assert_str_eq(res.team, "team-c");
    ck_assert_int_eq(res.source, AR_OWN_CATALOG);
    ck_assert_str_eq(res.evidence, "petstore-api.yaml:1");
    ck_assert_uint_eq(res.nalts, 1);
    ck_assert_str_eq(res.alts[0].team, "sre");
    ck_assert_str_eq(res.alts[0].evidence, "petstore-component.yaml:1");
    ck_assert_uint_eq(res.nunresolved, 1);
    ar_owner_result_free(&res);
    for (int i = 0; i < 3; i++)
        ar_bcatalog_free(cats[i]);
}
END_TEST

static int have_corpus(void)
{
    const char *env = getenv("APIROSTER_SHARED");
    snprintf(corpus_dir, sizeof(corpus_dir), "%s", env && *env ? env : AR_SHARED_DIR);
    char path[1200];
    snprintf(path, sizeof(path), "%s/corpus/ownership/codeowners", corpus_dir);
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static Suite *ownership_suite(void)
{
    Suite *s = suite_create("ownership");
    TCase *tc = tcase_create("ownership");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_rules_last_match_wins);
    tcase_add_test(tc, test_rules_patterns);
    tcase_add_test(tc, test_rules_errors);
    tcase_add_test(tc, test_rules_gitlab_sections);
    tcase_add_test(tc, test_rules_empty_and_odd);
    tcase_add_test(tc, test_rules_fuzz);
    tcase_add_test(tc, test_team_canon);
    tcase_add_test(tc, test_hostrules);
    tcase_add_test(tc, test_catalog_inline);
    tcase_add_test(tc, test_catalog_errors);
    tcase_add_test(tc, test_resolve_precedence_and_drift);
    tcase_add_test(tc, test_resolve_unowned_and_none);
    suite_add_tcase(s, tc);
    if (have_corpus()) {
        TCase *cc = tcase_create("corpus");
        tcase_set_timeout(cc, 60);
        tcase_add_test(cc, test_corpus_github_codeowners);
        tcase_add_test(cc, test_corpus_gitlab_codeowners);
        tcase_add_test(cc, test_corpus_backstage);
        tcase_add_test(cc, test_corpus_resolve_petstore);
        suite_add_tcase(s, cc);
    } else {
        printf("ownership: %s/corpus/ownership not found, 4 corpus tests skipped\n", corpus_dir);
    }
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ownership_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* check_live.c - pcap_stats' 32-bit counters widened to 64 bits. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../collector/collector.h"
#include "../../inventory/store.h"

START_TEST(test_widen_plain)
{
    uint32_t last = 0;
    uint64_t tot = 0;
    tot = ar_widen32(tot, &last, 10);
    tot = ar_widen32(tot, &last, 25);
    ck_assert_uint_eq(tot, 25);
    ck_assert_uint_eq(last, 25);
    tot = ar_widen32(tot, &last, 25); /* no change */
    ck_assert_uint_eq(tot, 25);
}
END_TEST

START_TEST(test_widen_wraps)
{
    /* a sequence that wraps through 2^32 three times, read every 2^30 + 7 */
    uint32_t last = 0, raw = 0;
    uint64_t tot = 0, truth = 0;
    const uint64_t step = (UINT64_C(1) << 30) + 7;
    for (int i = 0; i < 13; i++) {
        truth += step;
        raw = (uint32_t)truth;
        tot = ar_widen32(tot, &last, raw);
    }
    ck_assert_uint_eq(tot, truth);
    ck_assert(truth > 3 * (UINT64_C(1) << 32));
    /* right below and right across the wrap */
    last = 0xfffffff0u;
    tot = 100;
    tot = ar_widen32(tot, &last, 0xffffffffu);
    ck_assert_uint_eq(tot, 115);
    tot = ar_widen32(tot, &last, 4);
    ck_assert_uint_eq(tot, 120);
}
END_TEST

START_TEST(test_filter_check)
{
    char err[512];
    ck_assert_int_eq(ar_live_check_filter("tcp port 80 and not (host 10.0.0.1 and tcp port 443)",
                                          err, sizeof(err)), 0);
    ck_assert_int_eq(ar_live_check_filter("", err, sizeof(err)), 0);
    ck_assert_int_eq(ar_live_check_filter("tcp port", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "filter 'tcp port'"));
}
END_TEST

struct share { char host[64]; uint64_t tls, http; };
static struct share shares[8];
static int nshares;

static int on_share(const char *host, uint64_t tls, uint64_t http, void *ud)
{
    (void)ud;
    ck_assert_int_lt(nshares, 8);
    snprintf(shares[nshares].host, sizeof(shares[nshares].host), "%s", host);
    shares[nshares].tls = tls;
    shares[nshares].http = http;
    nshares++;
    return 0;
}

/* stats: per host, TLS connections next to plaintext exchanges (port and case
 * folded: "API.shop.test:8443" and "api.shop.test" are one host) */
START_TEST(test_host_share)
{
    char dir[] = "/tmp/check_live.XXXXXX", path[256], err[512];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/r.db", dir);
    struct ar_store *st;
    ck_assert_int_eq(ar_store_open(path, AR_STORE_RW, &st, err, sizeof(err)), 0);
    struct ar_counters ctr = { { 0 } };
    struct ar_limits lim;
    ar_limits_default(&lim);
    struct ar_templater *tp = ar_templater_new(&lim, &ctr);
    struct ar_catalog *cat = ar_catalog_new(&lim, &ctr, tp);
    const char *hosts[] = { "api.shop.test:8443", "api.shop.test", "plain.shop.test" };
    for (int i = 0; i < 3; i++) {
        struct ar_exchange x = { 100.0 + i, "10.0.0.1:5000", "10.0.0.2:80", "GET", hosts[i],
                                 "/orders/1", "", 200, "", "", "none" };
        ar_catalog_add(cat, &x);
    }
    for (int i = 0; i < 6; i++)
        ar_store_note_tls(st, "API.Shop.Test", "h2", 100.0 + i);
    ar_store_note_tls(st, "tls-only.shop.test", "", 101.0);
    ck_assert_int_eq(ar_store_flush(st, cat, tp, NULL, err, sizeof(err)), 0);
    nshares = 0;
    ck_assert_int_eq(ar_store_each_host_share(st, on_share, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(nshares, 3);
    ck_assert_str_eq(shares[0].host, "api.shop.test");
    ck_assert_uint_eq(shares[0].tls, 6);
    ck_assert_uint_eq(shares[0].http, 2);
    ck_assert_str_eq(shares[1].host, "plain.shop.test");
    ck_assert_uint_eq(shares[1].tls, 0);
    ck_assert_uint_eq(shares[1].http, 1);
    ck_assert_str_eq(shares[2].host, "tls-only.shop.test");
    ck_assert_uint_eq(shares[2].tls, 1);
    ck_assert_uint_eq(shares[2].http, 0);
    ar_catalog_free(cat);
    ar_templater_free(tp);
    ar_store_close(st);
    unlink(path);
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("live");
    TCase *tc = tcase_create("live");
    tcase_add_test(tc, test_widen_plain);
    tcase_add_test(tc, test_widen_wraps);
    tcase_add_test(tc, test_filter_check);
    tcase_add_test(tc, test_host_share);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}

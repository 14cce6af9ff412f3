/* check_live.c - pcap_stats' 32-bit counters widened to 64 bits. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../collector/collector.h"

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

int main(void)
{
    Suite *s = suite_create("live");
    TCase *tc = tcase_create("live");
    tcase_add_test(tc, test_widen_plain);
    tcase_add_test(tc, test_widen_wraps);
    tcase_add_test(tc, test_filter_check);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}

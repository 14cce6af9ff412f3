/* check_hash.c - seeded hashing (core/hash.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "../../core/hash.h"

/* Hashed in pieces of every size, the bytes give what ar_hash gives at once:
 * the templater hashes a path's prefix as it grows and finishes it per child. */
START_TEST(test_stream_equals_oneshot)
{
    struct ar_hash_key k = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
    unsigned char buf[64];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)i;
    for (size_t n = 0; n <= sizeof(buf); n++) {
        uint64_t want = ar_hash(&k, buf, n);
        for (size_t step = 1; step <= 9; step++) {
            struct ar_hash_state st;
            ar_hash_init(&st, &k);
            for (size_t at = 0; at < n; at += step)
                ar_hash_update(&st, buf + at, at + step <= n ? step : n - at);
            ck_assert_uint_eq(ar_hash_final(&st), want);
            ck_assert_uint_eq(ar_hash_final(&st), want);      /* final keeps the state */
        }
        /* a prefix hashed once, finished two ways */
        struct ar_hash_state st, a, b;
        ar_hash_init(&st, &k);
        ar_hash_update(&st, buf, n / 2);
        a = st;
        b = st;
        ar_hash_update(&a, buf + n / 2, n - n / 2);
        ar_hash_update(&b, "x", 1);
        ck_assert_uint_eq(ar_hash_final(&a), want);
        ck_assert_uint_ne(ar_hash_final(&b), want);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hash");
    TCase *tc = tcase_create("hash");
    tcase_add_test(tc, test_stream_equals_oneshot);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

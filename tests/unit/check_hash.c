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

/* ar_hash_fast against the plain definition (every byte of the last partial
 * word read one at a time), for every length up to 80 and two keys; each
 * input in a buffer of exactly its length, so that ASan sees a read past it. */
static uint64_t fast_ref(const struct ar_hash_key *k, const unsigned char *s, size_t n)
{
    uint64_t h = k->k0 ^ ((uint64_t)n * 0x9E3779B97F4A7C15ULL);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t m = 0;
        for (int j = 0; j < 8; j++)
            m |= (uint64_t)s[i + j] << (8 * j);
        h = (h ^ m) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    uint64_t t = 0;
    for (size_t j = 0; i + j < n; j++)
        t |= (uint64_t)s[i + j] << (8 * j);
    h = (h ^ t ^ k->k1) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 32);
}

START_TEST(test_fast_hash_definition)
{
    struct ar_hash_key keys[2] = { { 1, 2 }, { 0x0123456789abcdefULL, 0xfedcba9876543210ULL } };
    srand(7);
    for (size_t n = 0; n <= 80; n++) {
        for (int round = 0; round < 20; round++) {
            unsigned char *b = malloc(n ? n : 1);
            for (size_t i = 0; i < n; i++)
                b[i] = (unsigned char)rand();
            for (int k = 0; k < 2; k++)
                ck_assert_msg(ar_hash_fast(&keys[k], b, n) == fast_ref(&keys[k], b, n),
                              "length %zu, key %d", n, k);
            if (n)
                ck_assert(ar_hash_fast(&keys[0], b, n) != ar_hash_fast(&keys[1], b, n));
            free(b);
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hash");
    TCase *tc = tcase_create("hash");
    tcase_add_test(tc, test_stream_equals_oneshot);
    tcase_add_test(tc, test_fast_hash_definition);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

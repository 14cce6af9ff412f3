/* check_webhook.c - the pure parts of the push: Standard Webhooks signatures
 * (known vectors computed with Python's hmac), base64 (RFC 4648 vectors),
 * signing secrets, extra header files, Retry-After and backoff bounds. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../agent/webhook.h"

START_TEST(test_sign_standard_vector)
{
    /* The Standard Webhooks example; python3: base64.b64encode(hmac.new(
     * b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), b"msg_p5jXN8AQM9LWM0D4loKWxJek."
     * b"1614265330.{\"test\": 2432232314}", sha256).digest()) */
    static const char secret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n";
    static const char body[] = "{\"test\": 2432232314}";
    uint8_t key[AR_SECRET_MAX];
    char why[128], sig[128];
    int k = ar_webhook_key(secret, strlen(secret), key, sizeof(key), why, sizeof(why));
    ck_assert_int_eq(k, 24);
    ck_assert_int_eq(ar_webhook_sign(key, (size_t)k, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                     body, strlen(body), sig, sizeof(sig)), 0);
    ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* one byte of the body changed: another signature */
    ck_assert_int_eq(ar_webhook_sign(key, (size_t)k, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                     "{\"test\": 2432232315}", strlen(body), sig, sizeof(sig)), 0);
    ck_assert_str_ne(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}
END_TEST

START_TEST(test_sign_raw_secret)
{
    /* python3: hmac.new(b"my raw secret", b"msg_0123456789abcdef0123456789abcdef."
     * b"1700000000.{\"a\":1}", sha256) */
    uint8_t key[AR_SECRET_MAX];
    char why[128], sig[128];
    int k = ar_webhook_key("my raw secret\r\n", 15, key, sizeof(key), why, sizeof(why));
    ck_assert_int_eq(k, 13);
    ck_assert_int_eq(memcmp(key, "my raw secret", 13), 0);
    ck_assert_int_eq(ar_webhook_sign(key, (size_t)k, "msg_0123456789abcdef0123456789abcdef",
                                     1700000000, "{\"a\":1}", 7, sig, sizeof(sig)), 0);
    ck_assert_str_eq(sig, "v1,qHvniV92JkpG0FlglGP13cXimlw+9YeYJgBsEDQK6J4=");
    ck_assert_int_eq(ar_webhook_key("\n", 1, key, sizeof(key), why, sizeof(why)), -1);
    ck_assert_str_eq(why, "empty secret");
    ck_assert_int_eq(ar_webhook_key("whsec_!!!!", 10, key, sizeof(key), why, sizeof(why)), -1);
    ck_assert_ptr_nonnull(strstr(why, "not base64"));
}
END_TEST

START_TEST(test_base64_vectors)
{
    static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                       "Zm9vYmFy" };
    char buf[32];
    uint8_t dec[32];
    for (size_t i = 0; i < 7; i++) {
        ck_assert_int_eq(ar_base64_encode((const uint8_t *)in[i], strlen(in[i]), buf,
                                          sizeof(buf)), (int)strlen(out[i]));
        ck_assert_str_eq(buf, out[i]);
        int n = ar_base64_decode(out[i], strlen(out[i]), dec, sizeof(dec));
        ck_assert_int_eq(n, (int)strlen(in[i]));
        ck_assert_int_eq(memcmp(dec, in[i], (size_t)n), 0);
    }
    uint8_t all[256];
    char enc[400];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    ck_assert_int_eq(ar_base64_encode(all, 256, enc, sizeof(enc)), 344);
    ck_assert_str_eq(enc + 336, "/P3+/w==");
    uint8_t back[256];
    ck_assert_int_eq(ar_base64_decode(enc, strlen(enc), back, sizeof(back)), 256);
    ck_assert_int_eq(memcmp(all, back, 256), 0);
    ck_assert_int_eq(ar_base64_decode("Zm9v", 4, dec, 2), -1);        /* out too small */
    ck_assert_int_eq(ar_base64_decode("Zm 9v", 5, dec, sizeof(dec)), -1);
    ck_assert_int_eq(ar_base64_decode("Z", 1, dec, sizeof(dec)), -1);
    ck_assert_int_eq(ar_base64_encode((const uint8_t *)"foo", 3, buf, 4), -1);
}
END_TEST

START_TEST(test_retry_after)
{
    double w = -1;
    time_t date = 784111777;        /* Sun, 06 Nov 1994 08:49:37 GMT */
    ck_assert_int_eq(ar_retry_after_parse("120", 0, &w), 0);
    ck_assert(w == 120.0);
    ck_assert_int_eq(ar_retry_after_parse(" 7\r\n", 0, &w), 0);
    ck_assert(w == 7.0);
    ck_assert_int_eq(ar_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", date - 10, &w), 0);
    ck_assert(w == 10.0);
    ck_assert_int_eq(ar_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", date + 100, &w), 0);
    ck_assert(w == 0.0);
    ck_assert_int_eq(ar_retry_after_parse("9999999", 0, &w), 0);
    ck_assert(w == AR_RETRY_AFTER_MAX);
    ck_assert_int_eq(ar_retry_after_parse("soon", 0, &w), -1);
    ck_assert_int_eq(ar_retry_after_parse("-5", 0, &w), -1);
    ck_assert_int_eq(ar_retry_after_parse("12s", 0, &w), -1);
    ck_assert_int_eq(ar_retry_after_parse("", 0, &w), -1);
    ck_assert_int_eq(ar_retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", 0, &w), -1);
}
END_TEST

START_TEST(test_backoff_bounds)
{
    static const double us[] = { 0.0, 0.25, 0.5, 0.999999 };
    for (unsigned n = 1; n <= 40; n++) {
        double window = 2.0;
        for (unsigned i = 1; i < n && window < AR_BACKOFF_CAP; i++)
            window *= 2;
        if (window > AR_BACKOFF_CAP)
            window = AR_BACKOFF_CAP;
        for (size_t k = 0; k < 4; k++) {
            double d = ar_backoff(n, us[k]);
            ck_assert_msg(d >= 1.0 && d <= window, "attempt %u u %g: %g", n, us[k], d);
        }
    }
    ck_assert(ar_backoff(1, 0.0) == 1.0);               /* never a hot loop */
    ck_assert(ar_backoff(3, 0.5) == 4.0);               /* window 8 s */
    ck_assert(ar_backoff(30, 0.5) == AR_BACKOFF_CAP / 2);
    ck_assert(ar_backoff(1000, 0.999999) <= AR_BACKOFF_CAP);
}
END_TEST

static int count_lines(void *ud, const char *line)
{
    char *acc = ud;
    strcat(acc, line);
    strcat(acc, "|");
    return 0;
}

START_TEST(test_headers_file)
{
    char path[] = "/tmp/check_webhook.XXXXXX", err[512], acc[1024] = "";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *fp = fdopen(fd, "w");
    fputs("# comment\n\nAuthorization: Bearer tok-777\r\n  X-Team:\tappsec  \n", fp);
    fclose(fp);
    ck_assert_int_eq(ar_headers_load(path, count_lines, acc, err, sizeof(err)), 2);
    ck_assert_str_eq(acc, "Authorization: Bearer tok-777|X-Team: appsec|");

    fp = fopen(path, "w");
    fputs("X-Ok: 1\nno colon here value-secret-42\n", fp);
    fclose(fp);
    ck_assert_int_eq(ar_headers_load(path, NULL, NULL, err, sizeof(err)), -1);
    char want[600];
    snprintf(want, sizeof(want), "%s:2: expected 'Name: value'", path);
    ck_assert_str_eq(err, want);
    ck_assert_ptr_null(strstr(err, "value-secret-42"));

    fp = fopen(path, "w");
    fputs("Bad Name: x\n", fp);
    fclose(fp);
    ck_assert_int_eq(ar_headers_load(path, NULL, NULL, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, ":1: bad character in header name"));

    fp = fopen(path, "w");
    fputs("X-A: 1\nWebhook-Signature: v1,forged\n", fp);
    fclose(fp);
    ck_assert_int_eq(ar_headers_load(path, NULL, NULL, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, ":2: header Webhook-Signature is set by apiroster"));
    ck_assert_ptr_null(strstr(err, "forged"));
    unlink(path);
    ck_assert_int_eq(ar_headers_load(path, NULL, NULL, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("webhook");
    TCase *tc = tcase_create("webhook");
    tcase_add_test(tc, test_sign_standard_vector);
    tcase_add_test(tc, test_sign_raw_secret);
    tcase_add_test(tc, test_base64_vectors);
    tcase_add_test(tc, test_retry_after);
    tcase_add_test(tc, test_backoff_bounds);
    tcase_add_test(tc, test_headers_file);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

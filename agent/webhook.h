/* webhook.h - the pure parts of a push (no network): Standard Webhooks
 * signatures, base64, secrets, extra headers, Retry-After and backoff.
 * Unit-tested in tests/unit/check_webhook.c. */
#ifndef AR_WEBHOOK_H
#define AR_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define AR_SECRET_MAX 1024          /* bytes of a signing key */
#define AR_HEADERS_MAX 64           /* extra header lines */
#define AR_BACKOFF_BASE 2.0         /* seconds: first retry window */
#define AR_BACKOFF_CAP 3600.0       /* seconds: longest retry window */
#define AR_RETRY_AFTER_MAX 86400.0  /* a Retry-After beyond a day is read as a day */

/* Standard base64 with padding. encode: returns the length written (out
 * NUL-terminated) or -1 when outsz is too small. decode: ignores nothing
 * (no whitespace inside), accepts missing padding; returns the byte count or
 * -1 on a bad character or a too small out. */
int ar_base64_encode(const uint8_t *in, size_t n, char *out, size_t outsz);
int ar_base64_decode(const char *in, size_t n, uint8_t *out, size_t outsz);

/* The signing key from the bytes of secret_file: "whsec_<base64>" gives the
 * decoded bytes; anything else is used as raw bytes, without trailing CR/LF.
 * Returns the key length (> 0) or -1 with the reason in why. */
int ar_webhook_key(const char *file_bytes, size_t n, uint8_t *key, size_t keysz, char *why,
                   size_t whysz);

/* "v1,<base64 HMAC-SHA256(key, id "." timestamp "." body)>" into out (>= 64
 * bytes). Returns 0 or -1. */
int ar_webhook_sign(const uint8_t *key, size_t keylen, const char *id, long long timestamp,
                    const char *body, size_t bodylen, char *out, size_t outsz);

/* Extra headers: "Name: value" lines; blank lines and lines starting with '#'
 * are skipped. A name is an HTTP token; a value has no control characters.
 * The headers this push sets itself (webhook-*, content-type, content-length,
 * host, transfer-encoding, expect) are refused. Each good line is handed to
 * fn as "Name: value". Returns the count, or -1 with "file:line: reason" in
 * err (the reason never quotes a value). */
int ar_headers_load(const char *path, int (*fn)(void *ud, const char *line), void *ud, char *err,
                    size_t errsz);

/* Retry-After: delay-seconds or an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT").
 * Stores the wait in seconds from now (0 for a past date, at most
 * AR_RETRY_AFTER_MAX) and returns 0, or -1 when the value is neither. */
int ar_retry_after_parse(const char *v, time_t now, double *wait);

/* Exponential backoff with full jitter: u in [0, 1) picks a wait in
 * [1, min(AR_BACKOFF_CAP, AR_BACKOFF_BASE * 2^(attempt - 1))] seconds;
 * attempt counts from 1 (the attempt that just failed). */
double ar_backoff(unsigned attempt, double u);

#endif

/* webhook.c - Standard Webhooks signing (OpenSSL HMAC-SHA256), base64,
 * secrets, extra header files, Retry-After and backoff. No network here. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "../core/util.h"
#include "webhook.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int ar_base64_encode(const uint8_t *in, size_t n, char *out, size_t outsz)
{
    size_t need = (n + 2) / 3 * 4 + 1, o = 0;
    if (outsz < need)
        return -1;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = '\0';
    return (int)o;
}

static int b64val(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

int ar_base64_decode(const char *in, size_t n, uint8_t *out, size_t outsz)
{
    while (n && in[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= outsz)
                return -1;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return (int)o;
}

int ar_webhook_key(const char *b, size_t n, uint8_t *key, size_t keysz, char *why, size_t whysz)
{
    while (n && (b[n - 1] == '\n' || b[n - 1] == '\r'))
        n--;
    if (n >= 6 && !memcmp(b, "whsec_", 6)) {
        int k = ar_base64_decode(b + 6, n - 6, key, keysz);
        if (k <= 0) {
            snprintf(why, whysz, "not base64 after whsec_ (or longer than %zu bytes)", keysz);
            return -1;
        }
        return k;
    }
    if (n == 0) {
        snprintf(why, whysz, "empty secret");
        return -1;
    }
    if (n > keysz) {
        snprintf(why, whysz, "secret longer than %zu bytes", keysz);
        return -1;
    }
    memcpy(key, b, n);
    return (int)n;
}

int ar_webhook_sign(const uint8_t *key, size_t keylen, const char *id, long long timestamp,
                    const char *body, size_t bodylen, char *out, size_t outsz)
{
    char ts[32];
    int tl = snprintf(ts, sizeof(ts), "%lld", timestamp);
    size_t il = strlen(id), n = il + 1 + (size_t)tl + 1 + bodylen;
    char *msg = ar_xmalloc(n);
    memcpy(msg, id, il);
    msg[il] = '.';
    memcpy(msg + il + 1, ts, (size_t)tl);
    msg[il + 1 + tl] = '.';
    memcpy(msg + il + 2 + tl, body, bodylen);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int ok = HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, n, md, &mdlen) != NULL;
    free(msg);
    if (!ok || outsz < 4)
        return -1;
    memcpy(out, "v1,", 3);
    return ar_base64_encode(md, mdlen, out + 3, outsz - 3) < 0 ? -1 : 0;
}

static int is_tchar(int c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

int ar_headers_load(const char *path, int (*fn)(void *ud, const char *line), void *ud, char *err,
                    size_t errsz)
{
    static const char *const reserved[] = { "webhook-id", "webhook-timestamp",
                                            "webhook-signature", "content-type",
                                            "content-length", "host", "transfer-encoding",
                                            "expect" };
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[8192];
    int lineno = 0, count = 0, ret = -1;
    while (fgets(line, sizeof(line), fp)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
            snprintf(err, errsz, "%s:%d: line longer than %zu bytes", path, lineno,
                     sizeof(line) - 2);
            goto out;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '#')
            continue;
        char *colon = strchr(p, ':');
        if (!colon || colon == p) {
            snprintf(err, errsz, "%s:%d: expected 'Name: value'", path, lineno);
            goto out;
        }
        for (char *q = p; q < colon; q++)
            if (!is_tchar((unsigned char)*q)) {
                snprintf(err, errsz, "%s:%d: bad character in header name", path, lineno);
                goto out;
            }
        for (char *q = colon + 1; *q; q++)
            if ((unsigned char)*q < 0x20 && *q != '\t') {
                snprintf(err, errsz, "%s:%d: control character in header value", path, lineno);
                goto out;
            }
        *colon = '\0';
        for (size_t r = 0; r < AR_ARRAY_LEN(reserved); r++)
            if (!strcasecmp(p, reserved[r])) {
                snprintf(err, errsz, "%s:%d: header %s is set by apiroster", path, lineno, p);
                goto out;
            }
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vl = strlen(v);
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            v[--vl] = '\0';
        if (++count > AR_HEADERS_MAX) {
            snprintf(err, errsz, "%s:%d: more than %d headers", path, lineno, AR_HEADERS_MAX);
            goto out;
        }
        char hl[sizeof(line) + 2];
        snprintf(hl, sizeof(hl), "%s: %s", p, v);
        if (fn && fn(ud, hl) < 0) {
            snprintf(err, errsz, "%s:%d: out of memory", path, lineno);
            goto out;
        }
    }
    if (ferror(fp)) {
        snprintf(err, errsz, "%s: read error", path);
        goto out;
    }
    ret = count;
out:
    fclose(fp);
    return ret;
}

int ar_retry_after_parse(const char *v, time_t now, double *wait)
{
    if (!v)
        return -1;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
        n--;
    if (!n || n > 64)
        return -1;
    char buf[65];
    memcpy(buf, v, n);
    buf[n] = '\0';
    double w;
    if (isdigit((unsigned char)buf[0])) {
        uint64_t secs;
        if (ar_parse_u64(buf, &secs) < 0)
            return -1;
        w = (double)secs;
    } else {
        struct tm tm;
        memset(&tm, 0, sizeof(tm));
        const char *end = strptime(buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        if (!end || *end)
            return -1;
        time_t t = timegm(&tm);
        if (t == (time_t)-1)
            return -1;
        w = t > now ? (double)(t - now) : 0.0;
    }
    *wait = w > AR_RETRY_AFTER_MAX ? AR_RETRY_AFTER_MAX : w;
    return 0;
}

double ar_backoff(unsigned attempt, double u)
{
    double window = AR_BACKOFF_BASE;
    for (unsigned i = 1; i < attempt && window < AR_BACKOFF_CAP; i++)
        window *= 2;
    if (window > AR_BACKOFF_CAP)
        window = AR_BACKOFF_CAP;
    if (u < 0)
        u = 0;
    if (u >= 1)
        u = 0.999999;
    double w = u * window;
    return w < 1.0 ? 1.0 : w;
}

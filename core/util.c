/* util.c - allocation, strings, unit parsing, address formatting. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "util.h"

static void oom(size_t n)
{
    fprintf(stderr, "apiroster: error: out of memory (%zu bytes)\n", n);
    abort();
}

void *ar_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *ar_xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p)
        oom(n * sz);
    return p;
}

void *ar_zalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p)
        memset(p, 0, n);
    return p;
}

void *ar_xzalloc(size_t n)
{
    void *p = ar_zalloc(n);
    if (!p)
        oom(n);
    return p;
}

void *ar_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *ar_xstrdup(const char *s)
{
    return ar_xstrndup(s, strlen(s));
}

char *ar_xstrndup(const char *s, size_t n)
{
    char *p = ar_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

size_t ar_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

/* ASCII case folding, independent of the locale (header names, hosts,
 * schemes: on the per-request path) */
static inline unsigned char fold(unsigned char c) { return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c; }
/* after fold(): a hex digit; a byte of a host name (letters, digits, . - _) */
static inline int c_hex(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
static inline int c_name(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

int ar_strcaseeq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (fold((unsigned char)*a) != fold((unsigned char)*b))
            return 0;
    return *a == *b;
}

int ar_strncaseeq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (fold((unsigned char)a[i]) != fold((unsigned char)b[i]))
            return 0;
        if (!a[i])
            return 1;
    }
    return 1;
}

int ar_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_with_units(const char *s, uint64_t *out, const char *const *units,
                            const uint64_t *mult, size_t nunits)
{
    char *end;
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    while (*end == ' ')
        end++;
    if (!*end) {
        *out = v;
        return 0;
    }
    for (size_t i = 0; i < nunits; i++) {
        if (ar_strcaseeq(end, units[i])) {
            if (mult[i] && v > UINT64_MAX / mult[i])
                return -1;
            *out = v * mult[i];
            return 0;
        }
    }
    return -1;
}

int ar_parse_size(const char *s, uint64_t *out)
{
    static const char *const u[] = { "b", "k", "kb", "kib", "m", "mb", "mib", "g", "gb", "gib" };
    static const uint64_t m[] = { 1, 1024, 1000, 1024, 1 << 20, 1000000, 1 << 20,
                                  1ULL << 30, 1000000000ULL, 1ULL << 30 };
    return parse_with_units(s, out, u, m, AR_ARRAY_LEN(u));
}

int ar_parse_duration(const char *s, uint64_t *out)
{
    static const char *const u[] = { "s", "sec", "m", "min", "h", "d" };
    static const uint64_t m[] = { 1, 1, 60, 60, 3600, 86400 };
    return parse_with_units(s, out, u, m, AR_ARRAY_LEN(u));
}

void ar_fmt_endpoint(char *out, size_t outsz, int family, const uint8_t addr[16], uint16_t port)
{
    char ip[INET6_ADDRSTRLEN];
    if (family == 6) {
        inet_ntop(AF_INET6, addr, ip, sizeof(ip));
        snprintf(out, outsz, "[%s]:%u", ip, port);
    } else {
        inet_ntop(AF_INET, addr, ip, sizeof(ip));
        snprintf(out, outsz, "%s:%u", ip, port);
    }
}

/* "2026-11-30T12:00:00.123Z" */
void ar_fmt_time(char *out, size_t outsz, double t)
{
    time_t sec = (time_t)t;
    struct tm tm;
    gmtime_r(&sec, &tm);
    int ms = (int)((t - (double)sec) * 1000.0 + 0.5);
    if (ms > 999)
        ms = 999;
    char buf[32];
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, outsz, "%.20s.%03uZ", buf, (unsigned)ms % 1000u);
}

/* Checked before libfyaml sees the bytes: libfyaml 0.7.12 can loop forever on
 * some binary input (a NUL after a '%' directive, found by fuzz_spec). */
int ar_yaml_text_check(const char *text, size_t n, unsigned *line, unsigned *col, const char **why)
{
    const unsigned char *s = (const unsigned char *)text;
    unsigned l = 1, c = 1;
    size_t i = 0;
    while (i < n) {
        unsigned char b = s[i];
        size_t k = 0;
        if (b == '\n') {
            l++;
            c = 1;
            i++;
            continue;
        }
        if (b < 0x80) {
            if ((b < 0x20 && b != '\t' && b != '\r') || b == 0x7f) {
                *why = "control character (not allowed in YAML)";
                goto bad;
            }
            i++;
            c++;
            continue;
        }
        uint32_t cp;
        if (b >= 0xc2 && b <= 0xdf) {
            k = 1;
            cp = b & 0x1f;
        } else if (b >= 0xe0 && b <= 0xef) {
            k = 2;
            cp = b & 0x0f;
        } else if (b >= 0xf0 && b <= 0xf4) {
            k = 3;
            cp = b & 0x07;
        } else {
            *why = "invalid UTF-8";
            goto bad;
        }
        for (size_t m = 1; m <= k; m++) {
            if (i + m >= n || (s[i + m] & 0xc0) != 0x80) {
                *why = "invalid UTF-8";
                goto bad;
            }
            cp = (cp << 6) | (s[i + m] & 0x3f);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff)) {
            *why = "invalid UTF-8";
            goto bad;
        }
        if (cp >= 0x80 && cp <= 0x9f && cp != 0x85) {
            *why = "control character (not allowed in YAML)";
            goto bad;
        }
        i += k + 1;
        c++;
    }
    return 0;
bad:
    *line = l;
    *col = c;
    return -1;
}

int ar_host_norm(const char *in, char *out, size_t outsz)
{
    size_t n = strlen(in);
    if (n > AR_HOST_MAX || outsz < n + 1)
        return -1;
    size_t i = 0, o = 0;
    if (in[0] == '[') {
        out[o++] = '[';
        for (i = 1; i < n && in[i] != ']'; i++) {
            unsigned char c = fold((unsigned char)in[i]);
            if (!c_hex(c) && c != ':' && c != '.')
                return -1;
            out[o++] = (char)c;
        }
        if (i >= n || o == 1)
            return -1; /* "[::1" or "[]" */
        out[o++] = in[i++];
    } else {
        for (; i < n && in[i] != ':'; i++) {
            unsigned char c = fold((unsigned char)in[i]);
            if (!c_name(c))
                return -1;
            out[o++] = (char)c;
        }
        if (o && out[o - 1] == '.')
            o--;
        if (!o && i < n)
            return -1; /* ":8080", ".": a port or a dot without a name */
    }
    if (i < n) { /* ":port", 1-65535, written without leading zeros */
        size_t p = i + 1, d = n - p;
        if (in[i] != ':' || d < 1 || d > 5 || strspn(in + p, "0123456789") != d)
            return -1;
        unsigned long port = 0;
        for (size_t k = p; k < n; k++)
            port = port * 10 + (unsigned long)(in[k] - '0');
        if (port < 1 || port > 65535)
            return -1;
        if (port != 80) {       /* without leading zeros: the digits again */
            char digits[6];
            size_t nd = 0;
            for (; port; port /= 10)
                digits[nd++] = (char)('0' + port % 10);
            out[o++] = ':';
            while (nd)
                out[o++] = digits[--nd];
        }
    }
    out[o] = 0;
    return 0;
}

size_t ar_path_cut_params(const char *src, size_t n, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        int pct = i + 2 < n && src[i] == '%' && src[i + 1] == '3' && fold((unsigned char)src[i + 2]) == 'b';
        if (src[i] == ';' || pct) /* ";" or its encoding "%3B" */
            while (i < n && src[i] != '/')
                i++;
        else
            dst[o++] = src[i++];
    }
    if (!o && n)
        dst[o++] = '/'; /* ";jsessionid=X" alone */
    dst[o] = '\0';
    return o;
}

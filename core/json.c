/* json.c - streaming JSON writer. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "util.h"

void ar_json_init(struct ar_json *j)
{
    memset(j, 0, sizeof(*j));
    j->first[0] = 1;
}

void ar_json_free(struct ar_json *j)
{
    free(j->buf);
    memset(j, 0, sizeof(*j));
}

void ar_json_reset(struct ar_json *j)
{
    j->len = 0;
    j->depth = 0;
    j->after_key = 0;
    j->first[0] = 1;
}

static void put(struct ar_json *j, const char *s, size_t n)
{
    if (j->len + n + 1 > j->cap) {
        size_t nc = j->cap ? j->cap : 256;
        while (nc < j->len + n + 1)
            nc *= 2;
        j->buf = ar_xrealloc(j->buf, nc);
        j->cap = nc;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

void ar_json_append(struct ar_json *j, const char *s, size_t n)
{
    put(j, s, n);
}

/* Called before every value: a comma unless first in the container, and
 * nothing after a key (the key already placed the comma). */
static void sep(struct ar_json *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (!j->first[j->depth])
        put(j, ",", 1);
    j->first[j->depth] = 0;
}

static void open_(struct ar_json *j, char c)
{
    sep(j);
    put(j, &c, 1);
    if (j->depth < (int)sizeof(j->first) - 1)
        j->depth++;
    j->first[j->depth] = 1;
}

static void close_(struct ar_json *j, char c)
{
    put(j, &c, 1);
    if (j->depth > 0)
        j->depth--;
}

void ar_json_obj_open(struct ar_json *j) { open_(j, '{'); }
void ar_json_obj_close(struct ar_json *j) { close_(j, '}'); }
void ar_json_arr_open(struct ar_json *j) { open_(j, '['); }
void ar_json_arr_close(struct ar_json *j) { close_(j, ']'); }

/* Length of a valid UTF-8 sequence starting at s (max n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

static void put_escaped(struct ar_json *j, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    put(j, "\"", 1);
    while (i < n) {
        unsigned char c = p[i];
        const char *esc = NULL;
        char tmp[8];
        size_t ul = 1;
        if (c == '"') esc = "\\\"";
        else if (c == '\\') esc = "\\\\";
        else if (c == '\n') esc = "\\n";
        else if (c == '\r') esc = "\\r";
        else if (c == '\t') esc = "\\t";
        else if (c < 0x20 || c == 0x7F) { snprintf(tmp, sizeof(tmp), "\\u%04x", c); esc = tmp; }
        else if (c >= 0x80) {
            ul = utf8_len(p + i, n - i);
            if (!ul) { snprintf(tmp, sizeof(tmp), "\\u%04x", c); esc = tmp; ul = 1; }
        }
        if (esc) {
            if (run) put(j, s + i - run, run);
            run = 0;
            put(j, esc, strlen(esc));
            i += 1;
        } else {
            run += ul;
            i += ul;
        }
    }
    if (run)
        put(j, s + n - run, run);
    put(j, "\"", 1);
}

void ar_json_key(struct ar_json *j, const char *k)
{
    sep(j);
    put_escaped(j, k, strlen(k));
    put(j, ":", 1);
    j->after_key = 1;
}

void ar_json_strn(struct ar_json *j, const char *s, size_t n)
{
    sep(j);
    put_escaped(j, s, n);
}

void ar_json_str(struct ar_json *j, const char *s)
{
    if (!s) {
        ar_json_null(j);
        return;
    }
    ar_json_strn(j, s, strlen(s));
}

void ar_json_int(struct ar_json *j, int64_t v)
{
    char b[32];
    sep(j);
    put(j, b, (size_t)snprintf(b, sizeof(b), "%" PRId64, v));
}

void ar_json_uint(struct ar_json *j, uint64_t v)
{
    char b[32];
    sep(j);
    put(j, b, (size_t)snprintf(b, sizeof(b), "%" PRIu64, v));
}

void ar_json_double(struct ar_json *j, double v, int decimals)
{
    char b[64];
    sep(j);
    if (!isfinite(v)) {
        put(j, "null", 4);
        return;
    }
    put(j, b, (size_t)snprintf(b, sizeof(b), "%.*f", decimals, v));
}

void ar_json_bool(struct ar_json *j, int v)
{
    sep(j);
    put(j, v ? "true" : "false", v ? 4 : 5);
}

void ar_json_null(struct ar_json *j)
{
    sep(j);
    put(j, "null", 4);
}

void ar_json_raw(struct ar_json *j, const char *s)
{
    sep(j);
    put(j, s, strlen(s));
}

int ar_json_write(struct ar_json *j, FILE *fp)
{
    if (j->len && fwrite(j->buf, 1, j->len, fp) != j->len)
        return -1;
    return 0;
}

void ar_json_kstr(struct ar_json *j, const char *k, const char *v)
{
    ar_json_key(j, k);
    ar_json_str(j, v);
}

void ar_json_kuint(struct ar_json *j, const char *k, uint64_t v)
{
    ar_json_key(j, k);
    ar_json_uint(j, v);
}

void ar_json_kdouble(struct ar_json *j, const char *k, double v, int decimals)
{
    ar_json_key(j, k);
    ar_json_double(j, v, decimals);
}

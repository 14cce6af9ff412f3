/* json.h - a tiny streaming JSON writer into a growable buffer.
 *
 * Strings are escaped; bytes that are not valid UTF-8 are written as \u00XX
 * (one character per byte), so any wire bytes give valid JSON. */
#ifndef AR_JSON_H
#define AR_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ar_json {
    char *buf;
    size_t len, cap;
    int depth;
    unsigned char first[32];   /* per depth: no comma needed yet */
    int after_key;             /* a key was just written: no comma before the value */
};

void ar_json_init(struct ar_json *j);
void ar_json_free(struct ar_json *j);
void ar_json_reset(struct ar_json *j);
void ar_json_obj_open(struct ar_json *j);
void ar_json_obj_close(struct ar_json *j);
void ar_json_arr_open(struct ar_json *j);
void ar_json_arr_close(struct ar_json *j);
void ar_json_key(struct ar_json *j, const char *k);
void ar_json_str(struct ar_json *j, const char *s);       /* NULL writes null */
void ar_json_strn(struct ar_json *j, const char *s, size_t n);
void ar_json_int(struct ar_json *j, int64_t v);
void ar_json_uint(struct ar_json *j, uint64_t v);
void ar_json_double(struct ar_json *j, double v, int decimals);
void ar_json_bool(struct ar_json *j, int v);
void ar_json_null(struct ar_json *j);
void ar_json_raw(struct ar_json *j, const char *s);       /* pre-encoded JSON value */
/* key + value in one call */
void ar_json_kstr(struct ar_json *j, const char *k, const char *v);
void ar_json_kuint(struct ar_json *j, const char *k, uint64_t v);
void ar_json_kdouble(struct ar_json *j, const char *k, double v, int decimals);
/* Append raw bytes, no comma logic (for newlines between documents). */
void ar_json_append(struct ar_json *j, const char *s, size_t n);
/* Write the buffer to fp; returns 0 or -1. */
int ar_json_write(struct ar_json *j, FILE *fp);

#endif

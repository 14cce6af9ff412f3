/* util.h - small helpers shared by every module: checked allocation, bounded
 * string copies, parsing of sizes and durations. */
#ifndef AR_UTIL_H
#define AR_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define AR_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define AR_MIN(a, b) ((a) < (b) ? (a) : (b))
#define AR_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Allocation that aborts on OOM (memory is bounded by limits.h, so OOM here is
 * a bug or a hostile machine, not traffic). */
void *ar_xmalloc(size_t n);
void *ar_xcalloc(size_t n, size_t sz);
void *ar_xrealloc(void *p, size_t n);
/* n zero bytes, written at once. For tables that are read before they are
 * written (hash buckets): calloc() maps a large block to the shared zero
 * page, and the first write to each such page then costs a TLB shootdown on
 * every CPU running one of our threads. ar_zalloc returns NULL when out of
 * memory; ar_xzalloc aborts. */
void *ar_zalloc(size_t n);
void *ar_xzalloc(size_t n);
char *ar_xstrdup(const char *s);
char *ar_xstrndup(const char *s, size_t n);

/* strlcpy semantics: always NUL-terminates, returns strlen(src). */
size_t ar_strlcpy(char *dst, const char *src, size_t size);
int ar_strcaseeq(const char *a, const char *b);
int ar_strncaseeq(const char *a, const char *b, size_t n);

/* "64MiB", "1k", "30s", "5m", "2h": returns 0 and stores the value, or -1. */
int ar_parse_size(const char *s, uint64_t *out);
int ar_parse_duration(const char *s, uint64_t *out_seconds);
int ar_parse_u64(const char *s, uint64_t *out);

/* Format an address as "ip:port" or "[ipv6]:port". family is 4 or 6. */
void ar_fmt_endpoint(char *out, size_t outsz, int family, const uint8_t addr[16], uint16_t port);

/* Wall-clock seconds as UTC ISO 8601 with milliseconds: "2026-11-30T12:00:00.123Z". */
void ar_fmt_time(char *out, size_t outsz, double t);

/* YAML allows only printable Unicode (tab, LF and CR aside) in valid UTF-8.
 * Returns 0, or -1 with the 1-based line and column of the first byte that is
 * not allowed and a reason. Readers of YAML and JSON call it before parsing,
 * so a binary file is refused with its position. */
int ar_yaml_text_check(const char *s, size_t n, unsigned *line, unsigned *col, const char **why);

/* Roster form of a Host header (or an absolute-form authority): lower-cased, the
 * trailing dot of a name dropped, the default port ":80" dropped (the agent reads
 * plaintext HTTP), "[v6]" kept with its brackets. Returns 0, or -1 when it is not a
 * host: a byte outside letters, digits, '.', '-', '_' (or hex digits, ':' and '.' in
 * brackets), a port that is not 1-5 digits, or more than AR_HOST_MAX bytes. "" stays
 * "" (no Host). out must hold AR_HOST_MAX + 1 bytes. */
#define AR_HOST_MAX 255
int ar_host_norm(const char *in, char *out, size_t outsz);

/* Copy a request path without its path parameters: each segment is cut at its
 * ';' or "%3B" ("/s;jsessionid=X/cart" -> "/s/cart"); a path that was only parameters
 * becomes "/". dst holds n + 2 bytes; returns its length. */
size_t ar_path_cut_params(const char *src, size_t n, char *dst);

#endif

/* hostrule.c - host glob and CIDR[:port] rules (see hostrule.h). */
#include "hostrule.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/util.h"

static void why_set(char *why, size_t whysz, const char *msg, const char *arg)
{
    if (!why || !whysz)
        return;
    if (arg)
        snprintf(why, whysz, "%s: '%.64s'", msg, arg);
    else
        snprintf(why, whysz, "%s", msg);
}

void ar_hostrule_clear(struct ar_hostrule *hr)
{
    if (!hr)
        return;
    free(hr->pattern);
    free(hr->glob);
    free(hr->team);
    memset(hr, 0, sizeof(*hr));
}

/* "8080" -> 8080; -1 if not 1..65535. */
static int parse_port(const char *s, size_t n)
{
    if (n == 0 || n > 5)
        return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v >= 1 && v <= 65535 ? v : -1;
}

/* Parse an address of len n (no brackets) into family/addr. */
static int parse_addr(const char *s, size_t n, int *family, uint8_t addr[16])
{
    char buf[64];
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, buf, addr) == 1) {
        *family = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, addr) == 1) {
        *family = 6;
        return 0;
    }
    return -1;
}

static int parse_cidr(const char *p, struct ar_hostrule *hr, char *why, size_t whysz)
{
    const char *a, *ae, *rest;
    if (p[0] == '[') {
        a = p + 1;
        ae = strchr(a, ']');
        if (!ae) {
            why_set(why, whysz, "unterminated '[' in an IPv6 address", p);
            return -1;
        }
        rest = ae + 1;
    } else {
        a = p;
        ae = strchr(p, '/');
        if (!ae) {
            /* a bare address, maybe with a port (IPv4 only: IPv6 needs []) */
            const char *c = strchr(p, ':');
            ae = c && !strchr(c + 1, ':') ? c : p + strlen(p);
        }
        rest = ae;
    }
    if (parse_addr(a, (size_t)(ae - a), &hr->family, hr->addr) != 0) {
        why_set(why, whysz, "not an IP address", p);
        return -1;
    }
    unsigned max = hr->family == 4 ? 32 : 128;
    hr->prefix = max;
    if (*rest == '/') {
        const char *d = rest + 1;
        unsigned v = 0;
        size_t k = 0;
        while (d[k] >= '0' && d[k] <= '9' && k < 4)
            v = v * 10 + (unsigned)(d[k++] - '0');
        if (k == 0 || v > max) {
            why_set(why, whysz, "bad prefix length", p);
            return -1;
        }
        hr->prefix = v;
        rest = d + k;
    }
    if (*rest == ':') {
        int port = parse_port(rest + 1, strlen(rest + 1));
        if (port < 0) {
            why_set(why, whysz, "bad port", p);
            return -1;
        }
        hr->port = port;
    } else if (*rest) {
        why_set(why, whysz, "unexpected text after an address", p);
        return -1;
    }
    /* clear host bits so that 10.1.2.3/8 is 10.0.0.0/8 */
    unsigned bytes = hr->family == 4 ? 4 : 16;
    for (unsigned i = 0; i < bytes; i++) {
        unsigned lo = i * 8;
        if (lo >= hr->prefix)
            hr->addr[i] = 0;
        else if (hr->prefix - lo < 8)
            hr->addr[i] &= (uint8_t)(0xff << (8 - (hr->prefix - lo)));
    }
    hr->kind = AR_HR_CIDR;
    return 0;
}

static int looks_numeric(const char *p)
{
    /* digits, dots, '/' and ':' only, with at least one digit: an IPv4 block */
    int digit = 0;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digit = 1;
        else if (*p != '.' && *p != '/' && *p != ':')
            return 0;
    }
    return digit;
}

int ar_hostrule_parse_pattern(const char *pattern, struct ar_hostrule *hr, char *why,
                              size_t whysz)
{
    memset(hr, 0, sizeof(*hr));
    if (!pattern || !*pattern) {
        why_set(why, whysz, "empty host pattern", NULL);
        return -1;
    }
    if (pattern[0] == ':') {
        why_set(why, whysz, "empty host in a host pattern", pattern);
        return -1;
    }
    const char *colon = strchr(pattern, ':');
    int multi_colon = colon && strchr(colon + 1, ':');
    if (pattern[0] == '[' || strchr(pattern, '/') || multi_colon || looks_numeric(pattern)) {
        if (parse_cidr(pattern, hr, why, whysz) != 0) {
            memset(hr, 0, sizeof(*hr));
            return -1;
        }
        hr->pattern = ar_xstrdup(pattern);
        return 0;
    }
    size_t hn = colon ? (size_t)(colon - pattern) : strlen(pattern);
    if (hn == 0) {
        why_set(why, whysz, "empty host in a host pattern", pattern);
        return -1;
    }
    for (size_t i = 0; i < hn; i++) {
        unsigned char c = (unsigned char)pattern[i];
        if (!(isalnum(c) || c == '.' || c == '-' || c == '_' || c == '*' || c == '?')) {
            why_set(why, whysz, "not a host glob (letters, digits, '.', '-', '_', '*', '?')",
                    pattern);
            return -1;
        }
    }
    if (colon && strcmp(colon + 1, "*") != 0) {
        int port = parse_port(colon + 1, strlen(colon + 1));
        if (port < 0) {
            why_set(why, whysz, "bad port", pattern);
            return -1;
        }
        hr->port = port;
    }
    hr->kind = AR_HR_GLOB;
    hr->glob = ar_xstrndup(pattern, hn);
    for (char *c = hr->glob; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    hr->pattern = ar_xstrdup(pattern);
    return 0;
}

int ar_hostrule_parse(const char *line, struct ar_hostrule *hr, char *why, size_t whysz)
{
    memset(hr, 0, sizeof(*hr));
    const char *toks[3];
    size_t lens[3];
    int nt = 0;
    const char *p = line ? line : "";
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '#')
            break;
        const char *s = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (nt == 3)
            break;
        toks[nt] = s;
        lens[nt] = (size_t)(p - s);
        nt++;
    }
    if (nt != 2) {
        why_set(why, whysz, nt < 2 ? "a host rule is PATTERN TEAM" :
                                     "a host rule is PATTERN TEAM (one team)", NULL);
        return -1;
    }
    char *pat = ar_xstrndup(toks[0], lens[0]);
    int rc = ar_hostrule_parse_pattern(pat, hr, why, whysz);
    free(pat);
    if (rc != 0)
        return -1;
    hr->team = ar_xstrndup(toks[1], lens[1]);
    return 0;
}

/* Case-insensitive glob: '*' any run, '?' one character. */
static int glob_match(const char *p, const char *s, size_t sn)
{
    size_t pn = strlen(p), pi = 0, si = 0, star = (size_t)-1, mark = 0;
    while (si < sn) {
        if (pi < pn && p[pi] == '*') {
            star = pi++;
            mark = si;
        } else if (pi < pn && (p[pi] == '?' ||
                               p[pi] == tolower((unsigned char)s[si]))) {
            pi++;
            si++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return 0;
        }
    }
    while (pi < pn && p[pi] == '*')
        pi++;
    return pi == pn;
}

/* Split a roster host into name/address and port (0 when none). */
static void split_host(const char *host, const char **h, size_t *hn, int *port, int *bracket)
{
    *port = 0;
    *bracket = 0;
    if (host[0] == '[') {
        const char *e = strchr(host, ']');
        if (e) {
            *bracket = 1;
            *h = host + 1;
            *hn = (size_t)(e - host - 1);
            if (e[1] == ':')
                *port = parse_port(e + 2, strlen(e + 2));
            return;
        }
    }
    const char *c = strchr(host, ':');
    if (c && !strchr(c + 1, ':')) {
        *h = host;
        *hn = (size_t)(c - host);
        *port = parse_port(c + 1, strlen(c + 1));
        return;
    }
    *h = host;
    *hn = strlen(host);
}

int ar_hostrule_match(const struct ar_hostrule *hr, const char *host)
{
    if (!hr || !host || !*host)
        return 0;
    const char *h;
    size_t hn;
    int port, bracket;
    split_host(host, &h, &hn, &port, &bracket);
    if (hr->port && port != hr->port)
        return 0;
    if (hr->kind == AR_HR_GLOB)
        return !bracket && glob_match(hr->glob, h, hn);
    int family;
    uint8_t addr[16];
    if (parse_addr(h, hn, &family, addr) != 0 || family != hr->family)
        return 0;
    unsigned full = hr->prefix / 8, rem = hr->prefix % 8;
    if (memcmp(addr, hr->addr, full) != 0)
        return 0;
    if (rem) {
        uint8_t mask = (uint8_t)(0xff << (8 - rem));
        if ((addr[full] & mask) != (hr->addr[full] & mask))
            return 0;
    }
    return 1;
}

long ar_hostrules_match(const struct ar_hostrule *v, size_t n, const char *host)
{
    for (size_t i = n; i-- > 0;)
        if (ar_hostrule_match(&v[i], host))
            return (long)i;
    return -1;
}

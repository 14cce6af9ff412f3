/* hostrule.h - host rules: "PATTERN TEAM", for hosts that no spec, catalog or
 * rules file covers.
 *
 * PATTERN is one of:
 *   - a host glob, compared case-insensitively: "*" any run of characters
 *     (dots included), "?" one character; "*.shop.test" matches
 *     "api.shop.test" and "a.b.shop.test", not "shop.test". A glob without a
 *     port matches the host on any port; "api.shop.test:8443" only that port
 *     ("host:*" is the same as no port);
 *   - an address block "CIDR[:port]": "10.0.0.0/8", "10.1.2.3/32:8080",
 *     "[2001:db8::]/32:443", "2001:db8::/32"; a bare address ("10.1.2.3",
 *     "10.1.2.3:8080", "[::1]:8080") is a /32 or /128. It matches hosts that
 *     are IP literals (the roster keeps the Host header or the server address:
 *     lower-case, maybe ":port", IPv6 in brackets).
 * TEAM is one owner token as written ("@shop/web", "team-c", an e-mail).
 *
 * In a list of host rules the LAST matching rule wins (as in a rules file). */
#ifndef AR_HOSTRULE_H
#define AR_HOSTRULE_H

#include <stddef.h>
#include <stdint.h>

enum ar_hostrule_kind { AR_HR_GLOB, AR_HR_CIDR };

struct ar_hostrule {
    enum ar_hostrule_kind kind;
    char *pattern;      /* as written */
    char *glob;         /* AR_HR_GLOB: lower-cased host part */
    int family;         /* AR_HR_CIDR: 4 or 6 */
    uint8_t addr[16];
    unsigned prefix;
    int port;           /* 0: any port */
    char *team;
};

/* Parse "PATTERN TEAM" (spaces or tabs between; a trailing "# comment" is
 * allowed). Returns 0, or -1 with a reason in why (without file:line, for the
 * caller to prefix). *hr must be released with ar_hostrule_clear(). */
int ar_hostrule_parse(const char *line, struct ar_hostrule *hr, char *why, size_t whysz);
/* Parse a pattern alone (team left NULL). */
int ar_hostrule_parse_pattern(const char *pattern, struct ar_hostrule *hr, char *why,
                              size_t whysz);
void ar_hostrule_clear(struct ar_hostrule *hr);

/* 1 if host (as kept in the roster) matches, else 0. */
int ar_hostrule_match(const struct ar_hostrule *hr, const char *host);

/* Index of the last rule of v[0..n) that matches host, or -1. */
long ar_hostrules_match(const struct ar_hostrule *v, size_t n, const char *host);

#endif

/* rules.h - CODEOWNERS-syntax rules over "host/path" subjects.
 *
 * The subject is a host and a path joined without the scheme, e.g.
 * "api.shop.test/orders/123" or a template "api.shop.test/orders/{orderId}".
 * The host is the first segment, so a "/" at the start of a pattern anchors at
 * the host. Examples (in line comments, as the patterns hold slash-stars):
 */
//   api.shop.test/orders/**   @shop/orders     one host, one subtree
//   *.shop.test/**            @shop/web        every subdomain
//   */admin/**                @sec             /admin on any host
//   *.json                    @docs            any last segment, any depth
/*
 * Syntax and matching are GitHub's CODEOWNERS (gitignore patterns):
 *   - "#" starts a comment (at the start of a line, or as a token of its own
 *     after the pattern); blank lines are ignored; "\#" and "\ " escape;
 *   - PATTERN OWNER...; owners are "@user", "@org/team", "@@role" or an e-mail;
 *     a pattern with no owner is explicitly unowned;
 *   - the LAST matching line wins; owners are never merged across lines; the
 *     first owner of a line is the primary one;
 *   - "*" and "?" match within one segment, a "**" segment any number of
 *     segments (zero included);
 *   - a pattern with a "/" at the start or in the middle is anchored at the
 *     start of the subject; without one (a trailing "/" aside) it matches at
 *     any depth;
 *   - a pattern matches what it names and everything beneath it, except when
 *     its last segment is a lone "*" (docs, slash, star: direct children
 *     only). So "a/orders", "a/orders/" and "a/orders/" + "**" all match
 *     "a/orders" and "a/orders/7": in a URL, /orders is both a resource and the parent of
 *     /orders/{id} (a deliberate difference from gitignore, where "orders/"
 *     names only a directory).
 *   - matching is case-sensitive (GitHub); hosts in the roster are lower-case.
 * Rejected with "FILE:LINE: reason": "!" negation, "[...]" character classes
 * inside a pattern, a line of only owners, a token after the pattern that is
 * not an owner, control characters, a trailing lone "\".
 *
 * GitLab sections are read deliberately:
 *   "[Name]", "^[Name]" (optional), "[Name][N]" (N approvals: kept, unused),
 *   "[Name] @owner..." (default owners: entries of that section that list no
 *   owner take them; without defaults an entry with no owner is unowned).
 *   Section names compare case-insensitively and repeated sections are one
 *   section. Lines before the first header form the unnamed section.
 * Each section is evaluated on its own (last matching line of the section
 * wins). The PRIMARY hit is the last matching line of the whole file (which is
 * always the winner of its section): with no sections this is exactly GitHub.
 * The winners of the other sections that matched are alternatives.
 * An unterminated "[", an empty name, a bad approval count or a non-owner after
 * a header is rejected. */
#ifndef AR_RULES_H
#define AR_RULES_H

#include <stddef.h>

struct ar_rules;

struct ar_rule_hit {
    unsigned line;              /* 1-based line of the rule in the file */
    const char *pattern;        /* as written (escapes kept) */
    const char *const *owners;  /* as written, first = primary; NULL when nowners == 0 */
    size_t nowners;
    const char *section;        /* NULL in the unnamed section; as first written */
    int optional;               /* section written as ^[...] */
    int unowned;                /* matched, explicitly no owner */
    int defaulted;              /* owners came from the section header */
};

/* Parse a rules file. file is used in messages only. data need not be
 * NUL-terminated. Returns NULL and "FILE:LINE: reason" in err on a bad line. */
struct ar_rules *ar_rules_parse(const char *file, const char *data, size_t len, char *err,
                                size_t errsz);
void ar_rules_free(struct ar_rules *r);

/* Number of rule lines (pattern lines; section headers, comments and blank
 * lines are not rules). */
size_t ar_rules_count(const struct ar_rules *r);
/* Number of sections, the unnamed one included when it holds a rule. */
size_t ar_rules_section_count(const struct ar_rules *r);
/* Every owner named (rules and section defaults), as written, de-duplicated,
 * in order of first appearance. */
size_t ar_rules_team_count(const struct ar_rules *r);
const char *ar_rules_team(const struct ar_rules *r, size_t i);
/* The file name given to ar_rules_parse(). */
const char *ar_rules_file(const struct ar_rules *r);

/* The primary hit for subject. Returns 1 and fills *hit (pointers valid until
 * ar_rules_free), or 0 when no line matches. */
int ar_rules_match(const struct ar_rules *r, const char *subject, struct ar_rule_hit *hit);
/* Every section's winner: hits[0] is the primary (as ar_rules_match), the
 * others follow in section order. Returns the number of sections that matched
 * (which may exceed max; only max are written). */
size_t ar_rules_match_all(const struct ar_rules *r, const char *subject,
                          struct ar_rule_hit *hits, size_t max);

/* Glob match of one pattern as written in a rules file (for tests and for
 * pins): 1 match, 0 no match, -1 bad pattern. */
int ar_rules_pattern_match(const char *pattern, const char *subject);

#endif

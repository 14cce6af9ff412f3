/* template.h - path templating: /orders/8812 -> /orders/{orderId}.
 *
 * Decisions, in order (each result names the rule that made it):
 *   "pin"       an operator pin (config) matched: a template that must always be
 *               used, or a literal path that must never be merged;
 *   "spec"      a template registered from a published spec (#4) matched;
 *   "typed"     at least one segment (or part of one) had a typed value: integer,
 *               UUID, 24-hex object id, long hex/base64url token, JWT, ISO date,
 *               e-mail, alphanumeric id with several digits;
 *   "collapse"  the cardinality collapse: a parent had more than max_children
 *               distinct literal children of the same shape;
 *   "literal"   nothing to template: the path as seen.
 * Real words (from a Debian word list, e.g. /usr/share/dict/words) stay literal.
 * Parameter names come from the parent segment: singular + "Id" ({orderId}),
 * or the type ({email}, {date}, {uuid} when there is no usable parent).
 *
 * When a path has both typed and collapsed segments, the rule is "collapse"
 * (the less obvious decision is the one reported). The exact thresholds and
 * naming rules are in docs/templating.md.
 *
 * A templater is not thread-safe: use one per thread (it keeps scratch buffers
 * so that ar_template() does not allocate, except to grow them for very long
 * paths and to remember a first-seen child for the cardinality collapse). */
#ifndef AR_TEMPLATE_H
#define AR_TEMPLATE_H

#include <stddef.h>
#include "../core/counters.h"
#include "../core/limits.h"

struct ar_templater;

/* lim may be NULL (defaults), ctr may be NULL (nothing counted). lim is copied. */
struct ar_templater *ar_templater_new(const struct ar_limits *lim, struct ar_counters *ctr);
void ar_templater_free(struct ar_templater *t);

/* Load a word list (one word per line). Returns 0, or -1 if unreadable. Without
 * one, only the built-in API vocabulary (v1, api, me, ...) counts as words. */
int ar_templater_load_words(struct ar_templater *t, const char *path);
/* Number of distinct words known (word lists plus the built-in vocabulary). */
size_t ar_templater_word_count(const struct ar_templater *t);

/* Operator pins. A pattern with {name} segments is a template that matching
 * paths always use; a pattern without braces is a literal path never merged.
 * host may be NULL or "*" for any host (a host without a port also matches
 * that host on any port). A {name} matches one whole segment or part of one
 * ("{sku}.json"), at least one character, never a '/'. Returns 0, or -1 if the
 * pattern is not an absolute path (or has unbalanced braces, an empty name,
 * more than 3 parameters in one segment or more than 128 segments). */
int ar_templater_pin(struct ar_templater *t, const char *host, const char *pattern);
/* A template from a published spec (rule "spec"); same matching as pins, lower
 * precedence. */
int ar_templater_add_spec(struct ar_templater *t, const char *host, const char *tmpl);

/* A parent collapsed earlier (read back from the store), e.g. host
 * "shop.example.test", parent "/catalog/categories", child shape "{slug}.json". */
void ar_templater_seed_collapse(struct ar_templater *t, const char *host, const char *parent,
                                const char *child_tmpl);

/* Template one path (the request-target up to '?', not decoded). Writes the
 * template to out (always NUL-terminated) and sets *rule to a static string
 * (see above). Returns 1 when this call made a parent collapse (so that the
 * caller can re-template what it already holds), else 0. */
int ar_template(struct ar_templater *t, const char *host, const char *path,
                char *out, size_t outsz, const char **rule);

/* A number that changes whenever a path may template differently than it did
 * before (a collapse made or seeded, a pin, a spec template, a word list) and
 * whenever a call bumps a limit counter. A call that left it unchanged can be
 * taken as done: the same (host, path) gives the same result again, and
 * templating it again would change nothing, until the number changes. */
uint64_t ar_templater_generation(const struct ar_templater *t);

/* Iterate collapsed parents (for persisting them). Returns 0 at the end. */
int ar_templater_collapse_iter(struct ar_templater *t, size_t *pos, const char **host,
                               const char **parent, const char **child_tmpl);

#endif

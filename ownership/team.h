/* team.h - the canonical form of a team name, so that the same team written by
 * a spec, a catalog, a rules file or a host rule compares equal.
 *
 * Canonical form: "[namespace/]name", lower-case.
 *   - leading "@" (one, or two for a GitLab role) is dropped:
 *     "@shop/orders" -> "shop/orders" (a GitHub org/team reads as a Backstage
 *     namespace/name, which is how Backstage's GitHub org import names them);
 *   - a Backstage entity kind is dropped: "group:team-c" -> "team-c",
 *     "user:default/alice" -> "alice";
 *   - the namespace "default" is dropped: "group:default/team-c" -> "team-c",
 *     "default/team-c" -> "team-c"; any other namespace is kept:
 *     "group:redhat/one-platform-devs" -> "redhat/one-platform-devs";
 *   - an e-mail address stays an e-mail address, lower-cased.
 * So "@shop/orders", "shop/orders" and "group:shop/orders" are one team, and
 * "group:default/orders" is "orders" (a different team from "shop/orders"). */
#ifndef AR_TEAM_H
#define AR_TEAM_H

#include <stddef.h>

/* Writes the canonical form of in to out (NUL-terminated). Returns its length,
 * or -1 when in is empty (after trimming) or does not fit. */
int ar_team_canon(const char *in, char *out, size_t outsz);
/* 1 when a and b name the same team (both canonicalized), else 0. */
int ar_team_eq(const char *a, const char *b);

#endif

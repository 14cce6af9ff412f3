/* ownership.h - owner resolution: the public umbrella header of ownership/.
 *
 * The sources are read by the other headers (rules.h: CODEOWNERS-syntax rules
 * over host/path; catalog.h: Backstage catalog files; hostrule.h: host glob and
 * CIDR rules; team.h: the canonical team name). The caller (agent/) gathers,
 * for one endpoint, one candidate per source that has something to say, and
 * ar_owner_resolve() decides:
 *
 *   - precedence is the order of enum ar_owner_source (pin highest); candidates
 *     are considered in that order (stable for several of one source);
 *   - a spec candidate is accepted only when it names a known team (the Group
 *     entities of the catalogs and any configured team list); otherwise it is
 *     recorded in unresolved[] with a reason and resolution goes on. With no
 *     known teams at all (no catalog, no team list) every spec owner is
 *     accepted: a spec is then the best evidence there is;
 *   - the first accepted candidate wins. An explicit "unowned" (a rules line
 *     without owners) wins like a team does: the result is unowned, with the
 *     rule as evidence, and lower sources do not fill it in;
 *   - every later candidate that names a DIFFERENT team (canonical comparison,
 *     team.h), or is an explicit unowned after a team, is kept in
 *     alternatives[] (drift between sources is a finding); repeats of the same
 *     (source, team) are kept once;
 *   - no accepted candidate: source "none", owner NULL.
 * Teams in the result are canonical (team.h): "@shop/orders" -> "shop/orders",
 * "group:default/team-c" -> "team-c". */
#ifndef AR_OWNERSHIP_H
#define AR_OWNERSHIP_H

#include <stddef.h>
#include <stdint.h>
#include "../core/json.h"
#include "catalog.h"
#include "hostrule.h"
#include "rules.h"
#include "team.h"

enum ar_owner_source {
    AR_OWN_PIN,
    AR_OWN_SPEC,
    AR_OWN_CATALOG,
    AR_OWN_RULES,
    AR_OWN_HOST,
    AR_OWN_INFERRED,
    AR_OWN_NONE,
};

/* "pin", "spec", "catalog", "rules", "host", "inferred", "none". */
const char *ar_owner_source_name(enum ar_owner_source s);
/* Name -> source; returns 0, or -1 for an unknown name. */
int ar_owner_source_from(const char *name, enum ar_owner_source *out);

struct ar_owner_cand {
    enum ar_owner_source source;
    const char *team;      /* as written; NULL with unowned set for an explicit unowned */
    int unowned;
    const char *evidence;  /* "file:line" or "file#/json/pointer" */
};

struct ar_owner_alt {
    enum ar_owner_source source;
    const char *team;      /* canonical; NULL for an explicit unowned */
    const char *evidence;
};

struct ar_owner_unresolved {
    enum ar_owner_source source;
    const char *team;      /* as written */
    const char *evidence;
    const char *reason;    /* e.g. "not a known team" */
};

struct ar_owner_result {
    const char *team;      /* canonical, or NULL (unowned or none) */
    const char *team_written; /* the winning candidate's team as written, or NULL */
    enum ar_owner_source source; /* AR_OWN_NONE when nothing was accepted */
    const char *evidence;  /* NULL for none */
    int unowned;           /* an explicit unowned won */
    struct ar_owner_alt *alts;
    size_t nalts;
    struct ar_owner_unresolved *unresolved;
    size_t nunresolved;
    char **strs_;          /* owned copies (internal) */
    size_t nstrs_;
};

/* Resolve. known may be NULL when nknown is 0. The result owns copies of every
 * string: free it with ar_owner_result_free(). Returns 1 when a team owns the
 * endpoint, 0 when it is unowned (explicitly or for want of any source). */
int ar_owner_resolve(const struct ar_owner_cand *cands, size_t n, const char *const *known,
                     size_t nknown, struct ar_owner_result *res);
void ar_owner_result_free(struct ar_owner_result *res);

/* JSON: the keys owner, source, evidence, alternatives [{owner, source,
 * evidence}], unresolved [{owner, source, evidence, reason}] written into an
 * object the caller has opened (so it can add host, method, template...). */
void ar_owner_result_json_fields(struct ar_json *j, const struct ar_owner_result *res);
/* The same keys as a whole object. */
void ar_owner_result_json(struct ar_json *j, const struct ar_owner_result *res);

/* Fuzzing entry point: parses data as a rules file, a host rule and a catalog
 * and runs a few lookups; never crashes on any input. Returns 0. */
int ar_ownership_fuzz_one(const uint8_t *data, size_t len);

#endif

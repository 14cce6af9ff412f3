/* model.h - what the roster is judged against: the imported specs, catalogs
 * and rules (read back from the database, never from files that may have
 * changed since), and the owner pins and host rules of the config.
 *
 * The judge (ar_model_judge, an ar_judge_fn for the store) decides for one
 * endpoint:
 *   state   documented | zombie (deprecated operation, or its catalog API's
 *           lifecycle is deprecated) | shadow (reason "unknown path" or
 *           "undocumented method") | noise (would be shadow, and only ever
 *           answered 404/405) | encrypted (a TLS-only host: rule tls, method
 *           and template "*"; owned as HOST + "/" by pins, rules and host rules);
 *   owner   by precedence pin > spec (x-owner) > catalog (the API entity whose
 *           definition is the matched spec, then the Components providing it) >
 *           rules (CODEOWNERS syntax over host/path) > host rules > inferred
 *           (a shadow endpoint takes the owner of its nearest documented
 *           ancestor) > none; disagreeing sources are kept as alternatives. */
#ifndef AR_MODEL_H
#define AR_MODEL_H

#include <stddef.h>
#include "../inventory/catalog.h"
#include "../inventory/specmatch.h"
#include "../inventory/store.h"
#include "../inventory/template.h"
#include "../ownership/ownership.h"
#include "config.h"

struct ar_model;

/* Load every source of the store plus the config's [owners]. Returns NULL
 * with "file[:line]: reason" in err when a stored source or a config entry
 * cannot be read. */
struct ar_model *ar_model_load(struct ar_store *s, const struct ar_config *cfg, char *err,
                               size_t errsz);
void ar_model_free(struct ar_model *m);

/* The store's judge (ud is the model). */
void ar_model_judge(void *ud, const struct ar_endpoint *e, struct ar_verdict *out);

/* Register every spec template with the templater (rule "spec"), so that
 * traffic is cataloged under the spec's template and parameter names. */
void ar_model_seed_templater(const struct ar_model *m, struct ar_templater *tp);

const struct ar_specset *ar_model_specs(const struct ar_model *m);
size_t ar_model_spec_count(const struct ar_model *m);

/* The full owner resolution of an endpoint, for `apiroster owner`; res must
 * be freed with ar_owner_result_free(). Returns ar_owner_resolve()'s value. */
int ar_model_owner(const struct ar_model *m, const struct ar_endpoint *e,
                   const struct ar_spec_match *sm, struct ar_owner_result *res);

/* base's directory + ref (or ref when absolute), "." and ".." folded
 * lexically: "a/owners/catalog.yaml" + "../api.yaml" -> "a/api.yaml". */
void ar_path_join(const char *base, const char *ref, char *out, size_t outsz);

/* Strip the port of a roster host ("api.test:8080" -> "api.test",
 * "[::1]:80" -> "[::1]") into out. */
void ar_host_noport(const char *host, char *out, size_t outsz);

#endif

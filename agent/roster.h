/* roster.h - importing sources and attaching the judge to a store. */
#ifndef AR_ROSTER_H
#define AR_ROSTER_H

#include <stdio.h>
#include "../inventory/store.h"
#include "../inventory/template.h"
#include "config.h"
#include "model.h"

/* Import files or directories (recursively: *.json, *.yaml, *.yml and files
 * named CODEOWNERS) as sources. as: NULL to detect, or "spec", "catalog",
 * "rules". Everything is read and checked before anything is stored: on a
 * bad file nothing is written and -1 comes back with "file[:line[:col]]:
 * reason" in err. Progress lines go to out (may be NULL). Returns the number
 * of sources added or replaced. */
int ar_import(struct ar_store *s, const char *const *paths, int npaths, const char *as, FILE *out,
              char *err, size_t errsz);

/* Import the config's [sources] (a folder's files are detected, a file takes
 * its key's kind). Returns 0, or -1 with the reason and the config line. */
int ar_roster_import_config(struct ar_store *s, const struct ar_config *cfg, char *err,
                            size_t errsz);

/* Open the roster for a capture (file or live), at start: a corrupt database
 * of ours is moved aside and rebuilt (ar_store_open_rebuild), with one
 * warning line naming both paths and saying that sources imported by hand
 * must be imported again (the config's [sources] are, by ar_roster_attach or
 * the live start). Returns NULL with err on failure (exit 2 for the caller). */
struct ar_store *ar_roster_open_capture(const char *path, const struct ar_config *cfg, char *err,
                                        size_t errsz);

/* For commands that write the roster: import the config's [sources], load the
 * model, seed tp with the spec templates (tp may be NULL) and make the model
 * the store's judge. Exits 2 on a bad source. Free with ar_model_free after
 * the store is closed. */
struct ar_model *ar_roster_attach(struct ar_store *s, const struct ar_config *cfg,
                                  struct ar_templater *tp);

#endif

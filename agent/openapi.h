/* openapi.h - the observed API as an OpenAPI 3.1 document. */
#ifndef AR_OPENAPI_H
#define AR_OPENAPI_H

#include <stddef.h>
#include "../core/json.h"
#include "../inventory/store.h"

/* Append to out (one JSON object) the document of the roster's endpoints,
 * optionally only those of host and/or owner (NULL: all; owner "" : the
 * unowned; a team in its canonical form, ownership/team.h). Scanner noise
 * and non-path targets are left out. Returns the number of endpoints the
 * document holds (0: its paths are empty), or -1 with the store's error in
 * err. */
int ar_openapi_document(struct ar_store *s, const char *host, const char *owner,
                        struct ar_json *out, char *err, size_t errsz);

#endif

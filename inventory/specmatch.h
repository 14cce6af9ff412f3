/* specmatch.h - an index over the operations of several specs, to tell
 * whether an endpoint is documented, and by which operation.
 *
 * Order of decision: host, then path, then method.
 *   1. Host: entries whose server names the host (exactly, or the host without
 *      its port when the roster host carries ":80" or ":443"); then, only if
 *      none of those documents the path, entries whose server host the host
 *      is a subdomain of (eu.httpbin.org under httpbin.org: regional and edge
 *      names of one API); then entries whose server has no host (relative or
 *      absent server URL: any host).
 *   2. Path: the full template (server base + spec path) against the path,
 *      segment by segment, same number of segments (a parameter never spans
 *      '/'; one trailing '/' is ignored on both sides). Per segment a literal
 *      beats a mixed segment ({name}.json) which beats a whole parameter, and
 *      the leftmost difference decides (so /users/me beats /users/{id}).
 *   3. Method: exact (methods are kept as sent), HEAD falls back to GET. A
 *      path documented without the method is AR_MATCH_PATH, even when a less
 *      specific path documents the method (routers pick the path first).
 * Ties keep the first added spec, then the first operation.
 *
 * The set is read-only once built: ar_specset_match() may be called from
 * several threads at once. */
#ifndef AR_SPECMATCH_H
#define AR_SPECMATCH_H

#include <stddef.h>
#include "spec.h"

struct ar_specset;

struct ar_specset *ar_specset_new(void);
void ar_specset_free(struct ar_specset *ss);

/* The spec stays owned by the caller and must outlive the set; source names the
 * file (copied as given). */
void ar_specset_add(struct ar_specset *ss, const struct ar_spec *spec, const char *source);

enum ar_match_kind {
    AR_MATCH_NONE, /* no documented path */
    AR_MATCH_PATH, /* path documented, method not */
    AR_MATCH_OP    /* the operation is documented */
};

struct ar_spec_match {
    enum ar_match_kind kind;
    const struct ar_spec *spec;   /* NULL for AR_MATCH_NONE */
    const struct ar_spec_op *op;  /* the operation (AR_MATCH_OP; GET for a HEAD fallback) or
                                   * one operation of that path (AR_MATCH_PATH) */
    const struct ar_spec_server *server; /* the server of op that matched */
    const char *source;           /* as given to ar_specset_add */
    char tmpl[1024];              /* the spec's full template for this endpoint: base + path,
                                   * e.g. /v1/pets/{petId} ("" for AR_MATCH_NONE; cut at
                                   * 1023 bytes) */
};

/* host as kept in the roster: lower-case, ":port" when the Host header had one
 * (compared case-insensitively anyway). path: a concrete path (a query string
 * is ignored) or a roster template with {param} segments: a roster segment that
 * is wholly {x} matches only a spec segment that is wholly a parameter; a
 * roster segment like {sku}.json matches a spec segment of the same shape
 * (same literal text, parameters at the same places, names ignored). A
 * concrete segment matches a literal spec segment exactly (bytes as sent, no
 * decoding), a parameter spec segment when not empty, and a mixed one when
 * each parameter takes at least one byte. m may be NULL. Returns m->kind. */
enum ar_match_kind ar_specset_match(const struct ar_specset *ss, const char *host, const char *method,
                                    const char *path, struct ar_spec_match *m);

/* Every (spec, op, server) of the set, for listing documented operations never
 * seen ("unused") and for seeding the templater with spec templates per host. */
size_t ar_specset_count(const struct ar_specset *ss);

/* Segments of the longest template of the set (0 when empty): a path with
 * more segments matches nothing (one trailing '/' not counted). */
size_t ar_specset_max_segs(const struct ar_specset *ss);

/* One (spec, op, server) of the set, i < ar_specset_count(), in the order added
 * (specs, then their operations, then each operation's servers). */
struct ar_spec_entry {
    const struct ar_spec *spec;
    const struct ar_spec_op *op;
    const struct ar_spec_server *server;
    const char *source;
    const char *tmpl; /* base + path, e.g. /v1/pets/{petId}; owned by the set */
};
/* Returns 0, or -1 when i is out of range. */
int ar_specset_entry(const struct ar_specset *ss, size_t i, struct ar_spec_entry *e);

#endif

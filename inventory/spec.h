/* spec.h - OpenAPI / Swagger spec loading (libfyaml; JSON and YAML).
 *
 * Reads Swagger 2.0, OpenAPI 3.0.x and 3.1.x far enough to list their
 * operations: path, method, servers, deprecation, owner extensions, documented
 * query parameter names and where each operation is written (JSON pointer,
 * file and line). Tolerant: schema mistakes become warnings and whatever paths
 * can still be read count. Only what a published spec says is kept, never
 * examples or values.
 *
 * $ref handling:
 *   - local refs ("#/components/...") are followed for path items, operations
 *     and parameters (the only places the roster needs);
 *   - refs to other local files ("other.yaml#/x", "./paths/pets.yaml") are read
 *     through the caller's ar_spec_read_fn, resolved relative to the referring
 *     file; at most AR_SPEC_MAX_DOCS files per spec and AR_SPEC_MAX_REF_HOPS
 *     refs in a chain (a cycle ends there with a warning);
 *   - a remote ref (http://, https://, or any other "scheme://") is never
 *     fetched: one warning per remote document, anywhere in the spec.
 *
 * The loader keeps no global state and is thread-safe per call. */
#ifndef AR_SPEC_H
#define AR_SPEC_H

#include <stddef.h>

#define AR_SPEC_MAX_DOCS 64       /* files read for one spec, itself included */
#define AR_SPEC_MAX_REF_HOPS 32   /* $ref -> $ref -> ... before giving up */
#define AR_SPEC_MAX_WARNINGS 100  /* further warnings are counted in one last line */

/* One server an operation is served from. */
struct ar_spec_server {
    char *scheme; /* lower-case "https", "http", ...; "" when the URL is relative or absent */
    char *host;   /* lower-case, ":port" kept unless it is the scheme's default (443 for
                   * https, 80 for http); "" when the server URL is relative or absent */
    char *base;   /* "" or "/v1": no trailing slash, server variables substituted with
                   * their defaults */
};

/* One operation (path x method). */
struct ar_spec_op {
    char *path;       /* the path key as written: /pets/{petId} */
    char *method;     /* upper-case: GET PUT POST DELETE OPTIONS HEAD PATCH TRACE */
    int deprecated;   /* deprecated: true on the operation */
    char *pointer;    /* RFC 6901 JSON pointer of the operation in the root spec's logical
                       * tree, even when its path item came through a $ref:
                       * /paths/~1pets~1{petId}/get */
    int line;         /* 1-based line of the method key, in `file` if set, else in the
                       * spec itself (0 unknown) */
    char *file;       /* the file the operation was read from when it came through a $ref
                       * to another file (the path given to ar_spec_read_fn), else NULL */
    struct ar_spec_server *servers; /* effective servers: operation, else path item, else
                                     * root (Swagger 2: schemes x host + basePath); never
                                     * empty (one server with host "" and base "" when the
                                     * spec names none); duplicates (same host and base)
                                     * are dropped */
    size_t nservers;
    char *owner;         /* x-owner / x-team / x-ownership: operation, else path item, else
                          * info; NULL if none. An object value gives its name/team/owner
                          * string field, else its first string; an array its first
                          * string (or the same rule on its first object). */
    char *owner_pointer; /* JSON pointer of that extension (e.g. /info/x-owner), or NULL */
    char **query;        /* names of documented query parameters (path item + operation
                          * parameters, refs resolved), each once, in document order */
    size_t nquery;
    char *operation_id;  /* operationId, or NULL */
};

struct ar_spec {
    char *format;    /* "swagger-2.0" | "openapi-3.0" | "openapi-3.1" */
    char *title;     /* info.title, "" when absent */
    char *version;   /* info.version, "" when absent */
    struct ar_spec_op *ops; /* paths in document order, methods in document order */
    size_t nops;
    size_t npaths;   /* path items read (a path item with no operation still counts) */
    char **warnings; /* each a one-line human reason, e.g. "remote $ref https://... not
                      * fetched (/paths/~1x/get/responses/200)" */
    size_t nwarnings;
};

/* Reads a file another file refers to ($ref: other.yaml#/x). path is already
 * resolved relative to the referring file (lexically: "a/b/../c" -> "a/c").
 * Returns 0 with a malloc'ed buffer (freed by the loader), -1 if unreadable. */
typedef int (*ar_spec_read_fn)(void *ud, const char *path, char **data, size_t *len);

/* Parse data (JSON or YAML; JSON mode when path ends in ".json") only far
 * enough to tell what it is: 1 = declares `openapi` or `swagger` at the top
 * level (a spec), 0 = a parseable document that is not a spec (e.g. a partial
 * file other specs reference, a Backstage catalog, an empty file), -1 = cannot
 * be parsed (err: "PATH:LINE:COL: reason", 1-based). err may be NULL. */
int ar_spec_detect(const char *path, const char *data, size_t len, char *err, size_t errsz);

/* Load a spec. Returns 0 (with warnings for schema mistakes: the paths still
 * count), or -1 with err "PATH:LINE:COL: reason" when it cannot be parsed, or
 * "PATH: not an OpenAPI or Swagger document (no openapi/swagger key)" when it
 * is not a spec. rd may be NULL (refs to other files then become warnings).
 * data must stay valid during the call only. *out is set only on success. */
int ar_spec_load(const char *path, const char *data, size_t len, ar_spec_read_fn rd, void *ud,
                 struct ar_spec **out, char *err, size_t errsz);

/* A ready-made ar_spec_read_fn that reads the file from disk (ud unused);
 * refuses files over 64 MiB. */
int ar_spec_read_file(void *ud, const char *path, char **data, size_t *len);

void ar_spec_free(struct ar_spec *s);

#endif

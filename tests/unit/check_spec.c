/* check_spec.c - spec loading (inventory/spec.c) and spec matching
 * (inventory/specmatch.c).
 *
 * Three cases: "inline" (small YAML/JSON buffers, always run), "match" (the
 * matcher on inline specs and the Swagger petstore), "corpus" (real specs from
 * ../shared/corpus/specs; not added when that folder is absent, e.g. outside
 * the project's machines: $APIROSTER_SHARED, else $APIROSTER_SRC/../shared). */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "../../inventory/spec.h"
#include "../../inventory/specmatch.h"

static char corpus[4096]; /* .../corpus/specs, "" when absent */

/* ------------------------------------------------------------------ helpers */

static struct ar_spec *load_buf(const char *path, const char *text, ar_spec_read_fn rd, void *ud)
{
    struct ar_spec *s = NULL;
    char err[512];
    int r = ar_spec_load(path, text, strlen(text), rd, ud, &s, err, sizeof(err));
    ck_assert_msg(r == 0, "%s: %s", path, err);
    ck_assert_ptr_nonnull(s);
    return s;
}

static const struct ar_spec_op *find_op(const struct ar_spec *s, const char *method, const char *path)
{
    for (size_t i = 0; i < s->nops; i++)
        if (strcmp(s->ops[i].method, method) == 0 && strcmp(s->ops[i].path, path) == 0)
            return &s->ops[i];
    ck_abort_msg("no %s %s", method, path);
    return NULL;
}

static int has_warning(const struct ar_spec *s, const char *text)
{
    for (size_t i = 0; i < s->nwarnings; i++)
        if (strcmp(s->warnings[i], text) == 0)
            return 1;
    return 0;
}

static int has_warning_prefix(const struct ar_spec *s, const char *prefix)
{
    for (size_t i = 0; i < s->nwarnings; i++)
        if (strncmp(s->warnings[i], prefix, strlen(prefix)) == 0)
            return 1;
    return 0;
}

static void dump_warnings(const struct ar_spec *s)
{
    for (size_t i = 0; i < s->nwarnings; i++)
        fprintf(stderr, "  warning: %s\n", s->warnings[i]);
}

#define ASSERT_SERVER(sv, sch, h, b)                                                                 \
    do {                                                                                             \
        ck_assert_str_eq((sv).scheme, sch);                                                          \
        ck_assert_str_eq((sv).host, h);                                                              \
        ck_assert_str_eq((sv).base, b);                                                              \
    } while (0)

/* An in-memory file system for multi-file specs. */
struct memfile {
    const char *path, *text;
};
static const struct memfile *memfs;
static int mem_reads;

static int mem_read(void *ud, const char *path, char **data, size_t *len)
{
    (void)ud;
    mem_reads++;
    for (const struct memfile *f = memfs; f && f->path; f++) {
        if (strcmp(f->path, path) == 0) {
            *data = strdup(f->text);
            *len = strlen(f->text);
            return 0;
        }
    }
    return -1;
}

static char *corpus_path(const char *rel)
{
    static char buf[8192];
    snprintf(buf, sizeof(buf), "%s/%s", corpus, rel);
    return buf;
}

static struct ar_spec *load_corpus(const char *rel, ar_spec_read_fn rd)
{
    const char *p = corpus_path(rel);
    char *data = NULL;
    size_t len = 0;
    ck_assert_msg(ar_spec_read_file(NULL, p, &data, &len) == 0, "cannot read %s", p);
    struct ar_spec *s = NULL;
    char err[512];
    int r = ar_spec_load(p, data, len, rd, NULL, &s, err, sizeof(err));
    free(data);
    ck_assert_msg(r == 0, "%s: %s", p, err);
    return s;
}

/* ------------------------------------------------------------------ inline: parse and detect */

START_TEST(test_detect_inline)
{
    char err[256];
    const char *spec2 = "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n";
    const char *spec3 = "{\"openapi\": \"3.1.0\", \"info\": {\"title\": \"t\", \"version\": \"1\"}}";
    const char *catalog = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: x\n";
    const char *partial = "type: object\nproperties:\n  id: {type: integer}\n";
    ck_assert_int_eq(ar_spec_detect("a.yaml", spec2, strlen(spec2), err, sizeof(err)), 1);
    ck_assert_int_eq(ar_spec_detect("a.json", spec3, strlen(spec3), err, sizeof(err)), 1);
    ck_assert_int_eq(ar_spec_detect("c.yaml", catalog, strlen(catalog), err, sizeof(err)), 0);
    ck_assert_int_eq(ar_spec_detect("p.yaml", partial, strlen(partial), err, sizeof(err)), 0);
    ck_assert_int_eq(ar_spec_detect("e.yaml", "", 0, err, sizeof(err)), 0);
    ck_assert_int_eq(ar_spec_detect("s.yaml", "just a string\n", 14, err, sizeof(err)), 0);
    /* openapi nested, not at the top level: not a spec */
    const char *nested = "spec:\n  openapi: 3.0.0\n";
    ck_assert_int_eq(ar_spec_detect("n.yaml", nested, strlen(nested), err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_parse_error_position)
{
    char err[512];
    struct ar_spec *s = NULL;
    /* YAML: a flow sequence opened on line 5 holds mappings without commas */
    const char *y = "openapi: 3.0.0\n"
                    "info:\n"
                    "  title: t\n"
                    "  version: '1'\n"
                    "paths: [\n"
                    "  a: b\n"
                    "  c: d:\n";
    ck_assert_int_eq(ar_spec_detect("bad.yaml", y, strlen(y), err, sizeof(err)), -1);
    /* the second entry "c: d:" (line 7) is where the missing comma is found */
    ck_assert_msg(strncmp(err, "bad.yaml:7:4: ", 14) == 0, "%s", err);
    ck_assert_msg(strstr(err, "flow sequence") != NULL, "%s", err);
    ck_assert_int_eq(ar_spec_load("bad.yaml", y, strlen(y), NULL, NULL, &s, err, sizeof(err)), -1);
    ck_assert_ptr_null(s);

    /* JSON: a trailing comma on line 4, column 15 */
    const char *j = "{\n"
                    "  \"openapi\": \"3.0.0\",\n"
                    "  \"info\": {\"title\": \"t\", \"version\": \"1\"},\n"
                    "  \"paths\": {},\n"
                    "}\n";
    ck_assert_int_eq(ar_spec_load("dir/bad.json", j, strlen(j), NULL, NULL, &s, err, sizeof(err)), -1);
    ck_assert_msg(strncmp(err, "dir/bad.json:4:14: ", 19) == 0, "%s", err);
    ck_assert_msg(strstr(err, "trailing comma") != NULL, "%s", err);

    /* a tab-indented YAML key on line 3 */
    const char *t = "openapi: 3.0.0\ninfo:\n\ttitle: x\n";
    ck_assert_int_eq(ar_spec_load("tab.yaml", t, strlen(t), NULL, NULL, &s, err, sizeof(err)), -1);
    ck_assert_msg(strncmp(err, "tab.yaml:3:1: ", 14) == 0, "%s", err);

    /* bytes YAML forbids are refused with their position before libfyaml sees
     * them: this input (from fuzz_spec) made libfyaml 0.7.12 loop forever in
     * fy_scan_directive */
    static const char hang[] = " % QQQQQQQQQQQQ\0]\0\0\0\0\0\0\xf8\x0b";
    ck_assert_int_eq(ar_spec_detect("f.yaml", hang, sizeof(hang) - 1, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "f.yaml:1:16: control character (not allowed in YAML)");
    const char *bad8 = "openapi: 3.0.0\ninfo: {title: \"\xc3\x28\"}\n";
    ck_assert_int_eq(ar_spec_load("u.yaml", bad8, strlen(bad8), NULL, NULL, &s, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "u.yaml:2:16: invalid UTF-8");

    /* parseable, not a spec */
    const char *p = "type: object\n";
    ck_assert_int_eq(ar_spec_load("Pet.yaml", p, strlen(p), NULL, NULL, &s, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "Pet.yaml: not an OpenAPI or Swagger document (no openapi/swagger key)");
}
END_TEST

/* ------------------------------------------------------------------ inline: servers */

START_TEST(test_server_variables)
{
    const char *y = "openapi: 3.0.3\n"
                    "info: {title: vars, version: '1'}\n"
                    "servers:\n"
                    "  - url: '{scheme}://{region}.API.example.com:{port}/{basePath}/'\n"
                    "    variables:\n"
                    "      scheme: {default: https, enum: [https, http]}\n"
                    "      region: {default: eu}\n"
                    "      port: {default: '443'}\n"
                    "      basePath: {default: v2}\n"
                    "  - url: http://api.example.com:80/\n"
                    "  - url: https://api.x.com:8443/v2\n"
                    "  - url: /v1\n"
                    "  - url: https://api.x.com:8443/v2/\n" /* same host and base: dropped */
                    "paths:\n"
                    "  /a:\n"
                    "    get: {responses: {'200': {description: ok}}}\n";
    struct ar_spec *s = load_buf("vars.yaml", y, NULL, NULL);
    ck_assert_str_eq(s->format, "openapi-3.0");
    ck_assert_str_eq(s->title, "vars");
    ck_assert_uint_eq(s->nops, 1);
    const struct ar_spec_op *op = &s->ops[0];
    ck_assert_uint_eq(op->nservers, 4);
    ASSERT_SERVER(op->servers[0], "https", "eu.api.example.com", "/v2");
    ASSERT_SERVER(op->servers[1], "http", "api.example.com", "");
    ASSERT_SERVER(op->servers[2], "https", "api.x.com:8443", "/v2");
    ASSERT_SERVER(op->servers[3], "", "", "/v1");
    ck_assert_uint_eq(s->nwarnings, 0);
    ar_spec_free(s);

    /* no servers at all: one relative server */
    const char *n = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a: {get: {}}\n";
    s = load_buf("n.yaml", n, NULL, NULL);
    ck_assert_str_eq(s->format, "openapi-3.1");
    ck_assert_uint_eq(s->ops[0].nservers, 1);
    ASSERT_SERVER(s->ops[0].servers[0], "", "", "");
    ar_spec_free(s);
}
END_TEST

START_TEST(test_op_servers_override)
{
    const char *y = "openapi: 3.0.0\n"
                    "info: {title: t, version: '1'}\n"
                    "servers: [{url: 'https://root.example.com/r'}]\n"
                    "paths:\n"
                    "  /p:\n"
                    "    servers: [{url: 'https://path.example.com/p1'}]\n"
                    "    get:\n"
                    "      servers: [{url: 'https://op.example.com'}, {url: 'http://op.example.com:8080/o'}]\n"
                    "    put: {}\n"
                    "  /q:\n"
                    "    get: {}\n";
    struct ar_spec *s = load_buf("o.yaml", y, NULL, NULL);
    ck_assert_uint_eq(s->nops, 3);
    const struct ar_spec_op *g = find_op(s, "GET", "/p");
    ck_assert_uint_eq(g->nservers, 2);
    ASSERT_SERVER(g->servers[0], "https", "op.example.com", "");
    ASSERT_SERVER(g->servers[1], "http", "op.example.com:8080", "/o");
    const struct ar_spec_op *p = find_op(s, "PUT", "/p");
    ck_assert_uint_eq(p->nservers, 1);
    ASSERT_SERVER(p->servers[0], "https", "path.example.com", "/p1");
    const struct ar_spec_op *q = find_op(s, "GET", "/q");
    ck_assert_uint_eq(q->nservers, 1);
    ASSERT_SERVER(q->servers[0], "https", "root.example.com", "/r");
    ar_spec_free(s);
}
END_TEST

START_TEST(test_swagger_servers)
{
    const char *y = "swagger: '2.0'\n"
                    "info: {title: t, version: '1'}\n"
                    "host: Api.Example.com:443\n"
                    "basePath: /api/\n"
                    "schemes: [https, http]\n"
                    "paths:\n"
                    "  /a: {get: {}}\n";
    struct ar_spec *s = load_buf("s.yaml", y, NULL, NULL);
    ck_assert_str_eq(s->format, "swagger-2.0");
    ck_assert_uint_eq(s->ops[0].nservers, 2);
    ASSERT_SERVER(s->ops[0].servers[0], "https", "api.example.com", "/api");
    ASSERT_SERVER(s->ops[0].servers[1], "http", "api.example.com:443", "/api");
    ar_spec_free(s);

    /* no host: relative */
    const char *r = "swagger: '2.0'\ninfo: {title: t, version: '1'}\nbasePath: /v1\npaths:\n  /a: {get: {}}\n";
    s = load_buf("r.yaml", r, NULL, NULL);
    ck_assert_uint_eq(s->ops[0].nservers, 1);
    ASSERT_SERVER(s->ops[0].servers[0], "", "", "/v1");
    ar_spec_free(s);
}
END_TEST

/* ------------------------------------------------------------------ inline: operations */

START_TEST(test_owner_precedence)
{
    const char *y = "openapi: 3.0.0\n"
                    "info:\n"
                    "  title: t\n"
                    "  version: '1'\n"
                    "  x-owner: team-info\n"
                    "paths:\n"
                    "  /a:\n"
                    "    x-team: team-path\n"
                    "    get:\n"
                    "      x-owner: {kind: group, name: team-op}\n"
                    "    post: {}\n"
                    "    put:\n"
                    "      x-ownership: [{team: team-arr}]\n"
                    "  /b:\n"
                    "    get: {}\n";
    struct ar_spec *s = load_buf("own.yaml", y, NULL, NULL);
    const struct ar_spec_op *op = find_op(s, "GET", "/a");
    ck_assert_str_eq(op->owner, "team-op");
    ck_assert_str_eq(op->owner_pointer, "/paths/~1a/get/x-owner");
    op = find_op(s, "POST", "/a");
    ck_assert_str_eq(op->owner, "team-path");
    ck_assert_str_eq(op->owner_pointer, "/paths/~1a/x-team");
    op = find_op(s, "PUT", "/a");
    ck_assert_str_eq(op->owner, "team-arr");
    ck_assert_str_eq(op->owner_pointer, "/paths/~1a/put/x-ownership");
    op = find_op(s, "GET", "/b");
    ck_assert_str_eq(op->owner, "team-info");
    ck_assert_str_eq(op->owner_pointer, "/info/x-owner");
    ar_spec_free(s);

    const char *none = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a: {get: {}}\n";
    s = load_buf("none.yaml", none, NULL, NULL);
    ck_assert_ptr_null(s->ops[0].owner);
    ck_assert_ptr_null(s->ops[0].owner_pointer);
    ar_spec_free(s);
}
END_TEST

START_TEST(test_deprecated_lines_query)
{
    const char *y = "openapi: 3.0.0\n"                                   /* 1 */
                    "info: {title: t, version: '1'}\n"                   /* 2 */
                    "paths:\n"                                           /* 3 */
                    "  /pets/{petId}:\n"                                 /* 4 */
                    "    parameters:\n"                                  /* 5 */
                    "      - {name: petId, in: path, required: true}\n"  /* 6 */
                    "      - {name: fields, in: query}\n"                /* 7 */
                    "    get:\n"                                         /* 8 */
                    "      operationId: getPet\n"                        /* 9 */
                    "      deprecated: true\n"                           /* 10 */
                    "      parameters:\n"                                /* 11 */
                    "        - $ref: '#/components/parameters/Limit'\n"  /* 12 */
                    "        - {name: fields, in: query}\n"              /* 13 */
                    "        - {name: X-Trace, in: header}\n"            /* 14 */
                    "    delete:\n"                                      /* 15 */
                    "      deprecated: false\n"                          /* 16 */
                    "    patch: {}\n"                                    /* 17 */
                    "components:\n"
                    "  parameters:\n"
                    "    Limit: {name: limit, in: query}\n";
    struct ar_spec *s = load_buf("d.yaml", y, NULL, NULL);
    ck_assert_uint_eq(s->nops, 3);
    ck_assert_uint_eq(s->npaths, 1);
    const struct ar_spec_op *g = &s->ops[0];
    ck_assert_str_eq(g->method, "GET");
    ck_assert_str_eq(g->path, "/pets/{petId}");
    ck_assert_str_eq(g->pointer, "/paths/~1pets~1{petId}/get");
    ck_assert_int_eq(g->line, 8);
    ck_assert_ptr_null(g->file);
    ck_assert_int_eq(g->deprecated, 1);
    ck_assert_str_eq(g->operation_id, "getPet");
    ck_assert_uint_eq(g->nquery, 2);
    ck_assert_str_eq(g->query[0], "fields");
    ck_assert_str_eq(g->query[1], "limit");
    const struct ar_spec_op *d = &s->ops[1];
    ck_assert_str_eq(d->method, "DELETE");
    ck_assert_int_eq(d->deprecated, 0);
    ck_assert_int_eq(d->line, 15);
    ck_assert_ptr_null(d->operation_id);
    ck_assert_uint_eq(d->nquery, 1);
    ck_assert_int_eq(s->ops[2].deprecated, 0);
    ck_assert_int_eq(s->ops[2].line, 17);
    ck_assert_uint_eq(s->nwarnings, 0);
    ar_spec_free(s);
}
END_TEST

START_TEST(test_tolerance)
{
    /* unknown keys, non-mapping operation, x- and non-method keys, no info */
    const char *y = "openapi: 3.0.0\n"
                    "paths:\n"
                    "  x-internal: {get: {}}\n"
                    "  /a:\n"
                    "    summary: s\n"
                    "    description: d\n"
                    "    servers: [{url: /x}]\n"
                    "    parameters: []\n"
                    "    x-foo: {get: {}}\n"
                    "    fetch: {}\n"
                    "    get: 'todo'\n"
                    "    post: {}\n"
                    "    head: {}\n"
                    "    options: {}\n"
                    "    trace: {}\n"
                    "  /b: 42\n"
                    "  /c:\n"
                    "    put: {}\n";
    struct ar_spec *s = load_buf("t.yaml", y, NULL, NULL);
    ck_assert_uint_eq(s->nops, 5); /* POST HEAD OPTIONS TRACE /a, PUT /c */
    ck_assert_str_eq(s->title, "");
    ck_assert_str_eq(s->version, "");
    find_op(s, "HEAD", "/a");
    find_op(s, "TRACE", "/a");
    find_op(s, "PUT", "/c");
    ck_assert(has_warning(s, "no info (/info)"));
    ck_assert(has_warning(s, "unknown key 'fetch' in path item, not an operation (/paths/~1a)"));
    ck_assert(has_warning(s, "operation is not a mapping, skipped (/paths/~1a/get)"));
    ck_assert(has_warning(s, "path item is not a mapping, skipped (/paths/~1b)"));
    ck_assert_uint_eq(s->nwarnings, 4);
    ar_spec_free(s);

    /* paths that is not a mapping */
    const char *p = "{\"openapi\": \"3.0.0\", \"info\": {\"title\": \"t\", \"version\": \"1\"}, \"paths\": []}";
    s = load_buf("p.json", p, NULL, NULL);
    ck_assert_uint_eq(s->nops, 0);
    ck_assert(has_warning(s, "paths is not a mapping (/paths)"));
    ck_assert(has_warning(s, "no paths"));
    ar_spec_free(s);

    /* unknown versions are read, with a warning */
    const char *v = "openapi: 3.2.0\ninfo: {title: t, version: '1'}\npaths: {/a: {get: {}}}\n";
    s = load_buf("v.yaml", v, NULL, NULL);
    ck_assert_str_eq(s->format, "openapi-3.1");
    ck_assert(has_warning(s, "openapi version '3.2.0' not known, read as 3.1 (/openapi)"));
    ar_spec_free(s);
}
END_TEST

START_TEST(test_local_path_item_ref)
{
    const char *y = "openapi: 3.1.0\n"
                    "info: {title: t, version: '1'}\n"
                    "paths:\n"
                    "  /x:\n"
                    "    $ref: '#/components/pathItems/X'\n"
                    "  /y:\n"
                    "    $ref: '#/components/pathItems/Y'\n"
                    "  /z:\n"
                    "    $ref: '#/components/pathItems/Missing'\n"
                    "  /loop:\n"
                    "    $ref: '#/components/pathItems/A'\n"
                    "components:\n"
                    "  pathItems:\n"
                    "    X:\n"
                    "      get: {operationId: getX}\n"
                    "      delete: {}\n"
                    "    Y:\n"
                    "      $ref: '#/components/pathItems/X'\n"
                    "    A: {$ref: '#/components/pathItems/B'}\n"
                    "    B: {$ref: '#/components/pathItems/A'}\n";
    struct ar_spec *s = load_buf("r.yaml", y, NULL, NULL);
    ck_assert_uint_eq(s->nops, 4);
    const struct ar_spec_op *op = find_op(s, "GET", "/x");
    ck_assert_str_eq(op->operation_id, "getX");
    ck_assert_str_eq(op->pointer, "/paths/~1x/get");
    ck_assert_int_eq(op->line, 15);
    ck_assert_ptr_null(op->file);
    find_op(s, "DELETE", "/y");
    ck_assert(has_warning(s, "$ref #/components/pathItems/Missing not found (/paths/~1z)"));
    ck_assert(has_warning(s, "$ref chain longer than 32, a cycle? (/paths/~1loop)"));
    ck_assert_uint_eq(s->nwarnings, 2);
    ar_spec_free(s);
}
END_TEST

START_TEST(test_multi_file_refs)
{
    static const struct memfile files[] = {
        { "specs/paths/pets.yaml", "get:\n"
                                   "  operationId: listPets\n"
                                   "  parameters:\n"
                                   "    - $ref: '../common/params.yaml#/limit'\n"
                                   "    - $ref: '#/x-params/local'\n"
                                   "post:\n"
                                   "  x-owner: team-pets\n"
                                   "x-params: {local: {name: cursor, in: query}}\n" },
        { "specs/common/params.yaml", "limit: {name: limit, in: query}\n"
                                      "other: {$ref: 'deep.yaml#/p'}\n" },
        { "specs/common/deep.yaml", "p: {name: deep, in: query}\n" },
        { "specs/items.json", "{\"Item\": {\"delete\": {\"parameters\": [{\"$ref\": \"common/params.yaml#/other\"}]}}}" },
        { "specs/self.yaml", "a: {$ref: 'self.yaml#/b'}\nb: {$ref: './self.yaml#/a'}\n" },
        { NULL, NULL },
    };
    const char *root = "openapi: 3.0.0\n"
                       "info: {title: multi, version: '1'}\n"
                       "paths:\n"
                       "  /pets:\n"
                       "    $ref: ./paths/pets.yaml\n"
                       "  /items/{id}:\n"
                       "    $ref: 'items.json#/Item'\n"
                       "  /gone:\n"
                       "    $ref: nowhere.yaml\n"
                       "  /gone2:\n"
                       "    $ref: nowhere.yaml#/x\n"
                       "  /self:\n"
                       "    $ref: self.yaml#/a\n"
                       "  /remote:\n"
                       "    $ref: 'https://example.com/paths.yaml#/x'\n";
    memfs = files;
    mem_reads = 0;
    struct ar_spec *s = load_buf("specs/root.yaml", root, mem_read, NULL);
    dump_warnings(s);
    ck_assert_uint_eq(s->nops, 3);
    const struct ar_spec_op *g = find_op(s, "GET", "/pets");
    ck_assert_str_eq(g->file, "specs/paths/pets.yaml");
    ck_assert_int_eq(g->line, 1);
    ck_assert_str_eq(g->pointer, "/paths/~1pets/get");
    ck_assert_str_eq(g->operation_id, "listPets");
    ck_assert_uint_eq(g->nquery, 2);
    ck_assert_str_eq(g->query[0], "limit");
    ck_assert_str_eq(g->query[1], "cursor");
    const struct ar_spec_op *p = find_op(s, "POST", "/pets");
    ck_assert_int_eq(p->line, 6);
    ck_assert_str_eq(p->owner, "team-pets");
    const struct ar_spec_op *d = find_op(s, "DELETE", "/items/{id}");
    ck_assert_str_eq(d->file, "specs/items.json");
    ck_assert_uint_eq(d->nquery, 1);
    ck_assert_str_eq(d->query[0], "deep");
    ck_assert(has_warning(s, "$ref to file specs/nowhere.yaml: cannot read it (/paths/~1gone)"));
    ck_assert(has_warning(s, "$ref chain longer than 32, a cycle? (/paths/~1self)"));
    ck_assert(has_warning(s, "remote $ref https://example.com/paths.yaml#/x not fetched (/paths/~1remote)"));
    ck_assert_uint_eq(s->nwarnings, 3); /* nowhere.yaml warned once */
    ck_assert_int_eq(mem_reads, 6);     /* each file read once (nowhere.yaml: one failed read) */
    ar_spec_free(s);

    /* a $ref to a file that is not .json/.yaml/.yml is never read (so /etc/shadow
     * is never copied into the database by an import), warned once */
    const char *leak = "openapi: 3.0.0\n"
                       "info: {title: leak, version: '1'}\n"
                       "paths:\n"
                       "  /b: {$ref: '../../../../etc/passwd'}\n"
                       "  /c: {$ref: '/etc/shadow#/x'}\n"
                       "  /d: {$ref: '/etc/shadow#/y'}\n";
    mem_reads = 0;
    s = load_buf("specs/leak.yaml", leak, mem_read, NULL);
    dump_warnings(s);
    ck_assert_int_eq(mem_reads, 0);
    ck_assert(has_warning(s, "$ref to file ../../../etc/passwd not followed: not a .json, .yaml or .yml file (/paths/~1b)"));
    ck_assert(has_warning(s, "$ref to file /etc/shadow not followed: not a .json, .yaml or .yml file (/paths/~1c)"));
    ck_assert_uint_eq(s->nwarnings, 3); /* the two refs (/etc/shadow once) and "no paths" */
    ar_spec_free(s);

    /* without a reader: refs to files are warnings, the rest still counts */
    s = load_buf("specs/root.yaml", root, NULL, NULL);
    ck_assert_uint_eq(s->nops, 0);
    ck_assert(has_warning(s, "$ref to file specs/paths/pets.yaml not followed (no file reader) (/paths/~1pets)"));
    ck_assert(has_warning(s, "no paths"));
    ar_spec_free(s);
}
END_TEST

START_TEST(test_remote_ref_never_fetched)
{
    const char *y = "openapi: 3.0.0\n"
                    "info: {title: t, version: '1'}\n"
                    "paths:\n"
                    "  /a:\n"
                    "    get:\n"
                    "      parameters: [{$ref: 'http://example.com/p.yaml#/P'}]\n"
                    "      responses:\n"
                    "        '200': {$ref: 'http://example.com/p.yaml#/R'}\n"
                    "        '404': {$ref: 'https://example.org/r.yaml'}\n";
    mem_reads = 0;
    memfs = NULL;
    struct ar_spec *s = load_buf("r.yaml", y, mem_read, NULL);
    ck_assert_int_eq(mem_reads, 0);
    ck_assert_uint_eq(s->nops, 1);
    ck_assert_uint_eq(s->nwarnings, 2); /* one per remote document */
    ck_assert_str_eq(s->warnings[0], "remote $ref http://example.com/p.yaml#/P not fetched (/paths/~1a/get/parameters/0)");
    ck_assert_str_eq(s->warnings[1], "remote $ref https://example.org/r.yaml not fetched (/paths/~1a/get/responses/404)");
    ar_spec_free(s);
}
END_TEST

/* ------------------------------------------------------------------ match */

static const char *MATCH_SPEC =
    "openapi: 3.0.0\n"
    "info: {title: shop, version: '1'}\n"
    "servers: [{url: 'https://shop.example.test/api'}]\n"
    "paths:\n"
    "  /users/{id}: {get: {}, delete: {}}\n"
    "  /users/me: {get: {}}\n"
    "  /users/{id}/orders/{orderId}: {get: {}}\n"
    "  /files/{name}.json: {get: {}}\n"
    "  /files/{path}: {get: {}}\n"
    "  /files/report-{date}.csv: {get: {}}\n"
    "  /pets/{petId}: {get: {deprecated: true}, put: {}}\n"
    "  /pets: {get: {}, head: {}}\n"
    "  /: {get: {}}\n";

static const char *HOSTLESS_SPEC = "openapi: 3.0.0\n"
                                   "info: {title: any, version: '1'}\n"
                                   "servers: [{url: /api}]\n"
                                   "paths:\n"
                                   "  /users/me: {post: {}}\n"
                                   "  /status: {get: {}}\n";

#define M(set_, host_, meth_, path_, want_kind, want_tmpl, want_method)                          \
    do {                                                                                         \
        struct ar_spec_match m_;                                                                 \
        enum ar_match_kind k_ = ar_specset_match((set_), (host_), (meth_), (path_), &m_);        \
        ck_assert_msg(k_ == (want_kind) && m_.kind == k_, "%s %s %s: kind %d, want %d", (host_), \
                      (meth_), (path_), (int)k_, (int)(want_kind));                              \
        ck_assert_msg(strcmp(m_.tmpl, (want_tmpl)) == 0, "%s %s: tmpl %s, want %s", (meth_),     \
                      (path_), m_.tmpl, (want_tmpl));                                            \
        if (want_method)                                                                         \
            ck_assert_str_eq(m_.op->method, (const char *)(want_method));                        \
    } while (0)

static struct ar_spec *shop, *anyhost;
static struct ar_specset *ss;

static void match_setup(void)
{
    shop = load_buf("shop.yaml", MATCH_SPEC, NULL, NULL);
    anyhost = load_buf("any.yaml", HOSTLESS_SPEC, NULL, NULL);
    ss = ar_specset_new();
    ar_specset_add(ss, anyhost, "specs/any.yaml"); /* added first: host still wins */
    ar_specset_add(ss, shop, "specs/shop.yaml");
}

static void match_teardown(void)
{
    ar_specset_free(ss);
    ar_spec_free(shop);
    ar_spec_free(anyhost);
}

START_TEST(test_match_basics)
{
    const char *h = "shop.example.test";
    M(ss, h, "GET", "/api/users/42", AR_MATCH_OP, "/api/users/{id}", "GET");
    M(ss, h, "DELETE", "/api/users/42", AR_MATCH_OP, "/api/users/{id}", "DELETE");
    M(ss, h, "GET", "/api/users/42?x=1", AR_MATCH_OP, "/api/users/{id}", "GET");
    M(ss, h, "GET", "/api/users/42/", AR_MATCH_OP, "/api/users/{id}", "GET");
    M(ss, h, "GET", "/api/", AR_MATCH_OP, "/api", "GET");
    M(ss, h, "GET", "/api", AR_MATCH_OP, "/api", "GET");
    M(ss, h, "GET", "/users/42", AR_MATCH_NONE, "", NULL); /* base path first */
    M(ss, h, "GET", "/api/orders", AR_MATCH_NONE, "", NULL);
    M(ss, "other.test", "GET", "/api/users/42", AR_MATCH_NONE, "", NULL);
    M(ss, "Shop.Example.Test:443", "GET", "/api/users/42", AR_MATCH_OP, "/api/users/{id}", "GET");
    M(ss, "shop.example.test:8443", "GET", "/api/users/42", AR_MATCH_NONE, "", NULL);
    struct ar_spec_match m;
    ck_assert_int_eq(ar_specset_match(ss, h, "GET", "/api/pets/7", &m), AR_MATCH_OP);
    ck_assert_ptr_eq(m.spec, shop);
    ck_assert_str_eq(m.source, "specs/shop.yaml");
    ck_assert_int_eq(m.op->deprecated, 1);
    ck_assert_str_eq(m.op->pointer, "/paths/~1pets~1{petId}/get");
    ck_assert_str_eq(m.server->host, "shop.example.test");
    ck_assert_int_eq(ar_specset_match(ss, h, "GET", "/nothing", NULL), AR_MATCH_NONE);
}
END_TEST

START_TEST(test_match_head_falls_back_to_get)
{
    const char *h = "shop.example.test";
    M(ss, h, "HEAD", "/api/users/42", AR_MATCH_OP, "/api/users/{id}", "GET");
    M(ss, h, "HEAD", "/api/pets", AR_MATCH_OP, "/api/pets", "HEAD"); /* a documented HEAD wins */
    M(ss, h, "GET", "/api/pets", AR_MATCH_OP, "/api/pets", "GET");
    M(ss, h, "POST", "/api/pets", AR_MATCH_PATH, "/api/pets", NULL);
    M(ss, h, "get", "/api/pets", AR_MATCH_PATH, "/api/pets", NULL); /* methods as sent */
}
END_TEST

START_TEST(test_match_path_undocumented_method)
{
    const char *h = "shop.example.test";
    struct ar_spec_match m;
    ck_assert_int_eq(ar_specset_match(ss, h, "PATCH", "/api/users/42", &m), AR_MATCH_PATH);
    ck_assert_str_eq(m.tmpl, "/api/users/{id}");
    ck_assert_str_eq(m.op->path, "/users/{id}");
    /* /users/me is the path (concrete wins), it has no DELETE: PATH, not /users/{id}'s DELETE */
    M(ss, h, "DELETE", "/api/users/me", AR_MATCH_PATH, "/api/users/me", NULL);
}
END_TEST

START_TEST(test_match_concrete_beats_template)
{
    const char *h = "shop.example.test";
    M(ss, h, "GET", "/api/users/me", AR_MATCH_OP, "/api/users/me", "GET");
    M(ss, h, "GET", "/api/users/mee", AR_MATCH_OP, "/api/users/{id}", "GET");
    M(ss, h, "GET", "/api/users/me/orders/9", AR_MATCH_OP, "/api/users/{id}/orders/{orderId}", "GET");
}
END_TEST

START_TEST(test_match_param_never_spans_slash)
{
    const char *h = "shop.example.test";
    M(ss, h, "GET", "/api/users/1/2", AR_MATCH_NONE, "", NULL);
    M(ss, h, "GET", "/api/files/a/b.json", AR_MATCH_NONE, "", NULL);
    M(ss, h, "GET", "/api/users//orders/1", AR_MATCH_NONE, "", NULL); /* empty segment is no value */
}
END_TEST

START_TEST(test_match_mixed_segments)
{
    const char *h = "shop.example.test";
    M(ss, h, "GET", "/api/files/catalog.json", AR_MATCH_OP, "/api/files/{name}.json", "GET");
    M(ss, h, "GET", "/api/files/a.b.json", AR_MATCH_OP, "/api/files/{name}.json", "GET");
    M(ss, h, "GET", "/api/files/.json", AR_MATCH_OP, "/api/files/{path}", "GET"); /* {name} needs a byte */
    M(ss, h, "GET", "/api/files/catalog.xml", AR_MATCH_OP, "/api/files/{path}", "GET");
    M(ss, h, "GET", "/api/files/report-2026-01-01.csv", AR_MATCH_OP, "/api/files/report-{date}.csv", "GET");
}
END_TEST

START_TEST(test_match_roster_templates)
{
    const char *h = "shop.example.test";
    M(ss, h, "GET", "/api/pets/{petId}", AR_MATCH_OP, "/api/pets/{petId}", "GET");
    M(ss, h, "PUT", "/api/pets/{id}", AR_MATCH_OP, "/api/pets/{petId}", "PUT");
    /* a roster {x} never matches a literal spec segment */
    M(ss, h, "GET", "/api/users/{userId}", AR_MATCH_OP, "/api/users/{id}", "GET");
    M(ss, h, "GET", "/api/{x}/me", AR_MATCH_NONE, "", NULL);
    /* {sku}.json against {name}.json (same shape) beats {path} */
    M(ss, h, "GET", "/api/files/{sku}.json", AR_MATCH_OP, "/api/files/{name}.json", "GET");
    M(ss, h, "GET", "/api/files/{sku}.xml", AR_MATCH_OP, "/api/files/{path}", "GET");
    M(ss, h, "GET", "/api/files/report-{date}.csv", AR_MATCH_OP, "/api/files/report-{date}.csv", "GET");
}
END_TEST

START_TEST(test_match_host_beats_hostless)
{
    const char *h = "shop.example.test";
    /* both specs document /api/users/me; the one naming the host wins */
    struct ar_spec_match m;
    ck_assert_int_eq(ar_specset_match(ss, h, "GET", "/api/users/me", &m), AR_MATCH_OP);
    ck_assert_ptr_eq(m.spec, shop);
    /* the host's spec documents the path, not POST: its verdict stands */
    ck_assert_int_eq(ar_specset_match(ss, h, "POST", "/api/users/me", &m), AR_MATCH_PATH);
    ck_assert_ptr_eq(m.spec, shop);
    /* a path only the hostless spec has */
    ck_assert_int_eq(ar_specset_match(ss, h, "GET", "/api/status", &m), AR_MATCH_OP);
    ck_assert_ptr_eq(m.spec, anyhost);
    ck_assert_str_eq(m.source, "specs/any.yaml");
    ck_assert_str_eq(m.tmpl, "/api/status");
    /* any other host: only the hostless spec */
    ck_assert_int_eq(ar_specset_match(ss, "x.test:8080", "POST", "/api/users/me", &m), AR_MATCH_OP);
    ck_assert_ptr_eq(m.spec, anyhost);
    ck_assert_int_eq(ar_specset_match(ss, "x.test", "GET", "/api/users/me", &m), AR_MATCH_PATH);
    /* a subdomain (regional or edge name) of the spec's host: that spec, below the host's
     * own and above the hostless one; never a mere suffix, never another port */
    ck_assert_int_eq(ar_specset_match(ss, "eu.shop.example.test", "GET", "/api/users/me", &m),
                     AR_MATCH_OP);
    ck_assert_ptr_eq(m.spec, shop);
    ck_assert_int_eq(ar_specset_match(ss, "eu.shop.example.test:80", "GET", "/api/users/me", &m),
                     AR_MATCH_OP);
    ck_assert_ptr_eq(m.spec, shop);
    ck_assert_int_eq(ar_specset_match(ss, "myshop.example.test", "GET", "/api/users/me", &m),
                     AR_MATCH_PATH);
    ck_assert_ptr_eq(m.spec, anyhost);
    ck_assert_int_eq(ar_specset_match(ss, "eu.shop.example.test:8080", "GET", "/api/users/me", &m),
                     AR_MATCH_PATH);
    ck_assert_ptr_eq(m.spec, anyhost);
}
END_TEST

START_TEST(test_specset_entries)
{
    /* shop: 12 operations, 1 server; any: 2 operations */
    ck_assert_uint_eq(ar_specset_count(ss), 14);
    struct ar_spec_entry e;
    ck_assert_int_eq(ar_specset_entry(ss, 0, &e), 0);
    ck_assert_ptr_eq(e.spec, anyhost);
    ck_assert_str_eq(e.tmpl, "/api/users/me");
    ck_assert_str_eq(e.op->method, "POST");
    ck_assert_str_eq(e.server->host, "");
    ck_assert_int_eq(ar_specset_entry(ss, 2, &e), 0);
    ck_assert_str_eq(e.tmpl, "/api/users/{id}");
    ck_assert_str_eq(e.source, "specs/shop.yaml");
    ck_assert_int_eq(ar_specset_entry(ss, 13, &e), 0);
    ck_assert_str_eq(e.tmpl, "/api");
    ck_assert_int_eq(ar_specset_entry(ss, 14, &e), -1);
    /* the longest: /api/users/{id}/orders/{orderId}; the owner judge tries no
     * ancestor with more segments */
    ck_assert_uint_eq(ar_specset_max_segs(ss), 5);
    struct ar_specset *empty = ar_specset_new();
    ck_assert_uint_eq(ar_specset_count(empty), 0);
    ck_assert_uint_eq(ar_specset_max_segs(empty), 0);
    ck_assert_int_eq(ar_specset_match(empty, "h", "GET", "/", NULL), AR_MATCH_NONE);
    ar_specset_free(empty);
}
END_TEST

/* ------------------------------------------------------------------ corpus */

static int n_specs, n_partials, n_bad;

static int detect_one(const char *fpath, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag != FTW_F)
        return 0;
    char *data = NULL;
    size_t len = 0;
    ck_assert_int_eq(ar_spec_read_file(NULL, fpath, &data, &len), 0);
    char err[512];
    int d = ar_spec_detect(fpath, data, len, err, sizeof(err));
    /* the partial documents are the petstore-separate pieces other than swagger.* */
    int partial = strstr(fpath, "/petstore-separate/") && !strstr(fpath, "/swagger.");
    ck_assert_msg(d == (partial ? 0 : 1), "%s: detect %d (%s)", fpath, d, err);
    struct ar_spec *s = NULL;
    int r = ar_spec_load(fpath, data, len, ar_spec_read_file, NULL, &s, err, sizeof(err));
    if (partial) {
        ck_assert_int_eq(r, -1);
        char want[8192];
        snprintf(want, sizeof(want), "%s: not an OpenAPI or Swagger document (no openapi/swagger key)", fpath);
        ck_assert_str_eq(err, want);
        n_partials++;
    } else {
        ck_assert_msg(r == 0, "%s: %s", fpath, err);
        ar_spec_free(s);
        n_specs++;
    }
    if (d < 0)
        n_bad++;
    free(data);
    return 0;
}

START_TEST(test_corpus_detect_every_file)
{
    n_specs = n_partials = n_bad = 0;
    ck_assert_int_eq(nftw(corpus, detect_one, 16, FTW_PHYS), 0);
    ck_assert_int_eq(n_specs, 51);
    ck_assert_int_eq(n_partials, 8);
    ck_assert_int_eq(n_bad, 0);
}
END_TEST

/* MANIFEST.tsv says "N paths / M operations" for each spec: check both. */
START_TEST(test_corpus_manifest_counts)
{
    char mpath[8192];
    snprintf(mpath, sizeof(mpath), "%s/../MANIFEST.tsv", corpus);
    FILE *f = fopen(mpath, "r");
    ck_assert_ptr_nonnull(f);
    char line[16384];
    int checked = 0;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "specs/", 6) != 0)
            continue;
        char *tab = strchr(line, '\t');
        ck_assert_ptr_nonnull(tab);
        *tab = 0;
        char *desc = tab + 1;
        for (int i = 0; i < 5 && desc; i++) { /* column 7: contents */
            desc = strchr(desc, '\t');
            if (desc)
                desc++;
        }
        ck_assert_ptr_nonnull(desc);
        const char *semi = strstr(desc, "; ");
        unsigned np = 0, no = 0;
        while (semi && sscanf(semi, "; %u paths / %u operations", &np, &no) != 2)
            semi = strstr(semi + 1, "; ");
        if (!semi)
            continue; /* partial documents */
        struct ar_spec *s = load_corpus(line + 6, ar_spec_read_file);
        ck_assert_msg(s->npaths == np && s->nops == no, "%s: %zu paths / %zu operations, manifest says %u / %u",
                      line, s->npaths, s->nops, np, no);
        ar_spec_free(s);
        checked++;
    }
    fclose(f);
    ck_assert_int_eq(checked, 51);
}
END_TEST

START_TEST(test_corpus_swagger_petstore_v2)
{
    struct ar_spec *s = load_corpus("swagger-petstore/petstore-v2-swagger.json", NULL);
    ck_assert_str_eq(s->format, "swagger-2.0");
    ck_assert_str_eq(s->title, "Swagger Petstore");
    ck_assert_str_eq(s->version, "1.0.5");
    ck_assert_uint_eq(s->nops, 20);
    ck_assert_uint_eq(s->npaths, 14);
    ck_assert_uint_eq(s->nwarnings, 0);
    const struct ar_spec_op *op = find_op(s, "GET", "/pet/{petId}");
    ck_assert_str_eq(op->pointer, "/paths/~1pet~1{petId}/get");
    ck_assert_int_eq(op->line, 295);
    ck_assert_str_eq(op->operation_id, "getPetById");
    ck_assert_uint_eq(op->nservers, 1);
    ASSERT_SERVER(op->servers[0], "https", "petstore.swagger.io", "/v2");
    ck_assert_int_eq(find_op(s, "GET", "/pet/findByTags")->deprecated, 1);
    ck_assert_int_eq(find_op(s, "GET", "/pet/findByStatus")->deprecated, 0);
    op = find_op(s, "GET", "/user/login");
    ck_assert_uint_eq(op->nquery, 2);
    ck_assert_str_eq(op->query[0], "username");
    ck_assert_str_eq(op->query[1], "password");

    struct ar_specset *set = ar_specset_new();
    ar_specset_add(set, s, "petstore-v2-swagger.json");
    ck_assert_uint_eq(ar_specset_count(set), 20);
    M(set, "petstore.swagger.io", "GET", "/v2/pet/42", AR_MATCH_OP, "/v2/pet/{petId}", "GET");
    M(set, "petstore.swagger.io", "GET", "/v2/pet/findByStatus", AR_MATCH_OP, "/v2/pet/findByStatus", "GET");
    M(set, "petstore.swagger.io", "PATCH", "/v2/pet/42", AR_MATCH_PATH, "/v2/pet/{petId}", NULL);
    M(set, "petstore.swagger.io", "GET", "/pet/42", AR_MATCH_NONE, "", NULL);
    ar_specset_free(set);
    ar_spec_free(s);
}
END_TEST

START_TEST(test_corpus_openapi30)
{
    struct ar_spec *s = load_corpus("swagger-petstore/petstore3-openapi-3.0.yaml", NULL);
    ck_assert_str_eq(s->format, "openapi-3.0");
    ck_assert_uint_eq(s->nops, 19);
    const struct ar_spec_op *op = find_op(s, "POST", "/pet/{petId}");
    ck_assert_str_eq(op->pointer, "/paths/~1pet~1{petId}/post");
    ck_assert_int_eq(op->line, 237);
    ASSERT_SERVER(op->servers[0], "https", "petstore3.swagger.io", "/api/v3");
    ck_assert_uint_eq(op->nquery, 2);
    ck_assert_str_eq(op->query[0], "name");
    ck_assert_str_eq(op->query[1], "status");
    ar_spec_free(s);

    /* server variables: {scheme}://developer.uspto.gov/ds-api, default https */
    s = load_corpus("oai-examples/v3.0/uspto.yaml", NULL);
    ck_assert_uint_eq(s->nops, 3);
    op = find_op(s, "POST", "/{dataset}/{version}/records");
    ck_assert_uint_eq(op->nservers, 1);
    ASSERT_SERVER(op->servers[0], "https", "developer.uspto.gov", "/ds-api");
    ar_spec_free(s);
}
END_TEST

START_TEST(test_corpus_openapi31)
{
    struct ar_spec *s = load_corpus("swagger-petstore/petstore31-design-first-openapi-3.1.yaml", NULL);
    ck_assert_str_eq(s->format, "openapi-3.1");
    ck_assert_uint_eq(s->nops, 6);
    ck_assert_uint_eq(s->npaths, 4);
    ck_assert(has_warning_prefix(s, "1 webhook(s) not matched against traffic"));
    ar_spec_free(s);

    s = load_corpus("edge/optic-todo-api-3_1.json", NULL);
    ck_assert_str_eq(s->format, "openapi-3.1");
    ck_assert_str_eq(s->title, "TodoAPI");
    ck_assert_uint_eq(s->nops, 1);
    const struct ar_spec_op *op = find_op(s, "GET", "/todos");
    ck_assert_int_eq(op->line, 13);
    ASSERT_SERVER(op->servers[0], "", "", "");
    ck_assert_uint_eq(op->nquery, 1);
    ck_assert_str_eq(op->query[0], "limit");
    ck_assert_uint_eq(s->nwarnings, 0);
    ar_spec_free(s);
}
END_TEST

START_TEST(test_corpus_multi_file)
{
    /* apiclarity-api3: relative server /api, refs to ../common/openapi.yaml */
    struct ar_spec *s = load_corpus("medium/apiclarity-api3/global/openapi.gen.yaml", ar_spec_read_file);
    ck_assert_str_eq(s->title, "APIClarity APIs");
    ck_assert_uint_eq(s->nops, 65);
    ck_assert_uint_eq(s->npaths, 59);
    ck_assert_uint_eq(s->nwarnings, 0);
    const struct ar_spec_op *op = find_op(s, "GET", "/apiEvents");
    ck_assert_int_eq(op->line, 1166);
    ASSERT_SERVER(op->servers[0], "", "", "/api");
    ck_assert_uint_eq(op->nquery, 33);
    ck_assert_str_eq(op->query[0], "startTime");
    ck_assert_str_eq(op->query[9], "path[is]");
    find_op(s, "GET", "/apiInventory/{apiId}/provided_swagger.json");
    ar_spec_free(s);

    /* petstore-separate: parameters come from spec/parameters.yaml */
    s = load_corpus("oai-examples/v2.0/yaml/petstore-separate/spec/swagger.yaml", ar_spec_read_file);
    ck_assert_uint_eq(s->nops, 4);
    ck_assert_uint_eq(s->nwarnings, 0);
    op = find_op(s, "GET", "/pets");
    ck_assert_uint_eq(op->nquery, 2);
    ck_assert_str_eq(op->query[0], "tags");
    ck_assert_str_eq(op->query[1], "limit");
    ASSERT_SERVER(op->servers[0], "http", "petstore.swagger.io", "/api");
    ar_spec_free(s);

    /* the same without a reader: operations count, the file ref is a warning */
    s = load_corpus("oai-examples/v2.0/yaml/petstore-separate/spec/swagger.yaml", NULL);
    ck_assert_uint_eq(s->nops, 4);
    ck_assert_uint_eq(find_op(s, "GET", "/pets")->nquery, 0);
    char want[8192];
    snprintf(want, sizeof(want),
             "$ref to file %s/oai-examples/v2.0/yaml/petstore-separate/spec/parameters.yaml not followed (no file "
             "reader) (/paths/~1pets/get/parameters/0)",
             corpus);
    ck_assert_msg(has_warning(s, want), "missing: %s", want);
    ck_assert_uint_eq(s->nwarnings, 1);
    ar_spec_free(s);
}
END_TEST

START_TEST(test_corpus_edge)
{
    struct ar_spec *s = load_corpus("edge/optic-000-baseline-remote-refs.yaml", NULL);
    ck_assert_uint_eq(s->nops, 5);
    ck_assert_uint_eq(s->nwarnings, 11); /* 11 remote documents */
    ck_assert_str_eq(s->warnings[0],
                     "remote $ref https://raw.githubusercontent.com/snyk/sweater-comb/v1.2.0/components/parameters/"
                     "version.yaml#/Version not fetched (/paths/~1orgs~1{org_id}~1thing/post/parameters/0)");
    for (size_t i = 0; i < s->nwarnings; i++)
        ck_assert_msg(strncmp(s->warnings[i], "remote $ref https://", 20) == 0, "%s", s->warnings[i]);
    ASSERT_SERVER(s->ops[0].servers[0], "https", "api.snyk.io", "/v3");
    ar_spec_free(s);

    s = load_corpus("edge/optic-broken-open-api.json", NULL);
    ck_assert_uint_eq(s->nops, 1);
    ck_assert_str_eq(s->ops[0].path, "/api/users/{userId}");
    ck_assert_str_eq(s->ops[0].method, "GET");
    ck_assert_uint_eq(s->nwarnings, 2);
    ck_assert_str_eq(s->warnings[0], "schema is not an object: 'no' "
                                     "(/paths/~1api~1users~1{userId}/get/responses/200/content/application~1json/"
                                     "schema/properties/hello/items)");
    ck_assert_str_eq(s->warnings[1], "schema type 'not-real' is not a JSON Schema type "
                                     "(/paths/~1api~1users~1{userId}/get/responses/400/content/application~1json/"
                                     "schema/type)");
    ar_spec_free(s);

    s = load_corpus("edge/optic-empty.json", NULL);
    ck_assert_uint_eq(s->nops, 0);
    ck_assert_uint_eq(s->npaths, 0);
    ck_assert_uint_eq(s->nwarnings, 1);
    ck_assert_str_eq(s->warnings[0], "no paths");
    ar_spec_free(s);

    const char *hooks[] = { "oai-examples/v3.1/webhook-example.yaml", "oai-examples/v3.1/webhook-example.json" };
    for (int i = 0; i < 2; i++) {
        s = load_corpus(hooks[i], NULL);
        ck_assert_str_eq(s->format, "openapi-3.1");
        ck_assert_uint_eq(s->nops, 0);
        ck_assert_uint_eq(s->nwarnings, 2);
        ck_assert_str_eq(s->warnings[0], "1 webhook(s) not matched against traffic: the API calls them, it does "
                                         "not serve them (/webhooks)");
        ck_assert_str_eq(s->warnings[1], "no paths");
        ar_spec_free(s);
    }
}
END_TEST

START_TEST(test_corpus_box_large)
{
    const char *p = corpus_path("large/box-platform-openapi.json");
    char *data = NULL;
    size_t len = 0;
    ck_assert_int_eq(ar_spec_read_file(NULL, p, &data, &len), 0);
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    struct ar_spec *s = NULL;
    char err[512];
    ck_assert_int_eq(ar_spec_load(p, data, len, NULL, NULL, &s, err, sizeof(err)), 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    getrusage(RUSAGE_SELF, &r1);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    fprintf(stderr, "box-platform-openapi.json (%zu bytes): %zu operations in %.1f ms, peak RSS %ld KiB (was %ld KiB)\n",
            len, s->nops, ms, r1.ru_maxrss, r0.ru_maxrss);
    ck_assert_str_eq(s->title, "Box Platform API");
    ck_assert_uint_eq(s->nops, 296);
    ck_assert_uint_eq(s->npaths, 186);
    ck_assert_uint_eq(s->nwarnings, 0);
    const struct ar_spec_op *op = find_op(s, "GET", "/files/{file_id}");
    ASSERT_SERVER(op->servers[0], "https", "api.box.com", "/2.0");
    op = find_op(s, "GET", "/authorize");
    ASSERT_SERVER(op->servers[0], "https", "account.box.com", "/api/oauth2");
    ck_assert_msg(ms < 10000, "%.1f ms", ms);

    struct ar_specset *set = ar_specset_new();
    ar_specset_add(set, s, "box.json");
    M(set, "api.box.com", "GET", "/2.0/files/12345", AR_MATCH_OP, "/2.0/files/{file_id}", "GET");
    M(set, "api.box.com", "GET", "/2.0/files/12345/thumbnail.png", AR_MATCH_OP,
      "/2.0/files/{file_id}/thumbnail.{extension}", "GET");
    M(set, "account.box.com", "GET", "/api/oauth2/authorize", AR_MATCH_OP, "/api/oauth2/authorize", "GET");
    ar_specset_free(set);
    ar_spec_free(s);
    free(data);
}
END_TEST

static Suite *spec_suite(void)
{
    Suite *s = suite_create("spec");
    TCase *tc = tcase_create("inline");
    tcase_add_test(tc, test_detect_inline);
    tcase_add_test(tc, test_parse_error_position);
    tcase_add_test(tc, test_server_variables);
    tcase_add_test(tc, test_op_servers_override);
    tcase_add_test(tc, test_swagger_servers);
    tcase_add_test(tc, test_owner_precedence);
    tcase_add_test(tc, test_deprecated_lines_query);
    tcase_add_test(tc, test_tolerance);
    tcase_add_test(tc, test_local_path_item_ref);
    tcase_add_test(tc, test_multi_file_refs);
    tcase_add_test(tc, test_remote_ref_never_fetched);
    suite_add_tcase(s, tc);

    tc = tcase_create("match");
    tcase_add_checked_fixture(tc, match_setup, match_teardown);
    tcase_add_test(tc, test_match_basics);
    tcase_add_test(tc, test_match_head_falls_back_to_get);
    tcase_add_test(tc, test_match_path_undocumented_method);
    tcase_add_test(tc, test_match_concrete_beats_template);
    tcase_add_test(tc, test_match_param_never_spans_slash);
    tcase_add_test(tc, test_match_mixed_segments);
    tcase_add_test(tc, test_match_roster_templates);
    tcase_add_test(tc, test_match_host_beats_hostless);
    tcase_add_test(tc, test_specset_entries);
    suite_add_tcase(s, tc);

    if (corpus[0]) {
        tc = tcase_create("corpus");
        tcase_add_test(tc, test_corpus_detect_every_file);
        tcase_add_test(tc, test_corpus_manifest_counts);
        tcase_add_test(tc, test_corpus_swagger_petstore_v2);
        tcase_add_test(tc, test_corpus_openapi30);
        tcase_add_test(tc, test_corpus_openapi31);
        tcase_add_test(tc, test_corpus_multi_file);
        tcase_add_test(tc, test_corpus_edge);
        tcase_add_test(tc, test_corpus_box_large);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    const char *shared = getenv("APIROSTER_SHARED");
    const char *src = getenv("APIROSTER_SRC");
    char dir[4096];
    if (shared)
        snprintf(dir, sizeof(dir), "%s/corpus/specs", shared);
    else
        snprintf(dir, sizeof(dir), "%s/../shared/corpus/specs", src ? src : ".");
    struct stat st;
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && realpath(dir, corpus))
        ;
    else {
        corpus[0] = 0;
        fprintf(stderr, "check_spec: %s absent, corpus cases skipped\n", dir);
    }
    SRunner *sr = srunner_create(spec_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

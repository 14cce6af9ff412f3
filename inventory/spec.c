/* spec.c - OpenAPI / Swagger spec loading with libfyaml (see spec.h).
 *
 * One pass over the root document: format, info, servers, a scan for remote
 * $refs (warnings only), then each path item (following $ref chains, also into
 * other files through the caller's reader) and each operation in it. Files
 * read through $ref are parsed once and kept until the end of the load. */
#include <errno.h>
#include <libfyaml.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "spec.h"
#include "../core/util.h"

#define SCAN_MAX_DEPTH 200
#define PTR_MAX 4096
#define READ_MAX ((size_t)64 << 20)

static const char *const METHODS[] = { "get", "put", "post", "delete", "options", "head", "patch", "trace" };
/* Path item keys that are not operations and need no warning. */
static const char *const PATH_ITEM_KEYS[] = { "$ref", "summary", "description", "servers", "parameters" };
static const char *const OWNER_KEYS[] = { "x-owner", "x-team", "x-ownership" };

struct sdoc {
    char *path;              /* as given to the reader (the root: as given to ar_spec_load) */
    char *buf;               /* owned text of a referenced file (NULL for the root) */
    struct fy_document *fyd; /* NULL when the file could not be read or parsed */
};

struct ld {
    ar_spec_read_fn rd;
    void *ud;
    struct sdoc docs[AR_SPEC_MAX_DOCS];
    size_t ndocs;
    struct ar_spec *s;
    size_t warn_dropped;
    char **remote;           /* remote documents already warned about */
    size_t nremote;
    int swagger;
    struct ar_spec_server *rootsrv;
    size_t nrootsrv;
};

/* ------------------------------------------------------------------ small helpers */

static void warn(struct ld *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct ld *ld, const char *fmt, ...)
{
    struct ar_spec *s = ld->s;
    if (s->nwarnings >= AR_SPEC_MAX_WARNINGS) {
        ld->warn_dropped++;
        return;
    }
    char buf[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    for (char *p = buf; *p; p++) /* one line */
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    s->warnings = ar_xrealloc(s->warnings, (s->nwarnings + 1) * sizeof(char *));
    s->warnings[s->nwarnings++] = ar_xstrdup(buf);
}

static int is_scalar(struct fy_node *n)
{
    return n && fy_node_get_type(n) == FYNT_SCALAR && !fy_node_is_alias(n);
}

static int is_map(struct fy_node *n) { return n && fy_node_get_type(n) == FYNT_MAPPING; }
static int is_seq(struct fy_node *n) { return n && fy_node_get_type(n) == FYNT_SEQUENCE; }

static struct fy_node *get(struct fy_node *m, const char *key)
{
    if (!is_map(m))
        return NULL;
    return fy_node_mapping_lookup_value_by_simple_key(m, key, strlen(key));
}

/* Scalar text as a new string, or NULL when n is not a scalar. */
static char *sdup(struct fy_node *n)
{
    if (!is_scalar(n))
        return NULL;
    size_t l = 0;
    const char *p = fy_node_get_scalar(n, &l);
    return p ? ar_xstrndup(p, l) : ar_xstrdup("");
}

/* Scalar equality with a C string. */
static int seq_str(struct fy_node *n, const char *s)
{
    if (!is_scalar(n))
        return 0;
    size_t l = 0;
    const char *p = fy_node_get_scalar(n, &l);
    return p && l == strlen(s) && memcmp(p, s, l) == 0;
}

/* A null value ("key:" with nothing, "~", "null"). */
static int is_null(struct fy_node *n)
{
    if (!n)
        return 1;
    if (!is_scalar(n))
        return 0;
    size_t l = 0;
    const char *p = fy_node_get_scalar(n, &l);
    return !p || l == 0 || (fy_node_get_style(n) == FYNS_PLAIN && (seq_str(n, "~") || seq_str(n, "null")));
}

static int is_true(struct fy_node *n)
{
    return seq_str(n, "true") || seq_str(n, "True") || seq_str(n, "TRUE");
}

/* 1-based line where node n starts (scalars only), 0 unknown. */
static int node_line(struct fy_node *n)
{
    if (!is_scalar(n))
        return 0;
    struct fy_token *t = fy_node_get_scalar_token(n);
    const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
    return m ? m->line + 1 : 0;
}

/* base + "/" + escaped key (RFC 6901), newly allocated. */
static char *ptr_join(const char *base, const char *key, size_t klen)
{
    size_t bl = strlen(base), n = bl + 1;
    for (size_t i = 0; i < klen; i++)
        n += (key[i] == '~' || key[i] == '/') ? 2 : 1;
    char *out = ar_xmalloc(n + 1), *o = out;
    memcpy(o, base, bl);
    o += bl;
    *o++ = '/';
    for (size_t i = 0; i < klen; i++) {
        if (key[i] == '~') {
            *o++ = '~';
            *o++ = '0';
        } else if (key[i] == '/') {
            *o++ = '~';
            *o++ = '1';
        } else {
            *o++ = key[i];
        }
    }
    *o = 0;
    return out;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode in place (a bad escape stays as written). */
static void pct_decode(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        int h, l;
        if (p[0] == '%' && (h = hexval((unsigned char)p[1])) >= 0 && (l = hexval((unsigned char)p[2])) >= 0) {
            *o++ = (char)(h * 16 + l);
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = 0;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* ------------------------------------------------------------------ parsing */

static struct fy_document *parse(const char *path, const char *data, size_t len, char *err, size_t errsz)
{
    unsigned bl, bc;
    const char *why;
    if (ar_yaml_text_check(data, len, &bl, &bc, &why) != 0) {
        if (err)
            snprintf(err, errsz, "%s:%u:%u: %s", path, bl, bc, why);
        return NULL;
    }
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.colorize = false;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    if (!diag) {
        if (err)
            snprintf(err, errsz, "%s: out of memory", path);
        return NULL;
    }
    fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG | FYPCF_ALLOW_DUPLICATE_KEYS |
                (ends_with(path, ".json") ? FYPCF_JSON_FORCE : FYPCF_JSON_NONE);
    cfg.diag = diag;
    struct fy_document *fyd = len ? fy_document_build_from_string(&cfg, data, len) : NULL;
    if (!fyd) {
        void *it = NULL;
        struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);
        if (!e) /* no document at all (empty, only comments): an empty document */
            fyd = fy_document_create(&cfg);
    }
    if (!fyd && err) {
        void *it = NULL;
        struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);
        if (e && e->line > 0)
            snprintf(err, errsz, "%s:%d:%d: %s", path, e->line, e->column, e->msg ? e->msg : "parse error");
        else
            snprintf(err, errsz, "%s:1:1: %s", path, e && e->msg ? e->msg : "cannot be parsed");
    }
    fy_diag_destroy(diag); /* frees the collected errors (unref alone leaks them); a
                            * document keeps its own reference */
    return fyd;
}

int ar_spec_detect(const char *path, const char *data, size_t len, char *err, size_t errsz)
{
    if (err && errsz)
        err[0] = 0;
    struct fy_document *fyd = parse(path, data, len, err, errsz);
    if (!fyd)
        return -1;
    struct fy_node *root = fy_document_root(fyd);
    int r = (get(root, "openapi") || get(root, "swagger")) ? 1 : 0;
    fy_document_destroy(fyd);
    return r;
}

int ar_spec_read_file(void *ud, const char *path, char **data, size_t *len)
{
    (void)ud;
    /* O_NONBLOCK: a FIFO must not block the open; only regular files are read */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > READ_MAX) {
        close(fd);
        return -1;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return -1;
    }
    size_t n = (size_t)st.st_size;
    char *buf = ar_xmalloc(n + 1);
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    if (got != n) {
        free(buf);
        return -1;
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return 0;
}

/* ------------------------------------------------------------------ $ref */

static int is_remote(const char *ref)
{
    const char *p = ref;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '+' ||
           *p == '-' || *p == '.')
        p++;
    return p > ref && strncmp(p, "://", 3) == 0;
}

/* One warning per remote document. */
static void remote_warn(struct ld *ld, const char *ref, const char *where)
{
    const char *h = strchr(ref, '#');
    size_t dl = h ? (size_t)(h - ref) : strlen(ref);
    for (size_t i = 0; i < ld->nremote; i++)
        if (strlen(ld->remote[i]) == dl && memcmp(ld->remote[i], ref, dl) == 0)
            return;
    ld->remote = ar_xrealloc(ld->remote, (ld->nremote + 1) * sizeof(char *));
    ld->remote[ld->nremote++] = ar_xstrndup(ref, dl);
    warn(ld, "remote $ref %s not fetched (%s)", ref, where[0] ? where : "/");
}

/* Lexical normalization of a relative or absolute file path: "a/./b/../c" -> "a/c". */
static char *norm_path(const char *dir, const char *rel)
{
    size_t dl = dir ? strlen(dir) : 0;
    char *joined = ar_xmalloc(dl + strlen(rel) + 2);
    if (rel[0] == '/' || dl == 0)
        strcpy(joined, rel);
    else
        sprintf(joined, "%s/%s", dir, rel);
    int abs = joined[0] == '/';
    char **seg = ar_xmalloc((strlen(joined) / 2 + 2) * sizeof(char *));
    size_t n = 0, ups = 0;
    for (char *save = NULL, *t = strtok_r(joined, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (strcmp(t, ".") == 0)
            continue;
        if (strcmp(t, "..") == 0) {
            if (n > ups)
                n--;
            else if (!abs) {
                seg[n++] = t;
                ups++;
            }
            continue;
        }
        seg[n++] = t;
    }
    size_t total = 2;
    for (size_t i = 0; i < n; i++)
        total += strlen(seg[i]) + 1;
    char *out = ar_xmalloc(total), *o = out;
    if (abs)
        *o++ = '/';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *o++ = '/';
        size_t l = strlen(seg[i]);
        memcpy(o, seg[i], l);
        o += l;
    }
    *o = 0;
    if (!out[0])
        strcpy(out, ".");
    free(seg);
    free(joined);
    return out;
}

/* Index of the document for file (relative to document d), reading and parsing
 * it on first use; SIZE_MAX when it cannot be used (warned once per file). */
static size_t open_doc(struct ld *ld, size_t d, const char *file, const char *where)
{
    const char *from = ld->docs[d].path;
    const char *slash = strrchr(from, '/');
    char *dir = slash ? ar_xstrndup(from, (size_t)(slash - from) + (slash == from)) : NULL;
    char *dec = ar_xstrdup(file);
    pct_decode(dec);
    char *p = norm_path(dir, dec);
    free(dec);
    free(dir);
    for (size_t i = 0; i < ld->ndocs; i++) {
        if (strcmp(ld->docs[i].path, p) == 0) {
            free(p);
            return ld->docs[i].fyd ? i : SIZE_MAX;
        }
    }
    if (ld->ndocs >= AR_SPEC_MAX_DOCS) {
        warn(ld, "$ref to %s not followed: more than %d files (%s)", p, AR_SPEC_MAX_DOCS, where);
        free(p);
        return SIZE_MAX;
    }
    struct sdoc *sd = &ld->docs[ld->ndocs];
    memset(sd, 0, sizeof(*sd));
    sd->path = p;
    size_t idx = ld->ndocs++;
    if (!ends_with(p, ".json") && !ends_with(p, ".yaml") && !ends_with(p, ".yml")) {
        /* a spec refers to JSON and YAML documents; anything else (a $ref to
         * /etc/shadow) is not read, so it is never copied into the database */
        warn(ld, "$ref to file %s not followed: not a .json, .yaml or .yml file (%s)", p, where);
        return SIZE_MAX;
    }
    size_t len = 0;
    if (!ld->rd) {
        warn(ld, "$ref to file %s not followed (no file reader) (%s)", p, where);
        return SIZE_MAX;
    }
    if (ld->rd(ld->ud, p, &sd->buf, &len) != 0) {
        sd->buf = NULL;
        warn(ld, "$ref to file %s: cannot read it (%s)", p, where);
        return SIZE_MAX;
    }
    char perr[512];
    sd->fyd = parse(p, sd->buf, len, perr, sizeof(perr));
    if (!sd->fyd) {
        warn(ld, "$ref to file %s: %s (%s)", p, perr, where);
        return SIZE_MAX;
    }
    return idx;
}

/* Walk a JSON pointer fragment (percent-encoded, "" = root). */
static struct fy_node *walk_ptr(struct fy_node *root, const char *frag)
{
    if (!frag[0])
        return root;
    if (frag[0] != '/')
        return NULL; /* plain-name anchors are not supported */
    char *f = ar_xstrdup(frag);
    pct_decode(f);
    struct fy_node *n = root;
    char *p = f + 1;
    for (;;) {
        char *e = strchr(p, '/');
        if (e)
            *e = 0;
        /* unescape ~1 and ~0 */
        char *o = p;
        for (char *q = p; *q; q++) {
            if (q[0] == '~' && q[1] == '1') {
                *o++ = '/';
                q++;
            } else if (q[0] == '~' && q[1] == '0') {
                *o++ = '~';
                q++;
            } else {
                *o++ = *q;
            }
        }
        *o = 0;
        if (is_map(n)) {
            n = fy_node_mapping_lookup_value_by_simple_key(n, p, strlen(p));
        } else if (is_seq(n)) {
            char *end = NULL;
            long i = strtol(p, &end, 10);
            n = (*p && !*end && i >= 0 && i < (long)fy_node_sequence_item_count(n))
                    ? fy_node_sequence_get_by_index(n, (int)i)
                    : NULL;
        } else {
            n = NULL;
        }
        if (!n || !e)
            break;
        p = e + 1;
    }
    free(f);
    return n;
}

/* Follow a chain of $ref starting at node n of document *d. Returns the target
 * (and its document in *d), or NULL after a warning. */
static struct fy_node *deref(struct ld *ld, size_t *d, struct fy_node *n, const char *where)
{
    for (int hop = 0;; hop++) {
        struct fy_node *r = get(n, "$ref");
        if (!r)
            return n;
        if (hop >= AR_SPEC_MAX_REF_HOPS) {
            warn(ld, "$ref chain longer than %d, a cycle? (%s)", AR_SPEC_MAX_REF_HOPS, where);
            return NULL;
        }
        char *ref = sdup(r);
        if (!ref) {
            warn(ld, "$ref is not a string (%s)", where);
            return NULL;
        }
        if (is_remote(ref)) {
            remote_warn(ld, ref, where);
            free(ref);
            return NULL;
        }
        char *hash = strchr(ref, '#');
        const char *frag = "";
        if (hash) {
            *hash = 0;
            frag = hash + 1;
        }
        size_t td = *d;
        if (ref[0]) {
            td = open_doc(ld, *d, ref, where);
            if (td == SIZE_MAX) {
                free(ref);
                return NULL;
            }
        }
        struct fy_node *t = walk_ptr(fy_document_root(ld->docs[td].fyd), frag);
        if (!t) {
            if (hash)
                *hash = '#';
            warn(ld, "$ref %s not found (%s)", ref, where);
            free(ref);
            return NULL;
        }
        free(ref);
        *d = td;
        n = t;
    }
}

/* What a node is expected to be, for the light schema check of scan(). */
enum kind { K_ANY, K_SCHEMA, K_SCHEMA_MAP, K_SCHEMA_LIST };

static int known_type(struct fy_node *t)
{
    static const char *const types[] = { "string", "number", "integer", "boolean", "array",
                                         "object", "null",   "file" };
    for (size_t i = 0; i < AR_ARRAY_LEN(types); i++)
        if (seq_str(t, types[i]))
            return 1;
    return 0;
}

/* The kind of the value under key k in a mapping of kind k (ptr: the mapping). */
static int child_kind(enum kind k, const char *key, size_t kl, const char *ptr, int *skip)
{
#define KEY(s) (kl == sizeof(s) - 1 && memcmp(key, s, kl) == 0)
    *skip = 0;
    if (k == K_SCHEMA_MAP)
        return K_SCHEMA;
    if (k == K_SCHEMA) {
        if (KEY("properties") || KEY("patternProperties") || KEY("$defs") || KEY("definitions"))
            return K_SCHEMA_MAP;
        if (KEY("items") || KEY("additionalProperties") || KEY("not") || KEY("contains") ||
            KEY("propertyNames") || KEY("if") || KEY("then") || KEY("else") || KEY("additionalItems") ||
            KEY("unevaluatedItems") || KEY("unevaluatedProperties"))
            return K_SCHEMA;
        if (KEY("allOf") || KEY("anyOf") || KEY("oneOf") || KEY("prefixItems"))
            return K_SCHEMA_LIST;
        if (KEY("example") || KEY("examples") || KEY("default") || KEY("enum") || KEY("const") ||
            (kl > 2 && memcmp(key, "x-", 2) == 0))
            *skip = 1; /* values, not schemas or refs */
        return K_ANY;
    }
    if (KEY("example"))
        *skip = 1;
    if (KEY("schema"))
        return K_SCHEMA;
    if (KEY("definitions") && ptr[0] == 0)
        return K_SCHEMA_MAP;
    if (KEY("schemas") && strcmp(ptr, "/components") == 0)
        return K_SCHEMA_MAP;
    return K_ANY;
#undef KEY
}

/* Walk the whole document once: a warning per remote $ref document, and per
 * schema that is not a schema (a string where a schema object belongs, an
 * unknown `type`). */
static void scan(struct ld *ld, struct fy_node *n, char *ptr, size_t plen, int depth, enum kind k)
{
    if (depth > SCAN_MAX_DEPTH || !n)
        return;
    const char *where = plen ? ptr : "/";
    if (k == K_SCHEMA && is_scalar(n) && !is_null(n) && !is_true(n) && !seq_str(n, "false") && !seq_str(n, "False")) {
        char *v = sdup(n);
        warn(ld, "schema is not an object: '%.40s' (%s)", v, where);
        free(v);
        return;
    }
    if (k == K_SCHEMA && is_map(n)) {
        struct fy_node *t = get(n, "type");
        int bad = 0;
        if (is_seq(t)) {
            void *it = NULL;
            struct fy_node *x;
            while ((x = fy_node_sequence_iterate(t, &it)))
                bad |= !known_type(x);
        } else if (t) {
            bad = !known_type(t);
        }
        if (bad) {
            char *v = sdup(t);
            warn(ld, "schema type '%.40s' is not a JSON Schema type (%s/type)", v ? v : "(not a string)", ptr);
            free(v);
        }
    }
    if (is_map(n)) {
        void *it = NULL;
        struct fy_node_pair *pr;
        while ((pr = fy_node_mapping_iterate(n, &it))) {
            struct fy_node *kn = fy_node_pair_key(pr), *v = fy_node_pair_value(pr);
            if (!is_scalar(kn))
                continue;
            size_t kl = 0;
            const char *ks = fy_node_get_scalar(kn, &kl);
            if (!ks)
                continue;
            if (kl == 4 && memcmp(ks, "$ref", 4) == 0) {
                if (is_scalar(v)) {
                    char *ref = sdup(v);
                    if (is_remote(ref))
                        remote_warn(ld, ref, where);
                    free(ref);
                }
                continue;
            }
            int skip = 0;
            enum kind ck = (enum kind)child_kind(k, ks, kl, ptr, &skip);
            if (skip || (!is_map(v) && !is_seq(v) && ck != K_SCHEMA))
                continue;
            char *np = ptr_join("", ks, kl);
            size_t nl = strlen(np);
            if (plen + nl < PTR_MAX) {
                memcpy(ptr + plen, np, nl + 1);
                scan(ld, v, ptr, plen + nl, depth + 1, ck);
                ptr[plen] = 0;
            }
            free(np);
        }
    } else if (is_seq(n)) {
        void *it = NULL;
        struct fy_node *v;
        int i = 0;
        enum kind ck = k == K_SCHEMA_LIST ? K_SCHEMA : K_ANY;
        while ((v = fy_node_sequence_iterate(n, &it))) {
            if (is_map(v) || is_seq(v) || ck == K_SCHEMA) {
                int w = snprintf(ptr + plen, PTR_MAX - plen, "/%d", i);
                if (w > 0 && plen + (size_t)w < PTR_MAX)
                    scan(ld, v, ptr, plen + (size_t)w, depth + 1, ck);
                ptr[plen] = 0;
            }
            i++;
        }
    }
}

/* ------------------------------------------------------------------ servers */

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s + 32);
}

/* "/v1/" -> "/v1", "v1" -> "/v1", "/" -> "", query and fragment dropped. */
static char *norm_base(const char *b, size_t n)
{
    size_t e = 0;
    while (e < n && b[e] != '?' && b[e] != '#')
        e++;
    while (e && b[e - 1] == '/')
        e--;
    size_t s = 0;
    while (s + 1 < e && b[s] == '.' && b[s + 1] == '/')
        s += 2; /* "./v1" */
    if (s == e)
        return ar_xstrdup("");
    char *out = ar_xmalloc(e - s + 2);
    if (b[s] == '/') {
        memcpy(out, b + s, e - s);
        out[e - s] = 0;
    } else {
        out[0] = '/';
        memcpy(out + 1, b + s, e - s);
        out[e - s + 1] = 0;
    }
    return out;
}

/* host[:port] -> lower-case, the scheme's default port dropped, userinfo dropped. */
static char *norm_host(const char *scheme, const char *h, size_t n)
{
    const char *at = memchr(h, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - h);
        h = at + 1;
    }
    char *out = ar_xstrndup(h, n);
    lower(out);
    size_t l = strlen(out);
    if ((strcmp(scheme, "https") == 0 && ends_with(out, ":443")) ||
        (strcmp(scheme, "http") == 0 && ends_with(out, ":80")))
        out[strrchr(out, ':') - out] = 0;
    else if (l && out[l - 1] == ':')
        out[l - 1] = 0;
    return out;
}

static void set_server(struct ar_spec_server *sv, const char *url)
{
    const char *sep = strstr(url, "://");
    const char *p = url;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '+' ||
           *p == '-' || *p == '.')
        p++;
    const char *hs;
    if (sep && sep == p && p > url) {
        sv->scheme = ar_xstrndup(url, (size_t)(sep - url));
        lower(sv->scheme);
        hs = sep + 3;
    } else if (url[0] == '/' && url[1] == '/') {
        sv->scheme = ar_xstrdup("");
        hs = url + 2;
    } else {
        sv->scheme = ar_xstrdup("");
        sv->host = ar_xstrdup("");
        sv->base = norm_base(url, strlen(url));
        return;
    }
    size_t hl = strcspn(hs, "/?#");
    sv->host = norm_host(sv->scheme, hs, hl);
    sv->base = norm_base(hs + hl, strlen(hs + hl));
}

/* Append a server unless one with the same host and base is there. */
static void add_server(struct ar_spec_server **arr, size_t *n, struct ar_spec_server *sv)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*arr)[i].host, sv->host) == 0 && strcmp((*arr)[i].base, sv->base) == 0) {
            free(sv->scheme);
            free(sv->host);
            free(sv->base);
            return;
        }
    }
    *arr = ar_xrealloc(*arr, (*n + 1) * sizeof(**arr));
    (*arr)[(*n)++] = *sv;
}

static void free_servers(struct ar_spec_server *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].scheme);
        free(a[i].host);
        free(a[i].base);
    }
    free(a);
}

static struct ar_spec_server *copy_servers(const struct ar_spec_server *a, size_t n)
{
    struct ar_spec_server *c = ar_xcalloc(n ? n : 1, sizeof(*c));
    for (size_t i = 0; i < n; i++) {
        c[i].scheme = ar_xstrdup(a[i].scheme);
        c[i].host = ar_xstrdup(a[i].host);
        c[i].base = ar_xstrdup(a[i].base);
    }
    return c;
}

/* Substitute {var} in a server URL with the variable's default (else its first
 * enum value; else kept as written, with a warning). */
static char *subst_vars(struct ld *ld, const char *url, struct fy_node *vars, const char *where)
{
    size_t cap = strlen(url) + 64, n = 0;
    char *out = ar_xmalloc(cap);
    for (const char *p = url; *p;) {
        const char *e = (*p == '{') ? strchr(p, '}') : NULL;
        const char *val = NULL;
        size_t vl = 0;
        if (e) {
            char *name = ar_xstrndup(p + 1, (size_t)(e - p - 1));
            struct fy_node *v = get(vars, name);
            struct fy_node *dv = get(v, "default");
            if (!is_scalar(dv)) {
                struct fy_node *en = get(v, "enum");
                dv = is_seq(en) ? fy_node_sequence_get_by_index(en, 0) : NULL;
            }
            if (is_scalar(dv))
                val = fy_node_get_scalar(dv, &vl);
            if (!val)
                warn(ld, "server variable {%s} has no default (%s)", name, where);
            free(name);
        }
        if (!val) {
            val = p;
            vl = e ? (size_t)(e - p + 1) : 1;
        }
        if (n + vl + 1 > cap) {
            cap = (n + vl + 1) * 2;
            out = ar_xrealloc(out, cap);
        }
        memcpy(out + n, val, vl);
        n += vl;
        p = e ? e + 1 : p + 1;
    }
    out[n] = 0;
    return out;
}

/* Servers of an OpenAPI 3 `servers` list; 0 when absent or empty. */
static size_t read_servers(struct ld *ld, struct fy_node *list, const char *where, struct ar_spec_server **out)
{
    *out = NULL;
    size_t n = 0;
    if (!list)
        return 0;
    if (!is_seq(list)) {
        warn(ld, "servers is not a list (%s)", where);
        return 0;
    }
    void *it = NULL;
    struct fy_node *sv;
    while ((sv = fy_node_sequence_iterate(list, &it))) {
        char *url = sdup(get(sv, "url"));
        if (!url) {
            warn(ld, "server without a url (%s)", where);
            continue;
        }
        char *full = subst_vars(ld, url, get(sv, "variables"), where);
        struct ar_spec_server s;
        memset(&s, 0, sizeof(s));
        set_server(&s, full);
        add_server(out, &n, &s);
        free(full);
        free(url);
    }
    return n;
}

static void swagger_servers(struct ld *ld, struct fy_node *root)
{
    char *host = sdup(get(root, "host"));
    char *bp = sdup(get(root, "basePath"));
    char *base = norm_base(bp ? bp : "", bp ? strlen(bp) : 0);
    struct fy_node *schemes = get(root, "schemes");
    size_t ns = is_seq(schemes) ? (size_t)fy_node_sequence_item_count(schemes) : 0;
    for (size_t i = 0; i < (ns ? ns : 1); i++) {
        struct ar_spec_server s;
        char *sch = ns ? sdup(fy_node_sequence_get_by_index(schemes, (int)i)) : NULL;
        if (!sch)
            sch = ar_xstrdup("");
        lower(sch);
        s.scheme = host && host[0] ? sch : ar_xstrdup("");
        s.host = host && host[0] ? norm_host(sch, host, strcspn(host, "/")) : ar_xstrdup("");
        s.base = ar_xstrdup(base);
        if (s.scheme != sch)
            free(sch);
        add_server(&ld->rootsrv, &ld->nrootsrv, &s);
    }
    free(base);
    free(bp);
    free(host);
}

/* ------------------------------------------------------------------ owner */

static char *owner_value(struct fy_node *v, int depth)
{
    if (is_scalar(v)) {
        char *s = sdup(v);
        if (s && s[0])
            return s;
        free(s);
        return NULL;
    }
    if (depth > 2)
        return NULL;
    if (is_map(v)) {
        static const char *const fields[] = { "name", "team", "owner" };
        for (size_t i = 0; i < AR_ARRAY_LEN(fields); i++) {
            char *s = owner_value(get(v, fields[i]), 3);
            if (s)
                return s;
        }
        void *it = NULL;
        struct fy_node_pair *pr;
        while ((pr = fy_node_mapping_iterate(v, &it))) {
            char *s = owner_value(fy_node_pair_value(pr), 3);
            if (s)
                return s;
        }
        return NULL;
    }
    if (is_seq(v)) {
        void *it = NULL;
        struct fy_node *x;
        while ((x = fy_node_sequence_iterate(v, &it))) {
            char *s = owner_value(x, depth + 1);
            if (s)
                return s;
        }
    }
    return NULL;
}

/* Owner extension on mapping m (logical pointer mptr). Returns 1 when found. */
static int find_owner(struct fy_node *m, const char *mptr, char **owner, char **optr)
{
    for (size_t i = 0; i < AR_ARRAY_LEN(OWNER_KEYS); i++) {
        char *s = owner_value(get(m, OWNER_KEYS[i]), 0);
        if (s) {
            *owner = s;
            *optr = ptr_join(mptr, OWNER_KEYS[i], strlen(OWNER_KEYS[i]));
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ parameters */

static void add_name(char ***arr, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*arr)[i], name) == 0)
            return;
    *arr = ar_xrealloc(*arr, (*n + 1) * sizeof(char *));
    (*arr)[(*n)++] = ar_xstrdup(name);
}

/* Query parameter names of a `parameters` list in document d. */
static void read_params(struct ld *ld, size_t d, struct fy_node *list, const char *where, char ***names,
                        size_t *n)
{
    if (!list)
        return;
    char *lp = ptr_join(where, "parameters", 10);
    if (!is_seq(list)) {
        warn(ld, "parameters is not a list (%s)", lp);
        free(lp);
        return;
    }
    void *it = NULL;
    struct fy_node *p;
    int i = 0;
    while ((p = fy_node_sequence_iterate(list, &it))) {
        char ip[32];
        snprintf(ip, sizeof(ip), "%d", i++);
        char *pp = ptr_join(lp, ip, strlen(ip));
        size_t pd = d;
        struct fy_node *t = deref(ld, &pd, p, pp);
        if (t && seq_str(get(t, "in"), "query")) {
            char *name = sdup(get(t, "name"));
            if (name && name[0])
                add_name(names, n, name);
            free(name);
        }
        free(pp);
    }
    free(lp);
}

/* ------------------------------------------------------------------ paths */

static void free_op(struct ar_spec_op *op)
{
    free(op->path);
    free(op->method);
    free(op->pointer);
    free(op->file);
    free_servers(op->servers, op->nservers);
    free(op->owner);
    free(op->owner_pointer);
    for (size_t i = 0; i < op->nquery; i++)
        free(op->query[i]);
    free(op->query);
    free(op->operation_id);
}

struct pictx { /* what a path item hands down to its operations */
    const char *path;
    size_t d;
    struct ar_spec_server *srv;
    size_t nsrv;
    char **query;
    size_t nquery;
    char *owner, *owner_ptr;
};

static void read_op(struct ld *ld, struct pictx *pc, const char *mkey, struct fy_node *knode, struct fy_node *v,
                    const char *pptr)
{
    struct ar_spec *s = ld->s;
    char *optr = ptr_join(pptr, mkey, strlen(mkey));
    size_t d = pc->d;
    if (is_null(v)) {
        warn(ld, "operation is empty, skipped (%s)", optr);
        free(optr);
        return;
    }
    struct fy_node *o = deref(ld, &d, v, optr);
    if (!o) {
        free(optr);
        return;
    }
    if (!is_map(o)) {
        warn(ld, "operation is not a mapping, skipped (%s)", optr);
        free(optr);
        return;
    }
    s->ops = ar_xrealloc(s->ops, (s->nops + 1) * sizeof(*s->ops));
    struct ar_spec_op *op = &s->ops[s->nops++];
    memset(op, 0, sizeof(*op));
    op->path = ar_xstrdup(pc->path);
    op->method = ar_xstrdup(mkey);
    for (char *c = op->method; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 32);
    op->pointer = optr;
    op->deprecated = is_true(get(o, "deprecated"));
    op->line = node_line(knode);
    if (d != pc->d) /* the operation itself came from another file: its key is not there */
        op->line = 0;
    if (d != 0)
        op->file = ar_xstrdup(ld->docs[d].path);
    op->operation_id = sdup(get(o, "operationId"));
    /* servers: operation, else path item, else root */
    struct ar_spec_server *osrv = NULL;
    size_t nos = ld->swagger ? 0 : read_servers(ld, get(o, "servers"), optr, &osrv);
    if (nos) {
        op->servers = osrv;
        op->nservers = nos;
    } else if (pc->nsrv) {
        op->servers = copy_servers(pc->srv, pc->nsrv);
        op->nservers = pc->nsrv;
    } else {
        op->servers = copy_servers(ld->rootsrv, ld->nrootsrv);
        op->nservers = ld->nrootsrv;
    }
    /* owner: operation, else path item, else info */
    if (!find_owner(o, optr, &op->owner, &op->owner_pointer) && pc->owner) {
        op->owner = ar_xstrdup(pc->owner);
        op->owner_pointer = ar_xstrdup(pc->owner_ptr);
    }
    for (size_t i = 0; i < pc->nquery; i++)
        add_name(&op->query, &op->nquery, pc->query[i]);
    read_params(ld, d, get(o, "parameters"), optr, &op->query, &op->nquery);
}

static void read_path_item(struct ld *ld, const char *path, struct fy_node *pi, const char *pptr,
                           const char *info_owner, const char *info_owner_ptr)
{
    size_t d = 0;
    if (is_null(pi)) { /* "/x:" with nothing: a path with no operation */
        ld->s->npaths++;
        return;
    }
    struct fy_node *n = deref(ld, &d, pi, pptr);
    if (!n)
        return;
    if (!is_map(n)) {
        warn(ld, "path item is not a mapping, skipped (%s)", pptr);
        return;
    }
    ld->s->npaths++;
    struct pictx pc;
    memset(&pc, 0, sizeof(pc));
    pc.path = path;
    pc.d = d;
    if (!ld->swagger)
        pc.nsrv = read_servers(ld, get(n, "servers"), pptr, &pc.srv);
    read_params(ld, d, get(n, "parameters"), pptr, &pc.query, &pc.nquery);
    if (!find_owner(n, pptr, &pc.owner, &pc.owner_ptr) && info_owner) {
        pc.owner = ar_xstrdup(info_owner);
        pc.owner_ptr = ar_xstrdup(info_owner_ptr);
    }
    void *it = NULL;
    struct fy_node_pair *pr;
    while ((pr = fy_node_mapping_iterate(n, &it))) {
        struct fy_node *k = fy_node_pair_key(pr);
        char *key = sdup(k);
        if (!key) {
            warn(ld, "path item key is not a string (%s)", pptr);
            continue;
        }
        int known = 0;
        for (size_t i = 0; i < AR_ARRAY_LEN(METHODS) && !known; i++) {
            if (strcmp(key, METHODS[i]) == 0) {
                read_op(ld, &pc, key, k, fy_node_pair_value(pr), pptr);
                known = 1;
            }
        }
        for (size_t i = 0; i < AR_ARRAY_LEN(PATH_ITEM_KEYS) && !known; i++)
            known = strcmp(key, PATH_ITEM_KEYS[i]) == 0;
        if (!known && strncmp(key, "x-", 2) != 0)
            warn(ld, "unknown key '%s' in path item, not an operation (%s)", key, pptr);
        free(key);
    }
    free_servers(pc.srv, pc.nsrv);
    for (size_t i = 0; i < pc.nquery; i++)
        free(pc.query[i]);
    free(pc.query);
    free(pc.owner);
    free(pc.owner_ptr);
}

/* ------------------------------------------------------------------ load */

static void load_root(struct ld *ld, struct fy_node *root)
{
    struct ar_spec *s = ld->s;
    struct fy_node *oa = get(root, "openapi"), *sw = get(root, "swagger");
    char *ver = sdup(oa ? oa : sw);
    if (oa) {
        if (ver && strncmp(ver, "3.0", 3) == 0) {
            s->format = ar_xstrdup("openapi-3.0");
        } else if (ver && strncmp(ver, "3.1", 3) == 0) {
            s->format = ar_xstrdup("openapi-3.1");
        } else {
            s->format = ar_xstrdup("openapi-3.1");
            warn(ld, "openapi version '%s' not known, read as 3.1 (/openapi)", ver ? ver : "");
        }
    } else {
        ld->swagger = 1;
        s->format = ar_xstrdup("swagger-2.0");
        if (!ver || strcmp(ver, "2.0") != 0)
            warn(ld, "swagger version '%s' not known, read as 2.0 (/swagger)", ver ? ver : "");
    }
    free(ver);

    struct fy_node *info = get(root, "info");
    char *info_owner = NULL, *info_owner_ptr = NULL;
    if (!info)
        warn(ld, "no info (/info)");
    else if (!is_map(info))
        warn(ld, "info is not a mapping (/info)");
    else
        find_owner(info, "/info", &info_owner, &info_owner_ptr);
    s->title = sdup(get(info, "title"));
    s->version = sdup(get(info, "version"));
    if (!s->title)
        s->title = ar_xstrdup("");
    if (!s->version)
        s->version = ar_xstrdup("");

    if (ld->swagger)
        swagger_servers(ld, root);
    else
        ld->nrootsrv = read_servers(ld, get(root, "servers"), "/servers", &ld->rootsrv);
    if (!ld->nrootsrv) {
        struct ar_spec_server sv = { ar_xstrdup(""), ar_xstrdup(""), ar_xstrdup("") };
        add_server(&ld->rootsrv, &ld->nrootsrv, &sv);
    }

    char *ptr = ar_xmalloc(PTR_MAX);
    ptr[0] = 0;
    scan(ld, root, ptr, 0, 0, K_ANY);
    free(ptr);

    struct fy_node *paths = get(root, "paths");
    if (paths && !is_map(paths) && !is_null(paths))
        warn(ld, "paths is not a mapping (/paths)");
    if (is_map(paths)) {
        void *it = NULL;
        struct fy_node_pair *pr;
        while ((pr = fy_node_mapping_iterate(paths, &it))) {
            char *key = sdup(fy_node_pair_key(pr));
            if (!key) {
                warn(ld, "path key is not a string (/paths)");
                continue;
            }
            if (strncmp(key, "x-", 2) == 0) {
                free(key);
                continue;
            }
            char *pptr = ptr_join("/paths", key, strlen(key));
            if (key[0] != '/')
                warn(ld, "path '%s' does not start with '/' (%s)", key, pptr);
            read_path_item(ld, key, fy_node_pair_value(pr), pptr, info_owner, info_owner_ptr);
            free(pptr);
            free(key);
        }
    }
    struct fy_node *wh = get(root, "webhooks");
    if (is_map(wh) && fy_node_mapping_item_count(wh) > 0)
        warn(ld, "%d webhook(s) not matched against traffic: the API calls them, it does not serve them (/webhooks)",
             fy_node_mapping_item_count(wh));
    if (s->npaths == 0)
        warn(ld, "no paths");
    else if (s->nops == 0)
        warn(ld, "no operations");
    free(info_owner);
    free(info_owner_ptr);
}

int ar_spec_load(const char *path, const char *data, size_t len, ar_spec_read_fn rd, void *ud,
                 struct ar_spec **out, char *err, size_t errsz)
{
    if (err && errsz)
        err[0] = 0;
    struct fy_document *fyd = parse(path, data, len, err, errsz);
    if (!fyd)
        return -1;
    struct fy_node *root = fy_document_root(fyd);
    if (!get(root, "openapi") && !get(root, "swagger")) {
        if (err)
            snprintf(err, errsz, "%s: not an OpenAPI or Swagger document (no openapi/swagger key)", path);
        fy_document_destroy(fyd);
        return -1;
    }
    struct ld *ld = ar_xcalloc(1, sizeof(*ld));
    ld->rd = rd;
    ld->ud = ud;
    ld->docs[0].path = ar_xstrdup(path);
    ld->docs[0].fyd = fyd;
    ld->ndocs = 1;
    ld->s = ar_xcalloc(1, sizeof(*ld->s));
    load_root(ld, root);
    if (ld->warn_dropped) {
        ld->s->warnings = ar_xrealloc(ld->s->warnings, (ld->s->nwarnings + 1) * sizeof(char *));
        char buf[64];
        snprintf(buf, sizeof(buf), "%zu more warnings not shown", ld->warn_dropped);
        ld->s->warnings[ld->s->nwarnings++] = ar_xstrdup(buf);
    }
    *out = ld->s;
    for (size_t i = 0; i < ld->ndocs; i++) {
        if (ld->docs[i].fyd)
            fy_document_destroy(ld->docs[i].fyd);
        free(ld->docs[i].buf);
        free(ld->docs[i].path);
    }
    for (size_t i = 0; i < ld->nremote; i++)
        free(ld->remote[i]);
    free(ld->remote);
    free_servers(ld->rootsrv, ld->nrootsrv);
    free(ld);
    return 0;
}

void ar_spec_free(struct ar_spec *s)
{
    if (!s)
        return;
    free(s->format);
    free(s->title);
    free(s->version);
    for (size_t i = 0; i < s->nops; i++)
        free_op(&s->ops[i]);
    free(s->ops);
    for (size_t i = 0; i < s->nwarnings; i++)
        free(s->warnings[i]);
    free(s->warnings);
    free(s);
}

/* roster.c - `apiroster import`, `sources`, and the judge of writing commands. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "../core/json.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../inventory/spec.h"
#include "agent.h"
#include "roster.h"

#define MAX_SOURCE_BYTES (64u << 20)   /* one imported file */
#define MAX_IMPORT_FILES 4096          /* files of one import */

struct blob {
    char *path;
    char *data;
    size_t len;
};

struct item {
    char *path;
    int direct;                 /* named on the command line (not found in a folder) */
    const char *kind;           /* spec, catalog, rules; NULL: skipped */
    char format[32], title[256], version[64], sha[65];
    uint64_t items;
    struct ar_json warnings;    /* JSON array */
    int nwarnings;
    struct blob *files;         /* files[0] is the item itself */
    size_t nfiles;
};

static int read_all(const char *path, char **data, size_t *len)
{
    /* O_NONBLOCK: opening a FIFO must not block; only regular files are read */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat sb;
    int e = fstat(fd, &sb) < 0          ? errno
            : !S_ISREG(sb.st_mode)          ? EINVAL
            : sb.st_size > MAX_SOURCE_BYTES ? EFBIG
                                            : 0;
    if (e) {
        close(fd);
        errno = e;
        return -1;
    }
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        close(fd);
        return -1;
    }
    *data = ar_xmalloc((size_t)sb.st_size + 1);
    *len = fread(*data, 1, (size_t)sb.st_size, fp);
    (*data)[*len] = '\0';
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(*data);
        return -1;
    }
    return 0;
}

static void add_blob(struct item *it, const char *path, char *data, size_t len)
{
    for (size_t i = 0; i < it->nfiles; i++)
        if (!strcmp(it->files[i].path, path)) {
            free(data);
            return;
        }
    it->files = ar_xrealloc(it->files, (it->nfiles + 1) * sizeof(*it->files));
    it->files[it->nfiles++] = (struct blob){ ar_xstrdup(path), data, len };
}

/* ar_spec_read_fn that reads from disk and keeps a copy of what it read. */
static int read_and_keep(void *ud, const char *path, char **data, size_t *len)
{
    struct item *it = ud;
    if (read_all(path, data, len) < 0)
        return -1;
    /* kept (stored in the database) only when it is a YAML or JSON document:
     * bytes that do not parse are not copied anywhere (the load warns) */
    if (ar_spec_detect(path, *data, *len, NULL, 0) < 0)
        return 0;
    char *copy = ar_xmalloc(*len + 1);
    memcpy(copy, *data, *len + 1);
    add_blob(it, path, copy, *len);
    return 0;
}

static void warn(struct item *it, const char *w)
{
    ar_json_str(&it->warnings, w);
    it->nwarnings++;
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int has_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcmp(dot, ".json") || !strcmp(dot, ".yaml") || !strcmp(dot, ".yml"));
}

static int is_codeowners(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    size_t n = strlen(base);
    return n >= 10 && !strcmp(base + n - 10, "CODEOWNERS");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct walk {
    struct item *v;
    size_t n;
};

static int add_item(struct walk *w, const char *path, int direct, char *err, size_t errsz)
{
    if (w->n >= MAX_IMPORT_FILES) {
        snprintf(err, errsz, "%s: more than %d files in one import", path, MAX_IMPORT_FILES);
        return -1;
    }
    w->v = ar_xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
    struct item *it = &w->v[w->n++];
    memset(it, 0, sizeof(*it));
    it->path = ar_xstrdup(path);
    it->direct = direct;
    ar_json_init(&it->warnings);
    ar_json_arr_open(&it->warnings);
    return 0;
}

static int walk_dir(struct walk *w, const char *dir, int depth, char *err, size_t errsz)
{
    if (depth > 32) {
        snprintf(err, errsz, "%s: folders nested too deep", dir);
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errsz, "%s: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        names = ar_xrealloc(names, (n + 1) * sizeof(*names));
        names[n++] = ar_xstrdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_str);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        struct stat sb;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (rc == 0 && stat(path, &sb) == 0) {
            if (S_ISDIR(sb.st_mode))
                rc = walk_dir(w, path, depth + 1, err, errsz);
            else if (S_ISREG(sb.st_mode) && (has_ext(names[i]) || is_codeowners(names[i])))
                rc = add_item(w, path, 0, err, errsz);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static int check_spec(struct item *it, char *err, size_t errsz)
{
    struct ar_spec *spec;
    if (ar_spec_load(it->path, it->files[0].data, it->files[0].len, read_and_keep, it, &spec, err,
                     errsz) < 0)
        return -1;
    it->kind = "spec";
    ar_strlcpy(it->format, spec->format, sizeof(it->format));
    ar_strlcpy(it->title, spec->title, sizeof(it->title));
    ar_strlcpy(it->version, spec->version, sizeof(it->version));
    it->items = spec->nops;
    for (size_t i = 0; i < spec->nwarnings; i++)
        warn(it, spec->warnings[i]);
    ar_spec_free(spec);
    return 0;
}

/* 1 catalog, 0 not a catalog (no entity), -1 error */
static int check_catalog(struct item *it, int forced, char *err, size_t errsz)
{
    struct ar_bcatalog *c = ar_bcatalog_parse(it->path, it->files[0].data, it->files[0].len, err,
                                              errsz);
    if (!c)
        return -1;
    size_t n = ar_bcatalog_count(c);
    if (!n) {
        ar_bcatalog_free(c);
        if (!forced)
            return 0;
        snprintf(err, errsz, "%s: not a Backstage catalog (no entity with apiVersion and kind)", it->path);
        return -1;
    }
    it->kind = "catalog";
    ar_strlcpy(it->format, "backstage", sizeof(it->format));
    it->items = n;
    for (size_t i = 0; i < ar_bcatalog_warning_count(c); i++)
        warn(it, ar_bcatalog_warning(c, i));
    for (size_t i = 0; i < n; i++) {
        const struct ar_entity *e = ar_bcatalog_entity(c, i);
        if (e->kind != AR_ENT_API || !e->definition_ref)
            continue;
        char msg[PATH_MAX + 1200], path[PATH_MAX], *data;
        size_t len;
        if (strstr(e->definition_ref, "://")) {
            snprintf(msg, sizeof(msg), "API %s: remote definition %s not fetched", e->name,
                     e->definition_ref);
            warn(it, msg);
            continue;
        }
        ar_path_join(it->path, e->definition_ref, path, sizeof(path));
        if (!has_ext(path)) {
            /* only OpenAPI definitions are used; a $text of any other file
             * (or of /etc/shadow) is never read into the database */
            snprintf(msg, sizeof(msg), "API %s: definition %s not read: not a .json, .yaml or .yml file",
                     e->name, path);
            warn(it, msg);
            continue;
        }
        if (read_all(path, &data, &len) < 0) {
            snprintf(msg, sizeof(msg), "API %s: definition %s: %s", e->name, path, strerror(errno));
            warn(it, msg);
            continue;
        }
        add_blob(it, path, data, len);
    }
    ar_bcatalog_free(c);
    return 1;
}

static int check_rules(struct item *it, char *err, size_t errsz)
{
    struct ar_rules *r = ar_rules_parse(it->path, it->files[0].data, it->files[0].len, err, errsz);
    if (!r)
        return -1;
    it->kind = "rules";
    ar_strlcpy(it->format, "codeowners", sizeof(it->format));
    it->items = ar_rules_count(r);
    if (!it->items)
        warn(it, "no rules");
    ar_rules_free(r);
    return 0;
}

/* Decide what the file is and check it whole. 0 ok (it->kind set, or NULL
 * when a folder's file is skipped), -1 error. */
static int check_item(struct item *it, const char *as, FILE *out, char *err, size_t errsz)
{
    char *data;
    size_t len;
    if (read_all(it->path, &data, &len) < 0) {
        snprintf(err, errsz, "%s: %s", it->path, strerror(errno ? errno : EIO));
        return -1;
    }
    add_blob(it, it->path, data, len);
    sha256_hex(data, len, it->sha);
    if (as) {
        if (!strcmp(as, "spec"))
            return check_spec(it, err, errsz);
        if (!strcmp(as, "catalog"))
            return check_catalog(it, 1, err, errsz) < 0 ? -1 : 0;
        return check_rules(it, err, errsz);
    }
    if (!has_ext(it->path))
        return check_rules(it, err, errsz);
    int k = ar_spec_detect(it->path, data, len, err, errsz);
    if (k < 0)
        return -1;
    if (k == 1)
        return check_spec(it, err, errsz);
    k = check_catalog(it, 0, err, errsz);
    if (k != 0)
        return k < 0 ? -1 : 0;
    if (it->direct) {
        snprintf(err, errsz, "%s: neither an OpenAPI/Swagger spec (no openapi or swagger key) nor "
                 "a Backstage catalog (no entity); a partial document is imported through the "
                 "spec that refers to it", it->path);
        return -1;
    }
    if (out)
        fprintf(out, "skipped  %s: not a spec or catalog (a partial document other files refer "
                     "to?)\n", ar_vis(it->path));
    return 0;
}

static void items_free(struct walk *w)
{
    for (size_t i = 0; i < w->n; i++) {
        struct item *it = &w->v[i];
        for (size_t k = 0; k < it->nfiles; k++) {
            free(it->files[k].path);
            free(it->files[k].data);
        }
        free(it->files);
        free(it->path);
        ar_json_free(&it->warnings);
    }
    free(w->v);
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int ar_import(struct ar_store *s, const char *const *paths, int npaths, const char *as, FILE *out,
              char *err, size_t errsz)
{
    struct walk w = { 0 };
    int rc = -1, written = 0;
    for (int i = 0; i < npaths; i++) {
        char abs[PATH_MAX];
        struct stat sb;
        if (!realpath(paths[i], abs) || stat(abs, &sb) < 0) {
            snprintf(err, errsz, "%s: %s", paths[i], strerror(errno));
            goto out;
        }
        if (S_ISDIR(sb.st_mode) ? walk_dir(&w, abs, 0, err, errsz) < 0
                                : add_item(&w, abs, 1, err, errsz) < 0)
            goto out;
    }
    for (size_t i = 0; i < w.n; i++)
        if (check_item(&w.v[i], as, out, err, errsz) < 0)
            goto out;
    for (size_t i = 0; i < w.n; i++) {
        struct item *it = &w.v[i];
        if (!it->kind)
            continue;
        ar_json_arr_close(&it->warnings);
        ar_json_append(&it->warnings, "", 1);
        struct ar_source src = { .path = it->path, .kind = it->kind, .format = it->format,
                                 .title = it->title, .version = it->version, .sha256 = it->sha,
                                 .imported = wall_now(), .items = it->items,
                                 .warnings = it->warnings.buf };
        struct ar_source_file files[AR_SPEC_MAX_DOCS + 8];
        size_t nf = AR_MIN(it->nfiles, AR_ARRAY_LEN(files));
        for (size_t k = 0; k < nf; k++)
            files[k] = (struct ar_source_file){ it->files[k].path, it->files[k].data,
                                                it->files[k].len };
        int r = ar_store_source_put(s, &src, files, nf, err, errsz);
        if (r < 0)
            goto out;
        written += r == 0;
        if (out)
            fprintf(out, "%-8s %s (%s, %" PRIu64 " %s%s, %d warning%s)%s\n", it->kind, ar_vis(it->path),
                    it->format, it->items,
                    !strcmp(it->kind, "spec") ? "operation" : !strcmp(it->kind, "rules") ? "rule" : "entit",
                    !strcmp(it->kind, "catalog") ? (it->items == 1 ? "y" : "ies") : (it->items == 1 ? "" : "s"),
                    it->nwarnings, it->nwarnings == 1 ? "" : "s", r == 1 ? " unchanged" : "");
    }
    rc = written;
out:
    items_free(&w);
    return rc;
}

struct ar_store *ar_roster_open_capture(const char *path, const struct ar_config *cfg, char *err,
                                        size_t errsz)
{
    struct ar_store *s;
    struct ar_store_rebuild *rb = ar_xmalloc(sizeof(*rb));
    int rc = ar_store_open_rebuild(path, &s, rb, err, errsz);
    if (rc == 1) {
        int nsrc = 0;
        for (int i = 0; i < cfg->nitems; i++)
            nsrc += !strcmp(cfg->items[i].key, "spec") || !strcmp(cfg->items[i].key, "catalog") ||
                    !strcmp(cfg->items[i].key, "rules");
        char also[512] = "";
        if (nsrc)
            snprintf(also, sizeof(also), " (the %d [sources] entr%s of %s %s imported now)", nsrc,
                     nsrc == 1 ? "y" : "ies", cfg->path ? cfg->path : "the config",
                     nsrc == 1 ? "is" : "are");
        ar_warn("%s: database is corrupt (%s): moved aside to %s and rebuilt empty; sources "
                "imported with `apiroster import` must be imported again%s", path, rb->why,
                rb->moved, also);
    }
    free(rb);
    return rc < 0 ? NULL : s;
}

int ar_roster_import_config(struct ar_store *s, const struct ar_config *cfg, char *err,
                            size_t errsz)
{
    char why[1024];
    for (int i = 0; i < cfg->nitems; i++) {
        const struct ar_cfg_item *it = &cfg->items[i];
        if (strcmp(it->key, "spec") && strcmp(it->key, "catalog") && strcmp(it->key, "rules"))
            continue;
        const char *p = it->value;
        struct stat sb;
        int dir = stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);   /* a folder: detect each file */
        if (ar_import(s, &p, 1, dir ? NULL : it->key, NULL, why, sizeof(why)) < 0) {
            snprintf(err, errsz, "%s (from %s:%d)", why, it->file, it->line);
            return -1;
        }
    }
    return 0;
}

struct ar_model *ar_roster_attach(struct ar_store *s, const struct ar_config *cfg,
                                  struct ar_templater *tp)
{
    char err[2048];
    if (ar_roster_import_config(s, cfg, err, sizeof(err)) < 0)
        ar_die(AR_EXIT_USAGE, "%s", err);
    struct ar_model *m = ar_model_load(s, cfg, err, sizeof(err));
    if (!m)
        ar_die(AR_EXIT_USAGE, "%s", err);
    if (tp)
        ar_model_seed_templater(m, tp);
    ar_store_set_judge(s, ar_model_judge, m);
    return m;
}

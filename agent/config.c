/* config.c - one typed table for every option. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "../core/util.h"
#include "../ownership/team.h"
#include "config.h"

enum opt_type { T_STR, T_NUM };

struct opt {
    const char *section, *key;
    enum opt_type type;
    size_t off;
    const char *def;        /* default, parsed like a value from the file (NULL: none) */
    uint64_t min, max;      /* T_NUM bounds, in the unit */
    const char *unit;       /* T_NUM: "count", "bytes", "seconds"; T_STR: choices "a|b|c" or NULL */
    int reloadable;         /* SIGHUP applies it; else a change needs a restart */
    const char *help;
};

#define OFF(f) offsetof(struct ar_config, f)
#define LIM_MAX (UINT64_C(1) << 40)
static const struct opt opts[] = {
    { "inventory", "db", T_STR, OFF(db), NULL, 0, 0, NULL, 0, "SQLite database of the roster" },
    { "inventory", "words", T_STR, OFF(words), "/usr/share/dict/words", 0, 0, NULL, 0,
      "word list that keeps real words literal in templates" },
    { "inventory", "flush_interval", T_NUM, OFF(flush_interval), "10s", 1, 86400, "seconds", 1,
      "time between database flushes (live capture)" },
    { "capture", "interface", T_STR, OFF(interface), NULL, 0, 0, NULL, 0, "interface for live capture (or 'any')" },
    { "capture", "filter", T_STR, OFF(filter), NULL, 0, 0, NULL, 1, "BPF filter" },
    { "capture", "snaplen", T_NUM, OFF(snaplen), "65535", 64, 262144, "bytes", 0, "bytes captured per packet (live)" },
    { "capture", "buffer", T_NUM, OFF(buffer), "64MiB", 1u << 20, UINT64_C(2) << 30, "bytes", 0,
      "kernel capture buffer (live)" },
    { "capture", "log_level", T_STR, OFF(log_level), "info", 0, 0, "error|warn|info|debug", 1,
      "least severe log level written" },
    { "capture", "workers", T_NUM, OFF(workers), "0", 0, 64, "count", 0,
      "threads that read capture files (-r), each tracking its share of the flows; 0: one per CPU "
      "(at most 8) when the files hold 32 MiB or more, else 1" },
    { "capture", "user", T_STR, OFF(user), "apiroster", 0, 0, NULL, 0,
      "unprivileged user the live capture runs as once the interface is open (when started as "
      "root; 'nobody' with a warning if it does not exist)" },
#define AR_X(name, def, unit, what) \
    { "limits", #name, T_NUM, OFF(lim.name), #def, AR_LIMIT_MIN(name), LIM_MAX, unit, 0, what },
    AR_LIMITS(AR_X)
#undef AR_X
};

#define POFF(f) offsetof(struct ar_push_cfg, f)
static const struct opt push_opts[] = {
    { "push", "url", T_STR, POFF(url), NULL, 0, 0, NULL, 1, "receiver URL (https:// or http://)" },
    { "push", "format", T_STR, POFF(format), "roster", 0, 0, "roster|openapi", 1,
      "roster: JSON deltas; openapi: the reconstructed OpenAPI document" },
    { "push", "secret_file", T_STR, POFF(secret_file), NULL, 0, 0, NULL, 1,
      "file holding the signing secret (Standard Webhooks)" },
    { "push", "headers_file", T_STR, POFF(headers_file), NULL, 0, 0, NULL, 1,
      "file of extra 'Name: value' header lines" },
    { "push", "interval", T_NUM, POFF(interval), "60s", 1, 86400, "seconds", 1, "time between pushes (live capture)" },
    { "push", "connect_timeout", T_NUM, POFF(connect_timeout), "10s", 1, 300, "seconds", 1, "connect timeout" },
    { "push", "timeout", T_NUM, POFF(timeout), "30s", 1, 3600, "seconds", 1, "total time of one delivery" },
    { "push", "batch", T_NUM, POFF(batch), "100", 1, 10000, "count", 1, "deltas per delivery" },
};

/* Repeatable keys: [templates] pin, [sources] spec|catalog|rules, [owners] pin|host. */
static const struct { const char *section, *key, *help; } lists[] = {
    { "templates", "pin", "[HOST] PATTERN: a template always used, or a literal path never merged" },
    { "sources", "spec", "OpenAPI/Swagger file or directory, imported at start and on SIGHUP" },
    { "sources", "catalog", "Backstage catalog file or directory" },
    { "sources", "rules", "ownership rules file (CODEOWNERS syntax over host/path)" },
    { "owners", "pin", "HOST/PATH-PATTERN TEAM: an owner that beats every other source" },
    { "owners", "host", "HOST-GLOB|CIDR[:PORT] TEAM: owner of hosts without a better source" },
};

static const char *const sections[] = { "inventory", "capture", "limits", "templates",
                                        "sources", "owners", "push" };

static char **str_at(void *base, const struct opt *o) { return (char **)((char *)base + o->off); }
static uint64_t *num_at(void *base, const struct opt *o) { return (uint64_t *)((char *)base + o->off); }

static int parse_num(const struct opt *o, const char *val, uint64_t *v)
{
    int rc = !strcmp(o->unit, "bytes")     ? ar_parse_size(val, v)
             : !strcmp(o->unit, "seconds") ? ar_parse_duration(val, v)
                                           : ar_parse_u64(val, v);
    return rc;
}

static int choice_ok(const char *choices, const char *val)
{
    size_t n = strlen(val);
    for (const char *p = choices; *p;) {
        const char *e = strchr(p, '|');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, val, n))
            return 1;
        p += len + (e != NULL);
    }
    return 0;
}

/* Set one option of a table row; 0 or -1 with the reason in why. */
static int set_opt(void *base, const struct opt *o, const char *val, char *why, size_t whysz)
{
    if (o->type == T_STR) {
        if (o->unit && !choice_ok(o->unit, val)) {
            snprintf(why, whysz, "bad value '%s' for %s.%s (one of %s)", val, o->section, o->key, o->unit);
            return -1;
        }
        free(*str_at(base, o));
        *str_at(base, o) = *val ? ar_xstrdup(val) : NULL;
        return 0;
    }
    uint64_t v;
    if (parse_num(o, val, &v) < 0) {
        snprintf(why, whysz, "bad value '%s' for %s.%s (%s)", val, o->section, o->key, o->unit);
        return -1;
    }
    if (v < o->min || v > o->max) {
        snprintf(why, whysz, "%s.%s = %s is out of range [%" PRIu64 ", %" PRIu64 "] %s", o->section,
                 o->key, val, o->min, o->max, o->unit);
        return -1;
    }
    *num_at(base, o) = v;
    return 0;
}

static void set_defaults(void *base, const struct opt *t, size_t n)
{
    char why[256];
    for (size_t i = 0; i < n; i++)
        if (t[i].def && set_opt(base, &t[i], t[i].def, why, sizeof(why)) < 0)
            abort(); /* a default outside its own bounds is a bug */
}

void ar_config_init(struct ar_config *c)
{
    memset(c, 0, sizeof(*c));
    set_defaults(c, opts, AR_ARRAY_LEN(opts));
}

static void free_strs(void *base, const struct opt *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].type == T_STR)
            free(*str_at(base, &t[i]));
}

void ar_config_free(struct ar_config *c)
{
    free_strs(c, opts, AR_ARRAY_LEN(opts));
    for (int i = 0; i < c->npins; i++) {
        free(c->pins[i].host);
        free(c->pins[i].pattern);
    }
    for (int i = 0; i < c->nitems; i++) {
        free(c->items[i].value);
        free(c->items[i].file);
    }
    for (int i = 0; i < c->npush; i++) {
        free_strs(&c->push[i], push_opts, AR_ARRAY_LEN(push_opts));
        free(c->push[i].team);
    }
    free(c->path);
    memset(c, 0, sizeof(*c));
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static int add_pin(struct ar_config *c, char *val, char *why, size_t whysz)
{
    if (c->npins >= AR_MAX_PINS) {
        snprintf(why, whysz, "too many pins (at most %d)", AR_MAX_PINS);
        return -1;
    }
    char *sp = strpbrk(val, " \t");
    char *pat = sp ? trim(sp + 1) : val;
    if (sp)
        *sp = '\0';
    if (pat[0] != '/') {
        snprintf(why, whysz, "pin '%s' is not an absolute path", pat);
        return -1;
    }
    struct ar_pin *p = &c->pins[c->npins++];
    p->host = sp ? ar_xstrdup(val) : NULL;
    p->pattern = ar_xstrdup(pat);
    return 0;
}

static int set_value(struct ar_config *c, const char *section, const char *key, char *val,
                     const char *file, int line, char *why, size_t whysz)
{
    if (!strcmp(section, "templates") && !strcmp(key, "pin"))
        return add_pin(c, val, why, whysz);
    for (size_t i = 0; i < AR_ARRAY_LEN(lists); i++) {
        if (strcmp(lists[i].section, section) || strcmp(lists[i].key, key))
            continue;
        if (!*val) {
            snprintf(why, whysz, "%s.%s needs a value", section, key);
            return -1;
        }
        if (c->nitems >= AR_MAX_ITEMS) {
            snprintf(why, whysz, "too many [sources]/[owners] entries (at most %d)", AR_MAX_ITEMS);
            return -1;
        }
        struct ar_cfg_item *it = &c->items[c->nitems++];
        it->key = lists[i].key;
        it->value = ar_xstrdup(val);
        it->file = ar_xstrdup(file);
        it->line = line;
        return 0;
    }
    if (!strcmp(section, "push")) {
        struct ar_push_cfg *p = &c->push[c->npush - 1];
        for (size_t i = 0; i < AR_ARRAY_LEN(push_opts); i++)
            if (!strcmp(push_opts[i].key, key))
                return set_opt(p, &push_opts[i], val, why, whysz);
    } else {
        for (size_t i = 0; i < AR_ARRAY_LEN(opts); i++)
            if (!strcmp(opts[i].section, section) && !strcmp(opts[i].key, key))
                return set_opt(c, &opts[i], val, why, whysz);
    }
    snprintf(why, whysz, "unknown key '%s' in [%s]", key, section);
    return -1;
}

/* "[name]" or "[push "TEAM"]": 0, or -1 with the reason. */
static int open_section(struct ar_config *c, char *s, char *section, size_t sectionsz, int line,
                        char *why, size_t whysz)
{
    char *e = strrchr(s, ']');
    if (!e || e[1]) {
        snprintf(why, whysz, "bad section header");
        return -1;
    }
    *e = '\0';
    char *name = trim(s + 1), *sub = NULL;
    char *q = strchr(name, '"');
    if (q) {
        char *qe = strrchr(q + 1, '"');
        if (!qe || qe[1] || qe == q + 1) {
            snprintf(why, whysz, "bad section header (expected [push \"TEAM\"])");
            return -1;
        }
        *qe = '\0';
        sub = q + 1;
        *q = '\0';
        name = trim(name);
    }
    int known = 0;
    for (size_t i = 0; i < AR_ARRAY_LEN(sections); i++)
        known |= !strcmp(sections[i], name);
    if (!known || (sub && strcmp(name, "push"))) {
        snprintf(why, whysz, "unknown section [%s%s%s%s]", name, sub ? " \"" : "", sub ? sub : "",
                 sub ? "\"" : "");
        return -1;
    }
    ar_strlcpy(section, name, sectionsz);
    if (strcmp(name, "push"))
        return 0;
    char canon[256];
    if (sub && ar_team_canon(sub, canon, sizeof(canon)) < 0) {
        snprintf(why, whysz, "[push \"%s\"]: not a team name", sub);
        return -1;
    }
    /* one target per team, however it is spelled: "@shop/orders" is "shop/orders" */
    for (int i = 0; i < c->npush; i++)
        if ((!sub && !c->push[i].team) ||
            (sub && c->push[i].team && ar_team_eq(sub, c->push[i].team))) {
            int same = !sub || !strcmp(sub, c->push[i].team);
            snprintf(why, whysz, "[push%s%s%s] given twice (first at line %d%s%s%s)",
                     sub ? " \"" : "", sub ? sub : "", sub ? "\"" : "", c->push[i].line,
                     same ? "" : " as \"", same ? "" : c->push[i].team, same ? "" : "\"");
            return -1;
        }
    if (c->npush >= AR_MAX_PUSH) {
        snprintf(why, whysz, "too many push targets (at most %d)", AR_MAX_PUSH);
        return -1;
    }
    struct ar_push_cfg *p = &c->push[c->npush++];
    memset(p, 0, sizeof(*p));
    set_defaults(p, push_opts, AR_ARRAY_LEN(push_opts));
    p->team = sub ? ar_xstrdup(sub) : NULL;
    p->line = line;
    return 0;
}

int ar_config_load(struct ar_config *c, const char *path, char *err, size_t errsz)
{
    FILE *fp = fopen(path, "r");
    struct stat st;
    if (!fp || fstat(fileno(fp), &st) < 0 || S_ISDIR(st.st_mode)) {
        snprintf(err, errsz, "%s: %s", path, fp ? "is a directory" : strerror(errno));
        if (fp)
            fclose(fp);
        return -1;
    }
    free(c->path);
    c->path = ar_xstrdup(path);
    char line[4096], section[64] = "";
    char why[512];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), fp)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(fp)) {
            snprintf(why, sizeof(why), "line too long");
            rc = -1;
            break;
        }
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            rc = open_section(c, s, section, sizeof(section), lineno, why, sizeof(why));
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(why, sizeof(why), "expected 'key = value'");
            rc = -1;
        } else if (!section[0]) {
            snprintf(why, sizeof(why), "key outside of a [section]");
            rc = -1;
        } else {
            *eq = '\0';
            char *key = trim(s), *val = eq + 1;
            char *hash = strstr(val, " #"); /* a trailing comment after whitespace */
            if (hash)
                *hash = '\0';
            rc = set_value(c, section, key, trim(val), path, lineno, why, sizeof(why));
        }
    }
    fclose(fp);
    if (rc < 0) {
        snprintf(err, errsz, "%s:%d: %s", path, lineno, why);
        return -1;
    }
    for (int i = 0; i < c->npush; i++) {
        const char *u = c->push[i].url;
        if (!u) {
            snprintf(err, errsz, "%s:%d: push target without url", path, c->push[i].line);
            return -1;
        }
        if (strncmp(u, "https://", 8) && strncmp(u, "http://", 7)) {
            snprintf(err, errsz, "%s:%d: push url must start with https:// or http://", path,
                     c->push[i].line);
            return -1;
        }
    }
    return 0;
}

static void dump_table(const void *base, const struct opt *t, size_t n, const char *prefix,
                       void (*line)(void *, const char *), void *ud)
{
    char buf[4200];
    for (size_t i = 0; i < n; i++) {
        const struct opt *o = &t[i];
        if (o->type == T_STR) {
            const char *v = *str_at((void *)base, o);
            snprintf(buf, sizeof(buf), "%s.%s = %s", prefix, o->key, v ? v : "");
        } else {
            snprintf(buf, sizeof(buf), "%s.%s = %" PRIu64, prefix, o->key, *num_at((void *)base, o));
        }
        line(ud, buf);
    }
}

void ar_config_dump(const struct ar_config *c, void (*line)(void *, const char *), void *ud)
{
    char buf[4200];
    for (size_t i = 0; i < AR_ARRAY_LEN(opts); i++)
        dump_table(c, &opts[i], 1, opts[i].section, line, ud);
    for (int i = 0; i < c->npins; i++) {
        snprintf(buf, sizeof(buf), "templates.pin = %s%s%s", c->pins[i].host ? c->pins[i].host : "",
                 c->pins[i].host ? " " : "", c->pins[i].pattern);
        line(ud, buf);
    }
    for (int i = 0; i < c->nitems; i++) {
        const char *sec = strcmp(c->items[i].key, "spec") && strcmp(c->items[i].key, "catalog") &&
                                  strcmp(c->items[i].key, "rules")
                              ? "owners" : "sources";
        snprintf(buf, sizeof(buf), "%s.%s = %s", sec, c->items[i].key, c->items[i].value);
        line(ud, buf);
    }
    for (int i = 0; i < c->npush; i++) {
        char prefix[300];
        snprintf(prefix, sizeof(prefix), c->push[i].team ? "push \"%s\"" : "push", c->push[i].team);
        dump_table(&c->push[i], push_opts, AR_ARRAY_LEN(push_opts), prefix, line, ud);
    }
}

int ar_config_restart_needed(const struct ar_config *a, const struct ar_config *b,
                             void (*fn)(void *, const char *), void *ud)
{
    int n = 0;
    for (size_t i = 0; i < AR_ARRAY_LEN(opts); i++) {
        const struct opt *o = &opts[i];
        if (o->reloadable)
            continue;
        int same;
        if (o->type == T_STR) {
            const char *x = *str_at((void *)a, o), *y = *str_at((void *)b, o);
            same = (!x && !y) || (x && y && !strcmp(x, y));
        } else {
            same = *num_at((void *)a, o) == *num_at((void *)b, o);
        }
        if (!same) {
            char key[128];
            snprintf(key, sizeof(key), "%s.%s", o->section, o->key);
            fn(ud, key);
            n++;
        }
    }
    int pins_same = a->npins == b->npins;
    for (int i = 0; pins_same && i < a->npins; i++)
        pins_same = !strcmp(a->pins[i].pattern, b->pins[i].pattern) &&
                    !strcmp(a->pins[i].host ? a->pins[i].host : "", b->pins[i].host ? b->pins[i].host : "");
    if (!pins_same) {
        fn(ud, "templates.pin");
        n++;
    }
    return n;
}

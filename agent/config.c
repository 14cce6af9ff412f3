/* config.c - one typed table for every option. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/util.h"
#include "config.h"

enum opt_type { T_STR, T_SIZE, T_DURATION, T_COUNT };

struct opt {
    const char *section, *key;
    enum opt_type type;
    size_t off;
    const char *help;
};

#define OFF(f) offsetof(struct ar_config, f)
static const struct opt opts[] = {
    { "inventory", "db", T_STR, OFF(db), "SQLite database of the roster" },
    { "inventory", "words", T_STR, OFF(words), "word list that keeps real words literal in templates" },
    { "inventory", "flush_interval", T_DURATION, OFF(flush_interval), "seconds between database flushes (live)" },
    { "capture", "filter", T_STR, OFF(filter), "BPF filter" },
    { "capture", "interface", T_STR, OFF(interface), "interface for live capture" },
    { "capture", "snaplen", T_SIZE, OFF(snaplen), "bytes captured per packet (live)" },
    { "capture", "buffer", T_SIZE, OFF(buffer), "kernel capture buffer (live)" },
};

void ar_config_init(struct ar_config *c)
{
    memset(c, 0, sizeof(*c));
    c->words = ar_xstrdup("/usr/share/dict/words");
    c->flush_interval = 10;
    c->snaplen = 65535;
    c->buffer = 64u << 20;
    ar_limits_default(&c->lim);
}

void ar_config_free(struct ar_config *c)
{
    for (size_t i = 0; i < AR_ARRAY_LEN(opts); i++)
        if (opts[i].type == T_STR)
            free(*(char **)((char *)c + opts[i].off));
    for (int i = 0; i < c->npins; i++) {
        free(c->pins[i].host);
        free(c->pins[i].pattern);
    }
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

static int set_value(struct ar_config *c, const char *section, const char *key, char *val,
                     char *why, size_t whysz)
{
    if (strcmp(section, "limits") == 0) {
        int id = ar_limit_lookup(key);
        if (id < 0) {
            snprintf(why, whysz, "unknown key '%s' in [limits]", key);
            return -1;
        }
        const char *unit = ar_limit_unit(id);
        uint64_t v;
        int rc = strcmp(unit, "bytes") == 0     ? ar_parse_size(val, &v)
                 : strcmp(unit, "seconds") == 0 ? ar_parse_duration(val, &v)
                                                : ar_parse_u64(val, &v);
        if (rc < 0) {
            snprintf(why, whysz, "bad value '%s' for %s (%s)", val, key, unit);
            return -1;
        }
        *ar_limit_ptr(&c->lim, id) = v;
        return 0;
    }
    if (strcmp(section, "templates") == 0) {
        if (strcmp(key, "pin") != 0) {
            snprintf(why, whysz, "unknown key '%s' in [templates]", key);
            return -1;
        }
        if (c->npins >= AR_MAX_PINS) {
            snprintf(why, whysz, "too many pins (at most %d)", AR_MAX_PINS);
            return -1;
        }
        char *sp = strpbrk(val, " \t");
        struct ar_pin *p = &c->pins[c->npins];
        if (sp) {
            *sp = '\0';
            char *pat = trim(sp + 1);
            p->host = ar_xstrdup(val);
            p->pattern = ar_xstrdup(pat);
        } else {
            p->pattern = ar_xstrdup(val);
        }
        if (p->pattern[0] != '/') {
            snprintf(why, whysz, "pin '%s' is not an absolute path", p->pattern);
            free(p->host);
            free(p->pattern);
            p->host = p->pattern = NULL;
            return -1;
        }
        c->npins++;
        return 0;
    }
    for (size_t i = 0; i < AR_ARRAY_LEN(opts); i++) {
        const struct opt *o = &opts[i];
        if (strcmp(o->section, section) || strcmp(o->key, key))
            continue;
        void *dst = (char *)c + o->off;
        uint64_t v;
        switch (o->type) {
        case T_STR:
            free(*(char **)dst);
            *(char **)dst = ar_xstrdup(val);
            return 0;
        case T_SIZE:
            if (ar_parse_size(val, &v) < 0)
                break;
            *(uint64_t *)dst = v;
            return 0;
        case T_DURATION:
            if (ar_parse_duration(val, &v) < 0)
                break;
            *(uint64_t *)dst = v;
            return 0;
        case T_COUNT:
            if (ar_parse_u64(val, &v) < 0)
                break;
            *(uint64_t *)dst = v;
            return 0;
        }
        snprintf(why, whysz, "bad value '%s' for %s.%s", val, section, key);
        return -1;
    }
    snprintf(why, whysz, "unknown key '%s' in [%s]", key, section);
    return -1;
}

static int known_section(const char *s)
{
    static const char *const sections[] = { "inventory", "capture", "limits", "templates" };
    for (size_t i = 0; i < AR_ARRAY_LEN(sections); i++)
        if (strcmp(sections[i], s) == 0)
            return 1;
    return 0;
}

int ar_config_load(struct ar_config *c, const char *path, char *err, size_t errsz)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096], section[64] = "";
    char why[512];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof(line), fp)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(fp)) {
            snprintf(err, errsz, "%s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (!e || e[1]) {
                snprintf(err, errsz, "%s:%d: bad section header", path, lineno);
                rc = -1;
                break;
            }
            *e = '\0';
            ar_strlcpy(section, trim(s + 1), sizeof(section));
            if (!known_section(section)) {
                snprintf(err, errsz, "%s:%d: unknown section [%s]", path, lineno, section);
                rc = -1;
                break;
            }
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errsz, "%s:%d: expected 'key = value'", path, lineno);
            rc = -1;
            break;
        }
        if (!section[0]) {
            snprintf(err, errsz, "%s:%d: key outside of a [section]", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        /* a trailing comment after whitespace */
        char *hash = strstr(val, " #");
        if (hash)
            *hash = '\0';
        val = trim(val);
        if (set_value(c, section, key, val, why, sizeof(why)) < 0) {
            snprintf(err, errsz, "%s:%d: %s", path, lineno, why);
            rc = -1;
            break;
        }
    }
    fclose(fp);
    return rc;
}

void ar_config_dump(const struct ar_config *c)
{
    for (size_t i = 0; i < AR_ARRAY_LEN(opts); i++) {
        const struct opt *o = &opts[i];
        const void *src = (const char *)c + o->off;
        if (o->type == T_STR) {
            const char *v = *(char *const *)src;
            printf("%s.%s = %s\n", o->section, o->key, v ? v : "");
        } else {
            printf("%s.%s = %" PRIu64 "\n", o->section, o->key, *(const uint64_t *)src);
        }
    }
    for (int i = 0; i < AR_LIMIT__COUNT; i++)
        printf("limits.%s = %" PRIu64 "\n", ar_limit_name(i),
               *ar_limit_ptr((struct ar_limits *)&c->lim, i));
    for (int i = 0; i < c->npins; i++)
        printf("templates.pin = %s%s%s\n", c->pins[i].host ? c->pins[i].host : "",
               c->pins[i].host ? " " : "", c->pins[i].pattern);
}

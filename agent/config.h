/* config.h - the config file (git-config / systemd style) and its typed table.
 *
 *   [section]            key = value      # comment
 *   [push "TEAM"]        a team's own push target
 * Every option is one row of a typed table in config.c (name, type, default,
 * min, max, unit, reloadable). Sizes and durations take units (64MiB, 30s).
 * Unknown sections or keys and bad values are rejected with "file:line:
 * reason". Command-line flags override the file. Keys that may appear several
 * times (sources, pins, host rules) keep the file and line they came from, so
 * that the code that reads them later can name them in its errors. */
#ifndef AR_CONFIG_H
#define AR_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "../core/limits.h"

#define AR_MAX_PINS 256
#define AR_MAX_ITEMS 1024    /* entries of every repeatable key together */
#define AR_MAX_PUSH 64       /* push targets: [push] plus [push "TEAM"] sections */

struct ar_pin {
    char *host;     /* NULL: any host */
    char *pattern;
};

/* One value of a repeatable key, with where it was written. */
struct ar_cfg_item {
    const char *key;    /* "spec", "catalog", "rules" ([sources]); "pin", "host" ([owners]) */
    char *value;
    char *file;
    int line;
};

struct ar_push_cfg {
    char *team;             /* NULL for [push], else the TEAM of [push "TEAM"] */
    char *url;
    char *format;           /* "roster" or "openapi" */
    char *secret_file;      /* signing secret (Standard Webhooks), read at start */
    char *headers_file;     /* extra "Name: value" lines, read at start */
    uint64_t interval;      /* seconds between pushes (live capture) */
    uint64_t connect_timeout, timeout; /* seconds */
    uint64_t batch;         /* deltas per delivery */
    int line;               /* where the section starts */
};

struct ar_config {
    char *path;             /* the file read, NULL for built-in defaults */
    char *db;               /* [inventory] db */
    char *words;            /* [inventory] words: word list for templating */
    uint64_t flush_interval;/* [inventory] flush_interval (seconds) */
    char *filter;           /* [capture] filter */
    char *interface;        /* [capture] interface */
    uint64_t snaplen;       /* [capture] snaplen */
    uint64_t buffer;        /* [capture] buffer (bytes) */
    char *log_level;        /* [capture] log_level: error, warn, info, debug */
    char *user;             /* [capture] user: run as this user after opening the capture */
    uint64_t workers;       /* [capture] workers: shard threads for file captures, 0 = per CPU */
    struct ar_limits lim;   /* [limits] */
    struct ar_pin pins[AR_MAX_PINS]; /* [templates] pin = [HOST] PATTERN */
    int npins;
    struct ar_cfg_item items[AR_MAX_ITEMS]; /* [sources] and [owners] */
    int nitems;
    struct ar_push_cfg push[AR_MAX_PUSH];
    int npush;
};

void ar_config_init(struct ar_config *c);
void ar_config_free(struct ar_config *c);
/* Returns 0, or -1 with "file:line: reason" in err. */
int ar_config_load(struct ar_config *c, const char *path, char *err, size_t errsz);
/* Print every key with its effective value, one "section.key = value" line
 * each (`apiroster config show`, and the log at start). */
void ar_config_dump(const struct ar_config *c, void (*line)(void *ud, const char *text), void *ud);
/* Names of the keys whose values differ between a and b and that a reload
 * cannot apply (they need a restart); calls fn for each. Returns the number. */
int ar_config_restart_needed(const struct ar_config *a, const struct ar_config *b,
                             void (*fn)(void *ud, const char *key), void *ud);

#endif

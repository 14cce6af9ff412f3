/* config.h - the config file (git-config / systemd style) and its typed table.
 *
 *   [section]            key = value      # comment
 * Sizes and durations take units (64MiB, 30s). Unknown sections or keys and bad
 * values are rejected with "file:line: reason". Command-line flags override. */
#ifndef AR_CONFIG_H
#define AR_CONFIG_H

#include <stddef.h>
#include "../core/limits.h"

#define AR_MAX_PINS 256

struct ar_pin {
    char *host;     /* NULL: any host */
    char *pattern;
};

struct ar_config {
    char *db;               /* [inventory] db */
    char *words;            /* [inventory] words: word list for templating */
    uint64_t flush_interval;/* [inventory] flush_interval (seconds) */
    char *filter;           /* [capture] filter */
    char *interface;        /* [capture] interface */
    uint64_t snaplen;       /* [capture] snaplen */
    uint64_t buffer;        /* [capture] buffer (bytes) */
    struct ar_limits lim;   /* [limits] */
    struct ar_pin pins[AR_MAX_PINS]; /* [templates] pin = [HOST] PATTERN */
    int npins;
};

void ar_config_init(struct ar_config *c);
void ar_config_free(struct ar_config *c);
/* Returns 0, or -1 with "file:line: reason" in err. */
int ar_config_load(struct ar_config *c, const char *path, char *err, size_t errsz);
/* Print every key with its current value (for `apiroster config show`). */
void ar_config_dump(const struct ar_config *c);

#endif

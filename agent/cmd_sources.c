/* cmd_sources.c - `apiroster import PATH...` and `apiroster sources [remove PATH]`. */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/json.h"
#include "../core/util.h"
#include "agent.h"
#include "roster.h"

static const struct option opts[] = {
    { "db", required_argument, 0, 'd' }, { "config", required_argument, 0, 'c' },
    { "as", required_argument, 0, 'a' }, { "json", no_argument, 0, 'j' },
    { "help", no_argument, 0, 'h' },     { 0, 0, 0, 0 },
};

#define IMPORT_USAGE "apiroster import [--db PATH] [--config PATH] [--as spec|catalog|rules] PATH..."
#define SOURCES_USAGE                                                                       \
    "apiroster sources [--db PATH] [--config PATH] [--json] | apiroster sources remove PATH..."

int cmd_import(int argc, char **argv)
{
    const char *db = NULL, *config = NULL, *as = NULL;
    int opt;
    char err[2048];
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'd': db = optarg; break;
        case 'c': config = optarg; break;
        case 'a': as = optarg; break;
        case 'h': printf("usage: %s\n", IMPORT_USAGE); return AR_EXIT_OK;
        default: ar_die(AR_EXIT_USAGE, "usage: %s", IMPORT_USAGE);
        }
    }
    if (as && strcmp(as, "spec") && strcmp(as, "catalog") && strcmp(as, "rules"))
        ar_die(AR_EXIT_USAGE, "import: --as takes spec, catalog or rules, not '%s'", as);
    if (optind >= argc)
        ar_die(AR_EXIT_USAGE, "usage: %s", IMPORT_USAGE);
    struct ar_config cfg;
    ar_load_config(&cfg, config);
    struct ar_store *s;
    if (ar_store_open(ar_db_path(db, &cfg), AR_STORE_RW, &s, err, sizeof(err)) < 0)
        ar_die(AR_EXIT_USAGE, "%s", err);
    int n = ar_import(s, (const char *const *)argv + optind, argc - optind, as, stdout, err,
                      sizeof(err));
    if (n < 0) {
        ar_store_close(s);
        ar_die(AR_EXIT_USAGE, "%s (nothing imported)", err);
    }
    /* the roster is judged again against what is now imported */
    struct ar_model *m = ar_model_load(s, &cfg, err, sizeof(err));
    if (!m) {
        ar_store_close(s);
        ar_die(AR_EXIT_USAGE, "%s", err);
    }
    ar_store_set_judge(s, ar_model_judge, m);
    int64_t changed = ar_store_judge_all(s, err, sizeof(err));
    int corrupt = ar_store_is_corrupt(s);
    ar_store_close(s);
    ar_model_free(m);
    ar_config_free(&cfg);
    if (changed < 0)
        ar_die(corrupt ? AR_EXIT_USAGE : AR_EXIT_FAIL, "%s", err);
    printf("%d source%s imported; %" PRId64 " endpoint%s changed state or owner\n", n,
           n == 1 ? "" : "s", changed, changed == 1 ? "" : "s");
    return AR_EXIT_OK;
}

struct src_out {
    int json;
    struct ar_json j;
};

static int print_source(const struct ar_source *src, void *ud)
{
    struct src_out *o = ud;
    if (o->json) {
        struct ar_json *j = &o->j;
        ar_json_obj_open(j);
        ar_json_kstr(j, "path", src->path);
        ar_json_kstr(j, "kind", src->kind);
        ar_json_kstr(j, "format", src->format);
        ar_json_kstr(j, "title", src->title);
        ar_json_kstr(j, "version", src->version);
        ar_json_kstr(j, "sha256", src->sha256);
        ar_json_kdouble(j, "imported", src->imported, 3);
        ar_json_kuint(j, !strcmp(src->kind, "spec") ? "operations"
                         : !strcmp(src->kind, "rules") ? "rules" : "entities", src->items);
        ar_json_key(j, "warnings");
        ar_json_raw(j, src->warnings);
        ar_json_obj_close(j);
        return 0;
    }
    /* the number of warnings: count the top-level strings of the JSON array */
    int nw = 0, in = 0;
    for (const char *p = src->warnings; *p; p++) {
        if (*p == '\\' && in && p[1]) {
            p++;
            continue;
        }
        if (*p == '"') {
            in = !in;
            nw += in;
        }
    }
    printf("%-8s %-12s %6" PRIu64 " %4d  %.12s  %s\n", src->kind, src->format, src->items, nw,
           src->sha256, ar_vis(src->path));
    return 0;
}

int cmd_sources(int argc, char **argv)
{
    const char *db = NULL, *config = NULL;
    int opt, json = 0;
    char err[1024];
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'd': db = optarg; break;
        case 'c': config = optarg; break;
        case 'j': json = 1; break;
        case 'h': printf("usage: %s\n", SOURCES_USAGE); return AR_EXIT_OK;
        default: ar_die(AR_EXIT_USAGE, "usage: %s", SOURCES_USAGE);
        }
    }
    struct ar_config cfg;
    ar_load_config(&cfg, config);
    struct ar_store *s;
    int remove = optind < argc && !strcmp(argv[optind], "remove");
    if (!remove && optind < argc)
        ar_die(AR_EXIT_USAGE, "usage: %s", SOURCES_USAGE);
    if (remove && optind + 1 >= argc)
        ar_die(AR_EXIT_USAGE, "usage: %s", SOURCES_USAGE);
    if (ar_store_open(ar_db_path(db, &cfg), remove ? AR_STORE_RW : AR_STORE_RO, &s, err,
                      sizeof(err)) < 0)
        ar_die(AR_EXIT_USAGE, "%s", err);
    int rc = AR_EXIT_OK;
    if (remove) {
        for (int i = optind + 1; i < argc; i++) {
            char abs[PATH_MAX];
            const char *p = realpath(argv[i], abs) ? abs : argv[i];
            int r = ar_store_source_remove(s, p, err, sizeof(err));
            if (r < 0)
                ar_die_store(s, err);
            if (r == 1) {
                fprintf(stderr, "apiroster: %s: no such source\n", ar_vis(argv[i]));
                rc = AR_EXIT_USAGE;
            } else {
                printf("removed %s\n", ar_vis(p));
            }
        }
        struct ar_model *m = ar_model_load(s, &cfg, err, sizeof(err));
        if (!m)
            ar_die(AR_EXIT_USAGE, "%s", err);
        ar_store_set_judge(s, ar_model_judge, m);
        if (ar_store_judge_all(s, err, sizeof(err)) < 0)
            ar_die_store(s, err);
        ar_store_close(s);
        ar_model_free(m);
        ar_config_free(&cfg);
        return rc;
    }
    struct src_out o = { .json = json };
    ar_json_init(&o.j);
    if (json)
        ar_json_arr_open(&o.j);
    else
        printf("%-8s %-12s %6s %4s  %-12s  %s\n", "KIND", "FORMAT", "ITEMS", "WARN", "SHA256",
               "PATH");
    if (ar_store_each_source(s, print_source, &o, err, sizeof(err)) < 0)
        ar_die_store(s, err);
    if (json) {
        ar_json_arr_close(&o.j);
        ar_json_append(&o.j, "\n", 1);
        ar_write_stdout(&o.j);
    }
    ar_json_free(&o.j);
    ar_store_close(s);
    ar_config_free(&cfg);
    return rc;
}

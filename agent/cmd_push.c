/* cmd_push.c - `apiroster push`: deliver the outbox to the push targets now. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../core/json.h"
#include "../core/util.h"
#include "../inventory/store.h"
#include "agent.h"
#include "push.h"

static const char usage_line[] =
    "apiroster push [--db PATH] [--config PATH] [--dry-run] [--retry-failed] [--json]";

static void dry_print(void *ud, const char *label, const char *webhook_id, int is_new,
                      const char *body)
{
    struct ar_json *j = ud;
    if (j) {
        ar_json_obj_open(j);
        ar_json_kstr(j, "target", label);
        ar_json_kstr(j, "webhook_id", webhook_id);
        ar_json_key(j, "new");
        ar_json_bool(j, is_new);
        ar_json_key(j, "body");
        ar_json_raw(j, body[0] ? body : "null");
        ar_json_obj_close(j);
        return;
    }
    printf("%s %s%s\n%s\n", ar_vis(label), webhook_id,
           is_new ? " (new: the real push draws another webhook-id)" : "", body);
}

static void print_json(const struct ar_push_report *rep, int rc, struct ar_json *dry)
{
    struct ar_json j;
    char t[40];
    ar_json_init(&j);
    ar_json_obj_open(&j);
    ar_json_key(&j, "targets");
    ar_json_arr_open(&j);
    for (int i = 0; i < rep->ntargets; i++) {
        const struct ar_push_target_report *tr = &rep->t[i];
        ar_json_obj_open(&j);
        ar_json_kstr(&j, "target", tr->label);
        ar_json_key(&j, "team");
        ar_json_str(&j, tr->name[0] ? tr->name : NULL);
        ar_json_key(&j, "refused");
        ar_json_bool(&j, tr->refused);
        ar_json_key(&j, "disabled");
        ar_json_bool(&j, tr->disabled);
        ar_json_key(&j, "disabled_at");
        if (tr->disabled) {
            ar_fmt_time(t, sizeof(t), tr->disabled_at);
            ar_json_str(&j, t);
        } else {
            ar_json_null(&j);
        }
        ar_json_kuint(&j, "planned", tr->planned);
        ar_json_kuint(&j, "attempts", tr->attempts);
        ar_json_kuint(&j, "delivered", tr->delivered);
        ar_json_kuint(&j, "retried", tr->retried);
        ar_json_kuint(&j, "dead_lettered", tr->dead);
        ar_json_kuint(&j, "pending", tr->pending);
        ar_json_kuint(&j, "failed", tr->failed);
        ar_json_kuint(&j, "unassigned", tr->unassigned);
        ar_json_key(&j, "next_attempt");
        if (tr->next_attempt > 0) {
            ar_fmt_time(t, sizeof(t), tr->next_attempt);
            ar_json_str(&j, t);
        } else {
            ar_json_null(&j);
        }
        ar_json_key(&j, "last_http");
        if (tr->last_http)
            ar_json_int(&j, tr->last_http);
        else
            ar_json_null(&j);
        ar_json_key(&j, "last_error");
        ar_json_str(&j, tr->last_error[0] ? tr->last_error : NULL);
        ar_json_obj_close(&j);
    }
    ar_json_arr_close(&j);
    ar_json_kuint(&j, "attempts", rep->attempts);
    ar_json_kuint(&j, "delivered", rep->delivered);
    ar_json_kuint(&j, "pending", rep->pending);
    ar_json_kuint(&j, "failed", rep->failed);
    if (dry) {
        ar_json_key(&j, "dry_run");
        ar_json_arr_close(dry);
        ar_json_raw(&j, dry->buf);
    }
    ar_json_key(&j, "error");
    ar_json_str(&j, rep->err[0] ? rep->err : NULL);
    ar_json_key(&j, "exit");
    ar_json_int(&j, rc);
    ar_json_obj_close(&j);
    ar_json_append(&j, "\n", 1);
    ar_write_stdout(&j);
    ar_json_free(&j);
}

static void print_text(const struct ar_push_report *rep)
{
    for (int i = 0; i < rep->ntargets; i++) {
        const struct ar_push_target_report *tr = &rep->t[i];
        if (tr->refused) {
            printf("%s: refused: %s\n", ar_vis(tr->label), ar_vis(tr->last_error));
            continue;
        }
        printf("%s: %" PRIu64 " delivered, %" PRIu64 " pending, %" PRIu64 " failed",
               ar_vis(tr->label), tr->delivered, tr->pending + tr->unassigned, tr->failed);
        if (tr->disabled) {
            char t[40];
            ar_fmt_time(t, sizeof(t), tr->disabled_at);
            printf(", DISABLED since %s (HTTP 410 Gone)", t);
        } else if (tr->pending && tr->next_attempt > 0) {
            char t[40];
            ar_fmt_time(t, sizeof(t), tr->next_attempt);
            printf(", next attempt %s", t);
        }
        if (tr->last_error[0] && (tr->pending || tr->failed))
            printf(" (last error: %s)", ar_vis(tr->last_error));
        putchar('\n');
    }
}

int cmd_push(int argc, char **argv)
{
    static const struct option opts[] = {
        { "db", required_argument, 0, 'd' },   { "config", required_argument, 0, 'c' },
        { "dry-run", no_argument, 0, 'n' },     { "json", no_argument, 0, 'j' },
        { "retry-failed", no_argument, 0, 'r' }, { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    const char *db = NULL, *config = NULL;
    int dry = 0, json = 0, retry_failed = 0, opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'd': db = optarg; break;
        case 'c': config = optarg; break;
        case 'n': dry = 1; break;
        case 'j': json = 1; break;
        case 'r': retry_failed = 1; break;
        case 'h':
            printf("usage: %s\n\nDeliver every pending push delivery now, whatever its retry "
                   "timer. Exit 0 when nothing is left to deliver, 1 when something is still "
                   "pending, failed or its target disabled, 2 on bad usage or config.\n",
                   usage_line);
            return AR_EXIT_OK;
        default: ar_die(AR_EXIT_USAGE, "usage: %s", usage_line);
        }
    }
    if (optind < argc)
        ar_die(AR_EXIT_USAGE, "unexpected argument '%s'\nusage: %s", argv[optind], usage_line);
    if (dry && retry_failed)
        ar_die(AR_EXIT_USAGE, "--dry-run and --retry-failed do not go together");

    struct ar_config cfg;
    char err[1024];
    ar_load_config(&cfg, config);
    if (cfg.npush == 0)
        ar_die(AR_EXIT_USAGE, "%s: no push target ([push] url = ...)",
               cfg.path ? cfg.path : "no config file");
    if (ar_push_check(&cfg, err, sizeof(err)) < 0)
        ar_die(AR_EXIT_USAGE, "%s", err);

    struct ar_store *s;
    const char *path = ar_db_path(db, &cfg);
    if (access(path, F_OK) != 0)        /* push never creates a roster */
        ar_die(AR_EXIT_USAGE, "%s: no such database", path);
    if (ar_store_open(path, AR_STORE_RW, &s, err, sizeof(err)) < 0)
        ar_die(AR_EXIT_USAGE, "%s", err);
    struct ar_push_report *rep = ar_xcalloc(1, sizeof(*rep));
    struct ar_json dj;
    ar_json_init(&dj);
    if (json && dry)
        ar_json_arr_open(&dj);
    int rc = dry ? ar_push_dry_run(s, &cfg, dry_print, json ? &dj : NULL, rep)
                 : ar_push_run(s, &cfg, AR_PUSH_FORCE | (retry_failed ? AR_PUSH_RETRY_FAILED : 0),
                               rep);
    int code = rc < 0 ? AR_EXIT_FAIL : rc == 2 ? AR_EXIT_USAGE : rc == 1 ? AR_EXIT_FAIL : AR_EXIT_OK;
    if (json)
        print_json(rep, code, dry ? &dj : NULL);
    else
        print_text(rep);
    if (rep->err[0])
        fprintf(stderr, "apiroster: %s\n", rep->err);
    ar_json_free(&dj);
    free(rep);
    ar_store_close(s);
    ar_config_free(&cfg);
    return code;
}

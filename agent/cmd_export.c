/* cmd_export.c - `apiroster export openapi`: the observed API as an OpenAPI
 * 3.1 document (agent/openapi.c builds it). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "../core/json.h"
#include "../inventory/store.h"
#include "../ownership/team.h"
#include "agent.h"
#include "openapi.h"

int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {
        { "db", required_argument, 0, 'd' }, { "config", required_argument, 0, 'c' },
        { "host", required_argument, 0, 'H' }, { "owner", required_argument, 0, 't' },
        { "output", required_argument, 0, 'o' }, { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    const char *usage = "apiroster export openapi [--db PATH] [--config PATH] [--host H] "
                        "[--owner TEAM] [-o FILE]";
    const char *db = NULL, *config = NULL, *host = NULL, *owner = NULL, *output = NULL;
    int opt;
    char err[1024];
    while ((opt = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (opt) {
        case 'd': db = optarg; break;
        case 'c': config = optarg; break;
        case 'H': host = optarg; break;
        case 't': owner = optarg; break;
        case 'o': output = optarg; break;
        case 'h': printf("usage: %s\n", usage); return AR_EXIT_OK;
        default: ar_die(AR_EXIT_USAGE, "usage: %s", usage);
        }
    }
    if (argc - optind != 1 || strcmp(argv[optind], "openapi"))
        ar_die(AR_EXIT_USAGE, "usage: %s", usage);
    char team[256];
    if (owner && *owner) {      /* owners are stored canonical: @shop/orders is shop/orders */
        if (ar_team_canon(owner, team, sizeof(team)) < 0)
            ar_die(AR_EXIT_USAGE, "export: --owner '%s' is not a team name", owner);
        owner = team;
    }
    struct ar_config cfg;
    ar_load_config(&cfg, config);
    const char *path = ar_db_path(db, &cfg);
    const char *in[] = { cfg.path }, *what[] = { "the configuration" };
    ar_refuse_clobber(output, "-o", path, in, what, 1);
    struct ar_store *s;
    if (ar_store_open(path, AR_STORE_RO, &s, err, sizeof(err)) < 0)
        ar_die(AR_EXIT_USAGE, "%s", err);
    struct ar_json j;
    ar_json_init(&j);
    int n = ar_openapi_document(s, host, owner, &j, err, sizeof(err));
    if (n < 0)
        ar_die_store(s, err);
    ar_store_close(s);
    /* a filter that selects nothing is most likely a typo: said, nothing written */
    if (n == 0 && (host || owner)) {
        char sel[600];
        snprintf(sel, sizeof(sel), "%s%s%s%s%s", host ? "of host " : "", host ? host : "",
                 host && owner ? " " : "", owner ? "owned by " : "",
                 owner ? (*owner ? owner : "nobody (unowned)") : "");
        fprintf(stderr, "apiroster: export: no endpoint %s in %s (noise and TLS-only hosts are "
                "left out); nothing written\n", ar_vis(sel), ar_vis(path));
        ar_json_free(&j);
        ar_config_free(&cfg);
        return AR_EXIT_FAIL;
    }
    ar_json_append(&j, "\n", 1);
    FILE *fp = output && strcmp(output, "-") ? fopen(output, "w") : stdout;
    if (!fp)
        ar_die(AR_EXIT_USAGE, "%s: %m", output);
    errno = 0;
    int werr = ar_json_write(&j, fp) < 0 ? (errno ? errno : EIO) : 0;
    if (ar_close_output(fp, fp == stdout ? "stdout" : output, werr, err, sizeof(err)) < 0)
        ar_die(AR_EXIT_FAIL, "%s", err);
    ar_json_free(&j);
    ar_config_free(&cfg);
    return AR_EXIT_OK;
}

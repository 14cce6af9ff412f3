/* main.c - `apiroster COMMAND [ARGS]`: a git-style dispatch table. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "../core/util.h"
#include "../inventory/store.h"
#include "agent.h"

#define DEFAULT_CONFIG "/etc/apiroster/apiroster.conf"

void ar_die(int code, const char *fmt, ...)
{
    /* file names and values in the message are made safe for the terminal
     * line by line (a usage line after the error is the only newline) */
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    fputs("apiroster: ", stderr);
    for (char *line = buf, *nl;; line = nl + 1) {
        if ((nl = strchr(line, '\n')))
            *nl = '\0';
        fputs(ar_vis(line), stderr);
        fputc('\n', stderr);
        if (!nl)
            break;
    }
    exit(code);
}

void ar_die_store(const struct ar_store *s, const char *err)
{
    ar_die(ar_store_is_corrupt(s) ? AR_EXIT_USAGE : AR_EXIT_FAIL, "%s", err);
}

const char *ar_db_path(const char *flag, const struct ar_config *cfg)
{
    if (flag && *flag)
        return flag;
    const char *env = getenv("APIROSTER_DB");
    if (env && *env)
        return env;
    if (cfg && cfg->db && *cfg->db)
        return cfg->db;
    return "./apiroster.db";
}

void ar_load_config(struct ar_config *cfg, const char *path)
{
    char err[1024];
    ar_config_init(cfg);
    if (!path) {
        if (access(DEFAULT_CONFIG, F_OK) != 0)
            return;
        path = DEFAULT_CONFIG;
    }
    if (ar_config_load(cfg, path, err, sizeof(err)) < 0)
        ar_die(AR_EXIT_USAGE, "%s", err);
}

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    { "capture", cmd_capture, "read captures (-r FILE...) or capture live (-i IFACE) into the roster" },
    { "endpoints", cmd_endpoints, "list the roster: host, method, path template, what was seen" },
    { "stats", cmd_stats, "capture health: what was seen and what was missed" },
    { "import", cmd_import, "register OpenAPI/Swagger specs, Backstage catalogs, ownership rules" },
    { "sources", cmd_sources, "list the imported sources (or: sources remove PATH)" },
    { "diff", cmd_diff, "documented, shadow, zombie, unused, noise and encrypted endpoints per host" },
    { "owner", cmd_owner, "owner METHOD URL: which team owns it, and why" },
    { "owners", cmd_owners, "teams and what they own" },
    { "export", cmd_export, "export openapi: the observed API as an OpenAPI 3.1 document" },
    { "config", cmd_config, "config check|show: validate or print the configuration" },
    { "push", cmd_push, "deliver the outbox (new and changed endpoints) to the push targets now" },
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: apiroster COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < AR_ARRAY_LEN(commands); i++)
        fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(fp, "\nRun 'apiroster COMMAND --help' for its options. Exit codes: 0 ok, 1 failure, "
                "2 usage or bad input.\n");
}

int main(int argc, char **argv)
{
    /* a full disk or a closed pipe under stdout is an error, not exit 0 */
    atexit(ar_close_stdout);
#ifdef AR_NEEDS_SSE42
    /* llhttp was built with its SSE4.2 paths (APIROSTER_SSE42): say so
     * rather than die of SIGILL on the first packet */
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("sse4.2")) {
        fputs("apiroster: this build needs a CPU with SSE4.2 (x86-64-v2); "
              "rebuild with cmake -DAPIROSTER_SSE42=OFF\n", stderr);
        return AR_EXIT_FAIL;
    }
#endif
    if (argc < 2) {
        usage(stderr);
        return AR_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return AR_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("apiroster 0.1.0\n");
        return AR_EXIT_OK;
    }
    for (size_t i = 0; i < AR_ARRAY_LEN(commands); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "apiroster: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return AR_EXIT_USAGE;
}

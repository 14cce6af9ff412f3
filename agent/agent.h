/* agent.h - shared by the subcommands. Only agent/ may exit the process. */
#ifndef AR_AGENT_H
#define AR_AGENT_H

#include "config.h"

#define AR_EXIT_OK 0
#define AR_EXIT_FAIL 1
#define AR_EXIT_USAGE 2

/* Print "apiroster: msg" and exit with code. */
void ar_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* --db, else $APIROSTER_DB, else the config's [inventory] db, else ./apiroster.db */
const char *ar_db_path(const char *flag, const struct ar_config *cfg);
/* Load --config PATH (must exist) or /etc/apiroster/apiroster.conf (if present). */
void ar_load_config(struct ar_config *cfg, const char *path);
/* "2026-11-30T12:00:00.123Z" */
void ar_fmt_time(char *out, size_t outsz, double ts);

int cmd_capture(int argc, char **argv);
int cmd_endpoints(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_sources(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_owner(int argc, char **argv);
int cmd_owners(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_push(int argc, char **argv);

#endif

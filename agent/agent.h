/* agent.h - shared by the subcommands. Only agent/ may exit the process. */
#ifndef AR_AGENT_H
#define AR_AGENT_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "config.h"

struct ar_store;
struct ar_templater;

#define AR_EXIT_OK 0
#define AR_EXIT_FAIL 1
#define AR_EXIT_USAGE 2

/* Print "apiroster: msg" and exit with code. */
void ar_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* A failed read or write of the store s: err and exit 2 when the database
 * was found corrupt (bad input: the next capture rebuilds it), else 1. */
void ar_die_store(const struct ar_store *s, const char *err) __attribute__((noreturn));

/* --db, else $APIROSTER_DB, else the config's [inventory] db, else ./apiroster.db */
const char *ar_db_path(const char *flag, const struct ar_config *cfg);
/* Load --config PATH (must exist) or /etc/apiroster/apiroster.conf (if present). */
void ar_load_config(struct ar_config *cfg, const char *path);
/* ---- what the commands write (output.c) ---- */

/* str made safe for a terminal, for human (non-JSON) output: control bytes
 * (C0, DEL: ESC included), bytes that are not valid UTF-8, C1 controls and
 * bidirectional overrides become \xNN per byte; anything else is as is. Returns
 * str itself when nothing needs escaping (NULL for NULL), else one of 8
 * buffers used in turn: at most 8 results live at once (one printf), main
 * thread only. */
const char *ar_vis(const char *str);
/* Exit 2 ("FLAG OUT: that is ...; refusing to overwrite it") when the output
 * file out is the database db (or its -wal, -shm, -journal) or one of the
 * inputs (what[i] says what inputs[i] is, "the capture file"): the same
 * regular file when both exist, the same resolved path when neither does. out
 * "-" or NULL, db NULL and NULL inputs are skipped. Call before anything is
 * opened for writing. */
void ar_refuse_clobber(const char *out, const char *flag, const char *db,
                       const char *const *inputs, const char *const *what, int ninputs);
/* Close fp (stdout: flush it) and say whether everything written reached it:
 * 0, or -1 with "write error: PATH: reason" in err. first_errno: the errno of
 * the first failed write when the caller kept it, else 0. */
int ar_close_output(FILE *fp, const char *path, int first_errno, char *err, size_t errsz);
/* j written to stdout; a failed write is remembered for ar_close_stdout. */
struct ar_json;
void ar_write_stdout(struct ar_json *j);
/* atexit handler (main): stdout flushed and closed; on a write error prints
 * "apiroster: write error: stdout: reason" and exits 1. */
void ar_close_stdout(void);

/* ---- live capture and service (daemon.c, sdnotify.c, privs.c, sources.c) ---- */

struct ar_live_args {
    const char *iface;
    const char *config_path;    /* --config, or NULL for the default file */
    const char *filter_flag;    /* --filter (overrides [capture] filter), or NULL */
    const char *db_flag;        /* --db, or NULL */
    int json;                   /* --json: every counter on stdout at exit */
};
/* The push thread of the live capture (pusher.c): NULL if it cannot start
 * (logged). reload: re-read config_path at its next wake. stop: abort what is
 * in flight, join, free. */
struct ar_pusher;
struct ar_pusher *ar_pusher_start(const char *db_path, const char *config_path);
void ar_pusher_reload(struct ar_pusher *p);
void ar_pusher_stop(struct ar_pusher *p);

/* `apiroster capture -i IFACE`: runs until SIGTERM/SIGINT; returns the exit code. */
int ar_capture_live(const struct ar_live_args *a);

/* systemd notifications ($NOTIFY_SOCKET). ar_sd_init connects (call it while
 * still privileged): 1 connected, 0 not under systemd, -1 error (logged).
 * ar_sd_notify sends "READY=1", "STATUS=...", ...: 1 sent, 0 off, -1 error. */
int ar_sd_init(void);
int ar_sd_notify(const char *state);
/* WATCHDOG_USEC meant for this process, or 0 when there is no watchdog. */
uint64_t ar_sd_watchdog_usec(void);
void ar_sd_close(void);

struct ar_privs {
    uid_t uid;
    gid_t gid;
    char user[64];
    int dropped;                /* 1: we were root and switched user */
};
/* Drop root (see privs.c): 0, or -1 with the reason in err. */
int ar_drop_privileges(const char *user, struct ar_privs *out, char *err, size_t errsz);

/* What a reload of [sources] gets; see sources.c for the full contract. */
struct ar_reload_ctx {
    const struct ar_config *cfg;        /* the config just loaded */
    struct ar_store *store;             /* the writer's handle */
    struct ar_templater *writer_tp;     /* the writer's own templater */
    /* Set by the hook to hand something to the packet thread: called there
     * once, at its next wake; must only swap pointers. packet_tp is the packet
     * thread's templater. */
    void (*packet_apply)(void *arg, struct ar_templater *packet_tp);
    void *packet_arg;
};
/* Import specs, catalogs and rules named in ctx->cfg. Runs on the writer
 * side only (at start and on SIGHUP). 0, or -1 with a reason in err. */
int ar_agent_reload_sources(struct ar_reload_ctx *ctx, char *err, size_t errsz);

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

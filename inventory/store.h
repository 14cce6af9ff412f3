/* store.h - the roster in SQLite (the only file that includes sqlite3.h).
 *
 * Versioned schema (PRAGMA user_version, migrations in order), WAL, one
 * BEGIN IMMEDIATE write transaction per flush, busy timeouts on every
 * connection so readers work while a capture writes. A file that is not a
 * database of ours is an error naming the file (exit 2 for the caller), never
 * modified. The database is derived data: one of ours found corrupt is moved
 * aside and rebuilt by the writers of the roster (ar_store_open_rebuild),
 * and refused by everyone else (ar_store_open) with a message saying so. */
#ifndef AR_STORE_H
#define AR_STORE_H

#include <stddef.h>
#include "../core/counters.h"
#include "../core/json.h"
#include "catalog.h"
#include "template.h"

struct ar_store;

enum ar_store_mode { AR_STORE_RO, AR_STORE_RW };

/* Returns 0, or -1 with "PATH: reason" in err. RO on a missing file is an error.
 * A database of ours (our application_id in its header) that is corrupt
 * (SQLite says SQLITE_CORRUPT or SQLITE_NOTADB while reading its schema, or
 * the file is shorter than its header says with no WAL beside it, or
 * PRAGMA quick_check fails: run when the file is at most 32 MiB, about
 * 70k endpoints, 0.25 s) is an error too: "PATH: database is corrupt
 * (WHY); the next capture moves it aside and rebuilds it". Nothing is
 * written to the file. Corruption met later (a bigger file, damage after
 * the open) is reported the same way (ar_store_is_corrupt). */
int ar_store_open(const char *path, enum ar_store_mode mode, struct ar_store **out,
                  char *err, size_t errsz);

/* For the writers of the roster (capture, file and live), at start: as
 * ar_store_open(RW), plus PRAGMA quick_check. A database of ours found
 * corrupt is closed without a checkpoint, moved aside to
 * PATH.corrupt-YYYYMMDDTHHMMSSZ (".N" added when that name is taken) with
 * its -wal, -shm and -journal (which keep their suffix), and a fresh one is
 * created at PATH. Returns 0 (opened as is), 1 (moved aside and rebuilt: rb
 * says where and why), -1 (err; nothing moved, or it says how far it got).
 * A file that is not ours is refused exactly as by ar_store_open. */
struct ar_store_rebuild {
    char moved[4352];       /* the corrupt file's new name */
    char why[600];          /* what was wrong with it */
};
int ar_store_open_rebuild(const char *path, struct ar_store **out, struct ar_store_rebuild *rb,
                          char *err, size_t errsz);
void ar_store_close(struct ar_store *s);

/* 1 once an operation on s met a corrupt database (SQLITE_CORRUPT or
 * SQLITE_NOTADB): its error message then says "database is corrupt (...);
 * the next capture moves it aside and rebuilds it" (bad input: exit 2). */
int ar_store_is_corrupt(const struct ar_store *s);

/* PRAGMA user_version of the open database (-1 on error), and the newest
 * version this build knows (a newer database is refused by ar_store_open). */
int ar_store_schema_version(struct ar_store *s);
int ar_store_schema_version_supported(void);

/* Seed the templater with the collapses the database already knows. */
int ar_store_load_collapses(struct ar_store *s, struct ar_templater *tp, char *err, size_t errsz);

/* One transaction: merge every catalog endpoint into the roster (hits add up),
 * persist the templater's collapses (merging older rows they now cover), add
 * the counters delta and TLS hosts of this period. A TLS server name of the
 * period with no plaintext endpoint on its host (port aside) becomes or adds
 * to the row (NAME, "*", "*", rule "tls", hits = connections); a plaintext
 * endpoint written for a host deletes that host's "tls" row. Returns 0 or -1
 * (nothing written). The caller clears the catalog after success; cat, tp and delta
 * may be NULL. The counters of one store handle form one run. */
int ar_store_flush(struct ar_store *s, struct ar_catalog *cat, struct ar_templater *tp,
                   const struct ar_counters *delta, char *err, size_t errsz);

/* Bound the TLS names held between flushes by lim->max_tls_hosts, counting
 * drops in ctr (limit_max_tls_hosts). Without it the default limit applies. */
void ar_store_set_limits(struct ar_store *s, const struct ar_limits *lim, struct ar_counters *ctr);
/* TLS connection seen (SNI + ALPN), kept until the next successful flush
 * (lower-cased; empty SNI ignored; at most max_tls_hosts distinct names). */
void ar_store_note_tls(struct ar_store *s, const char *server_name, const char *alpn, double ts);

struct ar_endpoint_filter {
    const char *host;       /* NULL: any */
    const char *method;     /* NULL: any, compared case-insensitively */
    const char *state;      /* NULL: any */
    const char *owner;      /* NULL: any; "": unowned */
};

/* Calls fn for every endpoint matching f, ordered by host, template, method.
 * The endpoint is valid during the call only. Returns 0 or -1. fn returns 0 to
 * go on; a non-zero return stops the iteration and is returned as is. The
 * host filter is exact but case-insensitive (ports are part of the host). */
int ar_store_each_endpoint(struct ar_store *s, const struct ar_endpoint_filter *f,
                           int (*fn)(const struct ar_endpoint *e, void *ud), void *ud,
                           char *err, size_t errsz);

/* Totals of every counter over all runs, number of runs, TLS-only hosts
 * (SNI seen, no plaintext HTTP endpoint on that host: the rows of rule "tls"
 * are not plaintext). */
struct ar_store_stats {
    struct ar_counters total;
    uint64_t runs;
    double first_ts, last_ts;
};
int ar_store_stats(struct ar_store *s, struct ar_store_stats *st, char *err, size_t errsz);
int ar_store_each_tls_only(struct ar_store *s,
                           int (*fn)(const char *server_name, const char *alpn, uint64_t conns,
                                     void *ud), void *ud, char *err, size_t errsz);

/* ---- imported sources (specs, catalogs, rules) ------------------------ */

struct ar_source {
    int64_t id;             /* set by the store */
    const char *path;       /* as registered (absolute) */
    const char *kind;       /* "spec", "catalog" or "rules" */
    const char *format;     /* e.g. "openapi-3.0", "swagger-2.0", "backstage", "codeowners" */
    const char *title, *version;
    const char *sha256;     /* hex of the file's bytes */
    double imported;        /* wall clock */
    uint64_t items;         /* operations, entities or rules */
    const char *warnings;   /* JSON array of strings */
};
struct ar_source_file {
    const char *path;       /* the source's own file first, then files it refers to */
    const char *data;
    size_t len;
};

/* Register (or replace, by path) a source and the bytes of its files, in one
 * transaction. Returns 0 written, 1 unchanged (same kind and hash: nothing
 * done), -1 error. */
int ar_store_source_put(struct ar_store *s, const struct ar_source *src,
                        const struct ar_source_file *files, size_t nfiles, char *err, size_t errsz);
/* Returns 0 removed, 1 no such source, -1 error. */
int ar_store_source_remove(struct ar_store *s, const char *path, char *err, size_t errsz);
/* Every source ordered by kind and path; the strings live during the call. */
int ar_store_each_source(struct ar_store *s, int (*fn)(const struct ar_source *src, void *ud),
                         void *ud, char *err, size_t errsz);
/* The files of a source, its own first. */
int ar_store_source_files(struct ar_store *s, int64_t source_id,
                          int (*fn)(const struct ar_source_file *f, void *ud), void *ud,
                          char *err, size_t errsz);

/* ---- verdicts ---------------------------------------------------------- */

/* The judge decides an endpoint's verdict (state and owner): it fills out with
 * malloc'ed strings (ar_xstrdup), reading e (with its statuses, values and
 * current verdict in e->v). Set once per store handle; a flush then judges
 * every endpoint it touched, in its own transaction. */
typedef void (*ar_judge_fn)(void *ud, const struct ar_endpoint *e, struct ar_verdict *out);
void ar_store_set_judge(struct ar_store *s, ar_judge_fn fn, void *ud);
/* Judge every endpoint again (after the sources changed), in one transaction.
 * Returns the number of endpoints whose verdict changed, or -1. */
int64_t ar_store_judge_all(struct ar_store *s, char *err, size_t errsz);

/* Per host (name without port, lower-case), in host order: TLS connections
 * seen (tls_host) and plaintext HTTP exchanges (sum of endpoint hits, rows of
 * rule "tls" left out). The
 * store keeps exchanges, not plaintext connections, so
 * tls / (tls + exchanges) is a lower bound of the share of connections that
 * were encrypted (a plaintext connection carries one exchange or more).
 * fn returns 0 to go on. Returns 0, -1 (err), or fn's non-zero return. */
int ar_store_each_host_share(struct ar_store *s,
                             int (*fn)(const char *host, uint64_t tls_conns,
                                       uint64_t http_exchanges, void *ud),
                             void *ud, char *err, size_t errsz);

#endif

/* store.c - the roster in SQLite. The only file that includes sqlite3.h.
 *
 * Schema (user_version 2, application_id 0x41524f53 "AROS"):
 *   endpoint(id, host, method, tmpl, rule, hits, first_seen, last_seen, hll)
 *       UNIQUE(host, method, tmpl); hll is AR_HLL_REGS one-byte HyperLogLog registers;
 *       rule "tls": a TLS-only host (SNI NAME, "*", "*", hits = connections)
 *   endpoint_status(endpoint_id -> endpoint ON DELETE CASCADE, code, count)
 *   endpoint_value(endpoint_id -> endpoint ON DELETE CASCADE, kind, value)
 *       kind in query, req_ct, resp_ct, auth, server
 *   collapse(host, parent, child_tmpl)       parents that collapsed
 *   run(id, started wall clock, first_ts, last_ts packet time)
 *   run_counter(run_id -> run, name, value)  counters by name, so a newer or
 *                                            older counters table still reads
 *   tls_host(server_name, alpn, conns, first_seen, last_seen)
 * user_version 2 adds:
 *   source(id, path, kind, format, title, version, sha256, imported, items,
 *          warnings JSON)                what `apiroster import` registered
 *   source_file(source_id -> source, path, content)  the bytes imported (the
 *          file itself and local files it refers to), so that the roster does
 *          not depend on files that may change or vanish after the import
 *   endpoint.{state, reason, spec_source, spec_pointer, spec_tmpl, owner,
 *          owner_source, owner_evidence, owner_alt}  the verdict (catalog.h)
 * user_version 3 adds:
 *   outbox, push_target, push_health, delivery, delivery_item: the push
 *       outbox, described and used in outbox.c
 *
 * A run is one store handle that flushed at least once (one capture, one
 * daemon lifetime); its counters add up over its flushes. Every write is one
 * BEGIN IMMEDIATE transaction (a deferred one would fail with
 * SQLITE_BUSY_SNAPSHOT instead of waiting); every connection waits up to 5 s
 * on a lock. Nothing is written to a file before it is known to be a
 * database of ours; one of ours found corrupt is never written either, only
 * moved aside by ar_store_open_rebuild (docs/decisions.md, Inventory). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ctype.h>
#include <sqlite3.h>
#include "../core/hash.h"
#include "../core/util.h"
#include "store.h"
#include "store_int.h"

#define AR_APP_ID 0x41524f53            /* "AROS" */
#define AR_BUSY_MS 5000
#define AR_PATH_MAX 4096                /* Linux PATH_MAX */

/* Migrations in order: migrations[i] takes user_version i to i + 1. Never edit
 * one that has shipped; append a new one. */
static const char *const migrations[] = {
    /* 0 -> 1: initial schema */
    "CREATE TABLE endpoint("
    "  id INTEGER PRIMARY KEY,"
    "  host TEXT NOT NULL,"
    "  method TEXT NOT NULL,"
    "  tmpl TEXT NOT NULL,"
    "  rule TEXT NOT NULL DEFAULT 'literal',"
    "  hits INTEGER NOT NULL DEFAULT 0,"
    "  first_seen REAL NOT NULL,"
    "  last_seen REAL NOT NULL,"
    "  hll BLOB,"
    "  UNIQUE(host, method, tmpl));"
    "CREATE TABLE endpoint_status("
    "  endpoint_id INTEGER NOT NULL REFERENCES endpoint(id) ON DELETE CASCADE,"
    "  code INTEGER NOT NULL,"
    "  count INTEGER NOT NULL,"
    "  PRIMARY KEY(endpoint_id, code)) WITHOUT ROWID;"
    "CREATE TABLE endpoint_value("
    "  endpoint_id INTEGER NOT NULL REFERENCES endpoint(id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL CHECK(kind IN ('query','req_ct','resp_ct','auth','server')),"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY(endpoint_id, kind, value)) WITHOUT ROWID;"
    "CREATE TABLE collapse("
    "  host TEXT NOT NULL,"
    "  parent TEXT NOT NULL,"
    "  child_tmpl TEXT NOT NULL,"
    "  PRIMARY KEY(host, parent, child_tmpl)) WITHOUT ROWID;"
    "CREATE TABLE run("
    "  id INTEGER PRIMARY KEY,"
    "  started REAL NOT NULL,"
    "  first_ts REAL,"
    "  last_ts REAL);"
    "CREATE TABLE run_counter("
    "  run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  value INTEGER NOT NULL,"
    "  PRIMARY KEY(run_id, name)) WITHOUT ROWID;"
    "CREATE TABLE tls_host("
    "  server_name TEXT PRIMARY KEY,"
    "  alpn TEXT NOT NULL DEFAULT '',"
    "  conns INTEGER NOT NULL,"
    "  first_seen REAL NOT NULL,"
    "  last_seen REAL NOT NULL);",
    /* 1 -> 2: imported sources (specs, catalogs, rules) and the verdict of
     * each endpoint (state against the specs, owner and evidence) */
    "CREATE TABLE source("
    "  id INTEGER PRIMARY KEY,"
    "  path TEXT NOT NULL UNIQUE,"
    "  kind TEXT NOT NULL CHECK(kind IN ('spec','catalog','rules')),"
    "  format TEXT NOT NULL DEFAULT '',"
    "  title TEXT NOT NULL DEFAULT '',"
    "  version TEXT NOT NULL DEFAULT '',"
    "  sha256 TEXT NOT NULL,"
    "  imported REAL NOT NULL,"
    "  items INTEGER NOT NULL DEFAULT 0,"
    "  warnings TEXT NOT NULL DEFAULT '[]');"
    "CREATE TABLE source_file("
    "  source_id INTEGER NOT NULL REFERENCES source(id) ON DELETE CASCADE,"
    "  path TEXT NOT NULL,"
    "  content BLOB NOT NULL,"
    "  PRIMARY KEY(source_id, path)) WITHOUT ROWID;"
    "ALTER TABLE endpoint ADD COLUMN state TEXT;"
    "ALTER TABLE endpoint ADD COLUMN reason TEXT;"
    "ALTER TABLE endpoint ADD COLUMN spec_source TEXT;"
    "ALTER TABLE endpoint ADD COLUMN spec_pointer TEXT;"
    "ALTER TABLE endpoint ADD COLUMN spec_tmpl TEXT;"
    "ALTER TABLE endpoint ADD COLUMN owner TEXT;"
    "ALTER TABLE endpoint ADD COLUMN owner_source TEXT;"
    "ALTER TABLE endpoint ADD COLUMN owner_evidence TEXT;"
    "ALTER TABLE endpoint ADD COLUMN owner_alt TEXT;",
    /* 2 -> 3: the push outbox (inventory/outbox.c; docs/decisions.md "Push") */
    AR_OUTBOX_MIGRATION,
};
#define AR_SCHEMA_VERSION ((int)AR_ARRAY_LEN(migrations))

/* The verdict columns, in the order of AR_VERDICT_FIELDS (catalog.h). */
#define VERDICT_COLS "state,reason,spec_source,spec_pointer,spec_tmpl,owner,owner_source," \
                     "owner_evidence,owner_alt"
#define EP_VERDICT_COL 9            /* first verdict column in an endpoint row */

/* Statements of the write path, prepared once per connection. */
enum {
    ST_EP_UPSERT,
    ST_EP_FIND,
    ST_EP_RENAME,
    ST_EP_MERGE,
    ST_EP_DELETE,
    ST_EP_UNDER,
    ST_STATUS_N,
    ST_STATUS_UPD,
    ST_STATUS_INS,
    ST_STATUS_OF,
    ST_VAL_N,
    ST_VAL_HAS,
    ST_VAL_INS,
    ST_VALS_OF,
    ST_RUN_INS,
    ST_RUN_UPD,
    ST_CTR_UPSERT,
    ST_TLS_UPSERT,
    ST_COLLAPSE_INS,
    ST_EP_BY_ID,
    ST_EP_VERDICT,
    ST_EP_PLAIN,
    ST_EP_TLS_DEL,
    ST__COUNT
};

static const char *const stmt_sql[ST__COUNT] = {
    [ST_EP_UPSERT] =
        "INSERT INTO endpoint(host,method,tmpl,rule,hits,first_seen,last_seen,hll)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8)"
        " ON CONFLICT(host,method,tmpl) DO UPDATE SET rule=excluded.rule,"
        " hits=hits+excluded.hits, first_seen=min(first_seen,excluded.first_seen),"
        " last_seen=max(last_seen,excluded.last_seen), hll=ar_hll_merge(hll,excluded.hll)"
        " RETURNING id",
    [ST_EP_FIND] = "SELECT id FROM endpoint WHERE host=?1 AND method=?2 AND tmpl=?3",
    [ST_EP_RENAME] = "UPDATE endpoint SET tmpl=?2, rule=?3 WHERE id=?1",
    [ST_EP_MERGE] =
        "UPDATE endpoint SET hits=endpoint.hits+s.hits,"
        " first_seen=min(endpoint.first_seen,s.first_seen),"
        " last_seen=max(endpoint.last_seen,s.last_seen), hll=ar_hll_merge(endpoint.hll,s.hll)"
        " FROM (SELECT hits,first_seen,last_seen,hll FROM endpoint WHERE id=?2) AS s"
        " WHERE endpoint.id=?1",
    [ST_EP_DELETE] = "DELETE FROM endpoint WHERE id=?1",
    [ST_EP_UNDER] =
        "SELECT id,host,method,tmpl,rule,hits,first_seen,last_seen,hll," VERDICT_COLS " FROM endpoint"
        " WHERE host=?1 AND substr(tmpl,1,length(?2))=?2 ORDER BY id",
    [ST_STATUS_N] = "SELECT count(*) FROM endpoint_status WHERE endpoint_id=?1",
    [ST_STATUS_UPD] = "UPDATE endpoint_status SET count=count+?3 WHERE endpoint_id=?1 AND code=?2",
    [ST_STATUS_INS] = "INSERT INTO endpoint_status(endpoint_id,code,count) VALUES(?1,?2,?3)",
    [ST_STATUS_OF] = "SELECT code,count FROM endpoint_status WHERE endpoint_id=?1 ORDER BY code",
    [ST_VAL_N] = "SELECT count(*) FROM endpoint_value WHERE endpoint_id=?1 AND kind=?2",
    [ST_VAL_HAS] = "SELECT 1 FROM endpoint_value WHERE endpoint_id=?1 AND kind=?2 AND value=?3",
    [ST_VAL_INS] = "INSERT OR IGNORE INTO endpoint_value(endpoint_id,kind,value) VALUES(?1,?2,?3)",
    [ST_VALS_OF] =
        "SELECT kind,value FROM endpoint_value WHERE endpoint_id=?1 ORDER BY kind,value",
    [ST_RUN_INS] = "INSERT INTO run(started,first_ts,last_ts) VALUES(?1,?2,?3) RETURNING id",
    [ST_RUN_UPD] =
        "UPDATE run SET first_ts=min(coalesce(first_ts,?2),coalesce(?2,first_ts)),"
        " last_ts=max(coalesce(last_ts,?3),coalesce(?3,last_ts)) WHERE id=?1",
    [ST_CTR_UPSERT] =
        "INSERT INTO run_counter(run_id,name,value) VALUES(?1,?2,?3)"
        " ON CONFLICT(run_id,name) DO UPDATE SET value=value+excluded.value",
    [ST_TLS_UPSERT] =
        "INSERT INTO tls_host(server_name,alpn,conns,first_seen,last_seen) VALUES(?1,?2,?3,?4,?5)"
        " ON CONFLICT(server_name) DO UPDATE SET"
        " alpn=CASE WHEN excluded.alpn<>'' THEN excluded.alpn ELSE alpn END,"
        " conns=conns+excluded.conns, first_seen=min(first_seen,excluded.first_seen),"
        " last_seen=max(last_seen,excluded.last_seen)",
    [ST_COLLAPSE_INS] =
        "INSERT OR IGNORE INTO collapse(host,parent,child_tmpl) VALUES(?1,?2,?3)",
    [ST_EP_BY_ID] =
        "SELECT id,host,method,tmpl,rule,hits,first_seen,last_seen,hll," VERDICT_COLS
        " FROM endpoint WHERE id=?1",
    [ST_EP_VERDICT] =
        "UPDATE endpoint SET state=?2,reason=?3,spec_source=?4,spec_pointer=?5,spec_tmpl=?6,"
        "owner=?7,owner_source=?8,owner_evidence=?9,owner_alt=?10 WHERE id=?1",
    /* a plaintext endpoint on host name ?1, whatever its port or trailing dot
     * (hosts are stored lower-case: ranges of the UNIQUE(host,...) index) */
    [ST_EP_PLAIN] =
        "SELECT 1 FROM endpoint WHERE rule<>'tls' AND (host=?1 OR host=?1||'.'"
        " OR (host>?1||':' AND host<?1||';') OR (host>?1||'.:' AND host<?1||'.;')) LIMIT 1",
    [ST_EP_TLS_DEL] =
        "DELETE FROM endpoint WHERE host=?1 AND method='*' AND tmpl='*' AND rule='tls'",
};

struct tls_pending {
    char *name;
    char alpn[256];
    uint64_t conns;
    double first, last;
};

struct ar_store {
    sqlite3 *db;
    char *path;
    enum ar_store_mode mode;
    sqlite3_stmt *st[ST__COUNT];
    int64_t run_id;                 /* 0 until the first successful flush */
    struct ar_limits deflim;        /* when a flush has no catalog */
    /* TLS hosts noted since the last flush: array + open-addressing index. */
    struct tls_pending *tls;
    size_t ntls;
    uint32_t *tlsidx;               /* index + 1, 0 = empty */
    size_t tlsidxsz;
    struct ar_hash_key tlskey;
    size_t tlscap;
    uint64_t max_tls_hosts;     /* limits.h max_tls_hosts */
    struct ar_counters *ctr;    /* for limit_max_tls_hosts; may be NULL */
    ar_judge_fn judge;          /* see ar_store_set_judge */
    void *judge_ud;
    int64_t *touched;           /* endpoint ids written by the current flush */
    size_t ntouched, touchedcap;
    int corrupt;                /* an operation met SQLITE_CORRUPT / SQLITE_NOTADB */
    char corrupt_why[600];      /* ... what it was doing */
    struct {                    /* ar_store_cached: by the address of their SQL */
        const char *sql;
        sqlite3_stmt *st;
    } cached[8];
};

/* ---- errors ----------------------------------------------------------- */

static int fail(char *err, size_t errsz, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errsz, const char *path, const char *fmt, ...)
{
    if (err && errsz) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(err, errsz, "%s: %s", path, msg);
    }
    return -1;
}

static int is_corrupt_rc(int rc)
{
    return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
}

/* The one message of a corrupt database of ours, whoever meets it. */
#define AR_CORRUPT_FMT "database is corrupt (%s); the next capture moves it aside and rebuilds it"

static int corrupt_fail(struct ar_store *s, char *err, size_t errsz, const char *what)
{
    s->corrupt = 1;
    ar_strlcpy(s->corrupt_why, what, sizeof(s->corrupt_why));
    return fail(err, errsz, s->path, AR_CORRUPT_FMT, what);
}

/* A failed SQLite call: "PATH: what: message", or the corrupt message when
 * SQLite found the file corrupt. */
static int dbfail(struct ar_store *s, char *err, size_t errsz, const char *what)
{
    if (is_corrupt_rc(sqlite3_errcode(s->db))) {
        char why[600];
        snprintf(why, sizeof(why), "%s: %s", what, sqlite3_errmsg(s->db));
        return corrupt_fail(s, err, errsz, why);
    }
    return fail(err, errsz, s->path, "%s: %s", what, sqlite3_errmsg(s->db));
}

/* ---- SQL functions ---------------------------------------------------- */

/* ar_hll_merge(a, b): register-wise max of two AR_HLL_REGS-byte HLL blobs. */
static void sql_hll_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    uint8_t out[AR_HLL_REGS];
    int have = 0;
    memset(out, 0, sizeof(out));
    for (int i = 0; i < 2; i++) {
        if (sqlite3_value_type(argv[i]) != SQLITE_BLOB ||
            sqlite3_value_bytes(argv[i]) != AR_HLL_REGS)
            continue;
        ar_hll_merge(out, sqlite3_value_blob(argv[i]));
        have = 1;
    }
    if (have)
        sqlite3_result_blob(ctx, out, AR_HLL_REGS, SQLITE_TRANSIENT);
    else
        sqlite3_result_null(ctx);
}

/* ---- small helpers ---------------------------------------------------- */

static int exec(struct ar_store *s, const char *sql, char *err, size_t errsz, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        sqlite3_free(msg);
        return dbfail(s, err, errsz, what);
    }
    return 0;
}

/* Run a one-row, one-column integer query. */
static int query_int(struct ar_store *s, const char *sql, int64_t *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        *out = 0;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

static sqlite3_stmt *stmt(struct ar_store *s, int id)
{
    if (!s->st[id] && sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                         &s->st[id], NULL) != SQLITE_OK)
        return NULL;
    sqlite3_reset(s->st[id]);
    sqlite3_clear_bindings(s->st[id]);
    return s->st[id];
}

sqlite3_stmt *ar_store_cached(struct ar_store *s, const char *sql)
{
    size_t i = 0;
    while (i < AR_ARRAY_LEN(s->cached) && s->cached[i].sql && s->cached[i].sql != sql)
        i++;
    if (i < AR_ARRAY_LEN(s->cached) && s->cached[i].sql == sql) {
        sqlite3_reset(s->cached[i].st);
        sqlite3_clear_bindings(s->cached[i].st);
        return s->cached[i].st;
    }
    sqlite3_stmt *st;
    /* full: more call sites than slots, a mistake any test of the store shows */
    if (i == AR_ARRAY_LEN(s->cached) ||
        sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        return NULL;
    s->cached[i].sql = sql;
    s->cached[i].st = st;
    return st;
}

/* Step a statement that returns no row we need; resets it. */
static int step_done(sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Step a statement whose first column of the first row is an integer
 * (absent row: *found = 0). */
static int step_int(sqlite3_stmt *st, int64_t *out, int *found)
{
    int rc = sqlite3_step(st);
    *found = 0;
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        *found = 1;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static double wallclock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *static_rule(const char *r)
{
    static const char *const rules[] = { "pin", "spec", "typed", "collapse", "literal", "tls" };
    for (size_t i = 0; i < AR_ARRAY_LEN(rules); i++)
        if (r && strcmp(r, rules[i]) == 0)
            return rules[i];
    return "literal";
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* ---- for the other files of the store (store_int.h) ------------------ */

sqlite3 *ar_store_db(struct ar_store *s)
{
    return s->db;
}

const char *ar_store_path(const struct ar_store *s)
{
    return s->path;
}

int ar_store_writable(const struct ar_store *s)
{
    return s->mode == AR_STORE_RW;
}

int ar_store_dbfail(struct ar_store *s, char *err, size_t errsz, const char *what)
{
    return dbfail(s, err, errsz, what);
}

int ar_store_is_corrupt(const struct ar_store *s)
{
    return s && s->corrupt;
}

/* ---- open / close ----------------------------------------------------- */

void ar_store_close(struct ar_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(s->st[i]);
    for (size_t i = 0; i < AR_ARRAY_LEN(s->cached); i++)
        sqlite3_finalize(s->cached[i].st);
    sqlite3_close(s->db);
    for (size_t i = 0; i < s->ntls; i++)
        free(s->tls[i].name);
    free(s->tls);
    free(s->tlsidx);
    free(s->touched);
    free(s->path);
    free(s);
}

static int migrate(struct ar_store *s, char *err, size_t errsz)
{
    int64_t v;
    if (exec(s, "BEGIN IMMEDIATE", err, errsz, "cannot lock for schema upgrade") < 0)
        return -1;
    /* Another process may have migrated between our check and the lock. */
    if (query_int(s, "PRAGMA user_version", &v) != SQLITE_OK) {
        dbfail(s, err, errsz, "cannot read schema version");
        goto fail;
    }
    if (v > AR_SCHEMA_VERSION) {
        fail(err, errsz, s->path, "database schema version %lld is newer than this apiroster "
             "supports (%d)", (long long)v, AR_SCHEMA_VERSION);
        goto fail;
    }
    for (int64_t i = v; i < AR_SCHEMA_VERSION; i++) {
        char what[64];
        snprintf(what, sizeof(what), "schema migration %lld -> %lld", (long long)i,
                 (long long)i + 1);
        if (exec(s, migrations[i], err, errsz, what) < 0)
            goto fail;
    }
    if (v < AR_SCHEMA_VERSION) {
        char sql[128];
        snprintf(sql, sizeof(sql), "PRAGMA application_id=%d; PRAGMA user_version=%d",
                 AR_APP_ID, AR_SCHEMA_VERSION);
        if (exec(s, sql, err, errsz, "cannot set schema version") < 0)
            goto fail;
    }
    if (exec(s, "COMMIT", err, errsz, "cannot commit schema upgrade") < 0)
        goto fail;
    return 0;
fail:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* ---- what the file is, before SQLite reads it -------------------------- */

/* The first 100 bytes of an SQLite file: the magic, the application_id (at
 * 68), and the size the header gives the database (page size at 16, page
 * count at 28; valid when the change counter at 24 equals the
 * version-valid-for number at 92). */
struct raw_header {
    int ours;               /* "SQLite format 3\0" and our application_id */
    uint64_t claimed;       /* bytes the header says (0: not known) */
    uint64_t size;          /* bytes the file has */
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void read_raw_header(const char *path, struct raw_header *h)
{
    unsigned char b[100];
    struct stat sb;
    memset(h, 0, sizeof(*h));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = pread(fd, b, sizeof(b), 0);
    if (fstat(fd, &sb) == 0)
        h->size = (uint64_t)sb.st_size;
    close(fd);
    if (n < 72 || memcmp(b, "SQLite format 3", 16) != 0)
        return;
    h->ours = be32(b + 68) == AR_APP_ID;
    if (n == (ssize_t)sizeof(b) && be32(b + 24) == be32(b + 92)) {
        uint32_t ps = (uint32_t)b[16] << 8 | b[17];
        h->claimed = (uint64_t)(ps == 1 ? 65536 : ps) * be32(b + 28);
    }
}

static const char *const side_sfx[3] = { "-wal", "-shm", "-journal" };

static int side_exists(const char *path, const char *suffix)
{
    char p[AR_PATH_MAX + 256];
    struct stat sb;
    snprintf(p, sizeof(p), "%s%s", path, suffix);
    return lstat(p, &sb) == 0;
}

/* PRAGMA quick_check: 0 ok, 1 corrupt, -1 could not run; why says what. */
static int quick_check(struct ar_store *s, char *why, size_t whysz)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &q, NULL), ret;
    if (rc == SQLITE_OK)
        rc = sqlite3_step(q);
    if (rc == SQLITE_ROW && !strcmp(col_text(q, 0), "ok")) {
        ret = 0;
    } else if (rc == SQLITE_ROW) {
        snprintf(why, whysz, "quick_check: %s", col_text(q, 0));
        ret = 1;
    } else {
        snprintf(why, whysz, "quick_check: %s", sqlite3_errmsg(s->db));
        ret = is_corrupt_rc(rc) ? 1 : -1;
    }
    sqlite3_finalize(q);
    for (char *c = why; *c; c++)        /* its rows may hold newlines: one line */
        if (*c == '\n' || *c == '\r' || *c == '\t')
            *c = ' ';
    return ret;
}

/* Close a handle that failed to open. A WAL that held frames before we
 * opened is never checkpointed on the way out (that would write into a file
 * that is corrupt or not ours); one we made ourselves is empty, and closing
 * as usual removes it and its -shm without writing to the database. */
static void close_failed(struct ar_store *s, int wal_had_frames)
{
    if (s->db && wal_had_frames)
        sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
    ar_store_close(s);
}

static int wal_has_frames(const char *path)
{
    char p[AR_PATH_MAX + 256];
    struct stat sb;
    snprintf(p, sizeof(p), "%s-wal", path);
    return lstat(p, &sb) == 0 && sb.st_size > 0;
}

#define OPEN_CORRUPT (-2)

/* PRAGMA quick_check reads the whole file: about 30 ms for a roster of 10k
 * endpoints (4 MiB), 0.25 s for 70k (30 MiB), 0.5-1.4 s for 200k (88 MiB)
 * (docs/decisions.md). The writers of the roster run it at every start;
 * every other command only when the file is at most this big, and beyond
 * that reports the corruption its own reads meet. */
#define AR_CHECK_ALWAYS 2
#define AR_CHECK_SMALL 1
#define AR_CHECK_SMALL_BYTES (32u << 20)

/* Open path. check: AR_CHECK_ALWAYS or AR_CHECK_SMALL (PRAGMA quick_check
 * when the file is at most AR_CHECK_SMALL_BYTES). Returns 0; -1 with err; or
 * OPEN_CORRUPT when the file is ours (our application_id in its header) and
 * corrupt: err holds the corrupt message, why what was found, and nothing
 * was written to the file. */
static int open_store(const char *path, enum ar_store_mode mode, int check, struct ar_store **out,
                      char *why, size_t whysz, char *err, size_t errsz)
{
    *out = NULL;
    if (err && errsz)
        err[0] = '\0';
    why[0] = '\0';
    struct stat sb;
    if (mode == AR_STORE_RO && stat(path, &sb) != 0) {
        if (errno == ENOENT)
            return fail(err, errsz, path, "no such database");
        return fail(err, errsz, path, "%s", strerror(errno));
    }
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return fail(err, errsz, path, "is a directory");

    struct ar_store *s = ar_xcalloc(1, sizeof(*s));
    struct ar_limits deflim;
    ar_limits_default(&deflim);
    s->max_tls_hosts = deflim.max_tls_hosts;
    s->path = ar_xstrdup(path);
    s->mode = mode;
    ar_limits_default(&s->deflim);
    ar_hash_key_random(&s->tlskey);
    int64_t ntables, appid = 0, version;
    int wal_frames = wal_has_frames(path);

    /* Shorter than its header says, with no WAL or journal that could hold
     * the rest: truncated (a copy cut short, a full disk). */
    struct raw_header rh;
    read_raw_header(path, &rh);
    if (rh.ours && rh.claimed && rh.size < rh.claimed && !side_exists(path, "-wal") &&
        !side_exists(path, "-journal")) {
        snprintf(why, whysz, "truncated: the file has %llu bytes, its header says %llu",
                 (unsigned long long)rh.size, (unsigned long long)rh.claimed);
        goto corrupt;
    }

    int flags = mode == AR_STORE_RO ? SQLITE_OPEN_READONLY
                                    : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        if (s->db)
            fail(err, errsz, path, "cannot open: %s", sqlite3_errmsg(s->db));
        else
            fail(err, errsz, path, "cannot open: out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, AR_BUSY_MS);
    if (sqlite3_create_function(s->db, "ar_hll_merge", 2,
                                SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                sql_hll_merge, NULL, NULL) != SQLITE_OK) {
        dbfail(s, err, errsz, "cannot register functions");
        goto fail;
    }

    /* Is it a database at all? Reading the schema reads the header; nothing is
     * written yet (journal mode and schema come after this check). A file
     * that SQLite cannot read is ours (corrupt) only when its header says so. */
    int rc = query_int(s, "SELECT count(*) FROM sqlite_schema", &ntables);
    if (rc != SQLITE_OK) {
        if (is_corrupt_rc(rc) && rh.ours) {
            snprintf(why, whysz, "%s", sqlite3_errmsg(s->db));
            goto corrupt;
        }
        if (is_corrupt_rc(rc))
            fail(err, errsz, path, "not an apiroster database (%s)", sqlite3_errmsg(s->db));
        else
            dbfail(s, err, errsz, "cannot read");
        goto fail;
    }
    if ((rc = query_int(s, "PRAGMA application_id", &appid)) != SQLITE_OK ||
        (rc = query_int(s, "PRAGMA user_version", &version)) != SQLITE_OK) {
        if (is_corrupt_rc(rc) && rh.ours) {
            snprintf(why, whysz, "%s", sqlite3_errmsg(s->db));
            goto corrupt;
        }
        dbfail(s, err, errsz, "cannot read header");
        goto fail;
    }
    if (appid != AR_APP_ID && (appid != 0 || ntables > 0)) {
        fail(err, errsz, path, "not an apiroster database (application_id 0x%08llx, %lld "
             "tables)", (unsigned long long)(uint32_t)appid, (long long)ntables);
        goto fail;
    }
    if (version > AR_SCHEMA_VERSION) {
        fail(err, errsz, path, "database schema version %lld is newer than this apiroster "
             "supports (%d)", (long long)version, AR_SCHEMA_VERSION);
        goto fail;
    }
    if (appid == AR_APP_ID &&
        (check == AR_CHECK_ALWAYS || (check == AR_CHECK_SMALL && rh.size <= AR_CHECK_SMALL_BYTES))) {
        int q = quick_check(s, why, whysz);
        if (q > 0)
            goto corrupt;
        if (q < 0) {
            fail(err, errsz, path, "%s", why);
            why[0] = '\0';
            goto fail;
        }
    }

    if (mode == AR_STORE_RO) {
        if (version == 0) {
            fail(err, errsz, path, "not an apiroster database (empty)");
            goto fail;
        }
        if (version < AR_SCHEMA_VERSION) {
            fail(err, errsz, path, "database schema version %lld is older than %d; a capture "
                 "(read-write) upgrades it", (long long)version, AR_SCHEMA_VERSION);
            goto fail;
        }
        if (exec(s, "PRAGMA foreign_keys=ON", err, errsz, "cannot configure") < 0)
            goto fail;
    } else {
        /* A new database holds nothing to lose while it is made: its switch
         * to WAL and its schema are written without the fsyncs they cost
         * (five of a first capture's eight). An interrupted creation leaves
         * a file that the next open finds corrupt and rebuilds; the first
         * checkpoint makes it durable. */
        int fresh = version == 0 && ntables == 0;
        if ((fresh && exec(s, "PRAGMA synchronous=OFF", err, errsz, "cannot configure") < 0) ||
            exec(s, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON", err, errsz,
                 "cannot configure") < 0)
            goto fail;
        if (version < AR_SCHEMA_VERSION && migrate(s, err, errsz) < 0)
            goto fail;
        if (exec(s, "PRAGMA synchronous=NORMAL", err, errsz, "cannot configure") < 0)
            goto fail;
    }
    *out = s;
    return 0;
corrupt:
    fail(err, errsz, path, AR_CORRUPT_FMT, why);
    close_failed(s, wal_frames);
    return OPEN_CORRUPT;
fail:
    if (s->corrupt && appid == AR_APP_ID) {     /* met while configuring or upgrading */
        snprintf(why, whysz, "%s", s->corrupt_why);
        close_failed(s, wal_frames);
        return OPEN_CORRUPT;
    }
    close_failed(s, wal_frames);
    return -1;
}

int ar_store_open(const char *path, enum ar_store_mode mode, struct ar_store **out, char *err,
                  size_t errsz)
{
    char why[600];
    return open_store(path, mode, AR_CHECK_SMALL, out, why, sizeof(why), err, errsz) == 0 ? 0
                                                                                       : -1;
}

/* Move the corrupt database and the side files that belong to it aside, to
 * PATH.corrupt-STAMP (-wal, -shm, -journal keep their suffix, so that SQLite
 * still reads the pair). had[i]: side_sfx[i] existed before we opened it; one
 * our own open made holds nothing of the database and is removed (an empty
 * WAL, its index). */
static int move_aside(const char *path, const int had[3], char *moved, size_t movedsz, char *err,
                      size_t errsz)
{
    char stamp[32], dst[AR_PATH_MAX + 96], a[AR_PATH_MAX + 64], b[AR_PATH_MAX + 160];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    if (strlen(path) >= AR_PATH_MAX)
        return fail(err, errsz, path, "database is corrupt; its path is too long to move it");
    for (int i = 0;; i++) {
        if (i)
            snprintf(dst, sizeof(dst), "%s.corrupt-%s.%d", path, stamp, i);
        else
            snprintf(dst, sizeof(dst), "%s.corrupt-%s", path, stamp);
        int taken = side_exists(dst, "");
        for (int k = 0; k < 3; k++)
            taken |= side_exists(dst, side_sfx[k]);
        if (!taken)
            break;
        if (i == 99)
            return fail(err, errsz, path, "database is corrupt; cannot move it aside: %s exists",
                        dst);
    }
    if (rename(path, dst) != 0)
        return fail(err, errsz, path, "database is corrupt; cannot move it aside to %s: %s", dst,
                    strerror(errno));
    for (int k = 0; k < 3; k++) {
        struct stat sb;
        snprintf(a, sizeof(a), "%s%s", path, side_sfx[k]);
        if (lstat(a, &sb) != 0)
            continue;
        if (!had[k] && (k != 0 || sb.st_size == 0)) {
            unlink(a);
            continue;
        }
        snprintf(b, sizeof(b), "%s%s", dst, side_sfx[k]);
        if (rename(a, b) != 0)      /* a stale -wal next to a new database would corrupt it */
            return fail(err, errsz, path, "database is corrupt, moved aside to %s, but %s cannot "
                        "be moved to %s (%s): not rebuilt", dst, a, b, strerror(errno));
    }
    ar_strlcpy(moved, dst, movedsz);
    return 0;
}

int ar_store_open_rebuild(const char *path, struct ar_store **out, struct ar_store_rebuild *rb,
                          char *err, size_t errsz)
{
    int had[3];
    memset(rb, 0, sizeof(*rb));
    for (int k = 0; k < 3; k++)
        had[k] = side_exists(path, side_sfx[k]);
    int rc = open_store(path, AR_STORE_RW, AR_CHECK_ALWAYS, out, rb->why, sizeof(rb->why), err,
                        errsz);
    if (rc != OPEN_CORRUPT)
        return rc;
    if (move_aside(path, had, rb->moved, sizeof(rb->moved), err, errsz) < 0)
        return -1;
    char why[600];
    if (open_store(path, AR_STORE_RW, AR_CHECK_SMALL, out, why, sizeof(why), err, errsz) != 0)
        return -1;
    return 1;
}

int ar_store_schema_version(struct ar_store *s)
{
    int64_t v;
    if (query_int(s, "PRAGMA user_version", &v) != SQLITE_OK)
        return -1;
    return (int)v;
}

int ar_store_schema_version_supported(void)
{
    return AR_SCHEMA_VERSION;
}

/* ---- collapses -------------------------------------------------------- */

int ar_store_load_collapses(struct ar_store *s, struct ar_templater *tp, char *err, size_t errsz)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT host,parent,child_tmpl FROM collapse"
                           " ORDER BY host,parent,child_tmpl", -1, &st, NULL) != SQLITE_OK)
        return dbfail(s, err, errsz, "cannot read collapses");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ar_templater_seed_collapse(tp, col_text(st, 0), col_text(st, 1), col_text(st, 2));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return dbfail(s, err, errsz, "cannot read collapses");
    return 0;
}

/* ---- TLS hosts -------------------------------------------------------- */

static void tls_reindex(struct ar_store *s, size_t sz)
{
    free(s->tlsidx);
    s->tlsidxsz = sz;
    s->tlsidx = ar_xcalloc(sz, sizeof(*s->tlsidx));
    for (size_t i = 0; i < s->ntls; i++) {
        uint64_t h = ar_hash(&s->tlskey, s->tls[i].name, strlen(s->tls[i].name));
        size_t j = h & (sz - 1);
        while (s->tlsidx[j])
            j = (j + 1) & (sz - 1);
        s->tlsidx[j] = (uint32_t)i + 1;
    }
}

void ar_store_set_limits(struct ar_store *s, const struct ar_limits *lim, struct ar_counters *ctr)
{
    s->max_tls_hosts = lim->max_tls_hosts;
    s->ctr = ctr;
}

void ar_store_note_tls(struct ar_store *s, const char *server_name, const char *alpn, double ts)
{
    if (!s || !server_name || !*server_name)
        return;
    char name[256];
    size_t n = strlen(server_name);
    if (n >= sizeof(name))
        return;                     /* not a DNS name (max 253) */
    for (size_t i = 0; i <= n; i++)
        name[i] = (char)tolower((unsigned char)server_name[i]);
    if (n > 1 && name[n - 1] == '.')
        name[--n] = '\0';
    if (!s->tlsidx)
        tls_reindex(s, 64);
    uint64_t h = ar_hash(&s->tlskey, name, n);
    size_t j = h & (s->tlsidxsz - 1);
    while (s->tlsidx[j]) {
        struct tls_pending *p = &s->tls[s->tlsidx[j] - 1];
        if (strcmp(p->name, name) == 0) {
            p->conns++;
            if (ts < p->first)
                p->first = ts;
            if (ts > p->last)
                p->last = ts;
            if (alpn && *alpn)
                ar_strlcpy(p->alpn, alpn, sizeof(p->alpn));
            return;
        }
        j = (j + 1) & (s->tlsidxsz - 1);
    }
    if (s->ntls >= s->max_tls_hosts) {
        if (s->ctr)
            AR_INC(s->ctr, limit_max_tls_hosts);
        return;
    }
    if (s->ntls == s->tlscap) {
        s->tlscap = s->tlscap ? s->tlscap * 2 : 64;
        s->tls = ar_xrealloc(s->tls, s->tlscap * sizeof(*s->tls));
    }
    struct tls_pending *p = &s->tls[s->ntls];
    p->name = ar_xstrdup(name);
    ar_strlcpy(p->alpn, alpn ? alpn : "", sizeof(p->alpn));
    p->conns = 1;
    p->first = p->last = ts;
    s->tlsidx[j] = (uint32_t)++s->ntls;
    if (s->ntls * 2 > s->tlsidxsz)
        tls_reindex(s, s->tlsidxsz * 2);
}

static void tls_clear(struct ar_store *s)
{
    for (size_t i = 0; i < s->ntls; i++)
        free(s->tls[i].name);
    s->ntls = 0;
    if (s->tlsidx)
        memset(s->tlsidx, 0, s->tlsidxsz * sizeof(*s->tlsidx));
}

/* ---- reading endpoints ------------------------------------------------ */

static struct ar_valset *valset_of(struct ar_endpoint *e, const char *kind)
{
    if (strcmp(kind, "query") == 0)
        return &e->query;
    if (strcmp(kind, "req_ct") == 0)
        return &e->req_ct;
    if (strcmp(kind, "resp_ct") == 0)
        return &e->resp_ct;
    if (strcmp(kind, "auth") == 0)
        return &e->auth;
    if (strcmp(kind, "server") == 0)
        return &e->servers;
    return NULL;
}

/* A row of (id,host,method,tmpl,rule,hits,first_seen,last_seen,hll) plus its
 * statuses and values. Returns NULL on a database error. */
static struct ar_endpoint *row_endpoint(sqlite3_stmt *row, sqlite3_stmt *sst, sqlite3_stmt *vst)
{
    int64_t id = sqlite3_column_int64(row, 0);
    struct ar_endpoint *e = ar_endpoint_new(col_text(row, 1), col_text(row, 2), col_text(row, 3),
                                            static_rule(col_text(row, 4)));
    e->hits = (uint64_t)sqlite3_column_int64(row, 5);
    e->first_seen = sqlite3_column_double(row, 6);
    e->last_seen = sqlite3_column_double(row, 7);
    if (sqlite3_column_type(row, 8) == SQLITE_BLOB && sqlite3_column_bytes(row, 8) == AR_HLL_REGS)
        memcpy(e->hll, sqlite3_column_blob(row, 8), AR_HLL_REGS);
    int col = EP_VERDICT_COL;
#define AR_X(f) \
    if (sqlite3_column_type(row, col) == SQLITE_TEXT) e->v.f = ar_xstrdup(col_text(row, col)); \
    col++;
    AR_VERDICT_FIELDS(AR_X)
#undef AR_X
    int rc;
    sqlite3_reset(sst);
    sqlite3_bind_int64(sst, 1, id);
    while ((rc = sqlite3_step(sst)) == SQLITE_ROW)
        ar_endpoint_add_status(e, sqlite3_column_int(sst, 0),
                               (uint64_t)sqlite3_column_int64(sst, 1), UINT64_MAX);
    sqlite3_reset(sst);
    if (rc != SQLITE_DONE)
        goto fail;
    sqlite3_reset(vst);
    sqlite3_bind_int64(vst, 1, id);
    while ((rc = sqlite3_step(vst)) == SQLITE_ROW) {
        struct ar_valset *vs = valset_of(e, col_text(vst, 0));
        if (vs)
            ar_valset_add(vs, col_text(vst, 1), UINT64_MAX);
    }
    sqlite3_reset(vst);
    if (rc != SQLITE_DONE)
        goto fail;
    return e;
fail:
    ar_endpoint_free(e);
    return NULL;
}

int ar_store_each_endpoint(struct ar_store *s, const struct ar_endpoint_filter *f,
                           int (*fn)(const struct ar_endpoint *e, void *ud), void *ud,
                           char *err, size_t errsz)
{
    /* Statements local to the call, so that fn may itself read the store. */
    sqlite3_stmt *row = NULL, *sst = NULL, *vst = NULL;
    int ret = -1, rc;
    if (sqlite3_prepare_v2(s->db,
            "SELECT id,host,method,tmpl,rule,hits,first_seen,last_seen,hll," VERDICT_COLS " FROM endpoint"
            " WHERE (?1 IS NULL OR host=?1 COLLATE NOCASE)"
            " AND (?2 IS NULL OR method=?2 COLLATE NOCASE)"
            " AND (?3 IS NULL OR coalesce(state,'')=?3)"
            " AND (?4 IS NULL OR owner=?4 OR (?4='' AND owner IS NULL))"
            " ORDER BY host,tmpl,method", -1, &row, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, stmt_sql[ST_STATUS_OF], -1, &sst, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, stmt_sql[ST_VALS_OF], -1, &vst, NULL) != SQLITE_OK) {
        dbfail(s, err, errsz, "cannot read endpoints");
        goto out;
    }
    if (f && f->host)
        sqlite3_bind_text(row, 1, f->host, -1, SQLITE_STATIC);
    if (f && f->method)
        sqlite3_bind_text(row, 2, f->method, -1, SQLITE_STATIC);
    if (f && f->state)
        sqlite3_bind_text(row, 3, f->state, -1, SQLITE_STATIC);
    if (f && f->owner)
        sqlite3_bind_text(row, 4, f->owner, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(row)) == SQLITE_ROW) {
        struct ar_endpoint *e = row_endpoint(row, sst, vst);
        if (!e) {
            dbfail(s, err, errsz, "cannot read endpoints");
            goto out;
        }
        int r = fn(e, ud);
        ar_endpoint_free(e);
        if (r) {
            ret = r;
            goto out;
        }
    }
    if (rc != SQLITE_DONE) {
        dbfail(s, err, errsz, "cannot read endpoints");
        goto out;
    }
    ret = 0;
out:
    sqlite3_finalize(row);
    sqlite3_finalize(sst);
    sqlite3_finalize(vst);
    return ret;
}

/* ---- stats and TLS-only hosts ----------------------------------------- */

int ar_store_stats(struct ar_store *s, struct ar_store_stats *st, char *err, size_t errsz)
{
    memset(st, 0, sizeof(*st));
    sqlite3_stmt *q;
    int rc;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*), min(first_ts), max(last_ts) FROM run", -1,
                           &q, NULL) != SQLITE_OK)
        return dbfail(s, err, errsz, "cannot read runs");
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        st->runs = (uint64_t)sqlite3_column_int64(q, 0);
        st->first_ts = sqlite3_column_double(q, 1);
        st->last_ts = sqlite3_column_double(q, 2);
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return dbfail(s, err, errsz, "cannot read runs");
    if (sqlite3_prepare_v2(s->db, "SELECT name, sum(value) FROM run_counter GROUP BY name", -1,
                           &q, NULL) != SQLITE_OK)
        return dbfail(s, err, errsz, "cannot read counters");
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int id = ar_counter_lookup(col_text(q, 0));
        if (id >= 0)                /* a counter this version no longer has */
            st->total.v[id] = (uint64_t)sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        return dbfail(s, err, errsz, "cannot read counters");
    return 0;
}

/* "API.Example.:8443" -> "api.example"; "[::1]:80" -> "::1". Writes into out. */
static void host_name_only(const char *host, char *out, size_t outsz)
{
    size_t n;
    if (host[0] == '[') {
        const char *rb = strchr(host, ']');
        host++;
        n = rb ? (size_t)(rb - host) : strlen(host);
    } else {
        const char *colon = strchr(host, ':');
        n = (colon && !strchr(colon + 1, ':')) ? (size_t)(colon - host) : strlen(host);
    }
    if (n >= outsz)
        n = outsz - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)host[i]);
    if (n > 1 && out[n - 1] == '.')
        n--;
    out[n] = '\0';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ar_store_each_tls_only(struct ar_store *s,
                           int (*fn)(const char *server_name, const char *alpn, uint64_t conns,
                                     void *ud), void *ud, char *err, size_t errsz)
{
    sqlite3_stmt *q = NULL;
    char **hosts = NULL;
    size_t nhosts = 0;
    int ret = -1, rc;
    char buf[512];
    if (sqlite3_prepare_v2(s->db, "SELECT DISTINCT host FROM endpoint WHERE rule<>'tls'",
                           -1, &q, NULL) != SQLITE_OK)
        goto dberr;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        host_name_only(col_text(q, 0), buf, sizeof(buf));
        hosts = ar_xrealloc(hosts, (nhosts + 1) * sizeof(*hosts));
        hosts[nhosts++] = ar_xstrdup(buf);
    }
    if (rc != SQLITE_DONE)
        goto dberr;
    sqlite3_finalize(q);
    q = NULL;
    if (nhosts)
        qsort(hosts, nhosts, sizeof(*hosts), cmp_str);
    if (sqlite3_prepare_v2(s->db, "SELECT server_name, alpn, conns FROM tls_host"
                           " ORDER BY server_name", -1, &q, NULL) != SQLITE_OK)
        goto dberr;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *name = col_text(q, 0);
        host_name_only(name, buf, sizeof(buf));
        const char *key = buf;
        if (nhosts && bsearch(&key, hosts, nhosts, sizeof(*hosts), cmp_str))
            continue;
        int r = fn(name, col_text(q, 1), (uint64_t)sqlite3_column_int64(q, 2), ud);
        if (r) {
            ret = r;
            goto out;
        }
    }
    if (rc != SQLITE_DONE)
        goto dberr;
    ret = 0;
    goto out;
dberr:
    dbfail(s, err, errsz, "cannot read TLS hosts");
out:
    sqlite3_finalize(q);
    for (size_t i = 0; i < nhosts; i++)
        free(hosts[i]);
    free(hosts);
    return ret;
}

/* ---- flush ------------------------------------------------------------ */

struct flush_ctx {
    struct ar_store *s;
    struct ar_templater *tp;
    const struct ar_limits *lim;
    uint64_t overflow;              /* values/statuses dropped by max_endpoint_values */
    int collapsed_again;            /* a re-template made another parent collapse */
    char *tbuf;
    size_t tbufsz;
};

/* Add e's statuses and values to row eid, within max_endpoint_values. */
static int add_details(struct flush_ctx *fx, int64_t eid, const struct ar_endpoint *e)
{
    struct ar_store *s = fx->s;
    uint64_t max = fx->lim->max_endpoint_values;
    sqlite3_stmt *st;
    int64_t n;
    int found;

    if (e->nstatuses) {
        if (!(st = stmt(s, ST_STATUS_N)))
            return -1;
        sqlite3_bind_int64(st, 1, eid);
        if (step_int(st, &n, &found) < 0)
            return -1;
        for (uint32_t i = 0; i < e->nstatuses; i++) {
            if (!(st = stmt(s, ST_STATUS_UPD)))
                return -1;
            sqlite3_bind_int64(st, 1, eid);
            sqlite3_bind_int(st, 2, e->statuses[i].code);
            sqlite3_bind_int64(st, 3, (int64_t)e->statuses[i].count);
            if (step_done(st) < 0)
                return -1;
            if (sqlite3_changes(s->db) > 0)
                continue;
            if ((uint64_t)n >= max) {
                fx->overflow++;
                continue;
            }
            if (!(st = stmt(s, ST_STATUS_INS)))
                return -1;
            sqlite3_bind_int64(st, 1, eid);
            sqlite3_bind_int(st, 2, e->statuses[i].code);
            sqlite3_bind_int64(st, 3, (int64_t)e->statuses[i].count);
            if (step_done(st) < 0)
                return -1;
            n++;
        }
    }

    static const char *const kinds[] = { "query", "req_ct", "resp_ct", "auth", "server" };
    const struct ar_valset *sets[] = { &e->query, &e->req_ct, &e->resp_ct, &e->auth,
                                       &e->servers };
    for (size_t k = 0; k < AR_ARRAY_LEN(kinds); k++) {
        const struct ar_valset *vs = sets[k];
        if (!vs->n)
            continue;
        if (!(st = stmt(s, ST_VAL_N)))
            return -1;
        sqlite3_bind_int64(st, 1, eid);
        sqlite3_bind_text(st, 2, kinds[k], -1, SQLITE_STATIC);
        if (step_int(st, &n, &found) < 0)
            return -1;
        for (uint32_t i = 0; i < vs->n; i++) {
            if ((uint64_t)n < max) {
                if (!(st = stmt(s, ST_VAL_INS)))
                    return -1;
                sqlite3_bind_int64(st, 1, eid);
                sqlite3_bind_text(st, 2, kinds[k], -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 3, vs->v[i], -1, SQLITE_STATIC);
                if (step_done(st) < 0)
                    return -1;
                n += sqlite3_changes(s->db);
            } else {
                int64_t one;
                if (!(st = stmt(s, ST_VAL_HAS)))
                    return -1;
                sqlite3_bind_int64(st, 1, eid);
                sqlite3_bind_text(st, 2, kinds[k], -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 3, vs->v[i], -1, SQLITE_STATIC);
                if (step_int(st, &one, &found) < 0)
                    return -1;
                if (!found)
                    fx->overflow++;
            }
        }
    }
    return 0;
}

static int upsert_endpoint(struct flush_ctx *fx, const struct ar_endpoint *e)
{
    /* Is it new to the roster? Then its outbox row commits with it. */
    int64_t id;
    int found, isnew;
    sqlite3_stmt *st = stmt(fx->s, ST_EP_FIND);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, e->host, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, e->method, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, e->tmpl, -1, SQLITE_STATIC);
    if (step_int(st, &id, &found) < 0)
        return -1;
    isnew = !found;
    if (!(st = stmt(fx->s, ST_EP_UPSERT)))
        return -1;
    sqlite3_bind_text(st, 1, e->host, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, e->method, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, e->tmpl, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, e->rule ? e->rule : "literal", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (int64_t)e->hits);
    sqlite3_bind_double(st, 6, e->first_seen);
    sqlite3_bind_double(st, 7, e->last_seen);
    sqlite3_bind_blob(st, 8, e->hll, AR_HLL_REGS, SQLITE_STATIC);
    if (step_int(st, &id, &found) < 0 || !found)
        return -1;
    if (add_details(fx, id, e) < 0)
        return -1;
    struct ar_store *s = fx->s;
    if (s->ntouched == s->touchedcap) {
        s->touchedcap = s->touchedcap ? s->touchedcap * 2 : 256;
        s->touched = ar_xrealloc(s->touched, s->touchedcap * sizeof(*s->touched));
    }
    /* judged (and, when new, given its outbox row) once every row is written */
    s->touched[s->ntouched++] = isnew ? -id : id;
    return 0;
}

/* A new collapse (host, parent): stored rows of that host under parent/ that
 * now template differently are renamed, or merged into the row they now
 * coincide with. */
static int collapse_rows(struct flush_ctx *fx, const char *host, const char *parent)
{
    struct ar_store *s = fx->s;
    size_t pl = strlen(parent);
    while (pl > 0 && parent[pl - 1] == '/')
        pl--;
    char *prefix = ar_xmalloc(pl + 2);
    memcpy(prefix, parent, pl);
    prefix[pl] = '/';
    prefix[pl + 1] = '\0';

    /* Read the rows first: we modify the table below. */
    struct ar_endpoint **rows = NULL;
    int64_t *ids = NULL;
    size_t nrows = 0;
    int ret = -1, rc;
    sqlite3_stmt *sst = NULL, *vst = NULL, *q = stmt(s, ST_EP_UNDER);
    if (!q)
        goto out;
    if (sqlite3_prepare_v2(s->db, stmt_sql[ST_STATUS_OF], -1, &sst, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, stmt_sql[ST_VALS_OF], -1, &vst, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(q, 1, host, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, prefix, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct ar_endpoint *e = row_endpoint(q, sst, vst);
        if (!e) {
            sqlite3_reset(q);
            goto out;
        }
        rows = ar_xrealloc(rows, (nrows + 1) * sizeof(*rows));
        ids = ar_xrealloc(ids, (nrows + 1) * sizeof(*ids));
        ids[nrows] = sqlite3_column_int64(q, 0);
        rows[nrows++] = e;
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        goto out;

    for (size_t i = 0; i < nrows; i++) {
        struct ar_endpoint *e = rows[i];
        const char *rule = NULL;
        size_t need = strlen(e->tmpl) * 2 + 256;
        if (need > fx->tbufsz) {
            fx->tbufsz = need;
            fx->tbuf = ar_xrealloc(fx->tbuf, need);
        }
        int again = 0;
        int changed = ar_endpoint_retemplate(fx->tp, e->host, e->tmpl, fx->tbuf, fx->tbufsz,
                                             &rule, &again);
        if (again)
            fx->collapsed_again = 1;
        if (!changed)
            continue;
        rule = static_rule(rule ? rule : "collapse");
        sqlite3_stmt *st = stmt(s, ST_EP_FIND);
        int64_t target;
        int found;
        if (!st)
            goto out;
        sqlite3_bind_text(st, 1, e->host, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, e->method, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, fx->tbuf, -1, SQLITE_STATIC);
        if (step_int(st, &target, &found) < 0)
            goto out;
        if (!found) {
            if (!(st = stmt(s, ST_EP_RENAME)))
                goto out;
            sqlite3_bind_int64(st, 1, ids[i]);
            sqlite3_bind_text(st, 2, fx->tbuf, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, rule, -1, SQLITE_STATIC);
            if (step_done(st) < 0)
                goto out;
            continue;
        }
        if (!(st = stmt(s, ST_EP_MERGE)))
            goto out;
        sqlite3_bind_int64(st, 1, target);
        sqlite3_bind_int64(st, 2, ids[i]);
        if (step_done(st) < 0 || add_details(fx, target, e) < 0)
            goto out;
        if (!(st = stmt(s, ST_EP_DELETE)))
            goto out;
        sqlite3_bind_int64(st, 1, ids[i]);
        if (step_done(st) < 0)
            goto out;
    }
    ret = 0;
out:
    sqlite3_finalize(sst);
    sqlite3_finalize(vst);
    for (size_t i = 0; i < nrows; i++)
        ar_endpoint_free(rows[i]);
    free(rows);
    free(ids);
    free(prefix);
    return ret;
}

static int flush_collapses(struct flush_ctx *fx)
{
    /* A re-template can itself make a parent collapse: go round again (a few
     * times at most; the templater's own bounds keep this finite anyway). */
    for (int pass = 0; pass < 4; pass++) {
        fx->collapsed_again = 0;
        size_t pos = 0;
        const char *host, *parent, *child;
        while (ar_templater_collapse_iter(fx->tp, &pos, &host, &parent, &child)) {
            sqlite3_stmt *st = stmt(fx->s, ST_COLLAPSE_INS);
            if (!st)
                return -1;
            sqlite3_bind_text(st, 1, host ? host : "", -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, parent ? parent : "", -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 3, child ? child : "", -1, SQLITE_TRANSIENT);
            if (step_done(st) < 0)
                return -1;
            if (sqlite3_changes(fx->s->db) > 0) {
                /* Copies: re-templating may add collapses (and move these). */
                char *h = ar_xstrdup(host ? host : ""), *p = ar_xstrdup(parent ? parent : "");
                int rc = collapse_rows(fx, h, p);
                free(h);
                free(p);
                if (rc < 0)
                    return -1;
            }
        }
        if (!fx->collapsed_again)
            break;
    }
    return 0;
}

static int flush_run(struct ar_store *s, struct ar_catalog *cat, const struct ar_counters *delta,
                     int64_t *run_id)
{
    double first = 0, last = 0;
    int have = 0;
    if (cat) {
        size_t pos = 0;
        struct ar_endpoint *e;
        while ((e = ar_catalog_iter(cat, &pos))) {
            if (!e->hits)
                continue;
            if (!have || e->first_seen < first)
                first = e->first_seen;
            if (!have || e->last_seen > last)
                last = e->last_seen;
            have = 1;
        }
    }
    for (size_t i = 0; i < s->ntls; i++) {
        if (!have || s->tls[i].first < first)
            first = s->tls[i].first;
        if (!have || s->tls[i].last > last)
            last = s->tls[i].last;
        have = 1;
    }
    sqlite3_stmt *st;
    if (!s->run_id) {
        int found;
        if (!(st = stmt(s, ST_RUN_INS)))
            return -1;
        sqlite3_bind_double(st, 1, wallclock());
        if (have) {
            sqlite3_bind_double(st, 2, first);
            sqlite3_bind_double(st, 3, last);
        }
        if (step_int(st, run_id, &found) < 0 || !found)
            return -1;
    } else {
        *run_id = s->run_id;
        if (have) {
            if (!(st = stmt(s, ST_RUN_UPD)))
                return -1;
            sqlite3_bind_int64(st, 1, s->run_id);
            sqlite3_bind_double(st, 2, first);
            sqlite3_bind_double(st, 3, last);
            if (step_done(st) < 0)
                return -1;
        }
    }
    for (int i = 0; delta && i < AR_CTR__COUNT; i++) {
        if (!delta->v[i])
            continue;
        if (!(st = stmt(s, ST_CTR_UPSERT)))
            return -1;
        sqlite3_bind_int64(st, 1, *run_id);
        sqlite3_bind_text(st, 2, ar_counter_name(i), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (int64_t)delta->v[i]);
        if (step_done(st) < 0)
            return -1;
    }
    return 0;
}

static int flush_tls(struct ar_store *s)
{
    for (size_t i = 0; i < s->ntls; i++) {
        sqlite3_stmt *st = stmt(s, ST_TLS_UPSERT);
        if (!st)
            return -1;
        sqlite3_bind_text(st, 1, s->tls[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, s->tls[i].alpn, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (int64_t)s->tls[i].conns);
        sqlite3_bind_double(st, 4, s->tls[i].first);
        sqlite3_bind_double(st, 5, s->tls[i].last);
        if (step_done(st) < 0)
            return -1;
    }
    return 0;
}

/* TLS-only hosts in the roster (#7). The hosts of the plaintext endpoints
 * this flush wrote are no longer TLS-only: their encrypted rows go (no outbox
 * event, as for a row a collapse renames; their connections stay counted in
 * tls_host). Then every TLS server name of the period that has no plaintext
 * endpoint (host compared without port) gets or adds to its encrypted row:
 * host = the name, method and template "*", rule "tls", hits = connections.
 * Those rows are judged (state encrypted) and a new one gets its
 * endpoint.new outbox row like any new endpoint. */
static int flush_tls_endpoints(struct flush_ctx *fx, struct ar_catalog *cat)
{
    struct ar_store *s = fx->s;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int ret = -1;
    char buf[512];
    if (cat) {
        size_t pos = 0;
        struct ar_endpoint *e;
        while ((e = ar_catalog_iter(cat, &pos))) {
            host_name_only(e->host, buf, sizeof(buf));
            if (n && !strcmp(names[n - 1], buf))
                continue;       /* the common case of a run of one host */
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                names = ar_xrealloc(names, cap * sizeof(*names));
            }
            names[n++] = ar_xstrdup(buf);
        }
    }
    if (n)
        qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (i && !strcmp(names[i], names[i - 1]))
            continue;
        sqlite3_stmt *st = stmt(s, ST_EP_TLS_DEL);
        if (!st)
            goto out;
        sqlite3_bind_text(st, 1, names[i], -1, SQLITE_STATIC);
        if (step_done(st) < 0)
            goto out;
    }
    for (size_t i = 0; i < s->ntls; i++) {
        const struct tls_pending *p = &s->tls[i];
        sqlite3_stmt *st = stmt(s, ST_EP_PLAIN);
        int64_t one;
        int found;
        if (!st)
            goto out;
        sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
        if (step_int(st, &one, &found) < 0)
            goto out;
        if (found)
            continue;
        struct ar_endpoint *e = ar_endpoint_new(p->name, "*", "*", "tls");
        e->hits = p->conns;
        e->first_seen = p->first;
        e->last_seen = p->last;
        int rc = upsert_endpoint(fx, e);
        ar_endpoint_free(e);
        if (rc < 0)
            goto out;
    }
    ret = 0;
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return ret;
}

/* ---- verdicts ---------------------------------------------------------- */

void ar_store_set_judge(struct ar_store *s, ar_judge_fn fn, void *ud)
{
    s->judge = fn;
    s->judge_ud = ud;
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Judge endpoint id inside the current write transaction and write its
 * outbox row: "endpoint.new" for a new endpoint (with its verdict), else
 * "endpoint.state" or "endpoint.owner" when that changed. Returns 1 when its
 * verdict changed, 0 when not (or the row is gone: merged by a collapse), -1
 * on a database error. */
static int judge_one(struct ar_store *s, int64_t id, int isnew)
{
    sqlite3_stmt *q = stmt(s, ST_EP_BY_ID), *sst = stmt(s, ST_STATUS_OF), *vst = stmt(s, ST_VALS_OF);
    if (!q || !sst || !vst)
        return -1;
    sqlite3_bind_int64(q, 1, id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(q);
        return 0;
    }
    struct ar_endpoint *e = rc == SQLITE_ROW ? row_endpoint(q, sst, vst) : NULL;
    sqlite3_reset(q);
    if (!e)
        return -1;
    struct ar_verdict v = { 0 };
    s->judge(s->judge_ud, e, &v);
    int same = 1;
#define AR_X(f) same &= same_str(e->v.f, v.f);
    AR_VERDICT_FIELDS(AR_X)
#undef AR_X
    int ret = 0;
    if (!same) {
        sqlite3_stmt *u = stmt(s, ST_EP_VERDICT);
        int col = 2;
        if (!u) {
            ret = -1;
            goto out;
        }
        sqlite3_bind_int64(u, 1, id);
#define AR_X(f) sqlite3_bind_text(u, col++, v.f, -1, SQLITE_STATIC);
        AR_VERDICT_FIELDS(AR_X)
#undef AR_X
        ret = step_done(u) < 0 ? -1 : 1;
    }
    if (ret >= 0 && isnew) {
        ret = ar_outbox_endpoint_new(s, id) < 0 ? -1 : ret;
    } else if (ret > 0 && (!same_str(e->v.state, v.state) || !same_str(e->v.owner, v.owner))) {
        struct ar_json prev;    /* what it was: {"state":..., "owner":...} */
        ar_json_init(&prev);
        ar_json_obj_open(&prev);
        ar_json_kstr(&prev, "state", e->v.state);
        ar_json_kstr(&prev, "owner", e->v.owner);
        ar_json_obj_close(&prev);
        ar_json_append(&prev, "", 1);
        const char *event = !same_str(e->v.state, v.state) ? "endpoint.state" : "endpoint.owner";
        ret = ar_outbox_endpoint_event(s, id, event, prev.buf) < 0 ? -1 : 1;
        ar_json_free(&prev);
    }
out:
    ar_verdict_clear(&v);
    ar_endpoint_free(e);
    return ret;
}

int64_t ar_store_judge_all(struct ar_store *s, char *err, size_t errsz)
{
    if (s->mode != AR_STORE_RW)
        return fail(err, errsz, s->path, "judge: opened read-only");
    if (!s->judge)
        return 0;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return dbfail(s, err, errsz, "cannot start a write transaction");
    sqlite3_stmt *q = NULL;
    int64_t *ids = NULL, changed = 0;
    size_t n = 0, cap = 0;
    int rc;
    if (sqlite3_prepare_v2(s->db, "SELECT id FROM endpoint ORDER BY id", -1, &q, NULL) != SQLITE_OK)
        goto fail;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            ids = ar_xrealloc(ids, cap * sizeof(*ids));
        }
        ids[n++] = sqlite3_column_int64(q, 0);
    }
    if (rc != SQLITE_DONE)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        int r = judge_one(s, ids[i], 0);
        if (r < 0)
            goto fail;
        changed += r;
    }
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_finalize(q);
    free(ids);
    return changed;
fail:
    dbfail(s, err, errsz, "cannot judge endpoints");
    sqlite3_finalize(q);
    free(ids);
    for (int i = 0; i < ST__COUNT; i++)
        if (s->st[i])
            sqlite3_reset(s->st[i]);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int ar_store_flush(struct ar_store *s, struct ar_catalog *cat, struct ar_templater *tp,
                   const struct ar_counters *delta, char *err, size_t errsz)
{
    if (s->mode != AR_STORE_RW)
        return fail(err, errsz, s->path, "flush: opened read-only");
    struct flush_ctx fx = { .s = s, .tp = tp, .lim = cat ? ar_catalog_limits(cat) : &s->deflim };
    int64_t run_id = 0;
    const char *step = "begin";

    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return dbfail(s, err, errsz, "flush: cannot start a write transaction");
    step = "run counters";
    if (flush_run(s, cat, delta, &run_id) < 0)
        goto fail;
    step = "collapses";
    if (tp && flush_collapses(&fx) < 0)
        goto fail;
    step = "endpoints";
    if (cat) {
        size_t pos = 0;
        struct ar_endpoint *e;
        while ((e = ar_catalog_iter(cat, &pos)))
            if (upsert_endpoint(&fx, e) < 0)
                goto fail;
    }
    step = "TLS-only hosts";
    if (flush_tls_endpoints(&fx, cat) < 0)
        goto fail;
    step = "verdicts";
    for (size_t i = 0; i < s->ntouched; i++) {
        int64_t id = s->touched[i] < 0 ? -s->touched[i] : s->touched[i];
        int isnew = s->touched[i] < 0;
        if (s->judge ? judge_one(s, id, isnew) < 0
                     : isnew && ar_outbox_endpoint_new(s, id) < 0)
            goto fail;
    }
    s->ntouched = 0;
    step = "TLS hosts";
    if (flush_tls(s) < 0)
        goto fail;
    step = "commit";
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;

    s->run_id = run_id;
    tls_clear(s);
    if (cat && fx.overflow && ar_catalog_counters(cat))
        AR_ADD(ar_catalog_counters(cat), limit_max_endpoint_values, fx.overflow);
    free(fx.tbuf);
    return 0;
fail:
    s->ntouched = 0;
    {
        char what[64];
        snprintf(what, sizeof(what), "flush: %s", step);
        dbfail(s, err, errsz, what);
    }
    for (int i = 0; i < ST__COUNT; i++)
        if (s->st[i])
            sqlite3_reset(s->st[i]);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    free(fx.tbuf);
    return -1;
}

/* ---- imported sources ------------------------------------------------- */

int ar_store_source_put(struct ar_store *s, const struct ar_source *src,
                        const struct ar_source_file *files, size_t nfiles, char *err, size_t errsz)
{
    if (s->mode != AR_STORE_RW)
        return fail(err, errsz, s->path, "import: opened read-only");
    sqlite3_stmt *q = NULL;
    int ret = -1;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return dbfail(s, err, errsz, "cannot start a write transaction");
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM source WHERE path=?1 AND kind=?2 AND sha256=?3",
                           -1, &q, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(q, 1, src->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, src->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, src->sha256, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    q = NULL;
    if (rc == SQLITE_ROW) {
        ret = 1;
        goto done;
    }
    if (rc != SQLITE_DONE)
        goto fail;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM source WHERE path=?1", -1, &q, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(q, 1, src->path, -1, SQLITE_STATIC);
    if (step_done(q) < 0)
        goto fail;
    sqlite3_finalize(q);
    if (sqlite3_prepare_v2(s->db,
            "INSERT INTO source(path,kind,format,title,version,sha256,imported,items,warnings)"
            " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9) RETURNING id", -1, &q, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(q, 1, src->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, src->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, src->format ? src->format : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, src->title ? src->title : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, src->version ? src->version : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, src->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_double(q, 7, src->imported);
    sqlite3_bind_int64(q, 8, (int64_t)src->items);
    sqlite3_bind_text(q, 9, src->warnings ? src->warnings : "[]", -1, SQLITE_STATIC);
    int64_t id;
    int found;
    if (step_int(q, &id, &found) < 0 || !found)
        goto fail;
    sqlite3_finalize(q);
    if (sqlite3_prepare_v2(s->db,
            "INSERT OR REPLACE INTO source_file(source_id,path,content) VALUES(?1,?2,?3)", -1, &q,
            NULL) != SQLITE_OK)
        goto fail;
    for (size_t i = 0; i < nfiles; i++) {
        sqlite3_reset(q);
        sqlite3_bind_int64(q, 1, id);
        sqlite3_bind_text(q, 2, files[i].path, -1, SQLITE_STATIC);
        sqlite3_bind_blob64(q, 3, files[i].data, files[i].len, SQLITE_STATIC);
        if (step_done(q) < 0)
            goto fail;
    }
    ret = 0;
done:
    sqlite3_finalize(q);
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        q = NULL;
        goto fail;
    }
    return ret;
fail:
    dbfail(s, err, errsz, "cannot register source");
    sqlite3_finalize(q);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int ar_store_source_remove(struct ar_store *s, const char *path, char *err, size_t errsz)
{
    if (s->mode != AR_STORE_RW)
        return fail(err, errsz, s->path, "remove: opened read-only");
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM source WHERE path=?1", -1, &q, NULL) != SQLITE_OK)
        return dbfail(s, err, errsz, "cannot remove source");
    sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
    int rc = step_done(q);
    sqlite3_finalize(q);
    if (rc < 0)
        return dbfail(s, err, errsz, "cannot remove source");
    return sqlite3_changes(s->db) > 0 ? 0 : 1;
}

int ar_store_each_source(struct ar_store *s, int (*fn)(const struct ar_source *src, void *ud),
                         void *ud, char *err, size_t errsz)
{
    sqlite3_stmt *q = NULL;
    int rc, ret = -1;
    if (sqlite3_prepare_v2(s->db,
            "SELECT id,path,kind,format,title,version,sha256,imported,items,warnings FROM source"
            " ORDER BY kind,path", -1, &q, NULL) != SQLITE_OK)
        return dbfail(s, err, errsz, "cannot read sources");
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct ar_source src = {
            .id = sqlite3_column_int64(q, 0), .path = col_text(q, 1), .kind = col_text(q, 2),
            .format = col_text(q, 3), .title = col_text(q, 4), .version = col_text(q, 5),
            .sha256 = col_text(q, 6), .imported = sqlite3_column_double(q, 7),
            .items = (uint64_t)sqlite3_column_int64(q, 8), .warnings = col_text(q, 9),
        };
        int r = fn(&src, ud);
        if (r) {
            ret = r;
            goto out;
        }
    }
    if (rc != SQLITE_DONE) {
        dbfail(s, err, errsz, "cannot read sources");
        goto out;
    }
    ret = 0;
out:
    sqlite3_finalize(q);
    return ret;
}

int ar_store_source_files(struct ar_store *s, int64_t source_id,
                          int (*fn)(const struct ar_source_file *f, void *ud), void *ud,
                          char *err, size_t errsz)
{
    sqlite3_stmt *q = NULL;
    int rc, ret = -1;
    if (sqlite3_prepare_v2(s->db,
            "SELECT f.path,f.content FROM source_file f JOIN source s ON s.id=f.source_id"
            " WHERE f.source_id=?1 ORDER BY f.path<>s.path, f.path", -1, &q, NULL) != SQLITE_OK)
        return dbfail(s, err, errsz, "cannot read source files");
    sqlite3_bind_int64(q, 1, source_id);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct ar_source_file f = { .path = col_text(q, 0),
                                    .data = sqlite3_column_blob(q, 1),
                                    .len = (size_t)sqlite3_column_bytes(q, 1) };
        if (!f.data)
            f.data = "";
        int r = fn(&f, ud);
        if (r) {
            ret = r;
            goto out;
        }
    }
    if (rc != SQLITE_DONE) {
        dbfail(s, err, errsz, "cannot read source files");
        goto out;
    }
    ret = 0;
out:
    sqlite3_finalize(q);
    return ret;
}

/* ---- per host: TLS connections next to plaintext exchanges (#7) -------- */

struct host_share {
    char *host;
    uint64_t tls_conns, http_exchanges;
};

static int cmp_share(const void *a, const void *b)
{
    return strcmp(((const struct host_share *)a)->host, ((const struct host_share *)b)->host);
}

int ar_store_each_host_share(struct ar_store *s,
                             int (*fn)(const char *host, uint64_t tls_conns,
                                       uint64_t http_exchanges, void *ud),
                             void *ud, char *err, size_t errsz)
{
    static const char *const sql[2] = {
        "SELECT server_name, conns FROM tls_host",
        /* the encrypted rows (rule tls) count TLS connections, not exchanges */
        "SELECT host, sum(hits) FROM endpoint WHERE rule<>'tls' GROUP BY host",
    };
    struct host_share *v = NULL;
    size_t n = 0;
    int ret = -1, rc = SQLITE_DONE;
    char buf[512];
    for (int k = 0; k < 2; k++) {
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(s->db, sql[k], -1, &q, NULL) != SQLITE_OK)
            goto dberr;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            host_name_only(col_text(q, 0), buf, sizeof(buf));
            v = ar_xrealloc(v, (n + 1) * sizeof(*v));
            v[n].host = ar_xstrdup(buf);
            v[n].tls_conns = k == 0 ? (uint64_t)sqlite3_column_int64(q, 1) : 0;
            v[n].http_exchanges = k == 1 ? (uint64_t)sqlite3_column_int64(q, 1) : 0;
            n++;
        }
        sqlite3_finalize(q);
        if (rc != SQLITE_DONE)
            goto dberr;
    }
    if (n)
        qsort(v, n, sizeof(*v), cmp_share);
    ret = 0;
    for (size_t i = 0; i < n && ret == 0;) {
        struct host_share sum = { v[i].host, 0, 0 };
        size_t j = i;
        for (; j < n && !strcmp(v[j].host, sum.host); j++) {
            sum.tls_conns += v[j].tls_conns;
            sum.http_exchanges += v[j].http_exchanges;
        }
        ret = fn(sum.host, sum.tls_conns, sum.http_exchanges, ud);
        i = j;
    }
    goto out;
dberr:
    dbfail(s, err, errsz, "cannot read hosts");
out:
    for (size_t i = 0; i < n; i++)
        free(v[i].host);
    free(v);
    return ret;
}

/* check_store.c - the SQLite roster: create, reopen, hits adding up, bounds,
 * refusing files that are not ours, corrupt rosters of ours (refused by
 * readers, moved aside and rebuilt by a capture's open), readers during a
 * write transaction, rollback, run statistics, TLS-only hosts (and their
 * encrypted rows), collapse merges of older rows. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../../core/counters.h"
#include "../../core/limits.h"
#include "../../core/util.h"
#include "../../inventory/catalog.h"
#include "../../inventory/outbox.h"
#include "../../inventory/store.h"
#include "../../inventory/template.h"

/* A second, raw connection plays "another process" (a writer holding a
 * transaction, a foreign application). sqlite3.h stays in inventory/store.c
 * (DESIGN.md section 4): the four functions used here are declared by hand;
 * the library is linked through ar_inventory. */
typedef struct sqlite3 sqlite3;
int sqlite3_open(const char *filename, sqlite3 **db);
int sqlite3_close(sqlite3 *db);
int sqlite3_busy_timeout(sqlite3 *db, int ms);
int sqlite3_exec(sqlite3 *db, const char *sql, int (*cb)(void *, int, char **, char **),
                 void *ud, char **errmsg);


static char dir[256], dbpath[300];
static struct ar_limits lim;
static struct ar_counters ctr;
static char err[512];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/check_store.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(dbpath, sizeof(dbpath), "%s/roster.db", dir);
    ar_limits_default(&lim);
    memset(&ctr, 0, sizeof(ctr));
    err[0] = '\0';
}

static void teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

static int raw_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    int rc = sqlite3_open(path, &db);
    if (rc == 0) {
        sqlite3_busy_timeout(db, 5000);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    sqlite3_close(db);
    return rc;
}

static struct ar_exchange xch(double ts, const char *method, const char *host, const char *path,
                              int status)
{
    struct ar_exchange x = {
        .ts = ts, .client = "192.0.2.1:40000", .server = "10.0.0.1:80", .method = method,
        .host = host, .path = path, .query = "", .status = status, .req_ct = "",
        .resp_ct = "", .auth = "none",
    };
    return x;
}

static struct ar_store *open_rw(void)
{
    struct ar_store *s;
    ck_assert_msg(ar_store_open(dbpath, AR_STORE_RW, &s, err, sizeof(err)) == 0, "%s", err);
    return s;
}

static struct ar_store *open_ro(void)
{
    struct ar_store *s;
    ck_assert_msg(ar_store_open(dbpath, AR_STORE_RO, &s, err, sizeof(err)) == 0, "%s", err);
    return s;
}

static void flush(struct ar_store *s, struct ar_catalog *c, struct ar_templater *t,
                  const struct ar_counters *delta)
{
    ck_assert_msg(ar_store_flush(s, c, t, delta, err, sizeof(err)) == 0, "%s", err);
    if (c)
        ar_catalog_clear(c);
}

/* Collect endpoints into copies we can inspect after the iteration. */
struct ep {
    char host[64], method[16], tmpl[128], rule[16];
    uint64_t hits;
    double first, last;
    uint64_t st200, st404, st500, stnone;
    uint32_t nstatuses, nquery, nauth, nresp, nservers;
    int has_q[4];               /* a b c d */
    uint64_t clients;
};
struct eps {
    struct ep e[64];
    size_t n;
};

static int collect(const struct ar_endpoint *e, void *ud)
{
    struct eps *l = ud;
    ck_assert_uint_lt(l->n, 64);
    struct ep *p = &l->e[l->n++];
    memset(p, 0, sizeof(*p));
    snprintf(p->host, sizeof(p->host), "%s", e->host);
    snprintf(p->method, sizeof(p->method), "%s", e->method);
    snprintf(p->tmpl, sizeof(p->tmpl), "%s", e->tmpl);
    snprintf(p->rule, sizeof(p->rule), "%s", e->rule);
    p->hits = e->hits;
    p->first = e->first_seen;
    p->last = e->last_seen;
    p->nstatuses = e->nstatuses;
    for (uint32_t i = 0; i < e->nstatuses; i++) {
        if (e->statuses[i].code == 200) p->st200 = e->statuses[i].count;
        if (e->statuses[i].code == 404) p->st404 = e->statuses[i].count;
        if (e->statuses[i].code == 500) p->st500 = e->statuses[i].count;
        if (e->statuses[i].code == -1) p->stnone = e->statuses[i].count;
    }
    p->nquery = e->query.n;
    p->nauth = e->auth.n;
    p->nresp = e->resp_ct.n;
    p->nservers = e->servers.n;
    p->has_q[0] = ar_valset_has(&e->query, "a");
    p->has_q[1] = ar_valset_has(&e->query, "b");
    p->has_q[2] = ar_valset_has(&e->query, "c");
    p->has_q[3] = ar_valset_has(&e->query, "d");
    p->clients = ar_hll_estimate(e->hll);
    return 0;
}

static void list(struct ar_store *s, const char *host, const char *method, struct eps *l)
{
    struct ar_endpoint_filter f = { .host = host, .method = method };
    l->n = 0;
    ck_assert_msg(ar_store_each_endpoint(s, &f, collect, l, err, sizeof(err)) == 0, "%s", err);
}

static void read_file(const char *path, char *buf, size_t sz, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    *len = fread(buf, 1, sz, f);
    fclose(f);
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

START_TEST(test_create_reopen_hits_add_up)
{
    struct ar_templater *tp = ar_templater_new(&lim, &ctr);
    struct ar_catalog *cat = ar_catalog_new(&lim, &ctr, tp);
    struct ar_store *s = open_rw();
    ck_assert_int_eq(ar_store_schema_version(s), 3);
    ck_assert_int_eq(ar_store_schema_version_supported(), 3);

    struct ar_exchange x = xch(100, "GET", "api.shop.test", "/orders/1", 200);
    x.query = "a&b";
    x.auth = "bearer";
    x.resp_ct = "application/json";
    ar_catalog_add(cat, &x);
    x.status = 404;
    x.ts = 90;
    x.client = "192.0.2.2:1";
    ar_catalog_add(cat, &x);
    flush(s, cat, tp, NULL);

    x = xch(300, "GET", "api.shop.test", "/orders/2", 200);
    x.query = "b&c";
    x.client = "192.0.2.3:1";
    x.server = "10.0.0.2:80";
    ar_catalog_add(cat, &x);
    x.status = 500;
    x.ts = 200;
    ar_catalog_add(cat, &x);
    x.status = 200;
    ar_catalog_add(cat, &x);
    x = xch(150, "DELETE", "api.shop.test", "/orders/2", -1);
    ar_catalog_add(cat, &x);
    flush(s, cat, tp, NULL);
    ar_store_close(s);

    s = open_ro();
    ck_assert_int_eq(ar_store_schema_version(s), 3);
    struct eps l;
    list(s, NULL, NULL, &l);
    ck_assert_uint_eq(l.n, 2);
    /* ordered by host, template, method */
    ck_assert_str_eq(l.e[0].method, "DELETE");
    ck_assert_str_eq(l.e[1].method, "GET");
    ck_assert_str_eq(l.e[0].tmpl, l.e[1].tmpl);
    struct ep *g = &l.e[1];
    ck_assert_str_eq(g->host, "api.shop.test");
    ck_assert_uint_eq(g->hits, 5);                      /* 2 + 3 */
    ck_assert(g->first == 90);
    ck_assert(g->last == 300);
    ck_assert_uint_eq(g->nstatuses, 3);
    ck_assert_uint_eq(g->st200, 3);                     /* 1 + 2 */
    ck_assert_uint_eq(g->st404, 1);
    ck_assert_uint_eq(g->st500, 1);
    ck_assert_uint_eq(g->nquery, 3);                    /* {a,b} u {b,c} */
    ck_assert(g->has_q[0] && g->has_q[1] && g->has_q[2] && !g->has_q[3]);
    ck_assert_uint_eq(g->nauth, 2);                     /* bearer, none */
    ck_assert_uint_eq(g->nresp, 1);
    ck_assert_uint_eq(g->nservers, 2);
    ck_assert_uint_eq(g->clients, 3);                   /* HLL registers merged */
    ck_assert_uint_eq(l.e[0].hits, 1);
    ck_assert_uint_eq(l.e[0].stnone, 1);

    /* filters: host exact but case-insensitive, method case-insensitive */
    list(s, "API.SHOP.TEST", "get", &l);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_uint_eq(l.e[0].hits, 5);
    list(s, "api.shop", NULL, &l);
    ck_assert_uint_eq(l.n, 0);
    list(s, NULL, "delete", &l);
    ck_assert_uint_eq(l.n, 1);

    /* read-only: no flush */
    ck_assert_int_eq(ar_store_flush(s, cat, tp, NULL, err, sizeof(err)), -1);
    ar_store_close(s);
    ar_catalog_free(cat);
    ar_templater_free(tp);
}
END_TEST

/* Files named roster.db.corrupt-* in the test folder; the last name in *name. */
static int count_corrupt_files_named(char *name, size_t namesz)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)))
        if (!strncmp(de->d_name, "roster.db.corrupt-", 18)) {
            n++;
            if (name)
                snprintf(name, namesz, "%s/%s", dir, de->d_name);
        }
    closedir(d);
    return n;
}

static int count_corrupt_files(void)
{
    return count_corrupt_files_named(NULL, 0);
}

static void check_garbage(const char *content, size_t len)
{
    int fd = open(dbpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
    close(fd);

    char want[600];
    snprintf(want, sizeof(want), "%s: not an apiroster database (file is not a database)",
             dbpath);
    for (int mode = 0; mode < 3; mode++) {
        struct ar_store *s = NULL;
        struct ar_store_rebuild rb;
        if (mode == 2)              /* a capture: not ours, so never moved aside */
            ck_assert_int_eq(ar_store_open_rebuild(dbpath, &s, &rb, err, sizeof(err)), -1);
        else
            ck_assert_int_eq(ar_store_open(dbpath, mode ? AR_STORE_RW : AR_STORE_RO, &s, err,
                                           sizeof(err)), -1);
        ck_assert_ptr_null(s);
        ck_assert_str_eq(err, want);
    }
    ck_assert_int_eq(count_corrupt_files(), 0);
    static char after[8192];
    size_t alen;
    read_file(dbpath, after, sizeof(after), &alen);
    ck_assert_uint_eq(alen, len);
    ck_assert_mem_eq(after, content, len);
    char side[400];
    snprintf(side, sizeof(side), "%s-wal", dbpath);
    ck_assert(!exists(side));
    snprintf(side, sizeof(side), "%s-journal", dbpath);
    ck_assert(!exists(side));
}

START_TEST(test_garbage_rejected_untouched)
{
    static char big[4096];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)((i * 7919u + 13u) & 0xff);
    check_garbage(big, sizeof(big));
    check_garbage("hello, not a database\n", 22);
}
END_TEST

START_TEST(test_ro_missing_fails)
{
    struct ar_store *s = NULL;
    char want[600];
    snprintf(want, sizeof(want), "%s: no such database", dbpath);
    ck_assert_int_eq(ar_store_open(dbpath, AR_STORE_RO, &s, err, sizeof(err)), -1);
    ck_assert_ptr_null(s);
    ck_assert_str_eq(err, want);
    ck_assert(!exists(dbpath));                 /* and not created */
}
END_TEST

START_TEST(test_newer_schema_refused)
{
    ar_store_close(open_rw());
    ck_assert_int_eq(raw_exec(dbpath, "PRAGMA user_version=99"), 0);
    struct ar_store *s = NULL;
    ck_assert_int_eq(ar_store_open(dbpath, AR_STORE_RW, &s, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "schema version 99 is newer"));
    ck_assert_int_eq(strncmp(err, dbpath, strlen(dbpath)), 0);
    ck_assert_int_eq(ar_store_open(dbpath, AR_STORE_RO, &s, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_foreign_database_refused)
{
    ck_assert_int_eq(raw_exec(dbpath, "CREATE TABLE t(x); INSERT INTO t VALUES(42);"), 0);
    char before[8192], after[8192];
    size_t blen, alen;
    read_file(dbpath, before, sizeof(before), &blen);
    struct ar_store *s = NULL;
    ck_assert_int_eq(ar_store_open(dbpath, AR_STORE_RW, &s, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "not an apiroster database"));
    struct ar_store_rebuild rb;
    ck_assert_int_eq(ar_store_open_rebuild(dbpath, &s, &rb, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "not an apiroster database"));
    read_file(dbpath, after, sizeof(after), &alen);
    ck_assert_uint_eq(alen, blen);
    ck_assert_mem_eq(before, after, blen);      /* not even switched to WAL */
    ck_assert_int_eq(count_corrupt_files(), 0); /* never moved aside */
    /* another application's id, even without tables */
    unlink(dbpath);
    ck_assert_int_eq(raw_exec(dbpath, "PRAGMA application_id=1234"), 0);
    ck_assert_int_eq(ar_store_open(dbpath, AR_STORE_RW, &s, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "application_id 0x000004d2"));
}
END_TEST

/* A roster of one run: GET and POST on h.test, 30 endpoints so that the
 * endpoint table takes a few pages. Returns the file's size. */
static size_t make_roster(void)
{
    struct ar_templater *tp = ar_templater_new(&lim, &ctr);
    struct ar_catalog *cat = ar_catalog_new(&lim, &ctr, tp);
    struct ar_store *s = open_rw();
    for (int i = 0; i < 30; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/api/v1/resource-number-%02d/with/a/long/name", i);
        struct ar_exchange x = xch(100 + i, i % 2 ? "POST" : "GET", "h.test", path, 200);
        ar_catalog_add(cat, &x);
    }
    flush(s, cat, tp, NULL);
    ar_store_close(s);
    ar_catalog_free(cat);
    ar_templater_free(tp);
    struct stat sb;
    char wal[320];
    snprintf(wal, sizeof(wal), "%s-wal", dbpath);
    ck_assert_int_eq(stat(dbpath, &sb), 0);
    ck_assert(!exists(wal) && sb.st_size > 8 * 4096);
    return (size_t)sb.st_size;
}

/* Overwrite pages first..last (1-based, 4 KiB) with garbage, the header kept. */
static void garble_pages(int first, int last)
{
    static char junk[4096];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)((i * 7919u + 13u) & 0xff);
    int fd = open(dbpath, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    for (int p = first; p <= last; p++)
        ck_assert_int_eq(pwrite(fd, junk, sizeof(junk), (off_t)(p - 1) * 4096), 4096);
    close(fd);
}

static int count_all(const struct ar_endpoint *e, void *ud)
{
    (void)e;
    (*(int *)ud)++;
    return 0;
}

/* The database is derived data (DESIGN.md section 6): one of ours that is
 * corrupt is refused by readers with a message saying so, and moved aside
 * by a capture's open, byte for byte, for a fresh one. */
START_TEST(test_corrupt_roster_refused_then_rebuilt)
{
    size_t size = make_roster();
    garble_pages(2, 6);           /* the endpoint table and its neighbours */
    static char before[1 << 20], after[1 << 20];
    size_t blen, alen;
    read_file(dbpath, before, sizeof(before), &blen);
    ck_assert_uint_eq(blen, size);

    /* a reader, and a writer that is not a capture (import, push), find it
     * at open (quick_check: the file is small) and move nothing */
    struct ar_store *s;
    char want[700];
    int n;
    for (int mode = 0; mode < 2; mode++) {
        s = NULL;
        ck_assert_int_eq(ar_store_open(dbpath, mode ? AR_STORE_RW : AR_STORE_RO, &s, err,
                                       sizeof(err)), -1);
        ck_assert_ptr_null(s);
        snprintf(want, sizeof(want), "%s: database is corrupt (quick_check: *** in database main "
                 "*** Page 2: btreeInitPage() returns error code 11); the next capture moves it "
                 "aside and rebuilds it", dbpath);
        ck_assert_str_eq(err, want);
    }
    read_file(dbpath, after, sizeof(after), &alen);
    ck_assert_uint_eq(alen, blen);
    ck_assert_mem_eq(before, after, blen);
    ck_assert_int_eq(count_corrupt_files(), 0);

    /* a capture's open: quick_check finds it, the file goes aside as it is */
    struct ar_store_rebuild rb;
    ck_assert_int_eq(ar_store_open_rebuild(dbpath, &s, &rb, err, sizeof(err)), 1);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(strncmp(rb.why, "quick_check: ", 13), 0);
    ck_assert_ptr_null(strchr(rb.why, '\n'));
    char moved[600];
    ck_assert_int_eq(count_corrupt_files_named(moved, sizeof(moved)), 1);
    ck_assert_str_eq(rb.moved, moved);
    /* roster.db.corrupt-YYYYMMDDTHHMMSSZ */
    const char *stamp = rb.moved + strlen(dbpath) + strlen(".corrupt-");
    ck_assert_uint_eq(strlen(stamp), 16);
    ck_assert(stamp[8] == 'T' && stamp[15] == 'Z');
    ck_assert_uint_eq(strspn(stamp, "0123456789"), 8);
    read_file(rb.moved, after, sizeof(after), &alen);
    ck_assert_uint_eq(alen, blen);
    ck_assert_mem_eq(before, after, blen);
    static char side[sizeof(rb.moved) + 8];
    snprintf(side, sizeof(side), "%s-wal", rb.moved);   /* nothing of ours went with it */
    ck_assert(!exists(side));
    /* the fresh roster is empty and at the current schema */
    ck_assert_int_eq(ar_store_schema_version(s), 3);
    n = 0;
    ck_assert_int_eq(ar_store_each_endpoint(s, NULL, count_all, &n, err, sizeof(err)), 0);
    ck_assert_int_eq(n, 0);
    ar_store_close(s);

    /* a sound roster is opened as it is by the same call */
    ck_assert_int_eq(ar_store_open_rebuild(dbpath, &s, &rb, err, sizeof(err)), 0);
    ck_assert_str_eq(rb.moved, "");
    ar_store_close(s);
    ck_assert_int_eq(count_corrupt_files(), 1);
}
END_TEST

/* Above 32 MiB the readers skip quick_check at open (it would cost them
 * 0.25 s and more): the corruption their reads meet is reported as such,
 * and the capture's open (quick_check always) moves the file aside. */
START_TEST(test_corrupt_big_roster_found_by_reads)
{
    make_roster();
    /* an imported source of 33 MiB makes the file big; its pages come last */
    size_t big = 33u << 20;
    char *blob = ar_xmalloc(big);
    for (size_t i = 0; i < big; i++)
        blob[i] = (char)('a' + i % 26);
    struct ar_store *s = open_rw();
    struct ar_source src = { .path = "/big/CODEOWNERS", .kind = "rules", .sha256 = "00" };
    struct ar_source_file f = { "/big/CODEOWNERS", blob, big };
    ck_assert_msg(ar_store_source_put(s, &src, &f, 1, err, sizeof(err)) == 0, "%s", err);
    ar_store_close(s);
    free(blob);
    struct stat sb;
    ck_assert_int_eq(stat(dbpath, &sb), 0);
    ck_assert_int_gt(sb.st_size, 32 << 20);
    garble_pages(2, 6);

    s = open_ro();                      /* header and schema are sound */
    ck_assert(!ar_store_is_corrupt(s));
    int n = 0;
    ck_assert_int_eq(ar_store_each_endpoint(s, NULL, count_all, &n, err, sizeof(err)), -1);
    char want[700];
    snprintf(want, sizeof(want), "%s: database is corrupt (cannot read endpoints: database disk "
             "image is malformed); the next capture moves it aside and rebuilds it", dbpath);
    ck_assert_str_eq(err, want);
    ck_assert(ar_store_is_corrupt(s));
    ar_store_close(s);
    ck_assert_int_eq(count_corrupt_files(), 0);

    struct ar_store_rebuild rb;
    ck_assert_int_eq(ar_store_open_rebuild(dbpath, &s, &rb, err, sizeof(err)), 1);
    ck_assert_int_eq(strncmp(rb.why, "quick_check: ", 13), 0);
    ck_assert_int_eq(stat(rb.moved, &sb), 0);
    ck_assert_int_gt(sb.st_size, 32 << 20);
    ar_store_close(s);
}
END_TEST

/* Cut short (a copy interrupted, a full disk) with our header still there:
 * corrupt at open, for readers and writers alike; the capture rebuilds it. */
START_TEST(test_truncated_roster_is_corrupt)
{
    size_t size = make_roster();
    ck_assert_int_eq(truncate(dbpath, 3 * 4096), 0);
    struct ar_store *s = NULL;
    char want[700];
    snprintf(want, sizeof(want), "%s: database is corrupt (truncated: the file has 12288 bytes, "
             "its header says %zu); the next capture moves it aside and rebuilds it", dbpath,
             size);
    ck_assert_int_eq(ar_store_open(dbpath, AR_STORE_RO, &s, err, sizeof(err)), -1);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(ar_store_open(dbpath, AR_STORE_RW, &s, err, sizeof(err)), -1);
    ck_assert_str_eq(err, want);        /* import, push: refused, not moved */
    ck_assert_ptr_null(s);
    ck_assert_int_eq(count_corrupt_files(), 0);
    struct ar_store_rebuild rb;
    ck_assert_int_eq(ar_store_open_rebuild(dbpath, &s, &rb, err, sizeof(err)), 1);
    snprintf(want, sizeof(want), "truncated: the file has 12288 bytes, its header says %zu", size);
    ck_assert_str_eq(rb.why, want);
    struct stat sb;
    ck_assert_int_eq(stat(rb.moved, &sb), 0);
    ck_assert_int_eq(sb.st_size, 3 * 4096);
    ar_store_close(s);
    /* just the header (100 bytes) is still ours */
    make_roster();
    ck_assert_int_eq(truncate(dbpath, 100), 0);
    ck_assert_int_eq(ar_store_open(dbpath, AR_STORE_RO, &s, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "database is corrupt (truncated: the file has 100 bytes"));
}
END_TEST

START_TEST(test_reader_during_write_transaction)
{
    struct ar_templater *tp = ar_templater_new(&lim, &ctr);
    struct ar_catalog *cat = ar_catalog_new(&lim, &ctr, tp);
    struct ar_store *w = open_rw();
    struct ar_exchange x = xch(1, "GET", "h.test", "/ping", 200);
    ar_catalog_add(cat, &x);
    ar_catalog_add(cat, &x);
    flush(w, cat, tp, NULL);

    /* Another writer takes the write lock and changes the row, uncommitted. */
    sqlite3 *other;
    ck_assert_int_eq(sqlite3_open(dbpath, &other), 0);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE; UPDATE endpoint SET hits=hits+1000",
                                  NULL, NULL, NULL), 0);

    struct ar_store *r = open_ro();
    struct eps l;
    list(r, NULL, NULL, &l);                    /* does not wait, sees the committed state */
    ck_assert_uint_eq(l.n, 1);
    ck_assert_uint_eq(l.e[0].hits, 2);
    struct ar_store_stats st;
    ck_assert_int_eq(ar_store_stats(r, &st, err, sizeof(err)), 0);

    ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), 0);
    list(r, NULL, NULL, &l);
    ck_assert_uint_eq(l.e[0].hits, 1002);
    sqlite3_close(other);

    /* Our writer still works after the other one let go. */
    ar_catalog_add(cat, &x);
    flush(w, cat, tp, NULL);
    list(r, NULL, NULL, &l);
    ck_assert_uint_eq(l.e[0].hits, 1003);
    ar_store_close(r);
    ar_store_close(w);
    ar_catalog_free(cat);
    ar_templater_free(tp);
}
END_TEST

START_TEST(test_failed_flush_writes_nothing)
{
    struct ar_templater *tp = ar_templater_new(&lim, &ctr);
    struct ar_catalog *cat = ar_catalog_new(&lim, &ctr, tp);
    struct ar_store *s = open_rw();
    struct ar_exchange x = xch(1, "GET", "h.test", "/a", 200);
    ar_catalog_add(cat, &x);
    flush(s, cat, tp, NULL);

    /* Make the last step of the next flush (TLS hosts) fail. */
    ck_assert_int_eq(raw_exec(dbpath, "CREATE TRIGGER no_tls BEFORE INSERT ON tls_host "
                                      "BEGIN SELECT RAISE(ABORT, 'tls refused'); END"), 0);
    ar_catalog_add(cat, &x);
    x.path = "/b";
    ar_catalog_add(cat, &x);
    ar_store_note_tls(s, "tls.test", "h2", 5);
    struct ar_counters delta;
    memset(&delta, 0, sizeof(delta));
    AR_ADD(&delta, packets, 10);
    ck_assert_int_eq(ar_store_flush(s, cat, tp, &delta, err, sizeof(err)), -1);
    ck_assert_int_eq(strncmp(err, dbpath, strlen(dbpath)), 0);
    ck_assert_ptr_nonnull(strstr(err, "tls refused"));

    struct eps l;
    list(s, NULL, NULL, &l);
    ck_assert_uint_eq(l.n, 1);                  /* /b, tls.test's row not there */
    ck_assert_uint_eq(l.e[0].hits, 1);          /* /a not incremented */
    struct ar_store_stats st;
    ck_assert_int_eq(ar_store_stats(s, &st, err, sizeof(err)), 0);
    ck_assert_uint_eq(AR_GET(&st.total, packets), 0);

    /* Fix the cause: the same catalog and the pending TLS host go in. */
    ck_assert_int_eq(raw_exec(dbpath, "DROP TRIGGER no_tls"), 0);
    flush(s, cat, tp, &delta);
    list(s, NULL, NULL, &l);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_str_eq(l.e[0].tmpl, "/a");
    ck_assert_uint_eq(l.e[0].hits, 2);
    ck_assert_str_eq(l.e[1].tmpl, "/b");
    ck_assert_str_eq(l.e[2].host, "tls.test");  /* TLS only: its encrypted row (#7) */
    ck_assert_str_eq(l.e[2].rule, "tls");
    ck_assert_int_eq(ar_store_stats(s, &st, err, sizeof(err)), 0);
    ck_assert_uint_eq(AR_GET(&st.total, packets), 10);
    ar_store_close(s);
    ar_catalog_free(cat);
    ar_templater_free(tp);
}
END_TEST

START_TEST(test_stats_sum_runs)
{
    struct ar_counters d;
    for (int run = 0; run < 2; run++) {
        struct ar_templater *tp = ar_templater_new(&lim, &ctr);
        struct ar_catalog *cat = ar_catalog_new(&lim, &ctr, tp);
        struct ar_store *s = open_rw();
        for (int f = 0; f < 2; f++) {           /* two flushes, one run */
            memset(&d, 0, sizeof(d));
            AR_ADD(&d, packets, 100 * (run + 1));
            AR_ADD(&d, tcp_gaps, 1);
            if (run == 1)
                AR_ADD(&d, kernel_drops, 7);
            struct ar_exchange x = xch(1000.0 * (run + 1) + f, "GET", "h.test", "/", 200);
            ar_catalog_add(cat, &x);
            flush(s, cat, tp, &d);
        }
        ar_store_close(s);
        ar_catalog_free(cat);
        ar_templater_free(tp);
    }
    struct ar_store *s = open_ro();
    struct ar_store_stats st;
    ck_assert_int_eq(ar_store_stats(s, &st, err, sizeof(err)), 0);
    ck_assert_uint_eq(st.runs, 2);
    ck_assert_uint_eq(AR_GET(&st.total, packets), 2 * 100 + 2 * 200);
    ck_assert_uint_eq(AR_GET(&st.total, tcp_gaps), 4);
    ck_assert_uint_eq(AR_GET(&st.total, kernel_drops), 14);
    ck_assert_uint_eq(AR_GET(&st.total, bytes), 0);
    ck_assert(st.first_ts == 1000.0);
    ck_assert(st.last_ts == 2001.0);
    ar_store_close(s);
}
END_TEST

struct tls_seen {
    char name[8][64], alpn[8][64];
    uint64_t conns[8];
    int n;
};

static int collect_tls(const char *name, const char *alpn, uint64_t conns, void *ud)
{
    struct tls_seen *t = ud;
    ck_assert_int_lt(t->n, 8);
    snprintf(t->name[t->n], 64, "%s", name);
    snprintf(t->alpn[t->n], 64, "%s", alpn);
    t->conns[t->n++] = conns;
    return 0;
}

START_TEST(test_tls_only_hosts)
{
    struct ar_templater *tp = ar_templater_new(&lim, &ctr);
    struct ar_catalog *cat = ar_catalog_new(&lim, &ctr, tp);
    struct ar_store *s = open_rw();
    struct ar_exchange x = xch(1, "GET", "api.shop.test:8443", "/", 200);
    ar_catalog_add(cat, &x);
    ar_store_note_tls(s, "API.Shop.Test", "h2", 1);      /* has HTTP (other case, port) */
    ar_store_note_tls(s, "only.tls.test", "", 2);
    ar_store_note_tls(s, "Only.TLS.test", "h2,http/1.1", 3);
    ar_store_note_tls(s, "", "h2", 4);                   /* no SNI: not a host */
    flush(s, cat, tp, NULL);
    ar_store_note_tls(s, "only.tls.test", "", 9);         /* a later flush adds up */
    ar_store_note_tls(s, "zz.tls.test", "http/1.1", 9);
    flush(s, cat, tp, NULL);

    struct tls_seen t = { .n = 0 };
    ck_assert_int_eq(ar_store_each_tls_only(s, collect_tls, &t, err, sizeof(err)), 0);
    ck_assert_int_eq(t.n, 2);
    ck_assert_str_eq(t.name[0], "only.tls.test");
    ck_assert_str_eq(t.alpn[0], "h2,http/1.1");          /* empty ALPN does not erase */
    ck_assert_uint_eq(t.conns[0], 3);
    ck_assert_str_eq(t.name[1], "zz.tls.test");
    ck_assert_uint_eq(t.conns[1], 1);

    /* max_tls_hosts bounds the names held between flushes, with a counter */
    struct ar_limits l1 = lim;
    struct ar_counters c1;
    memset(&c1, 0, sizeof(c1));
    l1.max_tls_hosts = 1;
    ar_store_set_limits(s, &l1, &c1);
    ar_store_note_tls(s, "b1.tls.test", "", 10);
    ar_store_note_tls(s, "b2.tls.test", "", 10);        /* dropped */
    ar_store_note_tls(s, "b1.tls.test", "", 11);        /* known: counted */
    ck_assert_uint_eq(AR_GET(&c1, limit_max_tls_hosts), 1);
    flush(s, cat, tp, NULL);
    memset(&t, 0, sizeof(t));
    ck_assert_int_eq(ar_store_each_tls_only(s, collect_tls, &t, err, sizeof(err)), 0);
    ck_assert_int_eq(t.n, 3);
    ck_assert_str_eq(t.name[0], "b1.tls.test");
    ck_assert_uint_eq(t.conns[0], 2);
    ar_store_close(s);
    ar_catalog_free(cat);
    ar_templater_free(tp);
}
END_TEST

static int judged;
static void judge(void *ud, const struct ar_endpoint *e, struct ar_verdict *v);

struct share_seen {
    char host[8][64];
    uint64_t tls[8], http[8];
    int n;
};

static int collect_share(const char *host, uint64_t tls, uint64_t http, void *ud)
{
    struct share_seen *t = ud;
    ck_assert_int_lt(t->n, 8);
    snprintf(t->host[t->n], 64, "%s", host);
    t->tls[t->n] = tls;
    t->http[t->n++] = http;
    return 0;
}

/* "event host method template rule hits\n" for every outbox row, in order */
static int outbox_line(void *ud, int n, char **v, char **names)
{
    (void)names;
    char *out = ud;
    size_t len = strlen(out);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, 2048 - len, "%s%s", i ? " " : "", v[i] ? v[i] : "-");
    snprintf(out + len, 2048 - len, "\n");
    return 0;
}

static void outbox_text(char out[2048])
{
    sqlite3 *db;
    out[0] = '\0';
    ck_assert_int_eq(sqlite3_open(dbpath, &db), 0);
    sqlite3_busy_timeout(db, 5000);
    ck_assert_int_eq(sqlite3_exec(db, "SELECT event, payload->>'host', payload->>'method',"
                                      " payload->>'template', payload->>'rule', payload->>'hits'"
                                      " FROM outbox ORDER BY id", outbox_line, out, NULL), 0);
    sqlite3_close(db);
}

/* #7: a TLS server name with no plaintext endpoint on its host (port and case
 * aside) is a roster row: host = the name, method and template "*", rule
 * tls, hits = connections, first/last seen = the TLS times, with its
 * endpoint.new; stats do not count it as plaintext; a later plaintext
 * endpoint on that host removes it (no outbox event). */
START_TEST(test_tls_only_hosts_are_endpoints)
{
    struct ar_templater *tp = ar_templater_new(&lim, &ctr);
    struct ar_catalog *cat = ar_catalog_new(&lim, &ctr, tp);
    struct ar_store *s = open_rw();
    struct ar_exchange x = xch(1, "GET", "api.shop.test:8443", "/", 200);
    ar_catalog_add(cat, &x);
    ar_store_note_tls(s, "API.Shop.Test", "h2", 1);      /* api.shop.test:8443 covers it */
    ar_store_note_tls(s, "only.tls.test", "", 20);
    ar_store_note_tls(s, "Only.TLS.test.", "h2", 10);
    ar_store_note_tls(s, "only.tls.test", "", 30);
    ar_store_note_tls(s, "later.tls.test", "", 5);
    flush(s, cat, tp, NULL);

    struct eps l;
    list(s, NULL, NULL, &l);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_str_eq(l.e[0].host, "api.shop.test:8443");
    ck_assert_str_eq(l.e[0].rule, "literal");
    struct ep *e = &l.e[1];
    ck_assert_str_eq(e->host, "later.tls.test");
    ck_assert_str_eq(e->method, "*");
    ck_assert_str_eq(e->tmpl, "*");
    ck_assert_str_eq(e->rule, "tls");
    ck_assert_uint_eq(e->hits, 1);
    ck_assert(e->first == 5 && e->last == 5);
    e = &l.e[2];
    ck_assert_str_eq(e->host, "only.tls.test");
    ck_assert_str_eq(e->method, "*");
    ck_assert_str_eq(e->tmpl, "*");
    ck_assert_str_eq(e->rule, "tls");
    ck_assert_uint_eq(e->hits, 3);
    ck_assert(e->first == 10 && e->last == 30);
    ck_assert_uint_eq(e->nstatuses, 0);
    ck_assert_uint_eq(e->nservers + e->nquery + e->nauth + e->nresp, 0);
    ck_assert_uint_eq(e->clients, 0);
    char ob[2048];
    outbox_text(ob);
    ck_assert_str_eq(ob, "endpoint.new api.shop.test:8443 GET / literal 1\n"
                         "endpoint.new only.tls.test * * tls 3\n"
                         "endpoint.new later.tls.test * * tls 1\n");

    /* stats: the encrypted rows are neither plaintext endpoints nor exchanges */
    struct tls_seen t = { .n = 0 };
    ck_assert_int_eq(ar_store_each_tls_only(s, collect_tls, &t, err, sizeof(err)), 0);
    ck_assert_int_eq(t.n, 2);
    ck_assert_str_eq(t.name[0], "later.tls.test");
    ck_assert_str_eq(t.name[1], "only.tls.test");
    ck_assert_uint_eq(t.conns[1], 3);
    struct share_seen sh = { .n = 0 };
    ck_assert_int_eq(ar_store_each_host_share(s, collect_share, &sh, err, sizeof(err)), 0);
    ck_assert_int_eq(sh.n, 3);
    ck_assert_str_eq(sh.host[0], "api.shop.test");
    ck_assert_uint_eq(sh.tls[0], 1);
    ck_assert_uint_eq(sh.http[0], 1);
    ck_assert_str_eq(sh.host[2], "only.tls.test");
    ck_assert_uint_eq(sh.tls[2], 3);
    ck_assert_uint_eq(sh.http[2], 0);

    /* more connections later: the same row adds up, no second endpoint.new */
    ar_store_note_tls(s, "only.tls.test", "", 40);
    flush(s, cat, tp, NULL);
    list(s, "only.tls.test", NULL, &l);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_uint_eq(l.e[0].hits, 4);
    ck_assert(l.e[0].first == 10 && l.e[0].last == 40);
    ck_assert_int_eq(ar_outbox_rows(s), 3);

    /* plaintext on that host (another port) ends it; TLS of the same flush
     * does not bring it back; a plaintext host in the same flush as its
     * first TLS connection never gets one */
    x = xch(50, "GET", "only.tls.test:8080", "/x", 200);
    ar_catalog_add(cat, &x);
    x = xch(51, "GET", "new.tls.test", "/", 200);
    ar_catalog_add(cat, &x);
    ar_store_note_tls(s, "only.tls.test", "", 50);
    ar_store_note_tls(s, "new.tls.test", "", 51);
    flush(s, cat, tp, NULL);
    list(s, NULL, NULL, &l);
    ck_assert_uint_eq(l.n, 4);
    ck_assert_str_eq(l.e[0].host, "api.shop.test:8443");
    ck_assert_str_eq(l.e[1].host, "later.tls.test");
    ck_assert_str_eq(l.e[1].rule, "tls");
    ck_assert_str_eq(l.e[2].host, "new.tls.test");
    ck_assert_str_eq(l.e[2].rule, "literal");
    ck_assert_str_eq(l.e[3].host, "only.tls.test:8080");
    ck_assert_str_eq(l.e[3].rule, "literal");
    outbox_text(ob);
    ck_assert_str_eq(ob, "endpoint.new api.shop.test:8443 GET / literal 1\n"
                         "endpoint.new only.tls.test * * tls 3\n"
                         "endpoint.new later.tls.test * * tls 1\n"
                         "endpoint.new only.tls.test:8080 GET /x literal 1\n"
                         "endpoint.new new.tls.test GET / literal 1\n");
    memset(&t, 0, sizeof(t));
    ck_assert_int_eq(ar_store_each_tls_only(s, collect_tls, &t, err, sizeof(err)), 0);
    ck_assert_int_eq(t.n, 1);
    ck_assert_str_eq(t.name[0], "later.tls.test");
    memset(&sh, 0, sizeof(sh));
    ck_assert_int_eq(ar_store_each_host_share(s, collect_share, &sh, err, sizeof(err)), 0);
    ck_assert_int_eq(sh.n, 4);
    ck_assert_str_eq(sh.host[3], "only.tls.test");
    ck_assert_uint_eq(sh.tls[3], 5);                    /* every connection still counted */
    ck_assert_uint_eq(sh.http[3], 1);

    /* a judge sees the encrypted row (rule tls) of every flush that wrote it */
    ar_store_set_judge(s, judge, NULL);
    judged = 0;
    ar_store_note_tls(s, "later.tls.test", "", 60);
    flush(s, cat, tp, NULL);
    ck_assert_int_eq(judged, 1);
    list(s, "later.tls.test", NULL, &l);
    ck_assert_uint_eq(l.e[0].hits, 2);
    ar_store_close(s);
    ar_catalog_free(cat);
    ar_templater_free(tp);
}
END_TEST

START_TEST(test_value_bounds_across_flushes)
{
    lim.max_endpoint_values = 2;
    struct ar_templater *tp = ar_templater_new(&lim, &ctr);
    struct ar_catalog *cat = ar_catalog_new(&lim, &ctr, tp);
    struct ar_store *s = open_rw();
    struct ar_exchange x = xch(1, "GET", "h.test", "/s", 200);
    x.query = "a&b";
    ar_catalog_add(cat, &x);
    flush(s, cat, tp, NULL);
    ck_assert_uint_eq(AR_GET(&ctr, limit_max_endpoint_values), 0);
    x.query = "b&c";                            /* b known, c is one too many */
    x.status = 404;
    ar_catalog_add(cat, &x);
    x.status = 500;                             /* third code: one too many */
    ar_catalog_add(cat, &x);
    flush(s, cat, tp, NULL);
    ck_assert_uint_eq(AR_GET(&ctr, limit_max_endpoint_values), 2);
    struct eps l;
    list(s, NULL, NULL, &l);
    ck_assert_uint_eq(l.e[0].hits, 3);
    ck_assert_uint_eq(l.e[0].nquery, 2);
    ck_assert(l.e[0].has_q[0] && l.e[0].has_q[1] && !l.e[0].has_q[2]);
    ck_assert_uint_eq(l.e[0].nstatuses, 2);
    ck_assert_uint_eq(l.e[0].st200, 1);
    ck_assert_uint_eq(l.e[0].st404, 1);
    ck_assert_uint_eq(l.e[0].st500, 0);
    ar_store_close(s);
    ar_catalog_free(cat);
    ar_templater_free(tp);
}
END_TEST

/* Rows stored before a parent collapsed are re-templated and merged when the
 * collapse is first persisted; the collapse is read back into a templater. */
START_TEST(test_collapse_merges_stored_rows)
{
    static const char *const kids[] = { "item-alpha.json", "item-bravo.json",
                                        "item-charlie.json" };
    struct ar_templater *tp = ar_templater_new(&lim, &ctr);
    struct ar_catalog *cat = ar_catalog_new(&lim, &ctr, tp);
    struct ar_store *s = open_rw();
    char path[128];
    for (size_t i = 0; i < AR_ARRAY_LEN(kids); i++) {
        snprintf(path, sizeof(path), "/catalog/%s", kids[i]);
        struct ar_exchange x = xch(10.0 + (double)i, "GET", "shop.test", path,
                                   i == 0 ? 404 : 200);
        x.query = i == 2 ? "c" : "a";
        for (size_t k = 0; k <= i; k++)         /* 1, 2, 3 hits */
            ar_catalog_add(cat, &x);
    }
    struct ar_exchange o = xch(5, "GET", "shop.test", "/catalog/12345", 200);    /* typed */
    ar_catalog_add(cat, &o);
    o.path = "/catalog";                                                    /* the parent itself */
    ar_catalog_add(cat, &o);
    o.host = "other.test";                                                  /* other host */
    o.path = "/catalog/item-alpha.json";
    ar_catalog_add(cat, &o);
    flush(s, cat, tp, NULL);
    struct eps l;
    list(s, "shop.test", NULL, &l);
    ck_assert_uint_eq(l.n, 5);
    char typed_tmpl[128] = "";
    for (size_t i = 0; i < l.n; i++)
        if (strchr(l.e[i].tmpl, '{'))
            snprintf(typed_tmpl, sizeof(typed_tmpl), "%s", l.e[i].tmpl);
    ck_assert_ptr_nonnull(strchr(typed_tmpl, '{'));
    ar_catalog_free(cat);
    ar_templater_free(tp);

    /* A later run knows that /catalog collapsed. */
    tp = ar_templater_new(&lim, &ctr);
    ar_templater_seed_collapse(tp, "shop.test", "/catalog", "{slug}.json");
    char want[256];
    const char *rule;
    ar_template(tp, "shop.test", "/catalog/item-alpha.json", want, sizeof(want), &rule);
    ck_assert_str_ne(want, "/catalog/item-alpha.json");
    cat = ar_catalog_new(&lim, &ctr, tp);
    struct ar_exchange x = xch(50, "GET", "shop.test", "/catalog/item-zulu.json", 200);
    x.query = "d";
    ar_catalog_add(cat, &x);
    flush(s, cat, tp, NULL);

    list(s, "shop.test", NULL, &l);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_str_eq(l.e[0].tmpl, "/catalog");
    ck_assert_uint_eq(l.e[0].hits, 1);
    struct ep *c = NULL;
    for (size_t i = 1; i < l.n; i++) {
        ck_assert_ptr_null(strstr(l.e[i].tmpl, "%7B"));    /* typed row not mangled */
        if (!strcmp(l.e[i].tmpl, typed_tmpl))
            ck_assert_uint_eq(l.e[i].hits, 1);
        else
            c = &l.e[i];
    }
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->tmpl, want);
    ck_assert_uint_eq(c->hits, 1 + 2 + 3 + 1);
    ck_assert(c->first == 10.0);
    ck_assert(c->last == 50.0);
    ck_assert_uint_eq(c->st404, 1);
    ck_assert_uint_eq(c->st200, 2 + 3 + 1);
    ck_assert_uint_eq(c->nquery, 3);            /* a, c, d */
    ck_assert(c->has_q[0] && c->has_q[2] && c->has_q[3]);
    list(s, "other.test", NULL, &l);            /* other host untouched */
    ck_assert_uint_eq(l.n, 1);
    ck_assert_str_eq(l.e[0].tmpl, "/catalog/item-alpha.json");

    /* Flushing again changes nothing (the collapse is already stored). */
    flush(s, cat, tp, NULL);
    list(s, "shop.test", NULL, &l);
    ck_assert_uint_eq(l.n, 3);
    uint64_t total = 0;
    for (size_t i = 0; i < l.n; i++)
        total += l.e[i].hits;
    ck_assert_uint_eq(total, 1 + 1 + 7);
    ar_catalog_free(cat);
    ar_templater_free(tp);

    /* The collapse is read back into a fresh templater. */
    tp = ar_templater_new(&lim, &ctr);
    ck_assert_int_eq(ar_store_load_collapses(s, tp, err, sizeof(err)), 0);
    size_t pos = 0;
    const char *h, *p, *ch;
    ck_assert(ar_templater_collapse_iter(tp, &pos, &h, &p, &ch));
    ck_assert_str_eq(h, "shop.test");
    ck_assert_str_eq(p, "/catalog");
    ck_assert_str_eq(ch, "{slug}.json");
    ck_assert(!ar_templater_collapse_iter(tp, &pos, &h, &p, &ch));
    ar_templater_free(tp);
    ar_store_close(s);
}
END_TEST

/* ---- sources and verdicts ---------------------------------------------- */

struct srcs {
    char path[8][64], kind[8][16], sha[8][16], warnings[8][64];
    uint64_t items[8];
    int64_t id[8];
    int n;
};

static int collect_src(const struct ar_source *src, void *ud)
{
    struct srcs *l = ud;
    ck_assert_int_lt(l->n, 8);
    snprintf(l->path[l->n], 64, "%s", src->path);
    snprintf(l->kind[l->n], 16, "%s", src->kind);
    snprintf(l->sha[l->n], 16, "%s", src->sha256);
    snprintf(l->warnings[l->n], 64, "%s", src->warnings);
    l->items[l->n] = src->items;
    l->id[l->n++] = src->id;
    return 0;
}

struct files {
    char path[4][64], data[4][64];
    int n;
};

static int collect_file(const struct ar_source_file *f, void *ud)
{
    struct files *l = ud;
    ck_assert_int_lt(l->n, 4);
    snprintf(l->path[l->n], 64, "%s", f->path);
    snprintf(l->data[l->n], 64, "%.*s", (int)f->len, f->data);
    l->n++;
    return 0;
}

START_TEST(test_sources_put_replace_remove)
{
    struct ar_store *s = open_rw();
    struct ar_source a = { .path = "/specs/a.yaml", .kind = "spec", .format = "openapi-3.0",
                           .sha256 = "aaa", .items = 3, .warnings = "[\"no info\"]" };
    struct ar_source_file fa[] = { { "/specs/a.yaml", "openapi: 3.0.0", 14 },
                                   { "/specs/common.yaml", "x: 1", 4 } };
    ck_assert_int_eq(ar_store_source_put(s, &a, fa, 2, err, sizeof(err)), 0);
    ck_assert_int_eq(ar_store_source_put(s, &a, fa, 2, err, sizeof(err)), 1); /* unchanged */
    struct ar_source r = { .path = "/etc/OWNERS", .kind = "rules", .sha256 = "rrr", .items = 7 };
    struct ar_source_file fr[] = { { "/etc/OWNERS", "* @a", 4 } };
    ck_assert_int_eq(ar_store_source_put(s, &r, fr, 1, err, sizeof(err)), 0);

    struct srcs l = { .n = 0 };
    ck_assert_int_eq(ar_store_each_source(s, collect_src, &l, err, sizeof(err)), 0);
    ck_assert_int_eq(l.n, 2);
    ck_assert_str_eq(l.kind[0], "rules");   /* ordered by kind, then path */
    ck_assert_str_eq(l.path[1], "/specs/a.yaml");
    ck_assert_str_eq(l.warnings[1], "[\"no info\"]");
    ck_assert_uint_eq(l.items[1], 3);
    int64_t old_id = l.id[1];
    struct files f = { .n = 0 };
    ck_assert_int_eq(ar_store_source_files(s, old_id, collect_file, &f, err, sizeof(err)), 0);
    ck_assert_int_eq(f.n, 2);
    ck_assert_str_eq(f.path[0], "/specs/a.yaml");  /* its own file first */
    ck_assert_str_eq(f.data[0], "openapi: 3.0.0");
    ck_assert_str_eq(f.path[1], "/specs/common.yaml");

    /* a changed file replaces the source and its files */
    a.sha256 = "bbb";
    a.items = 5;
    ck_assert_int_eq(ar_store_source_put(s, &a, fa, 1, err, sizeof(err)), 0);
    l.n = 0;
    ck_assert_int_eq(ar_store_each_source(s, collect_src, &l, err, sizeof(err)), 0);
    ck_assert_int_eq(l.n, 2);
    ck_assert_str_eq(l.sha[1], "bbb");
    ck_assert_uint_eq(l.items[1], 5);
    f.n = 0;
    ck_assert_int_eq(ar_store_source_files(s, l.id[1], collect_file, &f, err, sizeof(err)), 0);
    ck_assert_int_eq(f.n, 1);
    f.n = 0;   /* the replaced source's files went with it */
    ck_assert_int_eq(ar_store_source_files(s, old_id, collect_file, &f, err, sizeof(err)), 0);
    ck_assert_int_eq(f.n, 0);

    int64_t id = l.id[1];
    ck_assert_int_eq(ar_store_source_remove(s, "/specs/a.yaml", err, sizeof(err)), 0);
    ck_assert_int_eq(ar_store_source_remove(s, "/specs/a.yaml", err, sizeof(err)), 1);
    l.n = 0;
    ck_assert_int_eq(ar_store_each_source(s, collect_src, &l, err, sizeof(err)), 0);
    ck_assert_int_eq(l.n, 1);
    f.n = 0;
    ck_assert_int_eq(ar_store_source_files(s, id, collect_file, &f, err, sizeof(err)), 0);
    ck_assert_int_eq(f.n, 0);
    ar_store_close(s);
}
END_TEST

/* A judge that documents GET, calls 404-only endpoints noise and gives every
 * endpoint of host "a.test" to judge_owner; it counts its calls. */
static int judged;
static const char *judge_owner = "team-a";
static void judge(void *ud, const struct ar_endpoint *e, struct ar_verdict *v)
{
    (void)ud;
    judged++;
    int only404 = e->nstatuses > 0;
    for (uint32_t i = 0; i < e->nstatuses; i++)
        only404 &= e->statuses[i].code == 404;
    v->state = ar_xstrdup(only404 ? "noise" : !strcmp(e->method, "GET") ? "documented" : "shadow");
    if (!strcmp(e->host, "a.test")) {
        v->owner = ar_xstrdup(judge_owner);
        v->owner_source = ar_xstrdup("host");
    }
}

static int count_cb(const struct ar_endpoint *e, void *ud)
{
    (void)e;
    (*(int *)ud)++;
    return 0;
}

static int count_eps(struct ar_store *s, const char *state, const char *owner)
{
    struct ar_endpoint_filter f = { .state = state, .owner = owner };
    int n = 0;
    ck_assert_msg(ar_store_each_endpoint(s, &f, count_cb, &n, err, sizeof(err)) == 0, "%s", err);
    return n;
}

START_TEST(test_flush_judges_touched_endpoints)
{
    struct ar_templater *tp = ar_templater_new(&lim, &ctr);
    struct ar_catalog *cat = ar_catalog_new(&lim, &ctr, tp);
    struct ar_store *s = open_rw();
    ar_store_set_judge(s, judge, NULL);
    judged = 0;
    struct ar_exchange x = xch(1, "GET", "a.test", "/orders/1", 200);
    ar_catalog_add(cat, &x);
    x = xch(2, "POST", "a.test", "/orders", 201);
    ar_catalog_add(cat, &x);
    x = xch(3, "GET", "b.test", "/wp-login.php", 404);
    ar_catalog_add(cat, &x);
    flush(s, cat, tp, NULL);
    ck_assert_int_eq(judged, 3);
    ck_assert_int_eq(ar_outbox_rows(s), 3);      /* endpoint.new, each with its verdict */
    ck_assert_int_eq(count_eps(s, "documented", NULL), 1);
    ck_assert_int_eq(count_eps(s, "shadow", NULL), 1);
    ck_assert_int_eq(count_eps(s, "noise", NULL), 1);
    ck_assert_int_eq(count_eps(s, NULL, "team-a"), 2);
    ck_assert_int_eq(count_eps(s, NULL, ""), 1);      /* unowned */

    /* only the endpoints a flush touched are judged */
    judged = 0;
    x = xch(4, "GET", "b.test", "/wp-login.php", 200);
    ar_catalog_add(cat, &x);
    flush(s, cat, tp, NULL);
    ck_assert_int_eq(judged, 1);
    ck_assert_int_eq(count_eps(s, "noise", NULL), 0);  /* it answered 200 once */
    ck_assert_int_eq(count_eps(s, "documented", NULL), 2);
    ck_assert_int_eq(ar_outbox_rows(s), 4);      /* + endpoint.state (noise -> documented) */

    /* the sources changed: judge_all visits all and reports the changes */
    judged = 0;
    judge_owner = "team-b";
    ck_assert_int_eq(ar_store_judge_all(s, err, sizeof(err)), 2);
    ck_assert_int_eq(judged, 3);
    ck_assert_int_eq(ar_outbox_rows(s), 6);      /* + two endpoint.owner */
    ck_assert_int_eq(ar_store_judge_all(s, err, sizeof(err)), 0);
    ck_assert_int_eq(ar_outbox_rows(s), 6);      /* nothing changed, nothing sent */
    ck_assert_int_eq(count_eps(s, NULL, "team-b"), 2);
    judge_owner = "team-a";
    ar_store_close(s);
    ar_catalog_free(cat);
    ar_templater_free(tp);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_create_reopen_hits_add_up);
    tcase_add_test(tc, test_garbage_rejected_untouched);
    tcase_add_test(tc, test_ro_missing_fails);
    tcase_add_test(tc, test_newer_schema_refused);
    tcase_add_test(tc, test_foreign_database_refused);
    tcase_add_test(tc, test_corrupt_roster_refused_then_rebuilt);
    tcase_add_test(tc, test_truncated_roster_is_corrupt);
    tcase_add_test(tc, test_corrupt_big_roster_found_by_reads);
    tcase_add_test(tc, test_reader_during_write_transaction);
    tcase_add_test(tc, test_failed_flush_writes_nothing);
    tcase_add_test(tc, test_stats_sum_runs);
    tcase_add_test(tc, test_tls_only_hosts);
    tcase_add_test(tc, test_tls_only_hosts_are_endpoints);
    tcase_add_test(tc, test_value_bounds_across_flushes);
    tcase_add_test(tc, test_collapse_merges_stored_rows);
    tcase_add_test(tc, test_sources_put_replace_remove);
    tcase_add_test(tc, test_flush_judges_touched_endpoints);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(store_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

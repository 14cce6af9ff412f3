/* outbox.c - the push outbox: deltas written with the roster change, grouped
 * into signed-once deliveries whose retry state lives in the database.
 *
 * Tables (schema version 2, SQL in store_int.h): outbox, push_target,
 * push_health, delivery, delivery_item. Statements are prepared per call: the
 * outbox is written once per new or changed endpoint, not per packet. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include "../core/counters.h"
#include "../core/json.h"
#include "../core/util.h"
#include "outbox.h"
#include "store_int.h"

static int ofail(struct ar_store *s, char *err, size_t errsz, const char *what)
{
    return ar_store_dbfail(s, err, errsz, what);
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *ctext(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* ---- writing deltas --------------------------------------------------- */

int ar_store_outbox_add(struct ar_store *s, const char *event, const char *team,
                        const char *json_payload)
{
    sqlite3 *db = ar_store_db(s);
    /* The change and its row must commit together: refuse autocommit. */
    assert(!sqlite3_get_autocommit(db));
    if (sqlite3_get_autocommit(db) || !ar_store_writable(s) || !event || !*event ||
        !json_payload)
        return -1;
    static const char sql[] = "INSERT INTO outbox(created,event,team,payload) VALUES(?1,?2,?3,?4)";
    sqlite3_stmt *st = ar_store_cached(s, sql);
    if (!st)
        return -1;
    sqlite3_bind_double(st, 1, wall_now());
    sqlite3_bind_text(st, 2, event, -1, SQLITE_STATIC);
    if (team && *team)
        sqlite3_bind_text(st, 3, team, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, json_payload, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Columns of the endpoint row copied into the payload when the row has them
 * (state and owner come with the specs and ownership migrations). */
static const char *const optional_cols[] = { "state", "owner", "owner_source", "owner_evidence" };

int ar_outbox_endpoint_event(struct ar_store *s, int64_t endpoint_id, const char *event,
                             const char *previous_json)
{
    static const char sql_row[] = "SELECT * FROM endpoint WHERE id=?1",
        sql_status[] = "SELECT code,count FROM endpoint_status WHERE endpoint_id=?1 ORDER BY code",
        sql_value[] = "SELECT value FROM endpoint_value WHERE endpoint_id=?1 AND kind=?2"
                      " ORDER BY value";
    sqlite3_stmt *st = NULL;
    struct ar_json j;
    char team[256] = "", ts[40];
    int ret = -1;
    ar_json_init(&j);
    if (!(st = ar_store_cached(s, sql_row)))
        goto out;
    sqlite3_bind_int64(st, 1, endpoint_id);
    if (sqlite3_step(st) != SQLITE_ROW)
        goto out;
    ar_json_obj_open(&j);
    int ncol = sqlite3_column_count(st);
    /* Fixed order first, then the optional columns. */
    static const char *const fixed[] = { "host", "method", "tmpl", "rule", "hits", "first_seen",
                                         "last_seen" };
    for (size_t f = 0; f < AR_ARRAY_LEN(fixed); f++) {
        for (int c = 0; c < ncol; c++) {
            if (strcmp(sqlite3_column_name(st, c), fixed[f]))
                continue;
            if (!strcmp(fixed[f], "hits")) {
                ar_json_kuint(&j, "hits", (uint64_t)sqlite3_column_int64(st, c));
            } else if (!strcmp(fixed[f], "first_seen") || !strcmp(fixed[f], "last_seen")) {
                ar_fmt_time(ts, sizeof(ts), sqlite3_column_double(st, c));
                ar_json_kstr(&j, fixed[f], ts);
            } else {
                ar_json_kstr(&j, !strcmp(fixed[f], "tmpl") ? "template" : fixed[f],
                             ctext(st, c));
            }
        }
    }
    for (size_t f = 0; f < AR_ARRAY_LEN(optional_cols); f++) {
        for (int c = 0; c < ncol; c++) {
            if (strcmp(sqlite3_column_name(st, c), optional_cols[f]))
                continue;
            ar_json_key(&j, optional_cols[f]);
            if (sqlite3_column_type(st, c) == SQLITE_NULL)
                ar_json_null(&j);
            else
                ar_json_str(&j, ctext(st, c));
            if (!strcmp(optional_cols[f], "owner"))
                ar_strlcpy(team, ctext(st, c), sizeof(team));
        }
    }
    sqlite3_reset(st);

    ar_json_key(&j, "statuses");
    ar_json_obj_open(&j);
    if (!(st = ar_store_cached(s, sql_status)))
        goto out;
    sqlite3_bind_int64(st, 1, endpoint_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char code[16];
        int c = sqlite3_column_int(st, 0);
        if (c < 0)
            strcpy(code, "none");
        else
            snprintf(code, sizeof(code), "%d", c);
        ar_json_key(&j, code);
        ar_json_uint(&j, (uint64_t)sqlite3_column_int64(st, 1));
    }
    if (rc != SQLITE_DONE)
        goto out;
    sqlite3_reset(st);
    ar_json_obj_close(&j);

    /* Names only: auth scheme words, query parameter names, content types. */
    static const char *const kinds[][2] = {
        { "auth", "auth" }, { "query", "query" }, { "req_ct", "request_content_types" },
        { "resp_ct", "response_content_types" } };
    if (!(st = ar_store_cached(s, sql_value)))
        goto out;
    for (size_t k = 0; k < AR_ARRAY_LEN(kinds); k++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, endpoint_id);
        sqlite3_bind_text(st, 2, kinds[k][0], -1, SQLITE_STATIC);
        ar_json_key(&j, kinds[k][1]);
        ar_json_arr_open(&j);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ar_json_str(&j, ctext(st, 0));
        if (rc != SQLITE_DONE)
            goto out;
        ar_json_arr_close(&j);
    }
    if (previous_json) {
        ar_json_key(&j, "previous");
        ar_json_raw(&j, previous_json);
    }
    ar_json_obj_close(&j);
    ret = ar_store_outbox_add(s, event, team, j.buf);
out:
    if (st)
        sqlite3_reset(st);
    ar_json_free(&j);
    return ret;
}

/* ---- planning deliveries ---------------------------------------------- */

/* "msg_" + 32 lower-case hex digits of 16 random bytes. */
static int webhook_id(char out[37])
{
    uint8_t r[16];
    size_t got = 0;
    while (got < sizeof(r)) {
        ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got < sizeof(r)) {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -1;
        got = 0;
        while (got < sizeof(r)) {
            ssize_t n = read(fd, r + got, sizeof(r) - got);
            if (n <= 0) {
                close(fd);
                return -1;
            }
            got += (size_t)n;
        }
        close(fd);
    }
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "msg_", 4);
    for (size_t i = 0; i < sizeof(r); i++) {
        out[4 + 2 * i] = hex[r[i] >> 4];
        out[5 + 2 * i] = hex[r[i] & 15];
    }
    out[36] = '\0';
    return 0;
}

struct plan {
    struct ar_store *s;
    const struct ar_outbox_target *t;
    const char *agent;
    double now, since;              /* since: previous delivery (0: none) */
    uint64_t totals[AR_CTR__COUNT], snap[AR_CTR__COUNT];
    struct ar_json body;
    int64_t *ids;
    size_t nids;
    char wid[37];
    int created;
};

static void plan_open_body(struct plan *p)
{
    ar_json_reset(&p->body);
    ar_json_obj_open(&p->body);
    ar_json_kstr(&p->body, "type", p->t->document ? "apiroster.openapi" : "apiroster.roster.delta");
    ar_json_kstr(&p->body, "agent", p->agent);
    ar_json_kstr(&p->body, "id", p->wid);
    ar_json_kstr(&p->body, "target", p->t->name);
    if (p->t->document)
        return;
    ar_json_key(&p->body, "deltas");
    ar_json_arr_open(&p->body);
}

/* Close the body with the health of the period and store the delivery. */
static int plan_store(struct plan *p)
{
    sqlite3 *db = ar_store_db(p->s);
    char ts[40];
    struct ar_json *j = &p->body;
    if (p->t->document) {
        ar_json_kuint(j, "changes", p->nids);
        ar_json_key(j, "openapi");
        ar_json_raw(j, p->t->document);
    } else {
        ar_json_arr_close(j);
    }
    ar_json_key(j, "health");
    ar_json_obj_open(j);
    ar_json_key(j, "since");
    if (p->since > 0) {
        ar_fmt_time(ts, sizeof(ts), p->since);
        ar_json_str(j, ts);
    } else {
        ar_json_null(j);
    }
    ar_fmt_time(ts, sizeof(ts), p->now);
    ar_json_kstr(j, "until", ts);
    for (int i = 0; i < AR_CTR__COUNT; i++)
        ar_json_kuint(j, ar_counter_name(i),
                      p->totals[i] > p->snap[i] ? p->totals[i] - p->snap[i] : 0);
    ar_json_obj_close(j);
    ar_json_obj_close(j);

    sqlite3_stmt *st = NULL;
    int64_t did;
    if (sqlite3_prepare_v2(db, "INSERT INTO delivery(target,webhook_id,body,ndeltas,created,"
                           "next_attempt) VALUES(?1,?2,?3,?4,?5,?5) RETURNING id", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, p->t->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->wid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, j->buf, (int)j->len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (int64_t)p->nids);
    sqlite3_bind_double(st, 5, p->now);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return -1;
    }
    did = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "INSERT INTO delivery_item(delivery_id,outbox_id) VALUES(?1,?2)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    for (size_t i = 0; i < p->nids; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, did);
        sqlite3_bind_int64(st, 2, p->ids[i]);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    /* The next delivery's period starts now. */
    memcpy(p->snap, p->totals, sizeof(p->snap));
    p->since = p->now;
    p->nids = 0;
    p->created++;
    return 0;
}

static int load_counters(sqlite3 *db, const char *sql, const char *target, uint64_t *v)
{
    sqlite3_stmt *st;
    int rc;
    memset(v, 0, AR_CTR__COUNT * sizeof(*v));
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (target)
        sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int id = ar_counter_lookup(ctext(st, 0));
        if (id >= 0)
            v[id] = (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int exec_sql(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int ar_outbox_plan(struct ar_store *s, const struct ar_outbox_target *t, const char *agent,
                   double now, int *created, int *disabled, int *reenabled, char *err,
                   size_t errsz)
{
    sqlite3 *db = ar_store_db(s);
    sqlite3_stmt *st = NULL;
    struct plan p = { .s = s, .t = t, .agent = agent ? agent : "", .now = now };
    const char *what = "cannot start a write transaction";
    int own = sqlite3_get_autocommit(db);   /* else: the caller's (dry run) */
    int64_t next_outbox = 1, maxid = 0;
    int rc;

    *created = *disabled = *reenabled = 0;
    ar_json_init(&p.body);
    if (!ar_store_writable(s)) {
        snprintf(err, errsz, "%s: opened read-only", ar_store_path(s));
        return -1;
    }
    if (own && exec_sql(db, "BEGIN IMMEDIATE") < 0)
        goto fail;

    what = "cannot read push targets";
    if (sqlite3_prepare_v2(db, "SELECT url,disabled,next_outbox,last_delivery FROM push_target"
                           " WHERE name=?1", -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int same_url = !strcmp(ctext(st, 0), t->url);
        int was_disabled = sqlite3_column_type(st, 1) != SQLITE_NULL;
        next_outbox = sqlite3_column_int64(st, 2);
        p.since = sqlite3_column_double(st, 3);
        sqlite3_finalize(st);
        st = NULL;
        if (!same_url) {
            if (sqlite3_prepare_v2(db, "UPDATE push_target SET url=?2, disabled=NULL,"
                                   " disabled_reason=NULL WHERE name=?1", -1, &st,
                                   NULL) != SQLITE_OK)
                goto fail;
            sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, t->url, -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE)
                goto fail;
            sqlite3_finalize(st);
            st = NULL;
            *reenabled = was_disabled;
        } else if (was_disabled) {
            *disabled = 1;
            goto done;
        }
    } else if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        st = NULL;
        if (sqlite3_prepare_v2(db, "INSERT INTO push_target(name,url) VALUES(?1,?2)", -1, &st,
                               NULL) != SQLITE_OK)
            goto fail;
        sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, t->url, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            goto fail;
        sqlite3_finalize(st);
        st = NULL;
    } else {
        goto fail;
    }

    what = "cannot read counters";
    if (load_counters(db, "SELECT name, sum(value) FROM run_counter GROUP BY name", NULL,
                      p.totals) < 0 ||
        load_counters(db, "SELECT name, value FROM push_health WHERE target=?1", t->name,
                      p.snap) < 0)
        goto fail;

    what = "cannot read the outbox";
    if (sqlite3_prepare_v2(db, "SELECT id,created,event,team,payload FROM outbox"
                           " WHERE id>=?1 AND (?2 IS NULL OR team=?2) ORDER BY id", -1, &st,
                           NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_int64(st, 1, next_outbox);
    if (t->team)
        sqlite3_bind_text(st, 2, t->team, -1, SQLITE_STATIC);
    uint64_t batch = t->batch ? t->batch : 1;
    size_t cap = t->document ? 64 : batch;
    p.ids = ar_xmalloc(cap * sizeof(*p.ids));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (p.nids == 0) {
            what = "cannot draw a webhook-id (getrandom, /dev/urandom)";
            if (webhook_id(p.wid) < 0)
                goto fail;
            plan_open_body(&p);
        }
        if (t->document) {      /* one delivery for all: only the ids */
            if (p.nids == cap)
                p.ids = ar_xrealloc(p.ids, (cap *= 2) * sizeof(*p.ids));
            p.ids[p.nids++] = sqlite3_column_int64(st, 0);
            continue;
        }
        char at[40];
        struct ar_json *j = &p.body;
        int64_t id = sqlite3_column_int64(st, 0);
        ar_fmt_time(at, sizeof(at), sqlite3_column_double(st, 1));
        ar_json_obj_open(j);
        ar_json_key(j, "seq");
        ar_json_int(j, id);
        ar_json_kstr(j, "event", ctext(st, 2));
        ar_json_key(j, "team");
        if (sqlite3_column_type(st, 3) == SQLITE_NULL)
            ar_json_null(j);
        else
            ar_json_str(j, ctext(st, 3));
        ar_json_kstr(j, "at", at);
        ar_json_key(j, "endpoint");
        ar_json_raw(j, ctext(st, 4));
        ar_json_obj_close(j);
        p.ids[p.nids++] = id;
        if (p.nids == batch) {
            what = "cannot store a delivery";
            if (plan_store(&p) < 0)
                goto fail;
        }
    }
    if (rc != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    st = NULL;
    what = "cannot store a delivery";
    if (p.nids && plan_store(&p) < 0)
        goto fail;

    /* Every row up to the newest is now given (or not for this team). */
    what = "cannot update the push target";
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(id),0) FROM outbox", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        goto fail;
    maxid = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(db, "UPDATE push_target SET next_outbox=max(next_outbox,?2),"
                           " last_delivery=CASE WHEN ?3 THEN ?4 ELSE last_delivery END"
                           " WHERE name=?1", -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, maxid + 1);
    sqlite3_bind_int(st, 3, p.created > 0);
    sqlite3_bind_double(st, 4, now);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    st = NULL;
    if (p.created) {
        if (sqlite3_prepare_v2(db, "INSERT INTO push_health(target,name,value) VALUES(?1,?2,?3)"
                               " ON CONFLICT(target,name) DO UPDATE SET value=excluded.value",
                               -1, &st, NULL) != SQLITE_OK)
            goto fail;
        for (int i = 0; i < AR_CTR__COUNT; i++) {
            sqlite3_reset(st);
            sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, ar_counter_name(i), -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, (int64_t)p.totals[i]);
            if (sqlite3_step(st) != SQLITE_DONE)
                goto fail;
        }
        sqlite3_finalize(st);
        st = NULL;
    }
done:
    what = "cannot commit";
    if (own && exec_sql(db, "COMMIT") < 0)
        goto fail;
    *created = p.created;
    free(p.ids);
    ar_json_free(&p.body);
    return 0;
fail:
    ofail(s, err, errsz, what);
    sqlite3_finalize(st);
    if (own)
        exec_sql(db, "ROLLBACK");
    free(p.ids);
    ar_json_free(&p.body);
    return -1;
}

/* ---- deliveries ------------------------------------------------------- */

/* The delivery of the current row; its strings point into the statement. */
static struct ar_delivery row_delivery(sqlite3_stmt *st)
{
    const char *status = ctext(st, 5);
    return (struct ar_delivery){
        .id = sqlite3_column_int64(st, 0),
        .target = ctext(st, 1),
        .webhook_id = ctext(st, 2),
        .body = sqlite3_column_type(st, 3) == SQLITE_NULL ? NULL : ctext(st, 3),
        .ndeltas = (uint64_t)sqlite3_column_int64(st, 4),
        .status = !strcmp(status, "failed")      ? AR_DELIVERY_FAILED
                  : !strcmp(status, "delivered") ? AR_DELIVERY_DELIVERED
                                                 : AR_DELIVERY_PENDING,
        .attempts = sqlite3_column_int64(st, 6),
        .created = sqlite3_column_double(st, 7),
        .next_attempt = sqlite3_column_double(st, 8),
        .last_attempt = sqlite3_column_double(st, 9),
        .last_http = sqlite3_column_int(st, 10),
        .last_error = ctext(st, 11),
    };
}

/* The row of st as an owned copy; st finalized, then fn called. The callback
 * of ar_outbox_get sends the delivery (it takes time) and writes its outcome:
 * with the statement still open, its read snapshot would outlive a commit of
 * the writer thread, and the UPDATE would fail at once with
 * SQLITE_BUSY_SNAPSHOT (the delivery was then sent again). */
static int get_one(sqlite3_stmt *st, int (*fn)(const struct ar_delivery *d, void *ud), void *ud)
{
    struct ar_delivery d = row_delivery(st);
    char *target = ar_xstrdup(d.target), *webhook_id = ar_xstrdup(d.webhook_id),
         *body = d.body ? ar_xstrdup(d.body) : NULL, *last_error = ar_xstrdup(d.last_error);
    d.target = target;
    d.webhook_id = webhook_id;
    d.body = body;
    d.last_error = last_error;
    sqlite3_finalize(st);
    int ret = fn(&d, ud);
    free(target);
    free(webhook_id);
    free(body);
    free(last_error);
    return ret;
}

static int each_delivery(struct ar_store *s, const char *target, int with_failed, int64_t id,
                         int (*fn)(const struct ar_delivery *d, void *ud), void *ud,
                         char *err, size_t errsz)
{
    sqlite3_stmt *st;
    int rc, ret = 0;
    if (sqlite3_prepare_v2(ar_store_db(s),
                           "SELECT id,target,webhook_id,body,ndeltas,status,attempts,created,"
                           "next_attempt,coalesce(last_attempt,0),coalesce(last_http,0),"
                           "coalesce(last_error,'') FROM delivery"
                           " WHERE (?1 IS NULL OR target=?1)"
                           " AND (status='pending' OR (?2 AND status='failed'))"
                           " AND (?3 = 0 OR id=?3) ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return ofail(s, err, errsz, "cannot read deliveries");
    if (target)
        sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, with_failed);
    sqlite3_bind_int64(st, 3, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (id) /* ar_outbox_get: fn is called once the statement is done */
            return get_one(st, fn, ud);
        struct ar_delivery d = row_delivery(st);
        if ((ret = fn(&d, ud)) != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = ofail(s, err, errsz, "cannot read deliveries");
    sqlite3_finalize(st);
    return ret;
}

int ar_outbox_each_delivery(struct ar_store *s, const char *target, int with_failed,
                            int (*fn)(const struct ar_delivery *d, void *ud), void *ud,
                            char *err, size_t errsz)
{
    return each_delivery(s, target, with_failed, 0, fn, ud, err, errsz);
}

int ar_outbox_get(struct ar_store *s, int64_t id, int (*fn)(const struct ar_delivery *d, void *ud),
                  void *ud, char *err, size_t errsz)
{
    return each_delivery(s, NULL, 1, id, fn, ud, err, errsz);
}

static int update(struct ar_store *s, const char *sql, int64_t id, double now, double next,
                  int http, const char *error)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ar_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_double(st, 2, now);
    sqlite3_bind_double(st, 3, next);
    if (http)
        sqlite3_bind_int(st, 4, http);
    if (error)
        sqlite3_bind_text(st, 5, error, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int ar_outbox_delivered(struct ar_store *s, int64_t id, double now, int http)
{
    /* The receiver has the body; keep the record, not the bytes. */
    return update(s, "UPDATE delivery SET status='delivered', body=NULL, attempts=attempts+1,"
                  " last_attempt=?2, done=?2, last_http=?4, last_error=NULL WHERE id=?1",
                  id, now, 0, http, NULL);
}

int ar_outbox_retry_at(struct ar_store *s, int64_t id, double now, double next, int http,
                       const char *error)
{
    return update(s, "UPDATE delivery SET attempts=attempts+1, last_attempt=?2,"
                  " next_attempt=?3, last_http=?4, last_error=?5 WHERE id=?1",
                  id, now, next, http, error);
}

int ar_outbox_dead(struct ar_store *s, int64_t id, double now, int http, const char *error)
{
    return update(s, "UPDATE delivery SET status='failed', attempts=attempts+1, last_attempt=?2,"
                  " done=?2, last_http=?4, last_error=?5 WHERE id=?1", id, now, 0, http, error);
}

int ar_outbox_disable(struct ar_store *s, const char *target, double now, const char *reason)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ar_store_db(s), "UPDATE push_target SET disabled=?2,"
                           " disabled_reason=?3 WHERE name=?1", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 2, now);
    sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int ar_outbox_requeue_failed(struct ar_store *s, const char *target, double now)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ar_store_db(s), "UPDATE delivery SET status='pending', done=NULL,"
                           " next_attempt=?2 WHERE target=?1 AND status='failed'", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 2, now);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? sqlite3_changes(ar_store_db(s)) : -1;
}

int ar_outbox_state(struct ar_store *s, const struct ar_outbox_target *t,
                    struct ar_outbox_state *o, char *err, size_t errsz)
{
    sqlite3 *db = ar_store_db(s);
    sqlite3_stmt *st = NULL;
    int64_t next_outbox = 1;
    memset(o, 0, sizeof(*o));
    if (sqlite3_prepare_v2(db, "SELECT next_outbox,disabled,coalesce(disabled_reason,'')"
                           " FROM push_target WHERE name=?1", -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        o->known = 1;
        next_outbox = sqlite3_column_int64(st, 0);
        o->disabled = sqlite3_column_type(st, 1) != SQLITE_NULL;
        o->disabled_at = sqlite3_column_double(st, 1);
        ar_strlcpy(o->disabled_reason, ctext(st, 2), sizeof(o->disabled_reason));
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT count(*) FILTER (WHERE status='pending'),"
                           " count(*) FILTER (WHERE status='failed'),"
                           " count(*) FILTER (WHERE status='delivered'),"
                           " coalesce(min(next_attempt) FILTER (WHERE status='pending'),0)"
                           " FROM delivery WHERE target=?1", -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        goto fail;
    o->pending = (uint64_t)sqlite3_column_int64(st, 0);
    o->failed = (uint64_t)sqlite3_column_int64(st, 1);
    o->delivered = (uint64_t)sqlite3_column_int64(st, 2);
    o->next_attempt = sqlite3_column_double(st, 3);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT coalesce(last_error,'') FROM delivery WHERE target=?1"
                           " AND last_error IS NOT NULL ORDER BY last_attempt DESC LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        ar_strlcpy(o->last_error, ctext(st, 0), sizeof(o->last_error));
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM outbox WHERE id>=?1"
                           " AND (?2 IS NULL OR team=?2)", -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_int64(st, 1, next_outbox);
    if (t->team)
        sqlite3_bind_text(st, 2, t->team, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        goto fail;
    o->unassigned = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    return ofail(s, err, errsz, "cannot read the push state");
}

int64_t ar_outbox_rows(struct ar_store *s)
{
    sqlite3_stmt *st;
    int64_t n = -1;
    if (sqlite3_prepare_v2(ar_store_db(s), "SELECT count(*) FROM outbox", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

int ar_outbox_begin(struct ar_store *s, char *err, size_t errsz)
{
    if (exec_sql(ar_store_db(s), "BEGIN IMMEDIATE") < 0)
        return ofail(s, err, errsz, "cannot start a write transaction");
    return 0;
}

int ar_outbox_commit(struct ar_store *s, char *err, size_t errsz)
{
    if (exec_sql(ar_store_db(s), "COMMIT") < 0) {
        ofail(s, err, errsz, "cannot commit");
        exec_sql(ar_store_db(s), "ROLLBACK");
        return -1;
    }
    return 0;
}

void ar_outbox_rollback(struct ar_store *s)
{
    exec_sql(ar_store_db(s), "ROLLBACK");
}

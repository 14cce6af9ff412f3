/* check_outbox.c - the push outbox: a row per new endpoint written in the
 * flush transaction (and none when it rolls back), refused outside a
 * transaction, deliveries planned once in batches with fixed webhook-ids,
 * team routing, delivery outcomes and the state a restart resumes from. */
#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include "../../core/counters.h"
#include "../../core/limits.h"
#include "../../inventory/catalog.h"
#include "../../inventory/outbox.h"
#include "../../inventory/store.h"
#include "../../inventory/template.h"

/* A raw connection plays "another process" (as in check_store.c); sqlite3.h
 * stays in inventory/. */
typedef struct sqlite3 sqlite3;
int sqlite3_open(const char *filename, sqlite3 **db);
int sqlite3_close(sqlite3 *db);
int sqlite3_exec(sqlite3 *db, const char *sql, int (*cb)(void *, int, char **, char **),
                 void *ud, char **errmsg);

/* inventory/store_int.h (internal to the store, it includes sqlite3.h). */
int ar_outbox_endpoint_event(struct ar_store *s, int64_t endpoint_id, const char *event,
                             const char *previous_json);

static char dir[256], dbpath[300], err[512];
static struct ar_limits lim;
static struct ar_counters ctr;

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/check_outbox.XXXXXX");
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

static int raw_exec(const char *sql)
{
    sqlite3 *db;
    int rc = sqlite3_open(dbpath, &db);
    if (rc == 0)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/* First column of the first row of sql, as text ("" when none). */
static int raw_cb(void *ud, int n, char **v, char **names)
{
    (void)names;
    if (n > 0 && v[0] && !((char *)ud)[0])
        snprintf(ud, 4096, "%s", v[0]);
    return 0;
}

static const char *raw_text(const char *sql)
{
    static char out[4096];
    sqlite3 *db;
    out[0] = '\0';
    ck_assert_int_eq(sqlite3_open(dbpath, &db), 0);
    ck_assert_int_eq(sqlite3_exec(db, sql, raw_cb, out, NULL), 0);
    sqlite3_close(db);
    return out;
}

static struct ar_store *open_rw(void)
{
    struct ar_store *s;
    ck_assert_msg(ar_store_open(dbpath, AR_STORE_RW, &s, err, sizeof(err)) == 0, "%s", err);
    return s;
}

static void add(struct ar_catalog *c, const char *method, const char *host, const char *path,
                const char *auth)
{
    struct ar_exchange x = {
        .ts = 1000, .client = "192.0.2.1:40000", .server = "10.0.0.1:80", .method = method,
        .host = host, .path = path, .query = "", .status = 200, .req_ct = "",
        .resp_ct = "application/json", .auth = auth,
    };
    ar_catalog_add(c, &x);
}

static void flush_these(struct ar_store *s, const char *const *paths, size_t n)
{
    struct ar_templater *tp = ar_templater_new(&lim, &ctr);
    struct ar_catalog *cat = ar_catalog_new(&lim, &ctr, tp);
    for (size_t i = 0; i < n; i++)
        add(cat, "GET", "api.shop.test", paths[i], "bearer");
    ck_assert_msg(ar_store_flush(s, cat, tp, NULL, err, sizeof(err)) == 0, "%s", err);
    ar_catalog_free(cat);
    ar_templater_free(tp);
}

START_TEST(test_new_endpoints_get_rows)
{
    struct ar_store *s = open_rw();
    static const char *const p1[] = { "/a", "/b" }, *const p2[] = { "/a", "/b", "/c" };
    flush_these(s, p1, 2);
    ck_assert_int_eq(ar_outbox_rows(s), 2);
    flush_these(s, p1, 2);                    /* known: hits add up, no new delta */
    ck_assert_int_eq(ar_outbox_rows(s), 2);
    flush_these(s, p2, 3);
    ck_assert_int_eq(ar_outbox_rows(s), 3);
    ar_store_close(s);
    ck_assert_str_eq(raw_text("SELECT group_concat(event||' '||json_extract(payload,'$.template')"
                              "||' '||json_extract(payload,'$.hits'),',') FROM outbox"),
                     "endpoint.new /a 1,endpoint.new /b 1,endpoint.new /c 1");
    ck_assert_str_eq(raw_text("SELECT json_extract(payload,'$.auth[0]')||' '||"
                              "json_extract(payload,'$.statuses.200')||' '||"
                              "json_extract(payload,'$.host')||' '||"
                              "json_extract(payload,'$.first_seen')||' '||"
                              "coalesce(team,'-') FROM outbox WHERE id=1"),
                     "bearer 1 api.shop.test 1970-01-01T00:16:40.000Z -");
}
END_TEST

START_TEST(test_rollback_leaves_no_row)
{
    struct ar_store *s = open_rw();
    /* Make the flush fail after the endpoints (at the TLS hosts step). */
    ck_assert_int_eq(raw_exec("CREATE TRIGGER boom BEFORE INSERT ON tls_host BEGIN"
                              " SELECT RAISE(ABORT, 'boom'); END;"), 0);
    struct ar_templater *tp = ar_templater_new(&lim, &ctr);
    struct ar_catalog *cat = ar_catalog_new(&lim, &ctr, tp);
    add(cat, "GET", "api.shop.test", "/x", "none");
    ar_store_note_tls(s, "api.shop.test", "h2", 1000);
    ck_assert_int_eq(ar_store_flush(s, cat, tp, NULL, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "boom"));
    ck_assert_int_eq(ar_outbox_rows(s), 0);
    ck_assert_str_eq(raw_text("SELECT count(*) FROM endpoint"), "0");
    /* Without the trigger the same flush writes both. */
    ck_assert_int_eq(raw_exec("DROP TRIGGER boom"), 0);
    ck_assert_msg(ar_store_flush(s, cat, tp, NULL, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(ar_outbox_rows(s), 1);
    ck_assert_str_eq(raw_text("SELECT count(*) FROM endpoint"), "1");
    ar_catalog_free(cat);
    ar_templater_free(tp);
    ar_store_close(s);
}
END_TEST

START_TEST(test_add_needs_transaction)
{
    struct ar_store *s = open_rw();
    /* Explicit transactions: rollback leaves nothing, commit keeps the row. */
    ck_assert_int_eq(ar_outbox_begin(s, err, sizeof(err)), 0);
    ck_assert_int_eq(ar_store_outbox_add(s, "endpoint.state", "payments",
                                         "{\"state\":\"shadow\",\"previous\":{\"state\":null}}"), 0);
    ck_assert_int_eq(ar_outbox_rows(s), 1);
    ar_outbox_rollback(s);
    ck_assert_int_eq(ar_outbox_rows(s), 0);
    ck_assert_int_eq(ar_outbox_begin(s, err, sizeof(err)), 0);
    ck_assert_int_eq(ar_store_outbox_add(s, "endpoint.owner", "payments", "{\"owner\":\"payments\"}"), 0);
    ck_assert_int_eq(ar_store_outbox_add(s, "endpoint.owner", "x", "not json"), -1);
    ck_assert_int_eq(ar_outbox_commit(s, err, sizeof(err)), 0);
    ck_assert_int_eq(ar_outbox_rows(s), 1);
    ck_assert_str_eq(raw_text("SELECT event||' '||team FROM outbox"), "endpoint.owner payments");
    ar_store_close(s);
}
END_TEST

#ifdef NDEBUG
START_TEST(test_add_outside_transaction_refused)
{
    struct ar_store *s = open_rw();
    ck_assert_int_eq(ar_store_outbox_add(s, "endpoint.new", NULL, "{}"), -1);
    ck_assert_int_eq(ar_outbox_rows(s), 0);
    ar_store_close(s);
}
END_TEST
#else
START_TEST(test_add_outside_transaction_refused)
{
    struct ar_store *s = open_rw();
    /* assert(): the test process dies with SIGABRT (checked by the runner). */
    (void)!ar_store_outbox_add(s, "endpoint.new", NULL, "{}");
    ar_store_close(s);
}
END_TEST
#endif

static int count_cb(const struct ar_delivery *d, void *ud)
{
    char *acc = ud;
    char line[200];
    snprintf(line, sizeof(line), "%s:%llu:%d ", d->target, (unsigned long long)d->ndeltas,
             (int)d->status);
    strcat(acc, line);
    return 0;
}

struct ids {
    char id[8][40];
    char body[8][2048];
    int n;
};

static int ids_cb(const struct ar_delivery *d, void *ud)
{
    struct ids *x = ud;
    if (x->n < 8) {
        snprintf(x->id[x->n], sizeof(x->id[0]), "%s", d->webhook_id);
        snprintf(x->body[x->n], sizeof(x->body[0]), "%s", d->body ? d->body : "");
        x->n++;
    }
    return 0;
}

START_TEST(test_plan_batches_and_routing)
{
    struct ar_store *s = open_rw();
    static const char *const p[] = { "/a", "/b", "/c", "/d", "/e" };
    flush_these(s, p, 5);
    ck_assert_int_eq(ar_outbox_begin(s, err, sizeof(err)), 0);
    ck_assert_int_eq(ar_store_outbox_add(s, "endpoint.owner", "payments",
                                         "{\"template\":\"/a\",\"owner\":\"payments\"}"), 0);
    ck_assert_int_eq(ar_outbox_commit(s, err, sizeof(err)), 0);

    struct ar_outbox_target main_t = { .name = "", .url = "http://r/", .batch = 2 };
    struct ar_outbox_target team_t = { .name = "payments", .url = "http://t/",
                                       .team = "payments", .batch = 2 };
    int created, disabled, reen;
    ck_assert_int_eq(ar_outbox_plan(s, &main_t, "gw1", 2000, &created, &disabled, &reen, err,
                                    sizeof(err)), 0);
    ck_assert_int_eq(created, 3);                   /* 6 rows in batches of 2 */
    ck_assert_int_eq(ar_outbox_plan(s, &team_t, "gw1", 2000, &created, &disabled, &reen, err,
                                    sizeof(err)), 0);
    ck_assert_int_eq(created, 1);
    ck_assert_int_eq(ar_outbox_plan(s, &main_t, "gw1", 2001, &created, &disabled, &reen, err,
                                    sizeof(err)), 0);
    ck_assert_int_eq(created, 0);                   /* planned once */
    char acc[1024] = "";
    ck_assert_int_eq(ar_outbox_each_delivery(s, NULL, 0, count_cb, acc, err, sizeof(err)), 0);
    ck_assert_str_eq(acc, ":2:0 :2:0 :2:0 payments:1:0 ");

    struct ids x = { .n = 0 };
    ck_assert_int_eq(ar_outbox_each_delivery(s, "", 0, ids_cb, &x, err, sizeof(err)), 0);
    ck_assert_int_eq(x.n, 3);
    regex_t re;
    ck_assert_int_eq(regcomp(&re, "^msg_[0-9a-f]{32}$", REG_EXTENDED | REG_NOSUB), 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(regexec(&re, x.id[i], 0, NULL, 0), 0);
        char want[80];
        snprintf(want, sizeof(want), "\"id\":\"%s\"", x.id[i]);
        ck_assert_ptr_nonnull(strstr(x.body[i], want));
        ck_assert_ptr_nonnull(strstr(x.body[i], "\"type\":\"apiroster.roster.delta\",\"agent\":\"gw1\""));
    }
    regfree(&re);
    ck_assert_str_ne(x.id[0], x.id[1]);
    ck_assert_ptr_nonnull(strstr(x.body[0], "\"seq\":1,\"event\":\"endpoint.new\",\"team\":null"));
    ck_assert_ptr_nonnull(strstr(x.body[2], "\"seq\":6,\"event\":\"endpoint.owner\",\"team\":\"payments\""));
    /* health: the first delivery of the period carries it, the next ones start after it */
    ck_assert_ptr_nonnull(strstr(x.body[0], "\"health\":{\"since\":null,"));
    ck_assert_ptr_nonnull(strstr(x.body[1], "\"health\":{\"since\":\"1970-01-01T00:33:20.000Z\""));

    /* reopening (a restart) sees the same deliveries with the same ids and bytes */
    ar_store_close(s);
    s = open_rw();
    struct ids y = { .n = 0 };
    ck_assert_int_eq(ar_outbox_each_delivery(s, "", 0, ids_cb, &y, err, sizeof(err)), 0);
    ck_assert_int_eq(y.n, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(x.id[i], y.id[i]);
        ck_assert_str_eq(x.body[i], y.body[i]);
    }
    ar_store_close(s);
}
END_TEST

START_TEST(test_outcomes_and_state)
{
    struct ar_store *s = open_rw();
    static const char *const p[] = { "/a", "/b", "/c" };
    flush_these(s, p, 3);
    struct ar_outbox_target t = { .name = "", .url = "http://r/", .batch = 1 };
    int created, disabled, reen;
    ck_assert_int_eq(ar_outbox_plan(s, &t, "gw", 100, &created, &disabled, &reen, err,
                                    sizeof(err)), 0);
    ck_assert_int_eq(created, 3);
    ck_assert_int_eq(ar_outbox_delivered(s, 1, 101, 204), 0);
    ck_assert_int_eq(ar_outbox_retry_at(s, 2, 102, 160, 503, "HTTP 503"), 0);
    ck_assert_int_eq(ar_outbox_dead(s, 3, 103, 400, "HTTP 400"), 0);
    struct ar_outbox_state st;
    ck_assert_int_eq(ar_outbox_state(s, &t, &st, err, sizeof(err)), 0);
    ck_assert_int_eq(st.delivered, 1);
    ck_assert_int_eq(st.pending, 1);
    ck_assert_int_eq(st.failed, 1);
    ck_assert_int_eq(st.unassigned, 0);
    ck_assert(st.next_attempt == 160);
    ck_assert_str_eq(st.last_error, "HTTP 400");
    ar_store_close(s);
    ck_assert_str_eq(raw_text("SELECT status||','||attempts||','||last_http||','||"
                              "coalesce(body,'NULL') FROM delivery WHERE id=1"),
                     "delivered,1,204,NULL");
    ck_assert_str_eq(raw_text("SELECT attempts||','||next_attempt||','||(length(body)>0)"
                              " FROM delivery WHERE id=2"), "1,160.0,1");

    s = open_rw();
    ck_assert_int_eq(ar_outbox_requeue_failed(s, "", 200), 1);
    ck_assert_int_eq(ar_outbox_disable(s, "", 201, "HTTP 410 Gone"), 0);
    flush_these(s, (const char *const[]){ "/d" }, 1);
    ck_assert_int_eq(ar_outbox_plan(s, &t, "gw", 202, &created, &disabled, &reen, err,
                                    sizeof(err)), 0);
    ck_assert_int_eq(created, 0);
    ck_assert_int_eq(disabled, 1);
    ck_assert_int_eq(ar_outbox_state(s, &t, &st, err, sizeof(err)), 0);
    ck_assert_int_eq(st.disabled, 1);
    ck_assert_int_eq(st.pending, 2);
    ck_assert_int_eq(st.unassigned, 1);
    ck_assert_str_eq(st.disabled_reason, "HTTP 410 Gone");
    /* a new url enables it again */
    struct ar_outbox_target t2 = { .name = "", .url = "http://new/", .batch = 1 };
    ck_assert_int_eq(ar_outbox_plan(s, &t2, "gw", 203, &created, &disabled, &reen, err,
                                    sizeof(err)), 0);
    ck_assert_int_eq(created, 1);
    ck_assert_int_eq(disabled, 0);
    ck_assert_int_eq(reen, 1);
    ar_store_close(s);
}
END_TEST

START_TEST(test_state_owner_columns_when_present)
{
    struct ar_store *s = open_rw();
    static const char *const p[] = { "/a" }, *const p2[] = { "/b" };
    flush_these(s, p, 1);
    /* The verdict columns of the endpoint row (schema 2), as a judge sets them. */
    ck_assert_int_eq(raw_exec("UPDATE endpoint SET state='shadow', owner='payments',"
                              " owner_source='rules', owner_evidence='owners.rules:3'"), 0);
    ck_assert_int_eq(ar_outbox_begin(s, err, sizeof(err)), 0);
    ck_assert_int_eq(ar_outbox_endpoint_event(s, 1, "endpoint.state",
                                              "{\"state\":\"documented\"}"), 0);
    ck_assert_int_eq(ar_outbox_commit(s, err, sizeof(err)), 0);
    flush_these(s, p2, 1);                  /* a new endpoint: owner column NULL */
    ar_store_close(s);
    ck_assert_str_eq(raw_text("SELECT event||' '||team||' '||json_extract(payload,'$.state')||' '||"
                              "json_extract(payload,'$.previous.state')||' '||"
                              "json_extract(payload,'$.owner_source')||' '||"
                              "json_extract(payload,'$.owner_evidence')||' '||"
                              "json_extract(payload,'$.template') FROM outbox WHERE id=2"),
                     "endpoint.state payments shadow documented rules owners.rules:3 /a");
    ck_assert_str_eq(raw_text("SELECT event||' '||coalesce(team,'-')||' '||"
                              "json_type(payload,'$.owner')||' '||coalesce(json_type(payload,'$.previous'),'absent')"
                              " FROM outbox WHERE id=3"), "endpoint.new - null absent");
}
END_TEST

/* The push thread sends a delivery from inside ar_outbox_get's callback and
 * records the outcome there, while the writer thread (another connection)
 * commits a flush: recording must still work (no read snapshot may be held
 * across the callback, or the UPDATE fails with SQLITE_BUSY_SNAPSHOT and the
 * delivery is sent again). */
struct get_ctx {
    struct ar_store *s, *writer;
    int calls, rc;
    char webhook_id[64], body[64];
};

static int send_cb(const struct ar_delivery *d, void *ud)
{
    struct get_ctx *x = ud;
    x->calls++;
    snprintf(x->webhook_id, sizeof(x->webhook_id), "%s", d->webhook_id);
    snprintf(x->body, sizeof(x->body), "%.20s", d->body ? d->body : "");
    flush_these(x->writer, (const char *const[]){ "/during-the-send" }, 1);
    x->rc = ar_outbox_delivered(x->s, d->id, 101, 204);
    return 0;
}

START_TEST(test_outcome_recorded_while_the_writer_commits)
{
    struct ar_store *s = open_rw(), *w = open_rw();
    flush_these(w, (const char *const[]){ "/a" }, 1);
    struct ar_outbox_target t = { .name = "", .url = "http://r/", .batch = 10 };
    int created, disabled, reen;
    ck_assert_int_eq(ar_outbox_plan(s, &t, "gw", 100, &created, &disabled, &reen, err,
                                    sizeof(err)), 0);
    ck_assert_int_eq(created, 1);
    struct get_ctx x = { .s = s, .writer = w, .rc = -2 };
    ck_assert_int_eq(ar_outbox_get(s, 1, send_cb, &x, err, sizeof(err)), 0);
    ck_assert_int_eq(x.calls, 1);
    ck_assert_int_eq(x.rc, 0);
    ck_assert_str_eq(x.webhook_id, raw_text("SELECT webhook_id FROM delivery WHERE id=1"));
    ck_assert_int_eq(x.body[0] == '{', 1);
    ck_assert_str_eq(raw_text("SELECT status||','||attempts FROM delivery WHERE id=1"),
                     "delivered,1");
    /* not pending any more: not given again */
    x.calls = 0;
    ck_assert_int_eq(ar_outbox_get(s, 1, send_cb, &x, err, sizeof(err)), 0);
    ck_assert_int_eq(x.calls, 0);
    ar_store_close(w);
    ar_store_close(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("outbox");
    TCase *tc = tcase_create("outbox");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_new_endpoints_get_rows);
    tcase_add_test(tc, test_rollback_leaves_no_row);
    tcase_add_test(tc, test_add_needs_transaction);
#ifdef NDEBUG
    tcase_add_test(tc, test_add_outside_transaction_refused);
#else
    tcase_add_test_raise_signal(tc, test_add_outside_transaction_refused, SIGABRT);
#endif
    tcase_add_test(tc, test_plan_batches_and_routing);
    tcase_add_test(tc, test_outcomes_and_state);
    tcase_add_test(tc, test_state_owner_columns_when_present);
    tcase_add_test(tc, test_outcome_recorded_while_the_writer_commits);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

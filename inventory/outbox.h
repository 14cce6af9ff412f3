/* outbox.h - the durable push outbox in the roster database.
 *
 * A roster change and its outbox row commit in one transaction (a
 * transactional outbox): a crash loses both or neither. The push (agent/push.c)
 * then groups outbox rows into deliveries, one target at a time. A delivery's
 * body and webhook-id are fixed when it is created, before the first attempt,
 * so every retry, and a push restarted after kill -9, sends the same bytes
 * under the same webhook-id (the receiver's idempotency key).
 *
 * Outbox rows hold names and shapes only (host, method, template, statuses,
 * auth scheme words, owner...): never a header value, cookie, body or query
 * value. */
#ifndef AR_OUTBOX_H
#define AR_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include "store.h"

/* Add one delta to the outbox. Must be called inside the store's write
 * transaction (ar_store_flush, or a function of the store that changes the
 * roster), so that the change and its row commit or roll back together:
 * outside a transaction it returns -1 and writes nothing (and asserts in a
 * debug build). event: "endpoint.new", "endpoint.state", "endpoint.owner"...;
 * team: the endpoint's owner after the change (routes the delta to
 * [push "TEAM"]), NULL or "" when unowned; json_payload: a JSON object
 * (checked with SQLite's json_valid). Returns 0 or -1. */
int ar_store_outbox_add(struct ar_store *s, const char *event, const char *team,
                        const char *json_payload)
    __attribute__((warn_unused_result));

/* A push target as the outbox sees it. */
struct ar_outbox_target {
    const char *name;       /* "" for [push], TEAM for [push "TEAM"] */
    const char *url;
    const char *team;       /* NULL: every delta; else only the deltas of this owner */
    uint64_t batch;         /* deltas per delivery, >= 1 */
    const char *document;   /* NULL, or a JSON document (format = openapi) that
                             * replaces the deltas: see ar_outbox_plan */
};

/* Create the deliveries of every outbox row not yet given to target t, in
 * batches of t->batch, in one transaction: each gets a random webhook-id
 * ("msg_" + 32 hex digits from getrandom) and its body, built here once:
 *   {"type":"apiroster.roster.delta","agent":AGENT,"id":WEBHOOK_ID,
 *    "target":NAME,"deltas":[{"seq":N,"event":E,"team":T,"at":ISO,
 *    "endpoint":PAYLOAD},...],"health":{"since":ISO|null,"until":ISO,COUNTER:N...}}
 * health holds every counter's increase since the previous delivery of this
 * target was created (zero for the later deliveries created in one call).
 * With t->document, all the rows not yet given make one delivery whose body
 * carries the document instead of the deltas (batch does not apply):
 *   {"type":"apiroster.openapi","agent":..,"id":..,"target":..,"changes":N,
 *    "openapi":DOCUMENT,"health":{...}}
 * and no rows means no delivery: the document is sent when it changed.
 * A disabled target gets none (*created = 0, *disabled = 1). A target whose
 * url changed since it was disabled is enabled again (*reenabled = 1).
 * now is wall-clock seconds. Returns 0 or -1 with "db: reason" in err. */
int ar_outbox_plan(struct ar_store *s, const struct ar_outbox_target *t, const char *agent,
                   double now, int *created, int *disabled, int *reenabled, char *err,
                   size_t errsz) __attribute__((warn_unused_result));

enum ar_delivery_status { AR_DELIVERY_PENDING, AR_DELIVERY_DELIVERED, AR_DELIVERY_FAILED };

struct ar_delivery {
    int64_t id;
    const char *target;
    const char *webhook_id;
    const char *body;       /* NULL once delivered */
    uint64_t ndeltas;
    enum ar_delivery_status status;
    int64_t attempts;
    double created, next_attempt, last_attempt;     /* 0: never */
    int last_http;          /* 0: no HTTP answer */
    const char *last_error; /* "" when none */
};

/* Calls fn for every delivery of target (NULL: all) that is pending
 * (failed too when with_failed), oldest first. The delivery is valid during
 * the call only. fn returns 0 to go on; a non-zero return stops and is
 * returned. Returns 0 or -1. */
int ar_outbox_each_delivery(struct ar_store *s, const char *target, int with_failed,
                            int (*fn)(const struct ar_delivery *d, void *ud), void *ud,
                            char *err, size_t errsz);

/* The pending or failed delivery id (fn not called when it is neither):
 * iterate ids first, then send each with this, so that no statement reads
 * the table while an attempt's outcome is written (fn gets a copy of the row,
 * its statement already finished: no read snapshot outlives a commit of
 * another connection during the send). */
int ar_outbox_get(struct ar_store *s, int64_t id, int (*fn)(const struct ar_delivery *d, void *ud),
                  void *ud, char *err, size_t errsz);

/* The outcome of one attempt at time now (autocommit, one UPDATE each). */
int ar_outbox_delivered(struct ar_store *s, int64_t id, double now, int http);
int ar_outbox_retry_at(struct ar_store *s, int64_t id, double now, double next, int http,
                       const char *error);
int ar_outbox_dead(struct ar_store *s, int64_t id, double now, int http, const char *error);
/* 410 Gone: no more deliveries to this target until its url changes. */
int ar_outbox_disable(struct ar_store *s, const char *target, double now, const char *reason);
/* Failed (dead-lettered) deliveries of target become pending again. Returns
 * how many, or -1. */
int ar_outbox_requeue_failed(struct ar_store *s, const char *target, double now);

struct ar_outbox_state {
    uint64_t pending, failed, delivered;    /* deliveries */
    uint64_t unassigned;    /* outbox rows for it not in any delivery yet */
    int known;              /* the target has a push_target row */
    int disabled;
    double disabled_at;
    char disabled_reason[256];
    double next_attempt;    /* earliest next attempt of a pending delivery; 0: none */
    char last_error[256];   /* of the most recent attempt that failed */
};
/* t->team filters unassigned rows as ar_outbox_plan does. Returns 0 or -1. */
int ar_outbox_state(struct ar_store *s, const struct ar_outbox_target *t,
                    struct ar_outbox_state *st, char *err, size_t errsz);

/* Number of outbox rows (all targets), or -1. */
int64_t ar_outbox_rows(struct ar_store *s);

/* A write transaction of the store's connection, for callers outside the
 * store that group outbox calls (dry runs roll it back; tests). */
int ar_outbox_begin(struct ar_store *s, char *err, size_t errsz);
int ar_outbox_commit(struct ar_store *s, char *err, size_t errsz);
void ar_outbox_rollback(struct ar_store *s);

#endif

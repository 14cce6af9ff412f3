/* push.h - deliver the outbox to the push targets of the config over HTTP(S)
 * (Standard Webhooks, libcurl). The only file that includes curl is push.c.
 *
 * ar_push_run BLOCKS on the network (up to connect_timeout + timeout per
 * attempt, one attempt after another): the live capture calls it from a
 * thread of its own (pusher.c) with its own store handle, never from the
 * packet thread or the writer. */
#ifndef AR_PUSH_H
#define AR_PUSH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"

struct ar_store;

struct ar_push_target_report {
    char label[160];        /* "[push]" or "[push \"TEAM\"]" */
    char name[128];         /* "" or TEAM, canonical once the target loaded (team.h) */
    int refused;            /* bad target (format, secret, headers): err says why */
    int disabled;           /* 410 Gone received (now or before) */
    int newly_disabled;     /* ... during this run */
    int reenabled;          /* its url changed since it was disabled */
    double disabled_at;
    uint64_t planned;       /* deliveries created by this run */
    uint64_t attempts, delivered, retried, dead;   /* this run */
    uint64_t pending, failed, unassigned;          /* after this run */
    double next_attempt;    /* earliest retry time of a pending delivery, 0: none */
    int last_http;          /* of the last attempt of this run, 0: none */
    char last_error[256];   /* of the last failed attempt */
};

struct ar_push_report {
    int ntargets;
    struct ar_push_target_report t[AR_MAX_PUSH];
    uint64_t attempts, delivered, pending, failed;  /* sums */
    char err[1024];         /* first config or database error */
};

enum ar_push_flags {
    AR_PUSH_FORCE = 1,          /* attempt every pending delivery, whatever its timer */
    AR_PUSH_RETRY_FAILED = 2,   /* failed (dead-lettered) deliveries become pending again */
};

/* Check every push target of cfg: url scheme (http, https), secret_file
 * (required, readable, valid) and headers_file. Returns 0, or -1 with "file:line: reason"
 * in err (the config's file and the line of the target's section). */
int ar_push_check(const struct ar_config *cfg, char *err, size_t errsz);

/* For each target of cfg: create the deliveries of the new outbox rows, then
 * attempt the pending deliveries that are due (all of them with
 * AR_PUSH_FORCE), oldest first. 2xx: delivered. 410: the target is disabled
 * (persisted, logged once). 429, 5xx, network errors: retried later with
 * exponential backoff and full jitter, no earlier than Retry-After; the
 * target's other deliveries wait for the next run. Other statuses: the
 * delivery is dead-lettered (kept, reported, retried only with
 * AR_PUSH_RETRY_FAILED). Returns 0 when nothing is left to deliver for any
 * target, 1 when something is pending, failed or the target is disabled,
 * 2 when a target is refused (rep->err has file:line), -1 on a database error
 * (rep->err). */
int ar_push_run(struct ar_store *s, const struct ar_config *cfg, unsigned flags,
                struct ar_push_report *rep);

/* While *flag (NULL: none) is non-zero, transfers in progress are aborted
 * and no new attempt starts (the deliveries stay pending): the live
 * capture's stop. One flag per process. */
void ar_push_cancel_on(const atomic_int *flag);

/* What ar_push_run with AR_PUSH_FORCE would send, changing nothing (the new
 * deliveries are planned in a transaction that is rolled back: their
 * webhook-ids are drawn again by the real push). fn gets every pending or
 * failed delivery; is_new marks those not created yet. Returns as ar_push_run. */
int ar_push_dry_run(struct ar_store *s, const struct ar_config *cfg,
                    void (*fn)(void *ud, const char *label, const char *webhook_id, int is_new,
                               const char *body),
                    void *ud, struct ar_push_report *rep);

#endif

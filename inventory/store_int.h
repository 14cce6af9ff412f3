/* store_int.h - what the files of the store share (inventory/ only; never
 * included outside inventory/, since it exposes sqlite3). store.c owns the
 * connection; outbox.c adds the push outbox on the same connection. */
#ifndef AR_STORE_INT_H
#define AR_STORE_INT_H

#include <stdint.h>
#include <sqlite3.h>
#include "store.h"

sqlite3 *ar_store_db(struct ar_store *s);
/* A statement prepared once per store for sql, a string constant (its
 * address is the key; at most 8 of them), reset and unbound: the caller
 * resets it when done, never finalizes it. NULL on error. */
sqlite3_stmt *ar_store_cached(struct ar_store *s, const char *sql);
const char *ar_store_path(const struct ar_store *s);
int ar_store_writable(const struct ar_store *s);
/* "PATH: what: sqlite message" in err, or the corrupt message (and the
 * store marked corrupt) when SQLite found the file corrupt. Returns -1. */
int ar_store_dbfail(struct ar_store *s, char *err, size_t errsz, const char *what);

/* Inside a write transaction of the store: write an outbox row for the
 * endpoint row endpoint_id as it is now (host, method, template, rule, hits,
 * first/last seen, statuses, auth, query names, content types, and state,
 * owner, owner_source, owner_evidence when the row has those columns), with
 * event ("endpoint.new", "endpoint.state", "endpoint.owner") and, when
 * previous_json is not NULL, a "previous" member holding that JSON object
 * (e.g. {"state":"documented"}). The outbox team is the row's owner column
 * when it has one. Returns 0 or -1 (the caller rolls back). */
int ar_outbox_endpoint_event(struct ar_store *s, int64_t endpoint_id, const char *event,
                             const char *previous_json);
#define ar_outbox_endpoint_new(s, id) ar_outbox_endpoint_event((s), (id), "endpoint.new", NULL)

/* Schema version 1 -> 2: the push outbox. Never edit once shipped.
 *   outbox        one row per roster change (delta), written in the same
 *                 transaction as the change; payload is a JSON object of names
 *                 and shapes only; team routes it to [push "TEAM"].
 *   push_target   one row per configured target (name '' is [push]): the
 *                 url it had, disabled (410), and next_outbox, the first
 *                 outbox id not yet assigned to one of its deliveries.
 *   push_health   per target: the counter totals at its previous delivery,
 *                 so that the next one carries the counters of the period.
 *   delivery      one signed request: body and webhook-id fixed at creation,
 *                 so that every retry sends the same bytes; state of the
 *                 retries (attempts, next_attempt, last_http, last_error).
 *   delivery_item which outbox rows a delivery carries. */
#define AR_OUTBOX_MIGRATION \
    "CREATE TABLE outbox(" \
    "  id INTEGER PRIMARY KEY," \
    "  created REAL NOT NULL," \
    "  event TEXT NOT NULL," \
    "  team TEXT," \
    "  payload TEXT NOT NULL CHECK(json_valid(payload)));" \
    "CREATE INDEX outbox_team ON outbox(team, id);" \
    "CREATE TABLE push_target(" \
    "  name TEXT PRIMARY KEY," \
    "  url TEXT NOT NULL," \
    "  next_outbox INTEGER NOT NULL DEFAULT 1," \
    "  disabled REAL," \
    "  disabled_reason TEXT," \
    "  last_delivery REAL);" \
    "CREATE TABLE push_health(" \
    "  target TEXT NOT NULL REFERENCES push_target(name) ON DELETE CASCADE," \
    "  name TEXT NOT NULL," \
    "  value INTEGER NOT NULL," \
    "  PRIMARY KEY(target, name)) WITHOUT ROWID;" \
    "CREATE TABLE delivery(" \
    "  id INTEGER PRIMARY KEY," \
    "  target TEXT NOT NULL REFERENCES push_target(name) ON DELETE CASCADE," \
    "  webhook_id TEXT NOT NULL UNIQUE," \
    "  body TEXT," \
    "  ndeltas INTEGER NOT NULL," \
    "  created REAL NOT NULL," \
    "  status TEXT NOT NULL DEFAULT 'pending'" \
    "    CHECK(status IN ('pending','delivered','failed'))," \
    "  attempts INTEGER NOT NULL DEFAULT 0," \
    "  next_attempt REAL NOT NULL," \
    "  last_attempt REAL," \
    "  last_http INTEGER," \
    "  last_error TEXT," \
    "  done REAL);" \
    "CREATE INDEX delivery_status ON delivery(target, status, id);" \
    "CREATE TABLE delivery_item(" \
    "  delivery_id INTEGER NOT NULL REFERENCES delivery(id) ON DELETE CASCADE," \
    "  outbox_id INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE," \
    "  PRIMARY KEY(delivery_id, outbox_id)) WITHOUT ROWID;"

#endif

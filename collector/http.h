/* http.h - HTTP/1.x reconstruction for one TCP connection (llhttp inside).
 *
 * Each direction has its own llhttp parser. Requests are queued (pipelining)
 * and paired with responses in order; the exchange is emitted when the final
 * response head is complete (1xx other than 101 are interim). HEAD, 204 and
 * 304 responses have no body; CONNECT 2xx and 101 end HTTP on the connection.
 * Bodies are skipped, never kept. After a gap or a parse error a direction
 * resynchronizes at the next plausible request or status line. */
#ifndef AR_HTTP_H
#define AR_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "../core/counters.h"
#include "../core/exchange.h"
#include "../core/limits.h"

struct ar_http;

struct ar_http_env {
    const struct ar_limits *lim;
    struct ar_counters *ctr;
    ar_exchange_fn on_exchange;
    void *ud;
};

/* ep[side] is "ip:port" of that side. client_side is 0 or 1 when the handshake
 * told who the client is, -1 when the data must tell. */
struct ar_http *ar_http_new(const struct ar_http_env *env, const char *ep0, const char *ep1,
                            int client_side);
void ar_http_data(struct ar_http *h, int side, const uint8_t *data, size_t len, double ts);
void ar_http_gap(struct ar_http *h, int side, uint32_t bytes);
void ar_http_fin(struct ar_http *h, int side);
/* Connection over: requests still waiting are emitted without a status. */
void ar_http_end(struct ar_http *h);
void ar_http_free(struct ar_http *h);
/* 1 once a request or response head was parsed on this connection. */
int ar_http_seen(const struct ar_http *h);
/* 1 when neither direction will parse HTTP any more (tunnel). */
int ar_http_done(const struct ar_http *h);

#endif

/* exchange.h - one HTTP request and its response, as seen on the wire.
 *
 * A small self-contained record handed from the collector to whoever wires the
 * pipeline. Strings are NUL-terminated and owned by the producer: they are valid
 * only during the callback. Only names and shapes are kept: no header value,
 * cookie, body or query value ever reaches this record. */
#ifndef AR_EXCHANGE_H
#define AR_EXCHANGE_H

struct ar_exchange {
    double ts;              /* packet time of the request (of the response if none) */
    const char *client;     /* "ip:port", IPv6 as "[addr]:port" */
    const char *server;
    const char *method;     /* NULL when no request was seen */
    const char *host;       /* Host header (or absolute-form authority); NULL if none */
    const char *path;       /* request-target up to '?', not decoded; NULL if no request */
    const char *query;      /* query parameter names joined by '&', "" when none */
    int status;             /* final status, -1 when no response was seen */
    const char *req_ct;     /* media type only (no parameters), "" when none */
    const char *resp_ct;
    const char *auth;       /* scheme word: none basic bearer digest negotiate ntlm apikey cookie other */
};

/* TLS connection summary (from the ClientHello). */
struct ar_tls {
    double ts;
    const char *client;
    const char *server;
    const char *server_name; /* SNI, "" when none */
    const char *alpn;        /* comma-joined ALPN offers, "" when none */
};

typedef void (*ar_exchange_fn)(const struct ar_exchange *x, void *ud);
typedef void (*ar_tls_fn)(const struct ar_tls *t, void *ud);

#endif

/* limits.h - every bound apiroster enforces, in one table.
 *
 * Each limit has a name (the config key in section [limits]), a default, a unit
 * and a counter (AR_CTR_LIMIT_<name>) in counters.h that is bumped each time the
 * limit is hit. Nothing in the agent allocates without one of these bounds. */
#ifndef AR_LIMITS_H
#define AR_LIMITS_H

#include <stdint.h>

/* X(name, default, unit, what) ; unit is "count", "bytes", "seconds" or "percent" */
#define AR_LIMITS(X) \
    X(max_flows,            262144,   "count",   "concurrent TCP flows in the flow table") \
    X(flow_timeout,         120,      "seconds", "idle time (packet time) before a flow is expired") \
    X(flow_timeout_closed,  10,       "seconds", "idle time after FIN/RST before a flow is expired") \
    X(flow_timeout_emergency, 10,     "seconds", "flow_timeout while the flow table is in emergency mode") \
    X(flow_timeout_emergency_closed, 1, "seconds", "flow_timeout_closed while the flow table is in emergency mode") \
    X(flow_emergency_recovery, 30,    "percent", "emergency mode ends when this share of max_flows is free again") \
    X(ooo_bytes,            262144,   "bytes",   "out-of-order bytes buffered per TCP direction") \
    X(ooo_segments,         256,      "count",   "out-of-order segments buffered per TCP direction") \
    X(ooo_total_bytes,      67108864, "bytes",   "out-of-order bytes buffered over all flows") \
    X(max_target,           8192,     "bytes",   "request-target length") \
    X(max_header_bytes,     65536,    "bytes",   "bytes of one request or response head") \
    X(max_headers,          128,      "count",   "header fields in one message") \
    X(max_pending,          64,       "count",   "requests awaiting a response on one connection") \
    X(max_query_names,      32,       "count",   "query parameter names kept per request") \
    X(ndpi_packets,         8,        "count",   "packets per flow given to nDPI before giving up") \
    X(max_endpoints,        100000,   "count",   "endpoints held in memory between flushes") \
    X(max_children,         16,       "count",   "distinct literal children of one parent before they collapse into a parameter") \
    X(max_tracked_children, 4096,     "count",   "parents tracked by the cardinality collapse") \
    X(max_collapse_depth,   16,       "count",   "segments of the deepest parent whose children the cardinality collapse tracks") \
    X(max_endpoint_values,  16,       "count",   "distinct statuses, content types, query names, servers kept per endpoint") \
    X(max_tls_hosts,        65536,    "count",   "distinct TLS server names held between two flushes")

enum ar_limit_id {
#define AR_X(name, def, unit, what) AR_LIMIT_##name,
    AR_LIMITS(AR_X)
#undef AR_X
    AR_LIMIT__COUNT
};

/* The smallest value of a limit: 1, except max_children, where 0 turns the
 * cardinality collapse off (docs/templating.md). */
#define AR_LIMIT_MIN(name) (AR_LIMIT_##name == AR_LIMIT_max_children ? 0 : 1)

struct ar_limits {
#define AR_X(name, def, unit, what) uint64_t name;
    AR_LIMITS(AR_X)
#undef AR_X
};

void ar_limits_default(struct ar_limits *l);
/* Returns the limit id for a config key, or -1. */
int ar_limit_lookup(const char *name);
uint64_t *ar_limit_ptr(struct ar_limits *l, int id);
const char *ar_limit_name(int id);
const char *ar_limit_unit(int id);

#endif

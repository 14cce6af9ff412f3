/* counters.h - what a capture saw and what it missed.
 *
 * One flat table of 64-bit counters. Every limit in limits.h has a
 * "limit_<name>" counter here that records how many times it was hit. */
#ifndef AR_COUNTERS_H
#define AR_COUNTERS_H

#include <stdint.h>
#include <stdio.h>
#include "limits.h"

#define AR_COUNTERS(X) \
    X(packets,            "packets read") \
    X(bytes,              "bytes read (wire length)") \
    X(pkt_truncated,      "packets shorter than their headers say (snaplen or cut file)") \
    X(pkt_malformed,      "packets with impossible header values") \
    X(pkt_unsupported,    "packets of a link type or protocol not decoded") \
    X(pkt_nontcp,         "IP packets that are not TCP") \
    X(pkt_fragments,      "IP fragments (not reassembled)") \
    X(pkt_tunnel,         "packets decapsulated from VXLAN or GRE") \
    X(pkt_filtered,       "packets rejected by the BPF filter") \
    X(kernel_drops,       "packets dropped by the kernel, no room in the capture buffer (live capture)") \
    X(iface_drops,        "packets dropped by the interface or its driver (live capture)") \
    X(kernel_received,    "packets the kernel passed to the capture (live capture)") \
    X(flush_deferred,     "flushes put off because the writer was still busy (live capture)") \
    X(flush_failed,       "flushes that failed and were retried (live capture)") \
    X(flows,              "TCP flows created") \
    X(flows_timed_out,    "flows expired by idle timeout") \
    X(flow_emergency,     "times the flow table entered emergency mode (max_flows reached)") \
    X(flow_evicted,       "flows evicted to make room for a new one in emergency mode") \
    X(flows_http,         "flows that carried HTTP/1.x") \
    X(flows_tls,          "flows classified as TLS") \
    X(flows_other,        "flows classified as neither HTTP nor TLS") \
    X(tcp_segments,       "TCP segments with payload") \
    X(tcp_retransmitted,  "segments whose bytes were already delivered") \
    X(tcp_overlap_diff,   "overlapping segments with different bytes (first data kept)") \
    X(tcp_out_of_order,   "segments buffered because they arrived early") \
    X(tcp_gaps,           "holes in a TCP stream that were skipped") \
    X(tcp_gap_bytes,      "bytes never seen inside skipped holes") \
    X(tcp_midstream,      "flows picked up without their handshake") \
    X(exchanges,          "HTTP exchanges reconstructed") \
    X(requests_no_response, "requests for which no response was seen") \
    X(responses_no_request, "responses for which no request was seen") \
    X(http_parse_errors,  "HTTP parse errors (the stream resynchronized)") \
    X(http_resyncs,       "times a direction resynchronized at a request or status line") \
    X(http_skipped_bytes, "bytes skipped while looking for a request or status line") \
    X(http_tunnels,       "connections that switched protocol (CONNECT, Upgrade) or opened with the HTTP/2 preface") \
    X(path_params_dropped, "request paths whose ;parameters (e.g. ;jsessionid=) were cut, never kept") \
    X(host_invalid,       "requests whose Host is not a host name or address (roster host \"(invalid)\")") \
    X(query_bare_dropped, "query keys without '=' that do not look like a name (a bare value), not kept") \
    X(tls_connections,    "TLS connections with a ClientHello seen") \
    X(db_dropped,         "exchanges dropped because the catalog was full") \
    X(limit_max_flows,            "limit hit: max_flows") \
    X(limit_flow_timeout,         "flows expired by flow_timeout (same as flows_timed_out)") \
    X(limit_flow_timeout_closed,  "closed flows expired by flow_timeout_closed") \
    X(limit_flow_timeout_emergency, "flows expired by flow_timeout_emergency (emergency mode)") \
    X(limit_flow_timeout_emergency_closed, "closed flows expired by flow_timeout_emergency_closed") \
    X(limit_flow_emergency_recovery, "times emergency mode ended (free share back to flow_emergency_recovery)") \
    X(limit_ooo_bytes,            "limit hit: ooo_bytes") \
    X(limit_ooo_segments,         "limit hit: ooo_segments") \
    X(limit_ooo_total_bytes,      "limit hit: ooo_total_bytes") \
    X(limit_max_target,           "limit hit: max_target (target truncated)") \
    X(limit_max_header_bytes,     "limit hit: max_header_bytes") \
    X(limit_max_headers,          "limit hit: max_headers") \
    X(limit_max_pending,          "limit hit: max_pending") \
    X(limit_max_query_names,      "limit hit: max_query_names") \
    X(limit_ndpi_packets,         "flows where nDPI gave up after ndpi_packets") \
    X(limit_max_endpoints,        "limit hit: max_endpoints") \
    X(limit_max_children,         "parents whose children collapsed (max_children)") \
    X(limit_max_tracked_children, "limit hit: max_tracked_children") \
    X(limit_max_collapse_depth,   "paths templated with children too deep for the collapse (max_collapse_depth)") \
    X(limit_max_endpoint_values,  "limit hit: max_endpoint_values") \
    X(limit_max_tls_hosts,        "limit hit: max_tls_hosts (TLS server names dropped)")

enum ar_counter_id {
#define AR_X(name, what) AR_CTR_##name,
    AR_COUNTERS(AR_X)
#undef AR_X
    AR_CTR__COUNT
};

struct ar_counters {
    uint64_t v[AR_CTR__COUNT];
};

#define AR_INC(c, name) ((c)->v[AR_CTR_##name]++)
#define AR_ADD(c, name, n) ((c)->v[AR_CTR_##name] += (uint64_t)(n))
#define AR_GET(c, name) ((c)->v[AR_CTR_##name])

const char *ar_counter_name(int id);
const char *ar_counter_help(int id);
int ar_counter_lookup(const char *name);
void ar_counters_add(struct ar_counters *dst, const struct ar_counters *src);

#endif

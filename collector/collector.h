/* collector.h - packets in, exchanges out.
 *
 * The only collector header the agent includes. No third-party type leaks out:
 * libpcap, nDPI and llhttp stay inside collector/. */
#ifndef AR_COLLECTOR_H
#define AR_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>
#include "../core/counters.h"
#include "../core/exchange.h"
#include "../core/limits.h"

struct ar_collector;

struct ar_collector_hooks {
    ar_exchange_fn on_exchange;
    ar_tls_fn on_tls;
    void *ud;
};

/* Counters are bumped in ctr (owned by the caller, must outlive the collector). */
struct ar_collector *ar_collector_new(const struct ar_limits *lim,
                                      const struct ar_collector_hooks *hooks,
                                      struct ar_counters *ctr);
/* One captured frame. dlt is the pcap link type (DLT_*); ts is packet time. */
void ar_collector_packet(struct ar_collector *c, int dlt, double ts,
                         const uint8_t *data, uint32_t caplen, uint32_t wirelen);
/* Expire flows idle at packet time `now` (called as packets arrive). */
void ar_collector_expire(struct ar_collector *c, double now);
/* End of input: close every flow, report requests without response. */
void ar_collector_finish(struct ar_collector *c);
void ar_collector_free(struct ar_collector *c);
struct ar_counters *ar_collector_counters(struct ar_collector *c);

/* Read capture files (pcap or pcapng) in order, feeding every packet to c.
 * filter is a BPF expression or NULL. Returns 0, or -1 with a one-line reason
 * naming the file in err. A truncated last packet is counted, not an error. */
int ar_capture_files(struct ar_collector *c, char *const *files, int nfiles,
                     const char *filter, char *err, size_t errsz);
/* Check, before anything is read or written, that every file opens as a
 * capture and that the filter compiles. Same errors as ar_capture_files. */
int ar_capture_check(char *const *files, int nfiles, const char *filter, char *err,
                     size_t errsz);

#endif

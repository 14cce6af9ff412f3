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
    void (*on_tick)(void *ud);  /* optional: after every AR_COLLECTOR_TICK packets */
    void *ud;
};
#define AR_COLLECTOR_TICK 1024

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
/* Where packet-level counters go (packets, bytes, pkt_*): ctr, or a sink that
 * nobody reads on a shard other than 0. */
struct ar_counters *ar_collector_counters(struct ar_collector *c);

/* Sharding, for file captures on several cores: shard k of n tracks only the
 * TCP flows whose address/port pair hashes to k (seed: the same for every
 * shard of one capture). Every shard still reads and decodes every packet;
 * only shard 0 counts the packet-level counters and logs file warnings, so
 * the counters of the n shards add up to those of one collector. Call before
 * the first packet. */
void ar_collector_set_shard(struct ar_collector *c, unsigned k, unsigned n, uint64_t seed);
/* Packets given to ar_collector_packet so far: during a hook, the index
 * (1-based) of the packet that made the exchange. */
uint64_t ar_collector_packets(const struct ar_collector *c);
/* 1 for the collector that logs file warnings (shard 0, or not sharded). */
int ar_collector_logs(const struct ar_collector *c);

/* Read capture files (pcap or pcapng) in order, feeding every packet to c.
 * filter is a BPF expression or NULL. Returns 0, or -1 with a one-line reason
 * naming the file in err. A file cut inside its last packet is counted
 * (pkt_truncated), not an error; a corrupt record (one libpcap refuses, such
 * as a capture length beyond its maximum) is an error naming the record and
 * its offset, after the packets before it were fed. */
int ar_capture_files(struct ar_collector *c, char *const *files, int nfiles,
                     const char *filter, char *err, size_t errsz);
/* Capture files read once for n collectors (the shards of a file capture):
 * reader k (0 .. n-1) gets every packet of the files through
 * ar_capture_files_fed, and each block of a classic pcap file is read from
 * disk once for all of them. ar_capture_files is the same with one reader. */
struct ar_capture_feed;
/* seed: the one given to the n collectors' ar_collector_set_shard (unused
 * when n is 1); files are those every reader will be given. */
struct ar_capture_feed *ar_capture_feed_new(unsigned n, uint64_t seed, char *const *files,
                                            int nfiles);
int ar_capture_files_fed(struct ar_collector *c, struct ar_capture_feed *f, unsigned k,
                         char *const *files, int nfiles, const char *filter, char *err,
                         size_t errsz);
/* Any thread with nothing else to do (the consumer waiting for records):
 * read the next block ahead if there is room for it. 1 if it did. */
int ar_capture_feed_help(struct ar_capture_feed *f);
/* Reader k is done, whatever ar_capture_files_fed returned: what it has not
 * read no longer waits for it. Then free the feed once every reader left. */
void ar_capture_feed_leave(struct ar_capture_feed *f, unsigned k);
void ar_capture_feed_free(struct ar_capture_feed *f);

/* Check, before anything is read or written, that every file opens as a
 * capture and that the filter compiles. Same errors as ar_capture_files. */
int ar_capture_check(char *const *files, int nfiles, const char *filter, char *err,
                     size_t errsz);

/* ---- live capture (live.c) ------------------------------------------- */

struct ar_live;

struct ar_live_opts {
    const char *iface;      /* "eth0", or "any" (Linux cooked capture) */
    uint64_t snaplen;       /* bytes kept per packet */
    uint64_t buffer;        /* kernel buffer, bytes */
    int promisc;            /* promiscuous mode (needs CAP_NET_ADMIN) */
    const char *filter;     /* BPF expression, NULL or "" for none */
};

/* 64-bit totals since the handle was opened, widened from pcap_stats' 32-bit
 * counters (which wrap). */
struct ar_live_stats {
    uint64_t received;      /* ps_recv: packets the filter accepted */
    uint64_t kernel_drops;  /* ps_drop: no room in the kernel buffer */
    uint64_t iface_drops;   /* ps_ifdrop: dropped by the interface/driver */
};

/* Open and activate a live capture, non-blocking, with the filter applied.
 * Returns 0, or -1 with a one-line reason naming the interface in err. */
int ar_live_open(const struct ar_live_opts *o, struct ar_live **out, char *err, size_t errsz);
/* Check that a filter compiles (without opening anything). 0 or -1 + err. */
int ar_live_check_filter(const char *filter, char *err, size_t errsz);
/* The descriptor to poll() for POLLIN. */
int ar_live_fd(const struct ar_live *l);
int ar_live_datalink(const struct ar_live *l);
/* Feed up to max packets that are ready (never blocks; max <= 0: all that are
 * buffered) to c. Returns the number fed, or -1 with the reason (interface
 * gone). */
int ar_live_dispatch(struct ar_live *l, struct ar_collector *c, int max, char *err,
                     size_t errsz);
/* Replace the filter. On error the previous filter stays (-1 + err). */
int ar_live_set_filter(struct ar_live *l, const char *filter, char *err, size_t errsz);
/* Read pcap_stats and update the 64-bit totals. Call at least once per 2^32
 * packets (the loop does it every second). 0, or -1 with the reason. */
int ar_live_stats(struct ar_live *l, struct ar_live_stats *st, char *err, size_t errsz);
void ar_live_close(struct ar_live *l);
/* total + (cur - *last) in 32-bit arithmetic (one wrap between two reads is
 * handled), then *last = cur. Exposed for the unit test. */
uint64_t ar_widen32(uint64_t total, uint32_t *last, uint32_t cur);

#endif

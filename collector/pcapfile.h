/* pcapfile.h - classic pcap files read once for one or several collectors.
 * Private to collector/ (capture.c calls it before falling back to libpcap). */
#ifndef AR_PCAPFILE_H
#define AR_PCAPFILE_H

#include "collector.h"

/* Reader k of feed f: feed every packet of files[i] to c when it is a classic
 * pcap in this host's byte order (microsecond or nanosecond) of a link type
 * decoded here: returns 1. Returns 0, having fed nothing, for anything else
 * (pcapng, other byte order or link type, not a regular file), which libpcap
 * then reads. Every reader of f takes the files in the same order. A file
 * that ends inside a record stops the read there as libpcap does: counted in
 * pkt_truncated, with a warning. A record longer than libpcap allows is a
 * corrupt file, as libpcap says: -1 with AR_PCAP_CORRUPT_FMT in err (the
 * packets before it were fed); so is a file that cannot be read. */
int ar_pcapfile_read(struct ar_capture_feed *f, unsigned k, int i, struct ar_collector *c,
                     char *err, size_t errsz);

/* For the shared reader, from collector.c: the shard (0 .. n-1) of a frame
 * that ar_decode_fast reads, or AR_OWNER_ANY for any other frame; and a
 * packet with its owner known, which a shard that does not own it only
 * counts and takes the time of (what ar_collector_packet would do with it). */
#define AR_OWNER_ANY 255u
unsigned ar_shard_of_frame(uint64_t seed, unsigned n, int dlt, const uint8_t *data,
                           uint32_t caplen);
void ar_collector_packet_owned(struct ar_collector *c, int dlt, double ts, const uint8_t *data,
                               uint32_t caplen, uint32_t wirelen, unsigned owner);

/* Packet time in seconds from a capture's seconds and microseconds, the
 * same in every reader. A division: usec * 1e-6 can be an ulp away, which
 * near zero is enough to round a printed millisecond the other way. */
static inline double ar_pcap_time(long long sec, long long usec)
{
    return (double)sec + (double)usec / 1e6;
}

/* The words of both readers for a record libpcap refuses: file, record
 * number (1-based), offset of its header, libpcap's reason. */
#define AR_PCAP_CORRUPT_FMT "%s: record %llu at byte %llu: %s (the file is corrupt from there)"

#endif

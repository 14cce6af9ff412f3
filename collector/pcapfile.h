/* pcapfile.h - classic pcap files read in place (mmap), without copies.
 * Private to collector/ (capture.c calls it before falling back to libpcap). */
#ifndef AR_PCAPFILE_H
#define AR_PCAPFILE_H

#include "collector.h"

/* Feed every packet of the capture file open on fd to c, straight from a
 * read-only mapping, when it is a classic pcap in this host's byte order
 * (microsecond or nanosecond) of a link type decoded here: returns 1. Returns
 * 0, having fed nothing, for anything else (pcapng, other byte order or link
 * type, not a regular file), which libpcap then reads. A file that ends
 * inside a record, or a record longer than libpcap allows, stops the read
 * there as libpcap does: counted in pkt_truncated, with a warning. */
int ar_pcapfile_read(struct ar_collector *c, int fd, const char *name);

#endif

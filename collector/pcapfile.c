/* pcapfile.c - classic pcap files read in place.
 *
 * libpcap reads a capture file through stdio and copies every packet into its
 * own buffer: with the kernel's copy into the stdio buffer, two copies of
 * every byte before the first look at it (15% of the cycles on the benchmark
 * capture). Here the file is mapped and each packet is handed over where it
 * lies. Only what libpcap would read the same way is taken: the two classic
 * magics in host byte order, version 2.4, and the link types decode.c knows;
 * libpcap's limits are applied as it applies them (snapshot length, 256 KiB
 * records, a record cut by the end of the file). */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "../core/log.h"
#include "pcapfile.h"

#define MAX_SNAPLEN 262144u
#define DROP_EVERY (1u << 20) /* libpcap's max_snaplen_for_dlt() for these link types */

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint16_t rd16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/* LINKTYPE_ (file) to DLT_ (what pcap_datalink() returns on Linux), or -1. */
static int dlt_of(uint32_t linktype)
{
    switch (linktype) {
    case 0:   return 0;     /* NULL (BSD loopback) */
    case 1:   return 1;     /* EN10MB */
    case 101: return 12;    /* LINKTYPE_RAW is DLT_RAW, 12 on Linux */
    case 108: return 108;   /* LOOP */
    case 113: return 113;   /* LINUX_SLL */
    case 239: return 239;   /* NFLOG */
    case 276: return 276;   /* LINUX_SLL2 */
    default:  return -1;
    }
}

static void cut(struct ar_collector *c, const char *name, const char *why)
{
    AR_INC(ar_collector_counters(c), pkt_truncated);
    if (ar_collector_logs(c))
        ar_warn("%s: %s (counted as a truncated packet)", name, why);
}

int ar_pcapfile_read(struct ar_collector *c, int fd, const char *name, char *err, size_t errsz)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 24)
        return 0;
    size_t size = (size_t)st.st_size;
    const uint8_t *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        return 0;
    uint32_t magic = rd32(m);
    int nsec = magic == 0xa1b23c4du;
    int dlt = dlt_of(rd32(m + 20));
    if ((magic != 0xa1b2c3d4u && !nsec) || rd16(m + 4) != 2 || rd16(m + 6) != 4 || dlt < 0) {
        munmap((void *)m, size);
        return 0;
    }
    madvise((void *)m, size, MADV_SEQUENTIAL);
    uint32_t snap = rd32(m + 16);
    if (snap == 0 || snap > MAX_SNAPLEN)
        snap = MAX_SNAPLEN;
    char why[128];
    size_t off = 24, dropped = 0;
    uint64_t rec = 0;
    int rc = 1;
    while (off < size) {
        rec++;
        if (size - off < 16) {
            snprintf(why, sizeof(why), "truncated dump file; tried to read 16 header bytes, only got %zu",
                     size - off);
            cut(c, name, why);
            break;
        }
        const uint8_t *h = m + off;
        int32_t sec = (int32_t)rd32(h), frac = (int32_t)rd32(h + 4);
        uint32_t caplen = rd32(h + 8), len = rd32(h + 12);
        off += 16;
        if (caplen > MAX_SNAPLEN) {
            /* not a file cut short: a corrupt one, refused as libpcap refuses it
             * (the records after it cannot be found) */
            snprintf(why, sizeof(why), "invalid packet capture length %u, bigger than %s of %u",
                     caplen, caplen > snap ? "snaplen" : "maximum", caplen > snap ? snap : MAX_SNAPLEN);
            snprintf(err, errsz, AR_PCAP_CORRUPT_FMT, name, (unsigned long long)rec,
                     (unsigned long long)(off - 16), why);
            rc = -1;
            break;
        }
        if (size - off < caplen) {
            uint32_t want = caplen > snap ? snap : caplen;
            snprintf(why, sizeof(why), "truncated dump file; tried to read %u captured bytes, only got %zu",
                     want, size - off < want ? size - off : want);
            cut(c, name, why);
            break;
        }
        if (nsec)
            frac /= 1000; /* read at microsecond precision, as capture.c asks libpcap */
        double ts = (double)sec + (double)frac / 1e6;
        ar_collector_packet(c, dlt, ts, m + off, caplen > snap ? snap : caplen, len);
        off += caplen;
        /* pages already read leave the RSS (they stay in the page cache) */
        if (off - dropped >= DROP_EVERY) {
            size_t upto = off & ~(size_t)(DROP_EVERY - 1);
            madvise((void *)(m + dropped), upto - dropped, MADV_DONTNEED);
            dropped = upto;
        }
    }
    munmap((void *)m, size);
    return rc;
}

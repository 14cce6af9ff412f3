/* capture.c - capture files through libpcap (pcap and pcapng). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <pcap/pcap.h>
#include "../core/log.h"
#include "collector.h"
#include "pcapfile.h"

/* The shards of a file capture each compile the filter: libpcap before 1.8
 * had a non-reentrant grammar, and this costs nothing. */
static pthread_mutex_t compile_mu = PTHREAD_MUTEX_INITIALIZER;

/* File i for reader k of feed f; c == NULL: only check that the file opens
 * as a capture and the filter compiles. */
static int read_one(struct ar_collector *c, struct ar_capture_feed *f, unsigned k,
                    char *const *files, int i, const char *filter, char *err, size_t errsz)
{
    const char *file = files[i];
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    /* a classic pcap file, unfiltered, is read once for every reader, without
     * libpcap's copies */
    int inplace = c && !(filter && *filter) ? ar_pcapfile_read(f, k, i, c, err, errsz) : 0;
    if (inplace)
        return inplace < 0 ? -1 : 0;
    FILE *fp = fopen(file, "rb");
    if (!fp) {
        snprintf(err, errsz, "%s: %s", file, strerror(errno));
        return -1;
    }
    /* 1 MiB reads instead of stdio's 4 KiB: the read() calls showed in perf */
    setvbuf(fp, NULL, _IOFBF, 1 << 20);
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
    if (!p) {
        fclose(fp);
        snprintf(err, errsz, "%s: not a capture file (%s)", file, ebuf[0] ? ebuf : "unknown format");
        return -1;
    }
    struct bpf_program prog;
    int have_prog = 0;
    if (filter && *filter) {
        pthread_mutex_lock(&compile_mu);
        int crc = pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN);
        pthread_mutex_unlock(&compile_mu);
        if (crc < 0) {
            snprintf(err, errsz, "--filter '%s': %s", filter, pcap_geterr(p));
            pcap_close(p);
            return -1;
        }
        have_prog = 1;
    }
    if (!c) {
        if (have_prog)
            pcap_freecode(&prog);
        pcap_close(p);
        return 0;
    }
    int dlt = pcap_datalink(p);
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int rc;
    unsigned long long rec = 0;
    while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
        rec++;
        if (have_prog && !pcap_offline_filter(&prog, hdr, data)) {
            AR_INC(ar_collector_counters(c), pkt_filtered);
            continue;
        }
        double ts = ar_pcap_time(hdr->ts.tv_sec, hdr->ts.tv_usec);
        ar_collector_packet(c, dlt, ts, data, hdr->caplen, hdr->len);
    }
    int ret = 0;
    if (rc == -1 && !strncmp(pcap_geterr(p), "truncated", 9)) {
        /* a file cut in the middle of its last packet: counted, not fatal */
        AR_INC(ar_collector_counters(c), pkt_truncated);
        if (ar_collector_logs(c))
            ar_warn("%s: %s (counted as a truncated packet)", file, pcap_geterr(p));
    } else if (rc == -1) {
        /* anything else is a corrupt file (a record length libpcap refuses, a
         * bad pcapng block): the records after it cannot be found */
        long long at = ftello(pcap_file(p));
        if (pcap_major_version(p) == 2)     /* classic: libpcap read only the record header */
            snprintf(err, errsz, AR_PCAP_CORRUPT_FMT, file, rec + 1,
                     (unsigned long long)(at >= 16 ? at - 16 : 0), pcap_geterr(p));
        else
            snprintf(err, errsz, "%s: after packet %llu, near byte %lld: %s (the file is corrupt "
                     "from there)", file, rec, at, pcap_geterr(p));
        ret = -1;
    }
    if (have_prog)
        pcap_freecode(&prog);
    pcap_close(p);
    return ret;
}

int ar_capture_files_fed(struct ar_collector *c, struct ar_capture_feed *f, unsigned k,
                         char *const *files, int nfiles, const char *filter, char *err,
                         size_t errsz)
{
    for (int i = 0; i < nfiles; i++)
        if (read_one(c, f, k, files, i, filter, err, errsz) < 0)
            return -1;
    return 0;
}

int ar_capture_files(struct ar_collector *c, char *const *files, int nfiles, const char *filter,
                     char *err, size_t errsz)
{
    struct ar_capture_feed *f = ar_capture_feed_new(1, 0, files, nfiles);
    int rc = ar_capture_files_fed(c, f, 0, files, nfiles, filter, err, errsz);
    ar_capture_feed_leave(f, 0);
    ar_capture_feed_free(f);
    return rc;
}

int ar_capture_check(char *const *files, int nfiles, const char *filter, char *err, size_t errsz)
{
    for (int i = 0; i < nfiles; i++)
        if (read_one(NULL, NULL, 0, files, i, filter, err, errsz) < 0)
            return -1;
    return 0;
}

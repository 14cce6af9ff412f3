/* check_collector.c - the whole packet path (decode, flow, nDPI, reassembly,
 * HTTP) on hand-made frames: regressions found by tests/fuzz/fuzz_capture. */
#include <check.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include "../../agent/shards.h"
#include "../../collector/collector.h"

static struct ar_limits lim;
static struct ar_counters ctr;
static int nx;
static char last_path[128];
static int last_status;

static void on_exchange(const struct ar_exchange *x, void *ud)
{
    (void)ud;
    nx++;
    snprintf(last_path, sizeof(last_path), "%s", x->path ? x->path : "(null)");
    last_status = x->status;
}

static void setup(void)
{
    ar_limits_default(&lim);
    memset(&ctr, 0, sizeof(ctr));
    nx = 0;
    last_path[0] = '\0';
    last_status = 0;
}

static uint16_t cport = 40000;   /* the client's port in frame() */

/* Ethernet + IPv4 + TCP (20-byte header) from 10.0.0.1:cport (client, c2s)
 * or 10.0.0.2:80. Returns the frame length. */
static uint32_t frame(uint8_t *b, int c2s, uint32_t seq, uint32_t ack, uint8_t flags,
                      const char *payload)
{
    size_t plen = payload ? strlen(payload) : 0;
    memset(b, 0, 54);
    b[12] = 0x08;                                   /* IPv4 */
    uint8_t *ip = b + 14, *tcp = ip + 20;
    ip[0] = 0x45;
    uint16_t tot = (uint16_t)(40 + plen);
    ip[2] = (uint8_t)(tot >> 8); ip[3] = (uint8_t)tot;
    ip[8] = 64; ip[9] = 6;
    uint8_t a[4] = {10, 0, 0, 1}, s[4] = {10, 0, 0, 2};
    memcpy(ip + 12, c2s ? a : s, 4);
    memcpy(ip + 16, c2s ? s : a, 4);
    uint16_t sp = c2s ? cport : 80, dp = c2s ? 80 : cport;
    tcp[0] = (uint8_t)(sp >> 8); tcp[1] = (uint8_t)sp;
    tcp[2] = (uint8_t)(dp >> 8); tcp[3] = (uint8_t)dp;
    for (int i = 0; i < 4; i++) {
        tcp[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
        tcp[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
    }
    tcp[12] = 0x50;
    tcp[13] = flags;
    tcp[14] = 0xff; tcp[15] = 0xff;
    if (plen)
        memcpy(tcp + 20, payload, plen);
    return (uint32_t)(54 + plen);
}

/* One GET and its 200 at packet time ts (and a few ms later). */
static void exchange_path_at(struct ar_collector *c, double ts, const char *path)
{
    static uint8_t b[2048];
    char req[256];
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: legit.test\r\n\r\n", path);
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    uint32_t n;
    n = frame(b, 1, 1000, 0, 0x02, NULL);
    ar_collector_packet(c, 1, ts, b, n, n);
    n = frame(b, 0, 5000, 1001, 0x12, NULL);
    ar_collector_packet(c, 1, ts, b, n, n);
    n = frame(b, 1, 1001, 5001, 0x10, NULL);
    ar_collector_packet(c, 1, ts, b, n, n);
    n = frame(b, 1, 1001, 5001, 0x18, req);
    ar_collector_packet(c, 1, ts + 0.001, b, n, n);
    n = frame(b, 0, 5001, 1001 + (uint32_t)strlen(req), 0x18, resp);
    ar_collector_packet(c, 1, ts + 0.002, b, n, n);
}

static void exchange_at(struct ar_collector *c, double ts)
{
    exchange_path_at(c, ts, "/fuzz/ts");
}

/* Sharding: 64 connections fed to shard 0 and shard 1 of 2 (same seed). Each
 * connection is tracked by exactly one shard, with both its directions (the
 * response is paired), and only shard 0 counts the packets. */
static char shard_seen[2][64];
static void on_exchange_shard(const struct ar_exchange *x, void *ud)
{
    int k = *(int *)ud, port;
    ck_assert_int_eq(sscanf(x->path, "/p/%d", &port), 1);
    ck_assert_int_eq(x->status, 200);
    shard_seen[k][port - 40000]++;
}

START_TEST(test_shards)
{
    struct ar_counters sc[2];
    struct ar_collector *c[2];
    int id[2] = { 0, 1 };
    memset(sc, 0, sizeof(sc));
    memset(shard_seen, 0, sizeof(shard_seen));
    for (int k = 0; k < 2; k++) {
        struct ar_collector_hooks hooks = { .on_exchange = on_exchange_shard, .ud = &id[k] };
        c[k] = ar_collector_new(&lim, &hooks, &sc[k]);
        ar_collector_set_shard(c[k], (unsigned)k, 2, 0x5eed);
        ck_assert_int_eq(ar_collector_logs(c[k]), k == 0);
    }
    for (int i = 0; i < 64; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/p/%d", 40000 + i);
        cport = (uint16_t)(40000 + i);
        for (int k = 0; k < 2; k++)
            exchange_path_at(c[k], 1700000000.0 + i, path);
    }
    cport = 40000;
    for (int k = 0; k < 2; k++) {
        ck_assert_uint_eq(ar_collector_packets(c[k]), 64 * 5);
        ar_collector_finish(c[k]);
        ar_collector_free(c[k]);
    }
    int n[2] = { 0, 0 };
    for (int i = 0; i < 64; i++) {
        ck_assert_int_eq(shard_seen[0][i] + shard_seen[1][i], 1);
        n[0] += shard_seen[0][i];
        n[1] += shard_seen[1][i];
    }
    ck_assert_int_gt(n[0], 8);      /* split, not all on one side (binomial(64, 1/2)) */
    ck_assert_int_gt(n[1], 8);
    ck_assert_uint_eq(sc[0].v[AR_CTR_packets], 64 * 5);
    ck_assert_uint_eq(sc[1].v[AR_CTR_packets], 0);
    ck_assert_uint_eq(sc[0].v[AR_CTR_flows], (uint64_t)n[0]);
    ck_assert_uint_eq(sc[1].v[AR_CTR_flows], (uint64_t)n[1]);
    ck_assert_uint_eq(sc[0].v[AR_CTR_exchanges] + sc[1].v[AR_CTR_exchanges], 64);
}
END_TEST

/* fuzz_capture crash-37261e47: a capture whose packet time is about -1.2e9 s
 * made the classifier convert a negative number of milliseconds to an
 * unsigned integer (undefined behaviour, caught by UBSan). Negative, huge and
 * ordinary packet times must all give the exchange. */
START_TEST(test_absurd_packet_time)
{
    static const double times[] = { -1224710000.0, 1e300, -1e300, 0.0, 1700000000.0 };
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        struct ar_counters before = ctr;
        struct ar_collector_hooks hooks = { .on_exchange = on_exchange };
        struct ar_collector *c = ar_collector_new(&lim, &hooks, &ctr);
        ck_assert_ptr_nonnull(c);
        nx = 0;
        exchange_at(c, times[i]);
        ar_collector_finish(c);
        ar_collector_free(c);
        ck_assert_int_eq(nx, 1);
        ck_assert_str_eq(last_path, "/fuzz/ts");
        ck_assert_int_eq(last_status, 200);
        ck_assert_uint_eq(ctr.v[AR_CTR_packets] - before.v[AR_CTR_packets], 5);
        ck_assert_uint_eq(ctr.v[AR_CTR_flows] - before.v[AR_CTR_flows], 1);
    }
}
END_TEST

static double last_ts;
static void on_exchange_ts(const struct ar_exchange *x, void *ud)
{
    on_exchange(x, ud);
    last_ts = x->ts;
}

static void put32(FILE *fp, uint32_t v, int be)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(be ? v >> (24 - 8 * i) : v >> (8 * i));
    fwrite(b, 1, 4, fp);
}

static void put16(FILE *fp, uint16_t v, int be)
{
    uint8_t b[2] = { (uint8_t)(be ? v >> 8 : v), (uint8_t)(be ? v : v >> 8) };
    fwrite(b, 1, 2, fp);
}

/* The exchange of exchange_at() as a pcap file: microsecond or nanosecond
 * magic, little- or big-endian, optionally cut `cut` bytes short, optionally
 * with a record of caplen `bad_caplen` before packet `bad_at` (1-based; 0:
 * none). Returns the offset of that record. */
/* the records' seconds, and the microseconds of the request's record */
static uint32_t pcap_sec = 1700000000u, pcap_req_usec = 250000;

static long write_pcap_bad(const char *path, int nsec, int be, long cut, int bad_at,
                           uint32_t bad_caplen)
{
    long bad_off = 0;
    static uint8_t b[2048];
    const char *req = "GET /fuzz/ts HTTP/1.1\r\nHost: legit.test\r\n\r\n";
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    put32(fp, nsec ? 0xa1b23c4du : 0xa1b2c3d4u, be);
    put16(fp, 2, be);
    put16(fp, 4, be);
    put32(fp, 0, be);
    put32(fp, 0, be);
    put32(fp, 65535, be);
    put32(fp, 1, be);
    struct { int c2s; uint32_t seq, ack; uint8_t fl; const char *pl; uint32_t usec; } pk[] = {
        { 1, 1000, 0, 0x02, NULL, 0 },
        { 0, 5000, 1001, 0x12, NULL, 100 },
        { 1, 1001, 5001, 0x10, NULL, 200 },
        { 1, 1001, 5001, 0x18, req, pcap_req_usec },
        { 0, 5001, 1001 + (uint32_t)strlen(req), 0x18, resp, 999999 },
    };
    for (size_t i = 0; i < 5; i++) {
        if (bad_at == (int)i + 1) {
            bad_off = ftell(fp);
            put32(fp, 1700000000u, be);
            put32(fp, 0, be);
            put32(fp, bad_caplen, be);
            put32(fp, bad_caplen, be);
            static const uint8_t junk[64];
            fwrite(junk, 1, sizeof(junk), fp);
        }
        uint32_t n = frame(b, pk[i].c2s, pk[i].seq, pk[i].ack, pk[i].fl, pk[i].pl);
        put32(fp, pcap_sec, be);
        put32(fp, nsec ? pk[i].usec * 1000u + 999u : pk[i].usec, be);
        put32(fp, n, be);
        put32(fp, n, be);
        fwrite(b, 1, n, fp);
    }
    long size = ftell(fp);
    fclose(fp);
    if (cut)
        ck_assert_int_eq(truncate(path, size - cut), 0);
    return bad_off;
}

static void write_pcap(const char *path, int nsec, int be, long cut)
{
    write_pcap_bad(path, nsec, be, cut, 0, 0);
}

/* Classic pcap files are read in place (collector/pcapfile.c), other forms by
 * libpcap: both give the same packets, times (nanoseconds read to the
 * microsecond) and exchange; a file cut inside its last record counts one
 * truncated packet and keeps the packets before it, as libpcap does. */
START_TEST(test_pcap_file_forms)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/check_collector.%ld.pcap", (long)getpid());
    char *files[1] = { path };
    char err[256];
    struct { int nsec, be; long cut; int packets, trunc, nx; } v[] = {
        { 0, 0, 0, 5, 0, 1 },           /* in place */
        { 1, 0, 0, 5, 0, 1 },           /* in place, nanoseconds */
        { 0, 1, 0, 5, 0, 1 },           /* big-endian: libpcap */
        { 1, 1, 0, 5, 0, 1 },           /* big-endian nanoseconds: libpcap */
        { 0, 0, 10, 4, 1, 1 },          /* cut inside the response: request without one */
        { 0, 1, 10, 4, 1, 1 },
        { 0, 0, 100, 4, 1, 1 },         /* cut inside the response's record header */
        { 0, 1, 100, 4, 1, 1 },
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        write_pcap(path, v[i].nsec, v[i].be, v[i].cut);
        memset(&ctr, 0, sizeof(ctr));
        nx = 0;
        last_ts = 0;
        last_status = 0;
        struct ar_collector_hooks hooks = { .on_exchange = on_exchange_ts };
        struct ar_collector *c = ar_collector_new(&lim, &hooks, &ctr);
        ck_assert_int_eq(ar_capture_files(c, files, 1, NULL, err, sizeof(err)), 0);
        ar_collector_finish(c);
        ar_collector_free(c);
        ck_assert_msg(ctr.v[AR_CTR_packets] == (uint64_t)v[i].packets, "form %zu: %llu packets", i,
                      (unsigned long long)ctr.v[AR_CTR_packets]);
        ck_assert_uint_eq(ctr.v[AR_CTR_pkt_truncated], v[i].trunc);
        ck_assert_int_eq(nx, v[i].nx);
        if (v[i].nx) {
            ck_assert_str_eq(last_path, "/fuzz/ts");
            ck_assert_int_eq(last_status, v[i].cut ? -1 : 200);
            ck_assert(last_ts == 1700000000.25);
        }
    }
    unlink(path);
}
END_TEST

/* A record longer than libpcap allows, in the middle of a file, is a corrupt
 * file (libpcap: "invalid packet capture length"): both readers refuse it with
 * the same words, naming the file, the record and its offset, after the
 * packets before it; never read as a file cut short (which is counted). */
START_TEST(test_pcap_corrupt_record)
{
    char path[64], expect[512];
    snprintf(path, sizeof(path), "/tmp/check_collector.%ld.pcap", (long)getpid());
    char *files[1] = { path };
    struct { uint32_t caplen; const char *why; } bad[] = {
        { 0xFFFFFF00u, "invalid packet capture length 4294967040, bigger than snaplen of 65535" },
        { 300000u, "invalid packet capture length 300000, bigger than snaplen of 65535" },
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        for (int be = 0; be <= 1; be++) {        /* in place, then libpcap */
            for (int filt = 0; filt <= 1; filt++) { /* a filter: libpcap reads it either way */
                char err[512] = "";
                long off = write_pcap_bad(path, 0, be, 0, 4, bad[k].caplen);
                snprintf(expect, sizeof(expect), "%s: record 4 at byte %ld: %s (the file is corrupt "
                         "from there)", path, off, bad[k].why);
                memset(&ctr, 0, sizeof(ctr));
                nx = 0;
                struct ar_collector_hooks hooks = { .on_exchange = on_exchange_ts };
                struct ar_collector *c = ar_collector_new(&lim, &hooks, &ctr);
                ck_assert_int_eq(ar_capture_files(c, files, 1, filt ? "tcp" : NULL, err,
                                                  sizeof(err)), -1);
                ar_collector_free(c);
                ck_assert_str_eq(err, expect);
                ck_assert_uint_eq(ctr.v[AR_CTR_packets], 3);      /* the three before it */
                ck_assert_uint_eq(ctr.v[AR_CTR_pkt_truncated], 0);
            }
        }
    }
    /* the same header as the last bytes of a file is still a corrupt record */
    write_pcap_bad(path, 0, 0, 0, 0, 0);
    FILE *fp = fopen(path, "ab");
    ck_assert_ptr_nonnull(fp);
    const uint32_t hdr[4] = { 1700000001u, 0, 0xFFFFFF00u, 0xFFFFFF00u };
    fwrite(hdr, 1, sizeof(hdr), fp);
    fclose(fp);
    for (int filt = 0; filt <= 1; filt++) {
        char err[512] = "";
        memset(&ctr, 0, sizeof(ctr));
        struct ar_collector_hooks hooks = { .on_exchange = on_exchange_ts };
        struct ar_collector *c = ar_collector_new(&lim, &hooks, &ctr);
        ck_assert_int_eq(ar_capture_files(c, files, 1, filt ? "tcp" : NULL, err, sizeof(err)), -1);
        ar_collector_free(c);
        ck_assert_msg(strstr(err, ": record 6 at byte ") && strstr(err, "invalid packet capture length"),
                      "%s", err);
    }
    unlink(path);
}
END_TEST

/* Small files read by two shard threads and their consumer, many times over:
 * the file ends at once, so the shards end while the consumer looks for
 * work (a wakeup lost there left it waiting forever, found by fuzz_capture).
 * Every form gives what one collector gives: the exchange, the counts, the
 * corrupt record's words. */
START_TEST(test_sharded_small_files)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/check_collector.%ld.pcap", (long)getpid());
    char *files[2] = { path, path };
    struct { int be; long cut; int bad; uint64_t packets; int rc; } v[] = {
        { 0, 0, 0, 5, 0 }, { 1, 0, 0, 5, 0 },        /* in place; libpcap */
        { 0, 100, 0, 4, 0 },                          /* cut in a record header */
        { 0, 0, 1, 3, -1 }, { 1, 0, 1, 3, -1 },      /* a corrupt record */
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        if (v[i].bad)
            write_pcap_bad(path, 0, v[i].be, 0, 4, 300000u);
        else
            write_pcap(path, 0, v[i].be, v[i].cut);
        char ref_err[512] = "";
        memset(&ctr, 0, sizeof(ctr));
        struct ar_collector_hooks hooks = { .on_exchange = on_exchange_ts };
        struct ar_collector *c = ar_collector_new(&lim, &hooks, &ctr);
        int ref_rc = ar_capture_files(c, files, 2, NULL, ref_err, sizeof(ref_err));
        ar_collector_finish(c);
        ar_collector_free(c);
        int ref_nx = nx;
        ck_assert_int_eq(ref_rc, v[i].rc);
        for (int round = 0; round < 200; round++) {
            struct ar_counters sc;
            char err[512] = "";
            memset(&sc, 0, sizeof(sc));
            nx = 0;
            int rc = ar_capture_sharded(2, &lim, files, 2, NULL, &hooks, NULL, &sc, err,
                                        sizeof(err));
            ck_assert_int_eq(rc, v[i].rc);
            ck_assert_str_eq(err, ref_err);
            ck_assert_int_eq(nx, ref_nx);
            /* both files, or the first up to its corrupt record */
            ck_assert_uint_eq(sc.v[AR_CTR_packets], v[i].rc ? v[i].packets
                                                            : 2 * v[i].packets);
            ck_assert_uint_eq(sc.v[AR_CTR_exchanges], ctr.v[AR_CTR_exchanges]);
        }
        nx = 0;
    }
    unlink(path);
}
END_TEST

/* A connection closed cleanly, then its server's last segment and FIN sent
 * again: the HTTP state is let go at the close, but reassembly still sees
 * the late segments and counts them as before (a version that stopped
 * looking at the flow lost them from tcp_segments and tcp_retransmitted). */
START_TEST(test_segments_after_close)
{
    static uint8_t b[2048];
    struct ar_collector_hooks hooks = { .on_exchange = on_exchange };
    struct ar_collector *c = ar_collector_new(&lim, &hooks, &ctr);
    const double ts = 1700000000.0;
    exchange_path_at(c, ts, "/late");
    const char *req = "GET /late HTTP/1.1\r\nHost: legit.test\r\n\r\n";
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    uint32_t cs = 1001 + (uint32_t)strlen(req), ss = 5001 + (uint32_t)strlen(resp), n;
    n = frame(b, 1, cs, ss, 0x11, NULL);                 /* client FIN */
    ar_collector_packet(c, 1, ts + 0.003, b, n, n);
    n = frame(b, 0, ss, cs + 1, 0x11, NULL);             /* server FIN */
    ar_collector_packet(c, 1, ts + 0.004, b, n, n);
    n = frame(b, 1, cs + 1, ss + 1, 0x10, NULL);         /* last ACK */
    ar_collector_packet(c, 1, ts + 0.005, b, n, n);
    ck_assert_int_eq(nx, 1);                              /* emitted by the close */
    n = frame(b, 0, 5001, cs + 1, 0x18, resp);           /* late: data again */
    ar_collector_packet(c, 1, ts + 0.2, b, n, n);
    n = frame(b, 0, ss, cs + 1, 0x11, NULL);             /* and FIN again */
    ar_collector_packet(c, 1, ts + 0.3, b, n, n);
    ar_collector_finish(c);
    ar_collector_free(c);
    ck_assert_int_eq(nx, 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_exchanges], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_flows_http], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_flows_other], 0);
    ck_assert_uint_eq(ctr.v[AR_CTR_tcp_segments], 3);
    ck_assert_uint_eq(ctr.v[AR_CTR_tcp_retransmitted], 1);
}
END_TEST

/* Packet time is seconds + microseconds / 1e6, the same in both readers:
 * 1 s + 2220 us is one where usec * 1e-6 would be an ulp off (enough to
 * round a printed millisecond of a time near zero the other way). */
START_TEST(test_packet_time_exact)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/check_collector.%ld.pcap", (long)getpid());
    char *files[1] = { path };
    char err[256];
    pcap_sec = 1;
    pcap_req_usec = 2220;
    for (int be = 0; be <= 1; be++) {             /* in place, then libpcap */
        write_pcap(path, 0, be, 0);
        struct ar_collector_hooks hooks = { .on_exchange = on_exchange_ts };
        struct ar_collector *c = ar_collector_new(&lim, &hooks, &ctr);
        ck_assert_int_eq(ar_capture_files(c, files, 1, NULL, err, sizeof(err)), 0);
        ar_collector_finish(c);
        ar_collector_free(c);
        volatile double usec = 2220;           /* computed at run time, as the readers do */
        ck_assert_msg(last_ts == 1.0 + usec / 1e6, "be %d: %.17g", be, last_ts);
        ck_assert_msg(last_ts != 1.0 + usec * 1e-6, "be %d: the test value is no longer one "
                      "where the two differ", be);
    }
    pcap_sec = 1700000000u;
    pcap_req_usec = 250000;
    unlink(path);
}
END_TEST

static Suite *collector_suite(void)
{
    Suite *s = suite_create("collector");
    TCase *tc = tcase_create("regressions");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_absurd_packet_time);
    tcase_add_test(tc, test_pcap_file_forms);
    tcase_add_test(tc, test_pcap_corrupt_record);
    tcase_add_test(tc, test_shards);
    tcase_add_test(tc, test_sharded_small_files);
    tcase_add_test(tc, test_segments_after_close);
    tcase_add_test(tc, test_packet_time_exact);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(collector_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/* check_reasm.c - TCP reassembly of one direction: ordering, retransmission,
 * overlaps, bounds, gaps (bounds, ACK, snaplen, flush), FIN, wraparound and
 * the shared out-of-order byte accounting. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "../../collector/decode.h"
#include "../../collector/reasm.h"

struct sink {
    uint8_t buf[65536];
    size_t n;
    uint32_t gaps[64];
    int ngaps;
    int fins;
    char log[256]; /* one letter per callback: D data, G gap, F fin */
    size_t nlog;
    uint8_t *rec;  /* optional: the stream rebuilt by position */
    size_t rec_cap, pos;
};

static void on_data(void *ud, int dir, const uint8_t *d, uint32_t len)
{
    struct sink *k = ud;
    ck_assert_int_eq(dir, 1);
    ck_assert_uint_gt(len, 0);
    ck_assert_uint_le(k->n + len, sizeof(k->buf));
    memcpy(k->buf + k->n, d, len);
    k->n += len;
    if (k->rec) {
        ck_assert_uint_le(k->pos + len, k->rec_cap);
        memcpy(k->rec + k->pos, d, len);
    }
    k->pos += len;
    if (k->nlog < sizeof(k->log) - 1)
        k->log[k->nlog++] = 'D';
}

static void on_gap(void *ud, int dir, uint32_t missing)
{
    struct sink *k = ud;
    ck_assert_int_eq(dir, 1);
    ck_assert_uint_gt(missing, 0);
    if (k->ngaps < 64)
        k->gaps[k->ngaps++] = missing;
    if (k->rec) {
        ck_assert_uint_le(k->pos + missing, k->rec_cap);
        memset(k->rec + k->pos, '?', missing);
    }
    k->pos += missing;
    if (k->nlog < sizeof(k->log) - 1)
        k->log[k->nlog++] = 'G';
}

static void on_fin(void *ud, int dir)
{
    struct sink *k = ud;
    ck_assert_int_eq(dir, 1);
    k->fins++;
    if (k->nlog < sizeof(k->log) - 1)
        k->log[k->nlog++] = 'F';
}

static struct ar_limits lim;
static struct ar_counters ctr;
static uint64_t total;
static struct ar_reasm_ctx ctx;
static struct sink *snk;
static struct ar_stream st;

static void setup(void)
{
    ar_limits_default(&lim);
    memset(&ctr, 0, sizeof(ctr));
    total = 0;
    ctx.lim = &lim;
    ctx.ctr = &ctr;
    ctx.ooo_total = &total;
    ctx.on_data = on_data;
    ctx.on_gap = on_gap;
    ctx.on_fin = on_fin;
    snk = calloc(1, sizeof(*snk));
    ar_stream_init(&st);
}

static void teardown(void)
{
    ar_stream_free(&st, &ctx);
    ck_assert_uint_eq(total, 0);
    free(snk);
}

/* A segment whose captured bytes are all of it. */
static void seg(uint32_t seq, uint8_t flags, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    /* a private copy, freed right after: reasm must not keep pointers into packets */
    uint8_t *p = malloc(n ? n : 1);
    memcpy(p, s, n);
    ar_stream_segment(&st, &ctx, snk, 1, seq, flags, n ? p : NULL, n, n);
    memset(p, '!', n);
    free(p);
}

static void expect(const char *s)
{
    size_t n = strlen(s);
    ck_assert_msg(snk->n == n, "delivered %zu bytes, expected %zu", snk->n, n);
    ck_assert_mem_eq(snk->buf, s, n);
}

static void expect_log(const char *s)
{
    snk->log[snk->nlog] = 0;
    ck_assert_str_eq(snk->log, s);
}

START_TEST(test_in_order)
{
    seg(1000, AR_TCP_SYN, "");
    seg(1001, AR_TCP_ACK, "hello ");
    seg(1007, AR_TCP_ACK | AR_TCP_PSH, "world");
    expect("hello world");
    ck_assert_uint_eq(st.next_seq, 1012);
    ck_assert_uint_eq(ctr.v[AR_CTR_tcp_segments], 2);
    ck_assert_uint_eq(ctr.v[AR_CTR_tcp_out_of_order], 0);
    ck_assert_uint_eq(ctr.v[AR_CTR_tcp_gaps], 0);
    ck_assert_ptr_null(st.ooo);
}
END_TEST

START_TEST(test_midstream_start)
{
    seg(5000, AR_TCP_ACK, "abc");
    seg(5003, AR_TCP_ACK, "def");
    expect("abcdef");
    ck_assert_int_eq(st.init, 1);
}
END_TEST

START_TEST(test_out_of_order_132)
{
    seg(1000, AR_TCP_SYN, "");
    seg(1001, AR_TCP_ACK, "aaaa");
    seg(1009, AR_TCP_ACK, "cccc");
    expect("aaaa");
    ck_assert_uint_eq(st.ooo_count, 1);
    ck_assert_uint_eq(st.ooo_bytes, 4);
    ck_assert_uint_eq(total, 4);
    seg(1005, AR_TCP_ACK, "bbbb");
    expect("aaaabbbbcccc");
    ck_assert_uint_eq(st.ooo_count, 0);
    ck_assert_uint_eq(st.ooo_bytes, 0);
    ck_assert_uint_eq(total, 0);
    ck_assert_uint_eq(st.next_seq, 1013);
    ck_assert_uint_eq(ctr.v[AR_CTR_tcp_out_of_order], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_tcp_gaps], 0);
}
END_TEST

START_TEST(test_reverse_order)
{
    seg(0, AR_TCP_SYN, "");
    seg(9, 0, "4");
    seg(7, 0, "3");
    seg(4, 0, "2x");
    seg(6, 0, "y");
    seg(8, 0, "z");
    ck_assert_uint_eq(total, 6);
    seg(1, 0, "abc");
    expect("abc2xy3z4");
    ck_assert_uint_eq(total, 0);
}
END_TEST

START_TEST(test_retransmission)
{
    seg(1000, AR_TCP_SYN, "");
    seg(1001, 0, "abcd");
    seg(1001, 0, "abcd");
    seg(1001, 0, "ab");
    seg(1000, AR_TCP_SYN, "");
    expect("abcd");
    ck_assert_uint_eq(ctr.v[AR_CTR_tcp_retransmitted], 2);
    /* a duplicate of buffered data is a retransmission too */
    seg(1010, 0, "zz");
    seg(1010, 0, "zz");
    ck_assert_uint_eq(ctr.v[AR_CTR_tcp_retransmitted], 3);
    ck_assert_uint_eq(st.ooo_count, 1);
    ck_assert_uint_eq(total, 2);
}
END_TEST

START_TEST(test_partial_overlap)
{
    seg(1000, AR_TCP_SYN, "");
    seg(1001, 0, "abcdef");
    seg(1004, 0, "DEFghi"); /* the first data wins: "def" stays */
    expect("abcdefghi");
    ck_assert_uint_eq(st.next_seq, 1010);
    ck_assert_uint_eq(ctr.v[AR_CTR_tcp_retransmitted], 0);
}
END_TEST

START_TEST(test_overlap_buffered_diff)
{
    seg(1000, AR_TCP_SYN, "");
    seg(1005, 0, "XXXX");           /* [1005,1009) */
    seg(1003, 0, "yyZZZZww");       /* [1003,1011): ZZZZ differs from XXXX */
    ck_assert_uint_eq(ctr.v[AR_CTR_tcp_overlap_diff], 1);
    ck_assert_uint_eq(st.ooo_bytes, 8);   /* yy + XXXX + ww */
    ck_assert_uint_eq(total, 8);
    seg(1007, 0, "XX");             /* same bytes: no difference */
    ck_assert_uint_eq(ctr.v[AR_CTR_tcp_overlap_diff], 1);
    seg(1001, 0, "aa");
    expect("aayyXXXXww");           /* first bytes kept */
    ck_assert_uint_eq(total, 0);
}
END_TEST

START_TEST(test_overlap_inorder_vs_buffered)
{
    seg(1000, AR_TCP_SYN, "");
    seg(1005, 0, "XXXX");
    seg(1001, 0, "aaaabbbbcc");     /* arrives later: the buffered XXXX wins */
    expect("aaaaXXXXcc");
    ck_assert_uint_eq(ctr.v[AR_CTR_tcp_overlap_diff], 1);
    ck_assert_uint_eq(st.next_seq, 1011);
    ck_assert_uint_eq(total, 0);
}
END_TEST

START_TEST(test_gap_by_segment_bound)
{
    lim.ooo_segments = 2;
    seg(1000, AR_TCP_SYN, "");
    seg(1011, 0, "k");
    seg(1021, 0, "m");
    expect("");
    seg(1031, 0, "n");              /* a third buffered segment: over the bound */
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_ooo_segments], 1);
    ck_assert_uint_eq(snk->ngaps, 1);
    ck_assert_uint_eq(snk->gaps[0], 10);    /* 1001..1010 */
    expect("k");
    ck_assert_uint_eq(st.ooo_count, 2);     /* m, n */
    ck_assert_uint_eq(ctr.v[AR_CTR_tcp_gaps], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_tcp_gap_bytes], 10);
    seg(1012, 0, "123456789");
    expect("k123456789m");
    ck_assert_uint_eq(st.ooo_count, 1);
    expect_log("GDDD");
}
END_TEST

START_TEST(test_gap_by_byte_bounds)
{
    lim.ooo_bytes = 8;
    seg(1000, AR_TCP_SYN, "");
    seg(1011, 0, "11111");
    seg(1021, 0, "2222");           /* 9 bytes > 8 */
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_ooo_bytes], 1);
    expect("11111");
    ck_assert_uint_eq(snk->gaps[0], 10);
    ck_assert_uint_eq(st.ooo_bytes, 4);

    /* the global bound, shared with other streams */
    lim.ooo_bytes = 1000;
    lim.ooo_total_bytes = 10;
    total += 100; /* some other stream holds 100 bytes */
    seg(1040, 0, "3");
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_ooo_total_bytes], 2);
    /* first the hole before 1021 was skipped, then the one before 1040 */
    expect("1111122223");
    ck_assert_uint_eq(snk->ngaps, 3);
    ck_assert_uint_eq(snk->gaps[1], 5);     /* 1016..1020 */
    ck_assert_uint_eq(snk->gaps[2], 15);    /* 1025..1039 */
    total -= 100;
    ck_assert_uint_eq(total, 0);
}
END_TEST

START_TEST(test_single_segment_over_bound)
{
    lim.ooo_bytes = 4;
    seg(1000, AR_TCP_SYN, "");
    seg(1011, 0, "too long");       /* alone over the bound: delivered from the packet */
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_ooo_bytes], 1);
    ck_assert_uint_eq(snk->gaps[0], 10);
    expect("too long");
    ck_assert_uint_eq(total, 0);
}
END_TEST

START_TEST(test_gap_by_ack)
{
    seg(1000, AR_TCP_SYN, "");
    seg(1001, 0, "ab");
    ar_stream_ack(&st, &ctx, snk, 1, 5000); /* nothing buffered: no effect */
    ck_assert_uint_eq(st.next_seq, 1003);
    ck_assert_int_eq(snk->ngaps, 0);
    seg(1013, 0, "later");
    ar_stream_ack(&st, &ctx, snk, 1, 1010); /* within the hole */
    ar_stream_ack(&st, &ctx, snk, 1, 1013); /* up to, not past, the buffered segment */
    ck_assert_int_eq(snk->ngaps, 0);
    expect("ab");
    ar_stream_ack(&st, &ctx, snk, 1, 1018); /* first proof: wait, the filler may be late */
    ck_assert_int_eq(snk->ngaps, 0);
    expect("ab");
    ar_stream_ack(&st, &ctx, snk, 1, 1018); /* second proof: skip */
    ck_assert_int_eq(snk->ngaps, 1);
    ck_assert_uint_eq(snk->gaps[0], 10);
    expect("ablater");
    ck_assert_uint_eq(st.next_seq, 1018);
    ck_assert_uint_eq(total, 0);
    expect_log("DGD");
}
END_TEST

START_TEST(test_ack_before_late_filler)
{
    /* reordered capture: the ACK covering the hole comes before the segment
     * that fills it; nothing may be lost */
    seg(1000, AR_TCP_SYN, "");
    seg(1004, 0, "late");
    ar_stream_ack(&st, &ctx, snk, 1, 1008);
    seg(1001, 0, "abc");
    expect("abclate");
    ck_assert_int_eq(snk->ngaps, 0);
    ck_assert_uint_eq(st.next_seq, 1008);
}
END_TEST

START_TEST(test_ack_skips_several_holes)
{
    seg(1000, AR_TCP_SYN, "");
    seg(1005, 0, "b");
    seg(1010, 0, "c");
    seg(1020, 0, "d");
    ar_stream_ack(&st, &ctx, snk, 1, 1011);
    ck_assert_int_eq(snk->ngaps, 0);
    ar_stream_ack(&st, &ctx, snk, 1, 1011);
    expect("bc");
    ck_assert_int_eq(snk->ngaps, 2);
    ck_assert_uint_eq(snk->gaps[0], 4);
    ck_assert_uint_eq(snk->gaps[1], 4);
    ck_assert_uint_eq(st.ooo_count, 1);
}
END_TEST

START_TEST(test_snaplen_tail)
{
    seg(1000, AR_TCP_SYN, "");
    ar_stream_segment(&st, &ctx, snk, 1, 1001, 0, (const uint8_t *)"abcd", 4, 10);
    expect("abcd");
    ck_assert_int_eq(snk->ngaps, 1);
    ck_assert_uint_eq(snk->gaps[0], 6);
    ck_assert_uint_eq(st.next_seq, 1011);
    seg(1011, 0, "next");
    expect("abcdnext");
    expect_log("DGD");

    /* an early segment with a tail: the tail becomes a gap once reached */
    ar_stream_segment(&st, &ctx, snk, 1, 1020, 0, (const uint8_t *)"XY", 2, 8);
    seg(1028, 0, "after");
    expect("abcdnext");
    seg(1015, 0, "12345");
    expect("abcdnext12345XYafter");
    ck_assert_int_eq(snk->ngaps, 2);
    ck_assert_uint_eq(snk->gaps[1], 6);
    ck_assert_uint_eq(st.next_seq, 1033);
    expect_log("DGDDDGD");
    ck_assert_uint_eq(total, 0);
}
END_TEST

START_TEST(test_snaplen_tail_filled_by_real_data)
{
    seg(1000, AR_TCP_SYN, "");
    seg(1009, 0, "IJ");     /* buffered, inside the tail of the next one */
    ar_stream_segment(&st, &ctx, snk, 1, 1001, 0, (const uint8_t *)"abc", 3, 12);
    /* abc, gap 1004..1008, IJ, gap 1011..1012 */
    expect("abcIJ");
    ck_assert_int_eq(snk->ngaps, 2);
    ck_assert_uint_eq(snk->gaps[0], 5);
    ck_assert_uint_eq(snk->gaps[1], 2);
    ck_assert_uint_eq(st.next_seq, 1013);
    expect_log("DGDG");
}
END_TEST

START_TEST(test_wraparound)
{
    const uint32_t isn = 0xFFFFFFF9u;
    seg(isn, AR_TCP_SYN, "");
    ck_assert_uint_eq(st.next_seq, 0xFFFFFFFAu);
    seg(0xFFFFFFFAu, 0, "abc");      /* FA FB FC */
    seg(0x00000003u, 0, "ghi");      /* early, across zero */
    seg(0xFFFFFFFDu, 0, "def");      /* FD FE FF */
    expect("abcdef");
    ck_assert_uint_eq(st.next_seq, 0);
    ck_assert_uint_eq(st.ooo_count, 1);
    seg(0xFFFFFFFEu, 0, "EFxyz");    /* straddles zero: old part dropped, then ghi drains */
    expect("abcdefxyzghi");
    ck_assert_uint_eq(st.next_seq, 6);
    ck_assert_uint_eq(st.ooo_count, 0);
    seg(0xFFFFFFF0u, 0, "old");      /* long before: retransmission */
    ck_assert_uint_eq(ctr.v[AR_CTR_tcp_retransmitted], 1);
    ar_stream_segment(&st, &ctx, snk, 1, 6, AR_TCP_FIN, NULL, 0, 0);
    ck_assert_int_eq(snk->fins, 1);
    ck_assert_uint_eq(total, 0);
}
END_TEST

START_TEST(test_fin)
{
    seg(1000, AR_TCP_SYN, "");
    seg(1001, 0, "abc");
    seg(1004, AR_TCP_FIN | AR_TCP_ACK, "def");
    expect("abcdef");
    ck_assert_int_eq(snk->fins, 1);
    seg(1004, AR_TCP_FIN | AR_TCP_ACK, "def"); /* retransmitted FIN */
    ar_stream_flush(&st, &ctx, snk, 1);
    ck_assert_int_eq(snk->fins, 1);
    expect_log("DDF");
}
END_TEST

START_TEST(test_fin_waits_for_hole)
{
    seg(1000, AR_TCP_SYN, "");
    seg(1004, AR_TCP_FIN, "def");   /* FIN early */
    ck_assert_int_eq(snk->fins, 0);
    seg(1010, 0, "after fin");      /* nothing after the FIN: dropped */
    ck_assert_uint_eq(st.ooo_count, 1);
    seg(1001, 0, "abc");
    expect("abcdef");
    ck_assert_int_eq(snk->fins, 1);
    expect_log("DDF");
    ck_assert_uint_eq(total, 0);
}
END_TEST

START_TEST(test_flush_across_hole)
{
    seg(1000, AR_TCP_SYN, "");
    seg(1001, 0, "a");
    seg(1011, 0, "x");
    seg(1021, AR_TCP_FIN, "y");
    expect("a");
    ck_assert_int_eq(snk->fins, 0);
    ar_stream_flush(&st, &ctx, snk, 1);
    expect("axy");
    ck_assert_int_eq(snk->ngaps, 2);
    ck_assert_uint_eq(snk->gaps[0], 9);
    ck_assert_uint_eq(snk->gaps[1], 9);
    ck_assert_int_eq(snk->fins, 1);
    expect_log("DGDGDF");
    ck_assert_uint_eq(total, 0);
    ck_assert_uint_eq(st.ooo_count, 0);
    /* flushing again changes nothing */
    ar_stream_flush(&st, &ctx, snk, 1);
    expect_log("DGDGDF");
}
END_TEST

START_TEST(test_flush_hole_before_fin)
{
    seg(1000, AR_TCP_SYN, "");
    seg(1001, 0, "a");
    ar_stream_segment(&st, &ctx, snk, 1, 1005, AR_TCP_FIN, NULL, 0, 0);
    ck_assert_int_eq(snk->fins, 0);
    ar_stream_flush(&st, &ctx, snk, 1);
    ck_assert_int_eq(snk->ngaps, 1);
    ck_assert_uint_eq(snk->gaps[0], 3);
    expect_log("DGF");
}
END_TEST

START_TEST(test_free_returns_bytes)
{
    struct ar_stream other;
    ar_stream_init(&other);
    seg(1000, AR_TCP_SYN, "");
    seg(1100, 0, "0123456789");
    seg(1200, 0, "abc");
    ar_stream_segment(&other, &ctx, snk, 1, 1, AR_TCP_SYN, NULL, 0, 0);
    ar_stream_segment(&other, &ctx, snk, 1, 50, 0, (const uint8_t *)"zz", 2, 2);
    ck_assert_uint_eq(total, 15);
    ar_stream_free(&other, &ctx);
    ck_assert_uint_eq(total, 13);
    ck_assert_ptr_null(other.ooo);
    ck_assert_uint_eq(other.ooo_bytes, 0);
    ck_assert_uint_eq(other.ooo_count, 0);
    ar_stream_free(&st, &ctx);
    ck_assert_uint_eq(total, 0);
    expect("");
    ck_assert_int_eq(snk->ngaps, 0);
}
END_TEST

/* Random segments of a known stream in random order, with duplicates,
 * random ACKs and tight bounds. The callbacks rebuild the stream by position
 * (gaps leave '?'): every delivered byte must be the byte at its position,
 * and the positions must add up to next_seq. */
/* suricata-verify/bug-7657-01: a flood of SYNs with random ISNs on the same
 * tuple, the real SYN among them (and retransmitted last). Until anything is
 * carried or the peer acknowledges a SYN, each new ISN restarts the stream;
 * data then follows the ISN that the handshake used. */
START_TEST(test_syn_new_isn_restarts)
{
    seg(1317897315u, AR_TCP_SYN, "");
    seg(4291095205u, AR_TCP_SYN, "");  /* the real one */
    seg(1492084391u, AR_TCP_SYN, "");
    seg(131633618u, AR_TCP_SYN, "");
    seg(4291095205u, AR_TCP_SYN, "");  /* the real one again */
    ck_assert_uint_eq(st.next_seq, 4291095206u);
    ar_stream_ack(&st, &ctx, snk, 1, 4291095206u); /* SYN-ACK */
    seg(4291095206u, AR_TCP_ACK, "POST / HTTP/1.1\r\n");
    seg(4291095206u + 17, AR_TCP_ACK, "\r\n");
    expect("POST / HTTP/1.1\r\n\r\n");
    ck_assert_int_eq(snk->ngaps, 0);
    ck_assert_uint_eq(ctr.v[AR_CTR_tcp_out_of_order], 0);
    ck_assert_uint_eq(ctr.v[AR_CTR_tcp_retransmitted], 0);
}
END_TEST

/* Once the peer acknowledged the SYN, a SYN with another ISN is ignored
 * (Linux answers it with a challenge ACK): it cannot move the stream. Same
 * once data was carried. A retransmitted SYN (same ISN) changes nothing. */
START_TEST(test_syn_new_isn_ignored_when_established)
{
    seg(1000, AR_TCP_SYN, "");
    seg(1000, AR_TCP_SYN, "");
    ar_stream_ack(&st, &ctx, snk, 1, 1001);
    seg(50000, AR_TCP_SYN, "");
    ck_assert_uint_eq(st.next_seq, 1001);
    seg(1001, AR_TCP_ACK, "abc");
    seg(90000, AR_TCP_SYN, "");
    seg(1004, AR_TCP_ACK, "def");
    expect("abcdef");
    ck_assert_int_eq(snk->ngaps, 0);
}
END_TEST

/* Without an ACK from the peer, data carried also pins the stream. */
START_TEST(test_syn_new_isn_ignored_after_data)
{
    seg(1000, AR_TCP_SYN, "");
    seg(1001, AR_TCP_ACK, "abc");
    seg(7000, AR_TCP_SYN, "");
    seg(1004, AR_TCP_ACK, "def");
    expect("abcdef");
    ck_assert_uint_eq(st.next_seq, 1007);
}
END_TEST

/* suricata-verify/bug-3286-02-linux-evasion: the server answers the SYN with
 * a RST-ACK and a FIN at sequence 0, then a SYN-ACK with ISN 26175 and the
 * real response. The FIN at 0 carried nothing: the SYN-ACK restarts the
 * stream and the response is delivered (it used to fall after the FIN). */
START_TEST(test_synack_after_bare_fin_restarts)
{
    seg(0, AR_TCP_FIN | AR_TCP_ACK, "");
    ck_assert_int_eq(snk->fins, 1);
    seg(26175, AR_TCP_SYN | AR_TCP_ACK, "");
    ck_assert_int_eq(st.fin, 0);
    ck_assert_uint_eq(st.next_seq, 26176);
    seg(26176, AR_TCP_PSH | AR_TCP_ACK, "HTTP/1.1 200 OK\r\n");
    expect("HTTP/1.1 200 OK\r\n");
    expect_log("FD");

    /* a FIN after data: the stream ended with data, a new SYN-ACK is ignored */
    seg(26176 + 17, AR_TCP_FIN | AR_TCP_ACK, "");
    seg(123, AR_TCP_SYN | AR_TCP_ACK, "");
    seg(124, AR_TCP_ACK, "x");
    expect("HTTP/1.1 200 OK\r\n");
    ck_assert_int_eq(snk->fins, 2);
}
END_TEST

/* A stream holding early data for its ISN is not restarted by a new SYN:
 * the buffer stays (and stays accounted) and fills in when the hole does. */
START_TEST(test_syn_new_isn_keeps_buffered)
{
    seg(1000, AR_TCP_SYN, "");
    seg(1005, AR_TCP_ACK, "late");     /* buffered, hole before it */
    seg(4000, AR_TCP_SYN, "");
    ck_assert_ptr_nonnull(st.ooo);
    ck_assert_uint_eq(total, 4);
    seg(1001, AR_TCP_ACK, "abcd");
    expect("abcdlate");
}
END_TEST

START_TEST(test_random_stream)
{
    enum { N = 4000 };
    static uint8_t ref[N];
    unsigned seed = 777u + (unsigned)_i * 31u;
    for (int i = 0; i < N; i++)
        ref[i] = (uint8_t)('a' + (i * 7 + i / 13) % 26);
    /* iterations 0-1: tight bounds, ACKs and snaplen cuts; 2-3: default
     * bounds and whole segments, where every byte must come through */
    const int tight = _i < 2;
    if (tight) {
        lim.ooo_segments = 8;
        lim.ooo_bytes = 300;
    }
    const uint32_t isn = 0xFFFFF000u; /* wraps inside the stream */
    snk->rec = calloc(1, N);
    snk->rec_cap = N;
    seg(isn, AR_TCP_SYN, "");
    for (int it = 0; it < 3000; it++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t off = (seed >> 8) % N;
        seed = seed * 1103515245u + 12345u;
        uint32_t len = 1 + (seed >> 8) % 60;
        if (off + len > N)
            len = N - off;
        seed = seed * 1103515245u + 12345u;
        uint32_t r = tight ? (seed >> 8) % 100 : 99;
        if (r < 2) {
            ar_stream_ack(&st, &ctx, snk, 1, isn + 1 + off);
        } else if (r < 4) { /* snaplen-cut copy */
            ar_stream_segment(&st, &ctx, snk, 1, isn + 1 + off, AR_TCP_ACK, ref + off, len / 2, len);
        } else {
            ar_stream_segment(&st, &ctx, snk, 1, isn + 1 + off, AR_TCP_ACK, ref + off, len, len);
        }
        ck_assert_uint_le(st.ooo_count, lim.ooo_segments);
        ck_assert_uint_le(st.ooo_bytes, lim.ooo_bytes);
        ck_assert_uint_eq(total, st.ooo_bytes);
    }
    ar_stream_flush(&st, &ctx, snk, 1);
    ck_assert_uint_eq(snk->pos, (uint32_t)(st.next_seq - (isn + 1)));
    ck_assert_uint_le(snk->pos, N);
    ck_assert_uint_eq(snk->pos, snk->n + ctr.v[AR_CTR_tcp_gap_bytes]);
    size_t known = 0;
    for (size_t i = 0; i < snk->pos; i++) {
        if (snk->rec[i] == '?')
            continue;
        ck_assert_msg(snk->rec[i] == ref[i], "byte %zu: %c != %c", i, snk->rec[i], ref[i]);
        known++;
    }
    ck_assert_uint_eq(known, snk->n);
    if (tight) {
        ck_assert_uint_gt(known, N / 8);
    } else {
        ck_assert_uint_eq(known, N);
        ck_assert_uint_eq(ctr.v[AR_CTR_tcp_gaps], 0);
        ck_assert_mem_eq(snk->buf, ref, N);
    }
    ck_assert_uint_eq(st.ooo_count, 0);
    free(snk->rec);
}
END_TEST

static Suite *reasm_suite(void)
{
    Suite *s = suite_create("reasm");
    TCase *tc = tcase_create("order");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_in_order);
    tcase_add_test(tc, test_midstream_start);
    tcase_add_test(tc, test_out_of_order_132);
    tcase_add_test(tc, test_reverse_order);
    tcase_add_test(tc, test_retransmission);
    tcase_add_test(tc, test_partial_overlap);
    tcase_add_test(tc, test_overlap_buffered_diff);
    tcase_add_test(tc, test_overlap_inorder_vs_buffered);
    tcase_add_test(tc, test_wraparound);
    suite_add_tcase(s, tc);

    tc = tcase_create("gaps");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_gap_by_segment_bound);
    tcase_add_test(tc, test_gap_by_byte_bounds);
    tcase_add_test(tc, test_single_segment_over_bound);
    tcase_add_test(tc, test_gap_by_ack);
    tcase_add_test(tc, test_ack_before_late_filler);
    tcase_add_test(tc, test_ack_skips_several_holes);
    tcase_add_test(tc, test_snaplen_tail);
    tcase_add_test(tc, test_snaplen_tail_filled_by_real_data);
    tcase_add_test(tc, test_flush_across_hole);
    tcase_add_test(tc, test_flush_hole_before_fin);
    suite_add_tcase(s, tc);

    tc = tcase_create("end");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_fin);
    tcase_add_test(tc, test_fin_waits_for_hole);
    tcase_add_test(tc, test_syn_new_isn_restarts);
    tcase_add_test(tc, test_syn_new_isn_ignored_when_established);
    tcase_add_test(tc, test_syn_new_isn_ignored_after_data);
    tcase_add_test(tc, test_synack_after_bare_fin_restarts);
    tcase_add_test(tc, test_syn_new_isn_keeps_buffered);
    tcase_add_test(tc, test_free_returns_bytes);
    tcase_add_loop_test(tc, test_random_stream, 0, 4);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(reasm_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/* check_flow.c - the flow table: one flow for both directions, orientation,
 * the max_flows bound, idle and closed timeouts by packet time, on_free. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "../../collector/flow.h"

static struct ar_limits lim;
static struct ar_counters ctr;
static int freed;
static struct ar_flow *last_freed_addr;
static uint16_t last_freed_port0;
static uint8_t last_freed_client;   /* last byte of side 0's address */

static void on_free(struct ar_flow *f, void *ud)
{
    ck_assert_ptr_eq(ud, &freed);
    freed++;
    last_freed_addr = f;
    last_freed_port0 = f->port[0];
    last_freed_client = f->addr[0][3];
    free(f->app);
    f->app = NULL;
}

static void setup(void)
{
    ar_limits_default(&lim);
    memset(&ctr, 0, sizeof(ctr));
    freed = 0;
    last_freed_addr = NULL;
}

/* client 10.0.0.<c>:<cport> talks to 192.168.0.1:80 */
static struct ar_pkt mk(int from_client, uint8_t c, uint16_t cport, uint8_t flags)
{
    struct ar_pkt p;
    memset(&p, 0, sizeof(p));
    p.family = 4;
    uint8_t ca[4] = {10, 0, 0, c}, sa[4] = {192, 168, 0, 1};
    if (from_client) {
        memcpy(p.src, ca, 4);
        memcpy(p.dst, sa, 4);
        p.sport = cport;
        p.dport = 80;
    } else {
        memcpy(p.src, sa, 4);
        memcpy(p.dst, ca, 4);
        p.sport = 80;
        p.dport = cport;
    }
    p.flags = flags;
    return p;
}

START_TEST(test_both_directions)
{
    struct ar_flow_table *t = ar_flow_table_new(&lim, &ctr, on_free, &freed);
    ck_assert_ptr_nonnull(t);
    int dir = -1;
    struct ar_pkt syn = mk(1, 1, 40000, AR_TCP_SYN);
    struct ar_flow *f = ar_flow_get(t, &syn, 1.0, &dir);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(dir, 0);
    ck_assert_int_eq(f->syn_seen, 1);
    ck_assert_int_eq(f->closed, 0);
    ck_assert_int_eq(f->family, 4);
    ck_assert_uint_eq(f->port[0], 40000);
    ck_assert_uint_eq(f->port[1], 80);
    ck_assert_mem_eq(f->addr[0], syn.src, 16);
    ck_assert_mem_eq(f->addr[1], syn.dst, 16);
    ck_assert(f->first_ts == 1.0 && f->last_ts == 1.0);
    f->app = malloc(16);

    struct ar_pkt synack = mk(0, 1, 40000, AR_TCP_SYN | AR_TCP_ACK);
    ck_assert_ptr_eq(ar_flow_get(t, &synack, 1.5, &dir), f);
    ck_assert_int_eq(dir, 1);
    struct ar_pkt ack = mk(1, 1, 40000, AR_TCP_ACK);
    ck_assert_ptr_eq(ar_flow_get(t, &ack, 2.0, &dir), f);
    ck_assert_int_eq(dir, 0);
    ck_assert(f->first_ts == 1.0 && f->last_ts == 2.0);

    /* another client port and another client are other flows */
    struct ar_pkt o1 = mk(1, 1, 40001, AR_TCP_SYN);
    struct ar_pkt o2 = mk(1, 2, 40000, AR_TCP_SYN);
    struct ar_flow *g1 = ar_flow_get(t, &o1, 2.0, &dir);
    struct ar_flow *g2 = ar_flow_get(t, &o2, 2.0, &dir);
    ck_assert_ptr_nonnull(g1);
    ck_assert_ptr_nonnull(g2);
    ck_assert_ptr_ne(g1, f);
    ck_assert_ptr_ne(g2, f);
    ck_assert_ptr_ne(g1, g2);
    ck_assert_uint_eq(ar_flow_table_count(t), 3);
    ck_assert_uint_eq(ctr.v[AR_CTR_flows], 3);

    /* same addresses, IPv6 family: not the same flow */
    struct ar_pkt v6 = mk(1, 1, 40000, AR_TCP_SYN);
    v6.family = 6;
    ck_assert_ptr_ne(ar_flow_get(t, &v6, 2.0, &dir), f);
    ck_assert_uint_eq(ar_flow_table_count(t), 4);

    ar_flow_table_free(t);
    ck_assert_int_eq(freed, 4);
}
END_TEST

START_TEST(test_synack_first)
{
    struct ar_flow_table *t = ar_flow_table_new(&lim, &ctr, on_free, &freed);
    int dir = -1;
    struct ar_pkt synack = mk(0, 7, 50000, AR_TCP_SYN | AR_TCP_ACK);
    struct ar_flow *f = ar_flow_get(t, &synack, 10.0, &dir);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(dir, 1);                   /* sent by the server */
    ck_assert_uint_eq(f->port[0], 50000);       /* side 0 is the client */
    ck_assert_uint_eq(f->port[1], 80);
    ck_assert_uint_eq(f->addr[0][3], 7);
    ck_assert_uint_eq(f->addr[1][0], 192);
    struct ar_pkt data = mk(1, 7, 50000, AR_TCP_ACK | AR_TCP_PSH);
    ck_assert_ptr_eq(ar_flow_get(t, &data, 10.1, &dir), f);
    ck_assert_int_eq(dir, 0);

    /* without SYN-ACK, the first sender is side 0 even if it is the server */
    struct ar_pkt mid = mk(0, 8, 50000, AR_TCP_ACK);
    f = ar_flow_get(t, &mid, 11.0, &dir);
    ck_assert_int_eq(dir, 0);
    ck_assert_uint_eq(f->port[0], 80);
    ar_flow_table_free(t);
}
END_TEST

/* suricata-verify/bug-3844: SYN (ISN 1111), RST from the server, SYN again
 * with ISN 3333. The second SYN opens a new connection: the old flow is
 * ended and a new one starts. A retransmitted SYN with the same ISN, or a
 * SYN with another ISN while the flow is open, stays on the flow. */
START_TEST(test_syn_after_close_restarts)
{
    struct ar_flow_table *t = ar_flow_table_new(&lim, &ctr, on_free, &freed);
    int dir = -1;
    struct ar_pkt syn = mk(1, 1, 12345, AR_TCP_SYN);
    syn.seq = 1111;
    struct ar_flow *f = ar_flow_get(t, &syn, 1.0, &dir);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->isn_set[0], 1);
    ck_assert_uint_eq(f->isn[0], 1111);
    f->app = malloc(16);

    /* open: a SYN with another ISN is not a new connection here */
    struct ar_pkt syn2 = syn;
    syn2.seq = 9999;
    ck_assert_ptr_eq(ar_flow_get(t, &syn2, 1.1, &dir), f);
    ck_assert_int_eq(freed, 0);
    ck_assert_uint_eq(f->isn[0], 1111);

    struct ar_pkt rst = mk(0, 1, 12345, AR_TCP_RST);
    rst.seq = 2222;
    ck_assert_ptr_eq(ar_flow_get(t, &rst, 1.2, &dir), f);
    ck_assert_int_eq(f->closed, 1);

    /* closed: the same SYN again (retransmission) keeps the flow */
    ck_assert_ptr_eq(ar_flow_get(t, &syn, 1.3, &dir), f);
    ck_assert_int_eq(freed, 0);
    /* a SYN-ACK is no new connection either */
    struct ar_pkt sa = mk(0, 1, 12345, AR_TCP_SYN | AR_TCP_ACK);
    sa.seq = 4444;
    ck_assert_ptr_eq(ar_flow_get(t, &sa, 1.35, &dir), f);
    ck_assert_int_eq(freed, 0);

    /* closed + SYN with a new ISN: the old flow ends, a new one starts */
    struct ar_pkt syn3 = syn;
    syn3.seq = 3333;
    struct ar_flow *g = ar_flow_get(t, &syn3, 1.4, &dir);
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(freed, 1);
    ck_assert_int_eq(dir, 0);
    ck_assert_int_eq(g->closed, 0);
    ck_assert_ptr_null(g->app);
    ck_assert_uint_eq(g->isn[0], 3333);
    ck_assert_uint_eq(g->port[0], 12345);
    ck_assert(g->first_ts == 1.4);
    ck_assert_uint_eq(ar_flow_table_count(t), 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_flows], 2);

    /* the server side reusing the tuple with a SYN is a new flow too,
     * oriented from its sender */
    g->app = malloc(16);
    struct ar_pkt fin = mk(1, 1, 12345, AR_TCP_FIN | AR_TCP_ACK);
    ar_flow_get(t, &fin, 1.5, &dir);
    struct ar_pkt ssyn = mk(0, 1, 12345, AR_TCP_SYN);
    ssyn.seq = 77;
    struct ar_flow *h = ar_flow_get(t, &ssyn, 1.6, &dir);
    ck_assert_int_eq(freed, 2);
    ck_assert_int_eq(dir, 0);
    ck_assert_uint_eq(h->port[0], 80);
    ck_assert_uint_eq(ar_flow_table_count(t), 1);
    ar_flow_table_free(t);
}
END_TEST

START_TEST(test_max_flows)
{
    lim.max_flows = 2;
    struct ar_flow_table *t = ar_flow_table_new(&lim, &ctr, on_free, &freed);
    int dir;
    struct ar_pkt a = mk(1, 1, 1000, AR_TCP_SYN), b = mk(1, 2, 1000, AR_TCP_SYN),
                  c = mk(1, 3, 1000, AR_TCP_SYN);
    struct ar_flow *fa = ar_flow_get(t, &a, 0.0, &dir);
    ck_assert_ptr_nonnull(fa);
    struct ar_flow *fb = ar_flow_get(t, &b, 0.5, &dir);
    ck_assert_ptr_nonnull(fb);
    ck_assert_int_eq(ar_flow_table_emergency(t), 0);
    /* existing flows still work when the table is full, and a is now the
     * most recently active */
    struct ar_pkt a2 = mk(0, 1, 1000, AR_TCP_ACK);
    ck_assert_ptr_eq(ar_flow_get(t, &a2, 0.9, &dir), fa);
    ck_assert_int_eq(dir, 1);
    ck_assert_int_eq(freed, 0);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_flows], 0);
    /* c finds the table full: emergency mode, nobody idle past 10 s, so the
     * least recently active flow (b) is evicted and c is tracked */
    struct ar_flow *fc = ar_flow_get(t, &c, 1.0, &dir);
    ck_assert_ptr_nonnull(fc);
    ck_assert_int_eq(dir, 0);
    ck_assert_int_eq(freed, 1);
    ck_assert_uint_eq(last_freed_client, 2);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_flows], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_flow_emergency], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_flow_evicted], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_flows_timed_out], 0);
    ck_assert_int_eq(ar_flow_table_emergency(t), 1);
    ck_assert_uint_eq(ar_flow_table_count(t), 2);
    ck_assert_uint_eq(ctr.v[AR_CTR_flows], 3);
    /* b again: a is now the oldest and goes; still one entry into emergency */
    ck_assert_ptr_nonnull(ar_flow_get(t, &b, 2.0, &dir));
    ck_assert_uint_eq(last_freed_client, 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_flow_evicted], 2);
    ck_assert_uint_eq(ctr.v[AR_CTR_flow_emergency], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_flows], 2);
    ck_assert_uint_eq(ar_flow_table_count(t), 2);
    ar_flow_table_free(t);
    ck_assert_int_eq(freed, 4);

    /* max_flows 0: there is no room to make */
    lim.max_flows = 0;
    memset(&ctr, 0, sizeof(ctr));
    t = ar_flow_table_new(&lim, &ctr, on_free, &freed);
    ck_assert_ptr_null(ar_flow_get(t, &a, 0.0, &dir));
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_flows], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_flows], 0);
    ck_assert_uint_eq(ar_flow_table_count(t), 0);
    ar_flow_table_free(t);
}
END_TEST

/* Emergency mode step by step, max_flows 10, default emergency timeouts
 * (10 s open, 1 s closed) and recovery 30% (leave at 7 flows or fewer). */
START_TEST(test_emergency_mode)
{
    lim.max_flows = 10;
    ck_assert_uint_eq(lim.flow_timeout_emergency, 10);
    ck_assert_uint_eq(lim.flow_timeout_emergency_closed, 1);
    ck_assert_uint_eq(lim.flow_emergency_recovery, 30);
    struct ar_flow_table *t = ar_flow_table_new(&lim, &ctr, on_free, &freed);
    int dir;
    for (uint8_t i = 1; i <= 10; i++) {     /* flow i opens at time i */
        struct ar_pkt p = mk(1, i, 1000, AR_TCP_SYN);
        ck_assert_ptr_nonnull(ar_flow_get(t, &p, (double)i, &dir));
    }
    struct ar_pkt fin8 = mk(0, 8, 1000, AR_TCP_FIN | AR_TCP_ACK);
    struct ar_pkt fin5 = mk(1, 5, 1000, AR_TCP_FIN | AR_TCP_ACK);
    struct ar_pkt ack1 = mk(0, 1, 1000, AR_TCP_ACK);
    ar_flow_get(t, &fin8, 11.0, &dir);
    ar_flow_get(t, &fin5, 11.5, &dir);
    ar_flow_get(t, &ack1, 12.0, &dir);
    ck_assert_int_eq(ar_flow_table_emergency(t), 0);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_flows], 0);

    /* 11 at 12.2: full. Emergency timeouts apply at once: closed 8 (idle 1.2
     * > 1) and open 2 (idle 10.2 > 10) expire; closed 5 (0.7) and open 3
     * (9.2) do not. Nothing is evicted. */
    struct ar_pkt p11 = mk(1, 11, 1000, AR_TCP_SYN);
    ck_assert_ptr_nonnull(ar_flow_get(t, &p11, 12.2, &dir));
    ck_assert_int_eq(ar_flow_table_emergency(t), 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_flow_emergency], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_flows], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_flow_timeout_emergency_closed], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_flow_timeout_emergency], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_flows_timed_out], 2);
    ck_assert_uint_eq(ctr.v[AR_CTR_flow_evicted], 0);
    ck_assert_uint_eq(ar_flow_table_count(t), 9);
    ck_assert_int_eq(freed, 2);

    /* 12 fits (9 < 10); 13 finds the table full with nobody past the
     * emergency timeouts: the closed flow 5 is evicted before any open one */
    struct ar_pkt p12 = mk(1, 12, 1000, AR_TCP_SYN), p13 = mk(1, 13, 1000, AR_TCP_SYN),
                  p14 = mk(1, 14, 1000, AR_TCP_SYN);
    ck_assert_ptr_nonnull(ar_flow_get(t, &p12, 12.3, &dir));
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_flows], 1);
    ck_assert_ptr_nonnull(ar_flow_get(t, &p13, 12.4, &dir));
    ck_assert_uint_eq(ctr.v[AR_CTR_flow_evicted], 1);
    ck_assert_uint_eq(last_freed_client, 5);
    /* 14: no closed flow left, the least recently active open one (3) goes */
    ck_assert_ptr_nonnull(ar_flow_get(t, &p14, 12.5, &dir));
    ck_assert_uint_eq(ctr.v[AR_CTR_flow_evicted], 2);
    ck_assert_uint_eq(last_freed_client, 3);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_flows], 3);
    ck_assert_uint_eq(ctr.v[AR_CTR_flow_emergency], 1);
    ck_assert_uint_eq(ar_flow_table_count(t), 10);

    /* periodic expiry in emergency mode uses the emergency timeouts:
     * at 16.5, 4 (idle 12.5) and 6 (10.5) go, 7 (9.5) stays: 8 flows,
     * 20% free < 30%: still in emergency mode */
    ar_flow_expire(t, 13.0);
    ck_assert_uint_eq(ar_flow_table_count(t), 10);
    ar_flow_expire(t, 16.5);
    ck_assert_uint_eq(ar_flow_table_count(t), 8);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_flow_timeout_emergency], 3);
    ck_assert_int_eq(ar_flow_table_emergency(t), 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_flow_emergency_recovery], 0);
    /* at 17.5, 7 (idle 10.5) goes: 7 flows, 30% free: emergency mode ends */
    ar_flow_expire(t, 17.5);
    ck_assert_uint_eq(ar_flow_table_count(t), 7);
    ck_assert_int_eq(ar_flow_table_emergency(t), 0);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_flow_emergency_recovery], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_flow_timeout_emergency], 4);
    /* back to the normal timeouts: 9 (idle 10.2) stays */
    ar_flow_expire(t, 19.2);
    ck_assert_uint_eq(ar_flow_table_count(t), 7);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_flow_timeout], 0);

    /* filling it again is a second entry: 9 (idle 10.2) expires at once;
     * one more new flow then evicts the oldest open one, 10 (idle 9.2) */
    for (uint8_t i = 15; i <= 19; i++) {
        struct ar_pkt p = mk(1, i, 1000, AR_TCP_SYN);
        ck_assert_ptr_nonnull(ar_flow_get(t, &p, 19.2, &dir));
    }
    ck_assert_uint_eq(ctr.v[AR_CTR_flow_emergency], 2);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_flow_timeout_emergency], 5);
    ck_assert_uint_eq(ctr.v[AR_CTR_flow_evicted], 3);
    ck_assert_uint_eq(last_freed_client, 10);
    ck_assert_uint_eq(ar_flow_table_count(t), 10);
    ck_assert_uint_eq(ctr.v[AR_CTR_flows], 19);
    ck_assert_uint_eq(ctr.v[AR_CTR_flows_timed_out], 6);
    ck_assert_int_eq(freed, 9);
    ar_flow_table_free(t);
    ck_assert_int_eq(freed, 19);
}
END_TEST

/* A SYN flood far larger than the table: every new tuple is tracked, the
 * table never holds more than max_flows, and the counters add up. */
START_TEST(test_emergency_flood)
{
    lim.max_flows = 1000;
    struct ar_flow_table *t = ar_flow_table_new(&lim, &ctr, on_free, &freed);
    int dir;
    for (int i = 0; i < 100000; i++) {
        struct ar_pkt p = mk(1, (uint8_t)i, (uint16_t)(1024 + (i >> 8)), AR_TCP_SYN);
        p.src[2] = (uint8_t)(i >> 16);
        ck_assert_ptr_nonnull(ar_flow_get(t, &p, 1.0 + (double)i / 100000.0, &dir));
        ck_assert_uint_le(ar_flow_table_count(t), 1000);
    }
    ck_assert_uint_eq(ctr.v[AR_CTR_flows], 100000);
    ck_assert_uint_eq(ctr.v[AR_CTR_flow_emergency], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_flow_evicted], 99000);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_flows], 99000);
    ck_assert_int_eq(freed, 99000);
    /* the flood stops; 11 s later everything is past the emergency timeout */
    ar_flow_expire(t, 13.0);
    ck_assert_uint_eq(ar_flow_table_count(t), 0);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_flow_timeout_emergency], 1000);
    ck_assert_int_eq(ar_flow_table_emergency(t), 0);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_flow_emergency_recovery], 1);
    ar_flow_table_free(t);
}
END_TEST

START_TEST(test_expiry_by_packet_time)
{
    struct ar_flow_table *t = ar_flow_table_new(&lim, &ctr, on_free, &freed);
    int dir;
    struct ar_pkt a = mk(1, 1, 1000, AR_TCP_SYN), b = mk(1, 2, 1000, AR_TCP_SYN),
                  c = mk(1, 3, 1000, AR_TCP_SYN);
    struct ar_flow *fa = ar_flow_get(t, &a, 0.0, &dir);
    ar_flow_get(t, &c, 10.0, &dir);
    ar_flow_get(t, &b, 50.0, &dir);
    fa->app = malloc(100);              /* on_free releases it (ASan checks) */
    struct ar_pkt a2 = mk(0, 1, 1000, AR_TCP_ACK);
    ar_flow_get(t, &a2, 60.0, &dir);    /* a is active again */

    ar_flow_expire(t, 120.0);           /* nobody idle > 120 */
    ck_assert_int_eq(freed, 0);
    ar_flow_expire(t, 130.5);           /* c (idle 120.5) */
    ck_assert_int_eq(freed, 1);
    ck_assert_uint_eq(ar_flow_table_count(t), 2);
    ck_assert_uint_eq(ctr.v[AR_CTR_flows_timed_out], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_flow_timeout], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_flow_timeout_closed], 0);
    ar_flow_expire(t, 175.0);           /* b (idle 125), not a (idle 115) */
    ck_assert_int_eq(freed, 2);
    ck_assert_uint_eq(ar_flow_table_count(t), 1);
    ck_assert_ptr_eq(ar_flow_get(t, &a, 176.0, &dir), fa);
    ck_assert_uint_eq(ctr.v[AR_CTR_flows], 3);
    /* b comes back as a new flow */
    struct ar_flow *fb = ar_flow_get(t, &b, 177.0, &dir);
    ck_assert_ptr_nonnull(fb);
    ck_assert(fb->first_ts == 177.0);
    ck_assert_uint_eq(ctr.v[AR_CTR_flows], 4);
    ar_flow_table_clear(t);
    ck_assert_int_eq(freed, 4);
    ck_assert_uint_eq(ar_flow_table_count(t), 0);
    ar_flow_table_free(t);
    ck_assert_int_eq(freed, 4);
}
END_TEST

START_TEST(test_closed_timeout)
{
    struct ar_flow_table *t = ar_flow_table_new(&lim, &ctr, on_free, &freed);
    int dir;
    struct ar_pkt a = mk(1, 1, 1000, AR_TCP_SYN), b = mk(1, 2, 1000, AR_TCP_SYN),
                  c = mk(1, 3, 1000, AR_TCP_SYN);
    ar_flow_get(t, &a, 0.0, &dir);
    ar_flow_get(t, &b, 0.0, &dir);
    ar_flow_get(t, &c, 0.0, &dir);
    struct ar_pkt afin = mk(0, 1, 1000, AR_TCP_FIN | AR_TCP_ACK);
    struct ar_flow *fa = ar_flow_get(t, &afin, 1.0, &dir);
    ck_assert_int_eq(fa->closed, 1);
    struct ar_pkt crst = mk(1, 3, 1000, AR_TCP_RST);
    struct ar_flow *fc = ar_flow_get(t, &crst, 5.0, &dir);
    ck_assert_int_eq(fc->closed, 1);

    ar_flow_expire(t, 11.0);            /* a idle 10: not > 10 */
    ck_assert_int_eq(freed, 0);
    ar_flow_expire(t, 11.5);            /* a idle 10.5 */
    ck_assert_int_eq(freed, 1);
    ck_assert_ptr_eq(last_freed_addr, fa);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_flow_timeout_closed], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_flows_timed_out], 1);
    ar_flow_expire(t, 16.0);            /* c idle 11 */
    ck_assert_int_eq(freed, 2);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_flow_timeout_closed], 2);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_flow_timeout], 0);
    ck_assert_uint_eq(ar_flow_table_count(t), 1); /* b: open, idle 16 */
    ar_flow_expire(t, 121.0);
    ck_assert_int_eq(freed, 3);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_flow_timeout], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_flows_timed_out], 3);
    ar_flow_table_free(t);
    ck_assert_int_eq(freed, 3);
}
END_TEST

START_TEST(test_many_flows)
{
    lim.max_flows = 20000;
    struct ar_flow_table *t = ar_flow_table_new(&lim, &ctr, on_free, &freed);
    int dir;
    for (int i = 0; i < 20000; i++) {
        struct ar_pkt p = mk(1, (uint8_t)(i & 0xff), (uint16_t)(1024 + i), AR_TCP_SYN);
        p.src[2] = (uint8_t)(i >> 8);
        struct ar_flow *f = ar_flow_get(t, &p, (double)i / 1000.0, &dir);
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(dir, 0);
    }
    ck_assert_uint_eq(ar_flow_table_count(t), 20000);
    for (int i = 0; i < 20000; i++) {
        struct ar_pkt p = mk(0, (uint8_t)(i & 0xff), (uint16_t)(1024 + i), AR_TCP_ACK);
        p.dst[2] = (uint8_t)(i >> 8);
        struct ar_flow *f = ar_flow_get(t, &p, 30.0, &dir);
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(dir, 1);
        ck_assert_uint_eq(f->port[0], (uint16_t)(1024 + i));
    }
    ck_assert_uint_eq(ctr.v[AR_CTR_flows], 20000);
    ck_assert_uint_eq(ctr.v[AR_CTR_limit_max_flows], 0);
    ar_flow_table_free(t);
    ck_assert_int_eq(freed, 20000);

    /* a huge max_flows does not allocate gigabytes up front */
    lim.max_flows = UINT64_C(1) << 40;
    t = ar_flow_table_new(&lim, &ctr, on_free, &freed);
    ck_assert_ptr_nonnull(t);
    ar_flow_table_free(t);
}
END_TEST

START_TEST(test_ipv6_flow)
{
    struct ar_flow_table *t = ar_flow_table_new(&lim, &ctr, on_free, &freed);
    struct ar_pkt p;
    int dir;
    memset(&p, 0, sizeof(p));
    p.family = 6;
    p.src[0] = 0x20; p.src[15] = 1;
    p.dst[0] = 0x20; p.dst[15] = 2;
    p.sport = 443; p.dport = 443;           /* same ports both ways */
    p.flags = AR_TCP_SYN;
    struct ar_flow *f = ar_flow_get(t, &p, 0.0, &dir);
    ck_assert_int_eq(dir, 0);
    struct ar_pkt r = p;
    memcpy(r.src, p.dst, 16);
    memcpy(r.dst, p.src, 16);
    r.flags = AR_TCP_ACK;
    ck_assert_ptr_eq(ar_flow_get(t, &r, 0.1, &dir), f);
    ck_assert_int_eq(dir, 1);
    ck_assert_uint_eq(ar_flow_table_count(t), 1);
    ar_flow_table_free(t);
}
END_TEST

static Suite *flow_suite(void)
{
    Suite *s = suite_create("flow");
    TCase *tc = tcase_create("table");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_both_directions);
    tcase_add_test(tc, test_synack_first);
    tcase_add_test(tc, test_syn_after_close_restarts);
    tcase_add_test(tc, test_max_flows);
    tcase_add_test(tc, test_emergency_mode);
    tcase_add_test(tc, test_emergency_flood);
    tcase_add_test(tc, test_expiry_by_packet_time);
    tcase_add_test(tc, test_closed_timeout);
    tcase_add_test(tc, test_many_flows);
    tcase_add_test(tc, test_ipv6_flow);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(flow_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

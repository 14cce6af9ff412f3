/* check_decode.c - hand-built frames for every link type and tunnel that
 * collector/decode.c knows, plus truncation at every length and corrupted
 * frames (run under ASan with -DAPIROSTER_SANITIZE=ON). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "../../collector/decode.h"

/* ---- a tiny frame builder */

struct fb {
    uint8_t b[4096];
    size_t n;
};

static void put8(struct fb *f, uint8_t v) { f->b[f->n++] = v; }
static void put16(struct fb *f, uint16_t v) { put8(f, (uint8_t)(v >> 8)); put8(f, (uint8_t)v); }
static void put32(struct fb *f, uint32_t v) { put16(f, (uint16_t)(v >> 16)); put16(f, (uint16_t)v); }
static void putn(struct fb *f, const void *p, size_t n) { if (n) memcpy(f->b + f->n, p, n); f->n += n; }
static void set16(struct fb *f, size_t at, uint16_t v) { f->b[at] = (uint8_t)(v >> 8); f->b[at + 1] = (uint8_t)v; }

static const uint8_t SRC4[4] = {10, 0, 0, 1};
static const uint8_t DST4[4] = {192, 168, 1, 20};
static const uint8_t SRC6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t DST6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
static const char PAYLOAD[] = "GET /api/v1/users HTTP/1.1\r\nHost: x\r\n\r\n";
#define PLEN ((uint32_t)(sizeof(PAYLOAD) - 1))

static void eth(struct fb *f, uint16_t et)
{
    static const uint8_t mac[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    putn(f, mac, 12);
    put16(f, et);
}

/* TCP header (with optwords 32-bit words of NOP options) and payload. */
static void tcp(struct fb *f, uint16_t sp, uint16_t dp, uint32_t seq, uint32_t ack, uint8_t flags,
                int optwords, const void *pl, size_t plen)
{
    put16(f, sp);
    put16(f, dp);
    put32(f, seq);
    put32(f, ack);
    put8(f, (uint8_t)((5 + optwords) << 4));
    put8(f, flags);
    put16(f, 65535);
    put16(f, 0);
    put16(f, 0);
    for (int i = 0; i < optwords * 4; i++)
        put8(f, 1);
    putn(f, pl, plen);
}

/* IPv4 header for l4len bytes of protocol proto; returns the offset of the header. */
static size_t ip4(struct fb *f, uint8_t proto, size_t l4len, const uint8_t *src, const uint8_t *dst)
{
    size_t at = f->n;
    put8(f, 0x45);
    put8(f, 0);
    put16(f, (uint16_t)(20 + l4len));
    put16(f, 0x1234);
    put16(f, 0x4000); /* DF */
    put8(f, 64);
    put8(f, proto);
    put16(f, 0);
    putn(f, src, 4);
    putn(f, dst, 4);
    return at;
}

static size_t ip6(struct fb *f, uint8_t nh, size_t plen)
{
    size_t at = f->n;
    put32(f, 0x60000000);
    put16(f, (uint16_t)plen);
    put8(f, nh);
    put8(f, 64);
    putn(f, SRC6, 16);
    putn(f, DST6, 16);
    return at;
}

/* IPv4 + TCP(1234 -> 80, seq 0x01020304) + PAYLOAD */
static void v4tcp(struct fb *f)
{
    ip4(f, 6, 20 + PLEN, SRC4, DST4);
    tcp(f, 1234, 80, 0x01020304, 0xa0b0c0d0, AR_TCP_ACK | AR_TCP_PSH, 0, PAYLOAD, PLEN);
}

static void v6tcp(struct fb *f)
{
    ip6(f, 6, 20 + PLEN);
    tcp(f, 1234, 80, 0x01020304, 0xa0b0c0d0, AR_TCP_ACK | AR_TCP_PSH, 0, PAYLOAD, PLEN);
}

static struct ar_counters ctr;
static struct ar_pkt pkt;

static enum ar_decode_rc run(int dlt, const struct fb *f)
{
    memset(&ctr, 0, sizeof(ctr));
    return ar_decode(dlt, f->b, (uint32_t)f->n, &pkt, &ctr);
}

/* The common expectations for the v4tcp/v6tcp segment. */
static void expect_seg(int family, const struct fb *f, size_t l3off)
{
    ck_assert_int_eq(pkt.family, family);
    if (family == 4) {
        static const uint8_t zero[12];
        ck_assert_mem_eq(pkt.src, SRC4, 4);
        ck_assert_mem_eq(pkt.dst, DST4, 4);
        ck_assert_mem_eq(pkt.src + 4, zero, 12);
        ck_assert_mem_eq(pkt.dst + 4, zero, 12);
    } else {
        ck_assert_mem_eq(pkt.src, SRC6, 16);
        ck_assert_mem_eq(pkt.dst, DST6, 16);
    }
    ck_assert_uint_eq(pkt.sport, 1234);
    ck_assert_uint_eq(pkt.dport, 80);
    ck_assert_uint_eq(pkt.seq, 0x01020304u);
    ck_assert_uint_eq(pkt.ack, 0xa0b0c0d0u);
    ck_assert_uint_eq(pkt.flags, AR_TCP_ACK | AR_TCP_PSH);
    ck_assert_uint_eq(pkt.payload_len, PLEN);
    ck_assert_uint_eq(pkt.payload_wire_len, PLEN);
    ck_assert_mem_eq(pkt.payload, PAYLOAD, PLEN);
    ck_assert_ptr_eq(pkt.l3, f->b + l3off);
    ck_assert_uint_eq(pkt.l3_len, f->n - l3off);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_truncated], 0);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_malformed], 0);
}

static void all_prefixes(int dlt, const struct fb *f);

/* ---- link types */

START_TEST(test_ethernet_ipv4)
{
    struct fb f = {.n = 0};
    eth(&f, 0x0800);
    v4tcp(&f);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(4, &f, 14);
}
END_TEST

START_TEST(test_ethernet_ipv6)
{
    struct fb f = {.n = 0};
    eth(&f, 0x86DD);
    v6tcp(&f);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(6, &f, 14);
}
END_TEST

START_TEST(test_vlan)
{
    struct fb f = {.n = 0};
    eth(&f, 0x8100);
    put16(&f, 0x0064);
    put16(&f, 0x0800);
    v4tcp(&f);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(4, &f, 18);
}
END_TEST

START_TEST(test_qinq)
{
    struct fb f = {.n = 0};
    eth(&f, 0x88A8);
    put16(&f, 0x0010);
    put16(&f, 0x9100);
    put16(&f, 0x0020);
    put16(&f, 0x8100);
    put16(&f, 0x0064);
    put16(&f, 0x86DD);
    v6tcp(&f);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(6, &f, 26);
}
END_TEST

START_TEST(test_mpls)
{
    struct fb f = {.n = 0};
    eth(&f, 0x8847);
    put32(&f, (100u << 12) | 64);           /* label 100, not bottom */
    put32(&f, (200u << 12) | 0x100 | 64);   /* label 200, bottom of stack */
    v4tcp(&f);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(4, &f, 22);

    /* IPv6 under one label */
    f.n = 0;
    eth(&f, 0x8847);
    put32(&f, (300u << 12) | 0x100 | 64);
    v6tcp(&f);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(6, &f, 18);
}
END_TEST

START_TEST(test_pppoe)
{
    struct fb f = {.n = 0};
    eth(&f, 0x8864);
    put8(&f, 0x11);
    put8(&f, 0x00);
    put16(&f, 0x0042);                      /* session */
    put16(&f, (uint16_t)(2 + 40 + PLEN));   /* PPP length */
    put16(&f, 0x0021);
    v4tcp(&f);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(4, &f, 22);

    f.n = 0;
    eth(&f, 0x8864);
    put8(&f, 0x11);
    put8(&f, 0x00);
    put16(&f, 0x0042);
    put16(&f, (uint16_t)(2 + 60 + PLEN));
    put16(&f, 0x0057);
    v6tcp(&f);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(6, &f, 22);

    /* suricata-verify/bug-4810: protocol field compression, IPv4 as one
     * byte 0x21 (and IPv6 as 0x57) */
    f.n = 0;
    eth(&f, 0x8864);
    put8(&f, 0x11);
    put8(&f, 0x00);
    put16(&f, 0x002d);
    put16(&f, (uint16_t)(1 + 40 + PLEN));
    put8(&f, 0x21);
    v4tcp(&f);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(4, &f, 21);
    all_prefixes(1, &f);
    f.n = 0;
    eth(&f, 0x8864);
    put8(&f, 0x11);
    put8(&f, 0x00);
    put16(&f, 0x002d);
    put16(&f, (uint16_t)(1 + 60 + PLEN));
    put8(&f, 0x57);
    v6tcp(&f);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(6, &f, 21);

    /* LCP is not ours */
    f.n = 0;
    eth(&f, 0x8864);
    put8(&f, 0x11);
    put8(&f, 0x00);
    put16(&f, 0x0042);
    put16(&f, 6);
    put16(&f, 0xc021);
    put32(&f, 0x01010004);
    ck_assert_int_eq(run(1, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_unsupported], 1);
}
END_TEST

START_TEST(test_sll)
{
    struct fb f = {.n = 0};
    put16(&f, 0);           /* packet type: to us */
    put16(&f, 1);           /* ARPHRD_ETHER */
    put16(&f, 6);
    put32(&f, 0x00010203);
    put32(&f, 0x04050000);
    put16(&f, 0x0800);
    ck_assert_uint_eq(f.n, 16);
    v4tcp(&f);
    ck_assert_int_eq(run(113, &f), AR_DEC_TCP);
    expect_seg(4, &f, 16);
}
END_TEST

START_TEST(test_sll2)
{
    struct fb f = {.n = 0};
    put16(&f, 0x86DD);
    put16(&f, 0);           /* reserved */
    put32(&f, 3);           /* ifindex */
    put16(&f, 1);           /* ARPHRD */
    put8(&f, 4);            /* outgoing */
    put8(&f, 6);
    put32(&f, 0x00010203);
    put32(&f, 0x04050000);
    ck_assert_uint_eq(f.n, 20);
    v6tcp(&f);
    ck_assert_int_eq(run(276, &f), AR_DEC_TCP);
    expect_seg(6, &f, 20);
}
END_TEST

START_TEST(test_null_both_orders)
{
    struct fb f = {.n = 0};
    put32(&f, 0x02000000); /* AF_INET written little-endian */
    v4tcp(&f);
    ck_assert_int_eq(run(0, &f), AR_DEC_TCP);
    expect_seg(4, &f, 4);

    f.n = 0;
    put32(&f, 2);          /* AF_INET written big-endian */
    v4tcp(&f);
    ck_assert_int_eq(run(0, &f), AR_DEC_TCP);
    expect_seg(4, &f, 4);

    static const uint32_t v6fams[] = {10, 24, 28, 30};
    for (size_t i = 0; i < 4; i++) {
        f.n = 0;
        put8(&f, (uint8_t)v6fams[i]); /* little-endian */
        put8(&f, 0);
        put16(&f, 0);
        v6tcp(&f);
        ck_assert_int_eq(run(0, &f), AR_DEC_TCP);
        expect_seg(6, &f, 4);
        f.n = 0;
        put32(&f, v6fams[i]);         /* big-endian */
        v6tcp(&f);
        ck_assert_int_eq(run(0, &f), AR_DEC_TCP);
        expect_seg(6, &f, 4);
    }

    /* LOOP: network order only */
    f.n = 0;
    put32(&f, 2);
    v4tcp(&f);
    ck_assert_int_eq(run(108, &f), AR_DEC_TCP);
    expect_seg(4, &f, 4);

    /* an unknown family */
    f.n = 0;
    put32(&f, 7);
    v4tcp(&f);
    ck_assert_int_eq(run(0, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_unsupported], 1);
}
END_TEST

START_TEST(test_raw)
{
    static const int raw[] = {12, 14, 101};
    struct fb f4 = {.n = 0}, f6 = {.n = 0};
    v4tcp(&f4);
    v6tcp(&f6);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(run(raw[i], &f4), AR_DEC_TCP);
        expect_seg(4, &f4, 0);
        ck_assert_int_eq(run(raw[i], &f6), AR_DEC_TCP);
        expect_seg(6, &f6, 0);
    }
    ck_assert_int_eq(run(228, &f4), AR_DEC_TCP);
    expect_seg(4, &f4, 0);
    ck_assert_int_eq(run(229, &f6), AR_DEC_TCP);
    expect_seg(6, &f6, 0);
    /* the wrong one for the link type */
    ck_assert_int_eq(run(228, &f6), AR_DEC_BAD);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_malformed], 1);
    ck_assert_int_eq(run(229, &f4), AR_DEC_BAD);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_malformed], 1);
}
END_TEST

START_TEST(test_ipv6_ext_headers)
{
    struct fb f = {.n = 0};
    eth(&f, 0x86DD);
    ip6(&f, 0, 8 + 16 + 8 + 20 + PLEN);
    /* hop-by-hop, 8 bytes: next = destination options */
    put8(&f, 60);
    put8(&f, 0);
    put16(&f, 0x0104);      /* PadN */
    put32(&f, 0);
    /* destination options, 16 bytes: next = AH */
    put8(&f, 51);
    put8(&f, 1);
    for (int i = 0; i < 14; i++)
        put8(&f, i == 0 ? 1 : 0);
    /* AH, length (0+2)*4 = 8 bytes: next = TCP */
    put8(&f, 6);
    put8(&f, 0);
    put16(&f, 0);
    put32(&f, 0x1000);      /* SPI */
    tcp(&f, 1234, 80, 0x01020304, 0xa0b0c0d0, AR_TCP_ACK | AR_TCP_PSH, 0, PAYLOAD, PLEN);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(6, &f, 14);
}
END_TEST

START_TEST(test_tcp_options)
{
    struct fb f = {.n = 0};
    eth(&f, 0x0800);
    ip4(&f, 6, 32 + PLEN, SRC4, DST4);
    tcp(&f, 1234, 80, 0x01020304, 0xa0b0c0d0, AR_TCP_ACK | AR_TCP_PSH, 3, PAYLOAD, PLEN);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(4, &f, 14);
    ck_assert_ptr_eq(pkt.payload, f.b + 14 + 20 + 32);
}
END_TEST

/* ---- tunnels */

static void build_vxlan(struct fb *f)
{
    const size_t inner = 14 + 40 + PLEN;
    eth(f, 0x0800);
    ip4(f, 17, 8 + 8 + inner, (const uint8_t[]){172, 16, 0, 1}, (const uint8_t[]){172, 16, 0, 2});
    put16(f, 49152);
    put16(f, 4789);
    put16(f, (uint16_t)(8 + 8 + inner));
    put16(f, 0);
    put32(f, 0x08000000);   /* I flag */
    put32(f, 0x00123400);   /* VNI 0x1234 */
    eth(f, 0x0800);
    v4tcp(f);
}

START_TEST(test_vxlan)
{
    struct fb f = {.n = 0};
    build_vxlan(&f);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(4, &f, 14 + 20 + 8 + 8 + 14);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_tunnel], 1);
}
END_TEST

static void build_gre_key(struct fb *f)
{
    eth(f, 0x0800);
    ip4(f, 47, 4 + 4 + 4 + 60 + PLEN, (const uint8_t[]){172, 16, 0, 1}, (const uint8_t[]){172, 16, 0, 2});
    put16(f, 0x2000 | 0x1000); /* K and S */
    put16(f, 0x86DD);
    put32(f, 0xdeadbeef);      /* key */
    put32(f, 7);               /* sequence */
    v6tcp(f);
}

START_TEST(test_gre_key)
{
    struct fb f = {.n = 0};
    build_gre_key(&f);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(6, &f, 14 + 20 + 12);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_tunnel], 1);
}
END_TEST

START_TEST(test_gre_checksum_teb_mpls)
{
    /* GRE with checksum carrying transparent Ethernet */
    struct fb f = {.n = 0};
    ip4(&f, 47, 8 + 14 + 40 + PLEN, (const uint8_t[]){172, 16, 0, 1}, (const uint8_t[]){172, 16, 0, 2});
    put16(&f, 0x8000);
    put16(&f, 0x6558);
    put32(&f, 0);
    eth(&f, 0x0800);
    v4tcp(&f);
    ck_assert_int_eq(run(101, &f), AR_DEC_TCP);
    expect_seg(4, &f, 20 + 8 + 14);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_tunnel], 1);

    /* GRE carrying MPLS */
    f.n = 0;
    ip4(&f, 47, 4 + 4 + 40 + PLEN, (const uint8_t[]){172, 16, 0, 1}, (const uint8_t[]){172, 16, 0, 2});
    put16(&f, 0);
    put16(&f, 0x8847);
    put32(&f, (16u << 12) | 0x100 | 1);
    v4tcp(&f);
    ck_assert_int_eq(run(101, &f), AR_DEC_TCP);
    expect_seg(4, &f, 20 + 4 + 4);

    /* GRE version 1 (PPTP) is not decoded */
    f.n = 0;
    ip4(&f, 47, 8, (const uint8_t[]){172, 16, 0, 1}, (const uint8_t[]){172, 16, 0, 2});
    put16(&f, 0x2001);
    put16(&f, 0x880b);
    put32(&f, 0);
    ck_assert_int_eq(run(101, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_unsupported], 1);
}
END_TEST

START_TEST(test_tunnel_depth)
{
    /* GRE in GRE in ... : 4 levels decode, 5 do not. */
    for (int levels = 4; levels <= 5; levels++) {
        struct fb f = {.n = 0};
        size_t at[8];
        for (int i = 0; i < levels; i++) {
            at[i] = ip4(&f, 47, 0, SRC4, DST4);
            put16(&f, 0);
            put16(&f, 0x0800);
        }
        v4tcp(&f);
        /* each outer total length: the bytes from its header to the end */
        for (int i = 0; i < levels; i++)
            set16(&f, at[i] + 2, (uint16_t)(f.n - at[i]));
        enum ar_decode_rc rc = run(101, &f);
        if (levels == 4) {
            ck_assert_int_eq(rc, AR_DEC_TCP);
            expect_seg(4, &f, f.n - 40 - PLEN);
        } else {
            ck_assert_int_eq(rc, AR_DEC_SKIP);
            ck_assert_uint_eq(ctr.v[AR_CTR_pkt_unsupported], 1);
        }
        ck_assert_uint_eq(ctr.v[AR_CTR_pkt_tunnel], 1);
    }
}
END_TEST

/* ---- trimming, truncation, skips */

START_TEST(test_ethernet_padding)
{
    struct fb f = {.n = 0};
    eth(&f, 0x0800);
    ip4(&f, 6, 20, SRC4, DST4);
    tcp(&f, 1234, 80, 1, 2, AR_TCP_ACK, 0, NULL, 0);
    while (f.n < 60)
        put8(&f, 0xAA);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    ck_assert_uint_eq(pkt.payload_len, 0);
    ck_assert_uint_eq(pkt.payload_wire_len, 0);
    ck_assert_uint_eq(pkt.l3_len, 40);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_truncated], 0);

    /* padding after a short payload too */
    f.n = 0;
    eth(&f, 0x0800);
    ip4(&f, 6, 20 + 3, SRC4, DST4);
    tcp(&f, 1234, 80, 1, 2, AR_TCP_ACK, 0, "abc", 3);
    while (f.n < 64)
        put8(&f, 0);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    ck_assert_uint_eq(pkt.payload_len, 3);
    ck_assert_uint_eq(pkt.payload_wire_len, 3);
    ck_assert_mem_eq(pkt.payload, "abc", 3);

    /* IPv6 payload length trims as well */
    f.n = 0;
    eth(&f, 0x86DD);
    ip6(&f, 6, 20 + 2);
    tcp(&f, 1234, 80, 1, 2, AR_TCP_ACK, 0, "hi", 2);
    put32(&f, 0xffffffff);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    ck_assert_uint_eq(pkt.payload_len, 2);
    ck_assert_uint_eq(pkt.l3_len, 40 + 22);
}
END_TEST

START_TEST(test_snaplen_payload)
{
    struct fb f = {.n = 0};
    eth(&f, 0x0800);
    v4tcp(&f);
    f.n = 14 + 40 + 10; /* captured 10 payload bytes */
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    ck_assert_uint_eq(pkt.payload_len, 10);
    ck_assert_uint_eq(pkt.payload_wire_len, PLEN);
    ck_assert_mem_eq(pkt.payload, PAYLOAD, 10);
    ck_assert_uint_eq(pkt.l3_len, 50);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_truncated], 1);

    f.n = 14 + 30; /* TCP header cut */
    ck_assert_int_eq(run(1, &f), AR_DEC_BAD);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_truncated], 1);
}
END_TEST

/* Every prefix of a valid frame, copied into a buffer of exactly that size
 * so that ASan catches a read past it, decodes to BAD or to TCP with a
 * payload inside the prefix; truncation is counted exactly once. */
static void all_prefixes(int dlt, const struct fb *f)
{
    for (size_t n = 0; n < f->n; n++) {
        uint8_t *buf = malloc(n ? n : 1);
        ck_assert_ptr_nonnull(buf);
        memcpy(buf, f->b, n);
        memset(&ctr, 0, sizeof(ctr));
        enum ar_decode_rc rc = ar_decode(dlt, buf, (uint32_t)n, &pkt, &ctr);
        ck_assert_msg(rc == AR_DEC_BAD || rc == AR_DEC_TCP, "prefix %zu: rc %d", n, rc);
        ck_assert_msg(ctr.v[AR_CTR_pkt_truncated] == 1, "prefix %zu: truncated %llu", n,
                      (unsigned long long)ctr.v[AR_CTR_pkt_truncated]);
        ck_assert_uint_eq(ctr.v[AR_CTR_pkt_malformed], 0);
        if (rc == AR_DEC_TCP) {
            ck_assert(pkt.payload >= buf);
            ck_assert_uint_le((size_t)(pkt.payload - buf) + pkt.payload_len, n);
            ck_assert_uint_lt(pkt.payload_len, pkt.payload_wire_len);
            ck_assert_uint_eq(pkt.payload_wire_len, PLEN);
            ck_assert_mem_eq(pkt.payload, PAYLOAD, pkt.payload_len);
            ck_assert_uint_le((size_t)(pkt.l3 - buf) + pkt.l3_len, n);
        }
        free(buf);
    }
}

START_TEST(test_truncated_every_prefix)
{
    struct fb f = {.n = 0};
    eth(&f, 0x0800);
    v4tcp(&f);
    all_prefixes(1, &f);

    f.n = 0;
    eth(&f, 0x8100);
    put16(&f, 1);
    put16(&f, 0x8847);
    put32(&f, 0x100);
    v6tcp(&f);
    all_prefixes(1, &f);

    f.n = 0;
    eth(&f, 0x86DD);
    ip6(&f, 0, 8 + 20 + PLEN);
    put8(&f, 6);
    put8(&f, 0);
    put16(&f, 0x0104);
    put32(&f, 0);
    tcp(&f, 1234, 80, 0x01020304, 0xa0b0c0d0, AR_TCP_ACK | AR_TCP_PSH, 0, PAYLOAD, PLEN);
    all_prefixes(1, &f);

    f.n = 0;
    build_vxlan(&f);
    all_prefixes(1, &f);

    f.n = 0;
    build_gre_key(&f);
    all_prefixes(1, &f);

    f.n = 0;
    eth(&f, 0x8864);
    put8(&f, 0x11);
    put8(&f, 0x00);
    put16(&f, 0x0042);
    put16(&f, (uint16_t)(2 + 40 + PLEN));
    put16(&f, 0x0021);
    v4tcp(&f);
    all_prefixes(1, &f);

    static const int links[] = {0, 108, 113, 276};
    for (size_t i = 0; i < 4; i++) {
        f.n = 0;
        if (links[i] == 113) {
            for (int j = 0; j < 14; j++)
                put8(&f, 0);
            put16(&f, 0x0800);
        } else if (links[i] == 276) {
            put16(&f, 0x0800);
            for (int j = 0; j < 18; j++)
                put8(&f, 0);
        } else {
            put32(&f, 2);
        }
        v4tcp(&f);
        all_prefixes(links[i], &f);
    }
}
END_TEST

/* ---- Teredo (zeek/teredo): IPv6 in UDP, port 3544 or a 2001:0::/32 address */

/* Ethernet/IPv4/UDP(sport -> dport) carrying [auth][origin] + v6tcp. */
static void build_teredo(struct fb *f, uint16_t sport, uint16_t dport, int with_auth, int with_origin)
{
    size_t hdr = (with_auth ? 4 + 2 + 3 + 8 + 1 : 0) + (with_origin ? 8 : 0);
    size_t inner = hdr + 40 + 20 + PLEN;
    eth(f, 0x0800);
    ip4(f, 17, 8 + inner, (const uint8_t[]){83, 170, 1, 38}, (const uint8_t[]){192, 168, 2, 16});
    put16(f, sport);
    put16(f, dport);
    put16(f, (uint16_t)(8 + inner));
    put16(f, 0);
    if (with_auth) {
        put16(f, 0x0001);
        put8(f, 2);            /* client id length */
        put8(f, 3);            /* auth value length */
        putn(f, "idabc", 5);
        put32(f, 0x11223344);  /* nonce */
        put32(f, 0x55667788);
        put8(f, 0);            /* confirmation */
    }
    if (with_origin) {
        put16(f, 0x0000);
        put16(f, 0x7f7b);      /* obfuscated port */
        put32(f, 0xacacacac);  /* obfuscated address */
    }
    v6tcp(f);
}

START_TEST(test_teredo)
{
    struct fb f = {.n = 0};
    /* plain, on the Teredo port */
    build_teredo(&f, 3544, 40000, 0, 0);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(6, &f, 14 + 20 + 8);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_tunnel], 1);

    /* origin indication, then auth + origin */
    f.n = 0;
    build_teredo(&f, 40000, 3544, 0, 1);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(6, &f, 14 + 20 + 8 + 8);
    f.n = 0;
    build_teredo(&f, 3544, 40000, 1, 1);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(6, &f, 14 + 20 + 8 + 18 + 8);
    all_prefixes(1, &f);

    /* A relay on other ports: only with a Teredo address inside. */
    f.n = 0;
    build_teredo(&f, 32900, 3797, 0, 1);
    ck_assert_int_eq(run(1, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_nontcp], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_tunnel], 0);
    size_t v6at = 14 + 20 + 8 + 8;
    set16(&f, v6at + 24 + 2, 0x0000); /* destination 2001:db8:: -> 2001:0:: */
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    ck_assert_uint_eq(pkt.family, 6);
    ck_assert_uint_eq(pkt.dport, 80);
    ck_assert_uint_eq(pkt.payload_len, PLEN);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_tunnel], 1);

    /* The IPv6 payload length must account for the whole datagram. */
    set16(&f, v6at + 4, (uint16_t)(20 + PLEN - 1));
    ck_assert_int_eq(run(1, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_nontcp], 1);

    /* An auth length running past the datagram is not Teredo. */
    f.n = 0;
    build_teredo(&f, 3544, 40000, 1, 0);
    f.b[14 + 20 + 8 + 3] = 0xff;
    ck_assert_int_eq(run(1, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_nontcp], 1);

    /* Teredo in Teredo in ... stops at the tunnel depth. */
    f.n = 0;
    size_t at[6];
    for (int i = 0; i < 5; i++) {
        at[i] = f.n;
        if (i == 0) {
            ip4(&f, 17, 0, SRC4, DST4);
        } else {
            put32(&f, 0x60000000);
            put16(&f, 0);
            put8(&f, 17);
            put8(&f, 64);
            putn(&f, SRC6, 16);
            putn(&f, DST6, 16);
        }
        put16(&f, 3544);
        put16(&f, 3544);
        put16(&f, 0);
        put16(&f, 0);
    }
    v6tcp(&f);
    for (int i = 0; i < 5; i++) {
        size_t hl = i == 0 ? 20 : 40;
        if (i == 0)
            set16(&f, at[i] + 2, (uint16_t)(f.n - at[i]));
        else
            set16(&f, at[i] + 4, (uint16_t)(f.n - at[i] - 40));
        set16(&f, at[i] + hl + 4, (uint16_t)(f.n - at[i] - hl));
    }
    ck_assert_int_eq(run(101, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_unsupported], 1);
}
END_TEST

/* ---- IPv4 total length 0 (tcpdump/ipv4_tcp_http_xml_tso): TSO/GSO capture */

START_TEST(test_ipv4_total_length_zero)
{
    struct fb f = {.n = 0};
    eth(&f, 0x0800);
    size_t at = f.n;
    v4tcp(&f);
    set16(&f, at + 2, 0);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(4, &f, 14);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_malformed], 0);

    /* captured short: still a segment, of what was captured */
    f.n -= 5;
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    ck_assert_uint_eq(pkt.payload_len, PLEN - 5);
    ck_assert_mem_eq(pkt.payload, PAYLOAD, PLEN - 5);

    /* a nonzero length below the header stays malformed */
    set16(&f, at + 2, 12);
    ck_assert_int_eq(run(1, &f), AR_DEC_BAD);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_malformed], 1);
}
END_TEST

/* ---- 802.3 + LLC/SNAP (zeek/snap-tcp) */

START_TEST(test_llc_snap)
{
    struct fb f = {.n = 0};
    eth(&f, (uint16_t)(8 + 40 + PLEN)); /* a length, not an EtherType */
    put8(&f, 0xAA);
    put8(&f, 0xAA);
    put8(&f, 0x03);
    put8(&f, 0);
    put16(&f, 0);
    put16(&f, 0x0800);
    v4tcp(&f);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(4, &f, 22);
    all_prefixes(1, &f);

    /* bytes after the 802.3 length are padding, even if IP claimed them */
    struct fb g = f;
    set16(&g, 12, (uint16_t)(8 + 40 + 10));
    ck_assert_int_eq(run(1, &g), AR_DEC_TCP);
    ck_assert_uint_eq(pkt.payload_len, 10);
    ck_assert_uint_eq(pkt.payload_wire_len, PLEN);

    /* IPv6 over SNAP, OUI 00-00-F8 */
    f.n = 0;
    eth(&f, (uint16_t)(8 + 60 + PLEN));
    put16(&f, 0xAAAA);
    put8(&f, 0x03);
    put8(&f, 0);
    put16(&f, 0x00F8);
    put16(&f, 0x86DD);
    v6tcp(&f);
    ck_assert_int_eq(run(1, &f), AR_DEC_TCP);
    expect_seg(6, &f, 22);

    /* other OUI (CDP), other SAPs (spanning tree), a length too short for LLC */
    f.b[17] = 0x0c;
    ck_assert_int_eq(run(1, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_unsupported], 1);
    f.b[14] = 0x42;
    f.b[15] = 0x42;
    ck_assert_int_eq(run(1, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_unsupported], 1);
    set16(&f, 12, 2);
    ck_assert_int_eq(run(1, &f), AR_DEC_BAD);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_malformed], 1);
}
END_TEST

/* ---- ARCNET (tcpdump/arcnet-rfc1051-arp-icmp-http) */

START_TEST(test_arcnet)
{
    struct fb f = {.n = 0};
    /* Linux ARCNET, RFC 1051 IP: src, dst, offset(2), type 240 */
    put8(&f, 0xbe);
    put8(&f, 0x50);
    put16(&f, 0xab08);
    put8(&f, 240);
    v4tcp(&f);
    ck_assert_int_eq(run(129, &f), AR_DEC_TCP);
    expect_seg(4, &f, 5);
    all_prefixes(129, &f);

    /* Linux ARCNET, RFC 1201 IP (212): flag 0 and a sequence id follow */
    f.n = 0;
    put8(&f, 0xbe);
    put8(&f, 0x50);
    put16(&f, 0);
    put8(&f, 212);
    put8(&f, 0);
    put16(&f, 0x1234);
    v4tcp(&f);
    ck_assert_int_eq(run(129, &f), AR_DEC_TCP);
    expect_seg(4, &f, 8);
    all_prefixes(129, &f);
    f.b[5] = 3; /* first of several fragments: not reassembled */
    ck_assert_int_eq(run(129, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_fragments], 1);

    /* BSD ARCNET: src, dst, type */
    f.n = 0;
    put8(&f, 0xbe);
    put8(&f, 0x50);
    put8(&f, 240);
    v4tcp(&f);
    ck_assert_int_eq(run(7, &f), AR_DEC_TCP);
    expect_seg(4, &f, 3);

    /* BSD, RFC 1201 IPv6 as an exception packet: flag 0xff, seq, pad, flag, seq */
    f.n = 0;
    put8(&f, 0xbe);
    put8(&f, 0x50);
    put8(&f, 0xC4);
    put8(&f, 0xff);
    put16(&f, 0xffff);
    put8(&f, 0xC4);
    put8(&f, 0);
    put16(&f, 7);
    v6tcp(&f);
    ck_assert_int_eq(run(7, &f), AR_DEC_TCP);
    expect_seg(6, &f, 10);
    all_prefixes(7, &f);

    /* ARP (RFC 1051) is not ours */
    f.n = 0;
    put8(&f, 0xbe);
    put8(&f, 0x00);
    put16(&f, 0xed08);
    put8(&f, 241);
    for (int i = 0; i < 18; i++)
        put8(&f, 0);
    ck_assert_int_eq(run(129, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_unsupported], 1);
}
END_TEST

/* ---- NFLOG (zeek/nflog-http): TLVs in host byte order */

static void nfl_tlv(struct fb *f, uint16_t type, const void *v, size_t n)
{
    uint16_t h[2] = {(uint16_t)(4 + n), type};
    putn(f, h, 4); /* host byte order, as libpcap hands it over */
    putn(f, v, n);
    while (f->n % 4)
        put8(f, 0);
}

static void build_nflog(struct fb *f, uint8_t family, int v6)
{
    struct fb ip = {.n = 0};
    if (v6)
        v6tcp(&ip);
    else
        v4tcp(&ip);
    put8(f, family);
    put8(f, 0);     /* version */
    put16(f, 42);   /* resource id */
    nfl_tlv(f, 1, "\x08\x00\x03\x00", 4);   /* NFULA_PACKET_HDR */
    nfl_tlv(f, 10, "\x00\x00\x00\x00\x00", 5); /* odd length: padded */
    nfl_tlv(f, 9, ip.b, ip.n);              /* NFULA_PAYLOAD */
}

START_TEST(test_nflog)
{
    struct fb f = {.n = 0};
    build_nflog(&f, 2, 0);
    ck_assert_int_eq(run(239, &f), AR_DEC_TCP);
    size_t ipat = 4 + 8 + 12 + 4;
    ck_assert_ptr_eq(pkt.l3, f.b + ipat);
    ck_assert_uint_eq(pkt.payload_len, PLEN);
    ck_assert_mem_eq(pkt.payload, PAYLOAD, PLEN);
    ck_assert_uint_eq(pkt.sport, 1234);
    ck_assert_uint_eq(pkt.seq, 0x01020304u);

    /* the payload TLV ends the IP packet: padding is not payload */
    f.n = 0;
    build_nflog(&f, 10, 1);
    size_t end = f.n;
    nfl_tlv(&f, 11, "\1\2\3\4", 4);         /* a TLV after the payload */
    ck_assert_int_eq(run(239, &f), AR_DEC_TCP);
    ck_assert_uint_eq(pkt.family, 6);
    ck_assert_uint_eq(pkt.payload_len, PLEN);
    ck_assert_uint_le((size_t)(pkt.l3 - f.b) + pkt.l3_len, end);

    /* AF_UNSPEC: the IP version decides */
    f.n = 0;
    build_nflog(&f, 0, 1);
    ck_assert_int_eq(run(239, &f), AR_DEC_TCP);
    ck_assert_uint_eq(pkt.family, 6);

    /* no payload TLV: nothing for us; a TLV length below 4 is malformed */
    f.n = 0;
    put32(&f, 0x02000000);
    nfl_tlv(&f, 1, "\x08\x00\x03\x00", 4);
    ck_assert_int_eq(run(239, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_nontcp], 1);
    uint16_t zero[2] = {2, 9};
    putn(&f, zero, 4);
    ck_assert_int_eq(run(239, &f), AR_DEC_BAD);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_malformed], 1);

    /* every prefix: never outside the buffer; cut inside a TLV is truncation */
    f.n = 0;
    build_nflog(&f, 2, 0);
    for (size_t n = 0; n < f.n; n++) {
        uint8_t *buf = malloc(n ? n : 1);
        memcpy(buf, f.b, n);
        memset(&ctr, 0, sizeof(ctr));
        enum ar_decode_rc rc = ar_decode(239, buf, (uint32_t)n, &pkt, &ctr);
        /* cut between TLVs (or in the last one's padding): looks complete */
        if (n == 4 || n == 12 || n == 21 || n == 22 || n == 23 || n == 24)
            ck_assert_int_eq(rc, AR_DEC_SKIP);
        else if (n >= 28 + 40 + PLEN)
            ck_assert_int_eq(rc, AR_DEC_TCP);
        else
            ck_assert_msg(ctr.v[AR_CTR_pkt_truncated] == 1, "prefix %zu", n);
        if (rc == AR_DEC_TCP)
            ck_assert_uint_le((size_t)(pkt.payload - buf) + pkt.payload_len, n);
        free(buf);
    }
}
END_TEST

/* Corrupt bytes of valid frames at random (fixed seed): whatever comes out,
 * nothing is read outside the buffer and a TCP verdict stays inside it. */
START_TEST(test_corrupted_frames)
{
    struct fb base[5];
    memset(base, 0, sizeof(base));
    build_teredo(&base[3], 3544, 40000, 1, 1);
    eth(&base[4], (uint16_t)(8 + 40 + PLEN));
    put32(&base[4], 0xAAAA0300);
    put32(&base[4], 0x00000800);
    v4tcp(&base[4]);
    build_vxlan(&base[0]);
    build_gre_key(&base[1]);
    eth(&base[2], 0x8100);
    put16(&base[2], 1);
    put16(&base[2], 0x86DD);
    ip6(&base[2], 0, 8 + 20 + PLEN);
    put8(&base[2], 6);
    put8(&base[2], 0);
    put16(&base[2], 0);
    put32(&base[2], 0);
    tcp(&base[2], 1, 2, 3, 4, 5, 0, PAYLOAD, PLEN);

    unsigned seed = 12345;
    for (int it = 0; it < 30000; it++) {
        const struct fb *b = &base[it % 5];
        seed = seed * 1103515245u + 12345u;
        size_t n = (seed >> 8) % (b->n + 1);
        uint8_t *buf = malloc(n ? n : 1);
        memcpy(buf, b->b, n);
        for (int k = 0; k < 3 && n; k++) {
            seed = seed * 1103515245u + 12345u;
            buf[(seed >> 8) % n] = (uint8_t)(seed >> 20);
        }
        memset(&ctr, 0, sizeof(ctr));
        enum ar_decode_rc rc = ar_decode(1, buf, (uint32_t)n, &pkt, &ctr);
        uint64_t verdicts = ctr.v[AR_CTR_pkt_truncated] + ctr.v[AR_CTR_pkt_malformed] +
                            ctr.v[AR_CTR_pkt_unsupported] + ctr.v[AR_CTR_pkt_nontcp] +
                            ctr.v[AR_CTR_pkt_fragments];
        if (rc == AR_DEC_TCP) {
            ck_assert_uint_le(verdicts, 1);
            ck_assert_uint_le((size_t)(pkt.payload - buf) + pkt.payload_len, n);
            ck_assert_uint_le(pkt.payload_len, pkt.payload_wire_len);
            ck_assert_uint_le((size_t)(pkt.l3 - buf) + pkt.l3_len, n);
        } else {
            ck_assert_uint_eq(verdicts, 1);
        }
        free(buf);
    }
}
END_TEST

/* ar_decode's shortcut for Ethernet/IPv4/TCP gives exactly what the layers
 * give: the same verdict, packet and counters, on mutated frames (padding,
 * options, lengths, flags and fragments hit by the mutations) and on every
 * frame of the shipped sample capture (real traffic). */
static void same_both_ways(const uint8_t *buf, uint32_t n)
{
    struct ar_pkt a, b;
    struct ar_counters ca, cb;
    memset(&ca, 0, sizeof(ca));
    memset(&cb, 0, sizeof(cb));
    memset(&a, 0x55, sizeof(a));
    memset(&b, 0xaa, sizeof(b));
    enum ar_decode_rc ra = ar_decode(1, buf, n, &a, &ca);
    enum ar_decode_rc rb = ar_decode_layers(1, buf, n, &b, &cb);
    ck_assert_int_eq(ra, rb);
    ck_assert_int_eq(memcmp(&ca, &cb, sizeof(ca)), 0);
    if (ra == AR_DEC_TCP) {
        ck_assert_int_eq(a.family, b.family);
        ck_assert_int_eq(memcmp(a.src, b.src, 16), 0);
        ck_assert_int_eq(memcmp(a.dst, b.dst, 16), 0);
        ck_assert_uint_eq(a.sport, b.sport);
        ck_assert_uint_eq(a.dport, b.dport);
        ck_assert_uint_eq(a.seq, b.seq);
        ck_assert_uint_eq(a.ack, b.ack);
        ck_assert_uint_eq(a.flags, b.flags);
        ck_assert_ptr_eq(a.payload, b.payload);
        ck_assert_uint_eq(a.payload_len, b.payload_len);
        ck_assert_uint_eq(a.payload_wire_len, b.payload_wire_len);
        ck_assert_ptr_eq(a.l3, b.l3);
        ck_assert_uint_eq(a.l3_len, b.l3_len);
    }
}

START_TEST(test_shortcut_same_as_layers)
{
    struct fb base[3];
    memset(base, 0, sizeof(base));
    eth(&base[0], 0x0800);
    v4tcp(&base[0]);
    eth(&base[1], 0x0800);                       /* TCP options, Ethernet padding */
    ip4(&base[1], 6, 20 + 12, SRC4, DST4);
    tcp(&base[1], 40000, 80, 1, 2, 0x18, 3, NULL, 0);
    putn(&base[1], "\0\0\0\0\0\0", 6);
    eth(&base[2], 0x0800);                       /* SYN without payload */
    ip4(&base[2], 6, 20, SRC4, DST4);
    tcp(&base[2], 40000, 80, 1, 0, 0x02, 0, NULL, 0);
    unsigned seed = 777;
    for (int it = 0; it < 60000; it++) {
        const struct fb *b = &base[it % 3];
        uint8_t buf[4096];
        seed = seed * 1103515245u + 12345u;
        size_t n = it < 3 ? b->n : (seed >> 8) % (b->n + 1);
        memcpy(buf, b->b, n);
        for (int k = 0; k < 2 && n && it >= 3; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = 12 + (seed >> 8) % 48;   /* the headers the shortcut reads */
            if (at < n)
                buf[at] = (uint8_t)(seed >> 20);
        }
        same_both_ways(buf, (uint32_t)n);
    }
    /* the sample capture: classic pcap, Ethernet, little-endian */
    const char *src = getenv("APIROSTER_SRC");
    char path[4096];
    snprintf(path, sizeof(path), "%s/samples/sample.pcap", src ? src : ".");
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "%s", path);
    uint8_t gh[24], rh[16];
    ck_assert_uint_eq(fread(gh, 1, 24, fp), 24);
    int frames = 0, tcp_frames = 0;
    while (fread(rh, 1, 16, fp) == 16) {
        uint32_t caplen = (uint32_t)rh[8] | (uint32_t)rh[9] << 8 | (uint32_t)rh[10] << 16 |
                          (uint32_t)rh[11] << 24;
        ck_assert_uint_le(caplen, 262144);
        uint8_t *buf = malloc(caplen ? caplen : 1);
        ck_assert_uint_eq(fread(buf, 1, caplen, fp), caplen);
        struct ar_pkt p;
        struct ar_counters c = { 0 };
        tcp_frames += ar_decode(1, buf, caplen, &p, &c) == AR_DEC_TCP;
        same_both_ways(buf, caplen);
        free(buf);
        frames++;
    }
    fclose(fp);
    ck_assert_int_eq(frames, 150);               /* what scripts/demo.sh reports */
    ck_assert_int_eq(tcp_frames, 150);
}
END_TEST

START_TEST(test_fragments)
{
    struct fb f = {.n = 0};
    eth(&f, 0x0800);
    size_t at = f.n;
    v4tcp(&f);
    set16(&f, at + 6, 0x2000); /* MF */
    ck_assert_int_eq(run(1, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_fragments], 1);
    set16(&f, at + 6, 0x00b9); /* offset, last fragment */
    ck_assert_int_eq(run(1, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_fragments], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_nontcp], 0);

    /* IPv6 fragment header */
    f.n = 0;
    eth(&f, 0x86DD);
    ip6(&f, 44, 8 + 20 + PLEN);
    put8(&f, 6);
    put8(&f, 0);
    put16(&f, 0x0001);
    put32(&f, 0xabcd);
    tcp(&f, 1234, 80, 1, 2, AR_TCP_ACK, 0, PAYLOAD, PLEN);
    ck_assert_int_eq(run(1, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_fragments], 1);
}
END_TEST

START_TEST(test_nontcp_and_unsupported)
{
    struct fb f = {.n = 0};
    eth(&f, 0x0800);
    ip4(&f, 17, 8 + 4, SRC4, DST4);
    put16(&f, 5353);
    put16(&f, 53);
    put16(&f, 12);
    put16(&f, 0);
    put32(&f, 0x01020304);
    ck_assert_int_eq(run(1, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_nontcp], 1);

    f.n = 0;
    eth(&f, 0x0800);
    ip4(&f, 1, 8, SRC4, DST4);
    put32(&f, 0x08000000);
    put32(&f, 0);
    ck_assert_int_eq(run(1, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_nontcp], 1);

    /* UDP on 4789 that is not VXLAN (I flag clear) */
    f.n = 0;
    eth(&f, 0x0800);
    ip4(&f, 17, 8 + 8 + 20, SRC4, DST4);
    put16(&f, 4789);
    put16(&f, 40000);
    put16(&f, 36);
    put16(&f, 0);
    for (int i = 0; i < 28; i++)
        put8(&f, 0);
    ck_assert_int_eq(run(1, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_nontcp], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_tunnel], 0);

    /* ARP */
    f.n = 0;
    eth(&f, 0x0806);
    for (int i = 0; i < 28; i++)
        put8(&f, 0);
    ck_assert_int_eq(run(1, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_unsupported], 1);

    /* unknown link type */
    f.n = 0;
    v4tcp(&f);
    ck_assert_int_eq(run(9999, &f), AR_DEC_SKIP);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_unsupported], 1);
    ck_assert_int_eq(run(105 /* 802.11 */, &f), AR_DEC_SKIP);
}
END_TEST

START_TEST(test_malformed)
{
    struct fb f = {.n = 0};
    v4tcp(&f);

    f.b[0] = 0x55; /* version 5 */
    ck_assert_int_eq(run(101, &f), AR_DEC_BAD);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_malformed], 1);
    f.b[0] = 0x44; /* IHL 4 */
    ck_assert_int_eq(run(228, &f), AR_DEC_BAD);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_malformed], 1);
    f.b[0] = 0x45;
    set16(&f, 2, 19); /* total length < header */
    ck_assert_int_eq(run(228, &f), AR_DEC_BAD);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_malformed], 1);
    set16(&f, 2, 30); /* room for only 10 bytes of TCP */
    ck_assert_int_eq(run(228, &f), AR_DEC_BAD);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_malformed], 1);
    set16(&f, 2, (uint16_t)(40 + PLEN));
    f.b[20 + 12] = 0x40; /* TCP data offset 4 */
    ck_assert_int_eq(run(228, &f), AR_DEC_BAD);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_malformed], 1);
    f.b[20 + 12] = 0x80; /* data offset 8 words = 32 bytes: fits the IP length */
    ck_assert_int_eq(run(228, &f), AR_DEC_TCP);
    ck_assert_uint_eq(pkt.payload_len, PLEN - 12);
    ck_assert_uint_eq(pkt.payload_wire_len, PLEN - 12);
    set16(&f, 2, 20 + 24); /* now it does not: 24 bytes of TCP, header says 32 */
    ck_assert_int_eq(run(228, &f), AR_DEC_BAD);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_malformed], 1);
    ck_assert_uint_eq(ctr.v[AR_CTR_pkt_truncated], 0);
}
END_TEST

static Suite *decode_suite(void)
{
    Suite *s = suite_create("decode");
    TCase *tc = tcase_create("links");
    tcase_add_test(tc, test_ethernet_ipv4);
    tcase_add_test(tc, test_ethernet_ipv6);
    tcase_add_test(tc, test_vlan);
    tcase_add_test(tc, test_qinq);
    tcase_add_test(tc, test_mpls);
    tcase_add_test(tc, test_pppoe);
    tcase_add_test(tc, test_sll);
    tcase_add_test(tc, test_sll2);
    tcase_add_test(tc, test_null_both_orders);
    tcase_add_test(tc, test_raw);
    tcase_add_test(tc, test_ipv6_ext_headers);
    tcase_add_test(tc, test_tcp_options);
    tcase_add_test(tc, test_llc_snap);
    tcase_add_test(tc, test_arcnet);
    tcase_add_test(tc, test_nflog);
    suite_add_tcase(s, tc);

    tc = tcase_create("tunnels");
    tcase_add_test(tc, test_vxlan);
    tcase_add_test(tc, test_gre_key);
    tcase_add_test(tc, test_gre_checksum_teb_mpls);
    tcase_add_test(tc, test_tunnel_depth);
    tcase_add_test(tc, test_teredo);
    suite_add_tcase(s, tc);

    tc = tcase_create("robustness");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_ethernet_padding);
    tcase_add_test(tc, test_snaplen_payload);
    tcase_add_test(tc, test_truncated_every_prefix);
    tcase_add_test(tc, test_corrupted_frames);
    tcase_add_test(tc, test_shortcut_same_as_layers);
    tcase_add_test(tc, test_fragments);
    tcase_add_test(tc, test_nontcp_and_unsupported);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_ipv4_total_length_zero);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(decode_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

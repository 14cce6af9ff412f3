/* decode.h - link, network and transport decoding with bounds-checked reads.
 *
 * Every byte is read through struct ar_cur, which never reads past caplen.
 * Supported: Ethernet (802.1Q, QinQ, MPLS, PPPoE session with or without PPP
 * protocol compression, 802.3 LLC/SNAP), Linux SLL and SLL2, raw IPv4/IPv6,
 * BSD loopback/NULL, ARCNET (BSD and Linux), NFLOG; IPv4 (total length 0 from
 * TSO/GSO captures means "what was captured"), IPv6 (extension headers
 * skipped), TCP; VXLAN (UDP 4789), Teredo (UDP 3544, or any port when a
 * 2001:0::/32 address is inside) and GRE decapsulation (bounded depth). */
#ifndef AR_DECODE_H
#define AR_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include "../core/counters.h"

/* Bounds-checked cursor. Reads past the end set ->bad and return 0. */
struct ar_cur {
    const uint8_t *p;
    size_t len, off;
    int bad;
};

static inline void ar_cur_init(struct ar_cur *c, const uint8_t *p, size_t len)
{
    c->p = p; c->len = len; c->off = 0; c->bad = 0;
}
static inline size_t ar_cur_left(const struct ar_cur *c) { return c->len - c->off; }
static inline int ar_cur_need(struct ar_cur *c, size_t n)
{
    if (c->len - c->off < n) { c->bad = 1; return 0; }
    return 1;
}
static inline uint8_t ar_cur_u8(struct ar_cur *c)
{
    if (!ar_cur_need(c, 1)) return 0;
    return c->p[c->off++];
}
static inline uint16_t ar_cur_be16(struct ar_cur *c)
{
    if (!ar_cur_need(c, 2)) return 0;
    uint16_t v = (uint16_t)((c->p[c->off] << 8) | c->p[c->off + 1]);
    c->off += 2;
    return v;
}
static inline uint32_t ar_cur_be32(struct ar_cur *c)
{
    if (!ar_cur_need(c, 4)) return 0;
    const uint8_t *q = c->p + c->off;
    c->off += 4;
    return ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) | ((uint32_t)q[2] << 8) | q[3];
}
static inline int ar_cur_skip(struct ar_cur *c, size_t n)
{
    if (!ar_cur_need(c, n)) return 0;
    c->off += n;
    return 1;
}

#define AR_TCP_FIN 0x01
#define AR_TCP_SYN 0x02
#define AR_TCP_RST 0x04
#define AR_TCP_PSH 0x08
#define AR_TCP_ACK 0x10

struct ar_pkt {
    int family;                 /* 4 or 6 */
    uint8_t src[16], dst[16];   /* IPv4 in the first 4 bytes, rest zero */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;              /* AR_TCP_* */
    const uint8_t *payload;     /* TCP payload actually captured */
    uint32_t payload_len;       /* bytes captured (may be < wire payload) */
    uint32_t payload_wire_len;  /* payload length per the IP header */
    const uint8_t *l3;          /* innermost IP header, for nDPI */
    uint32_t l3_len;            /* captured bytes from l3 */
};

enum ar_decode_rc {
    AR_DEC_TCP = 0,     /* *out is a TCP segment */
    AR_DEC_SKIP = 1,    /* fine but not for us (counted: nontcp, unsupported, fragments) */
    AR_DEC_BAD = 2      /* truncated or malformed (counted apart) */
};

/* dlt is the pcap DLT/LINKTYPE value. */
enum ar_decode_rc ar_decode(int dlt, const uint8_t *data, uint32_t caplen,
                            struct ar_pkt *out, struct ar_counters *ctr);
/* ar_decode's shortcut alone: 1 and *out filled when the frame is a plain
 * Ethernet/IPv4/TCP segment (no options in IP, not a fragment, whole), which
 * ar_decode reads as TCP without touching a counter; else 0. */
int ar_decode_fast(int dlt, const uint8_t *data, uint32_t caplen, struct ar_pkt *out);
/* The same, layer by layer, without ar_decode's shortcut for the common
 * Ethernet/IPv4/TCP frame (for the test that compares the two). */
enum ar_decode_rc ar_decode_layers(int dlt, const uint8_t *data, uint32_t caplen,
                                   struct ar_pkt *out, struct ar_counters *ctr);

#endif

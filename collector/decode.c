/* decode.c - link, network and transport decoding, bounds-checked.
 *
 * Every packet byte is read through struct ar_cur (decode.h). A decoder layer
 * gets a pointer and two lengths where it matters: what was captured and what
 * the enclosing header says was sent. Reading past the captured bytes is
 * truncation (snaplen, cut file); a header whose own fields contradict each
 * other is malformed.
 *
 * Accounting, one verdict per packet:
 *   AR_DEC_TCP   a TCP segment; pkt_truncated once if its tail was not captured
 *   AR_DEC_SKIP  pkt_unsupported, pkt_nontcp or pkt_fragments
 *   AR_DEC_BAD   pkt_malformed, or pkt_truncated when headers were cut
 * pkt_tunnel is bumped once for a packet that went through VXLAN/GRE/IP-in-IP,
 * whatever the verdict. Truncation of a packet whose headers were complete
 * but which is skipped anyway (UDP payload, fragment) is not counted: it is
 * not a packet we lost. */
#include <string.h>
#include "decode.h"

/* LINKTYPE_* values (tcpdump.org/linktypes.html); pcap.h is not ours to include. */
#define LT_NULL        0
#define LT_ETHERNET    1
#define LT_RAW_12      12   /* DLT_RAW on most BSDs */
#define LT_RAW_14      14   /* DLT_RAW on OpenBSD */
#define LT_ARCNET_BSD  7
#define LT_ARCNET_LINUX 129
#define LT_RAW         101
#define LT_LOOP        108
#define LT_LINUX_SLL   113
#define LT_IPV4        228
#define LT_IPV6        229
#define LT_NFLOG       239
#define LT_LINUX_SLL2  276

#define ET_IPV4    0x0800
#define ET_IPV6    0x86DD
#define ET_VLAN    0x8100
#define ET_QINQ    0x88A8
#define ET_QINQ_OLD 0x9100
#define ET_MPLS_UC 0x8847
#define ET_MPLS_MC 0x8848
#define ET_PPPOE_S 0x8864
#define ET_TEB     0x6558   /* transparent Ethernet bridging (GRE) */

#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057

#define IPPROTO_V_IPIP  4
#define IPPROTO_V_TCP   6
#define IPPROTO_V_UDP   17
#define IPPROTO_V_IPV6  41
#define IPPROTO_V_GRE   47

#define VXLAN_PORT 4789
#define TEREDO_PORT 3544

#define MAX_TUNNEL_DEPTH 4   /* nested decapsulations */
#define MAX_IPV6_EXT     8   /* extension headers walked before giving up */

enum why { WHY_NONE = 0, WHY_TRUNC, WHY_MALFORMED, WHY_UNSUPPORTED, WHY_NONTCP, WHY_FRAGMENT };

struct dctx {
    struct ar_pkt *out;
    int depth;       /* decapsulations so far */
    int tunneled;    /* went through at least one tunnel */
    int truncated;   /* some layer saw fewer bytes captured than sent */
    enum why why;    /* reason for SKIP/BAD */
};

static enum ar_decode_rc skip(struct dctx *d, enum why w) { d->why = w; return AR_DEC_SKIP; }
static enum ar_decode_rc bad(struct dctx *d, enum why w) { d->why = w; return AR_DEC_BAD; }

static enum ar_decode_rc dec_eth(struct dctx *d, const uint8_t *p, size_t len);
static enum ar_decode_rc dec_llc(struct dctx *d, const uint8_t *p, size_t cap, size_t len);
static enum ar_decode_rc dec_ethertype(struct dctx *d, uint16_t et, const uint8_t *p, size_t len);
static enum ar_decode_rc dec_ip(struct dctx *d, const uint8_t *p, size_t len);
static enum ar_decode_rc dec_ipv4(struct dctx *d, const uint8_t *p, size_t len);
static enum ar_decode_rc dec_ipv6(struct dctx *d, const uint8_t *p, size_t len);

/* Copy n bytes out through the cursor. */
static int cur_copy(struct ar_cur *c, uint8_t *dst, size_t n)
{
    if (!ar_cur_need(c, n))
        return 0;
    memcpy(dst, c->p + c->off, n);
    c->off += n;
    return 1;
}

static int enter_tunnel(struct dctx *d)
{
    if (d->depth >= MAX_TUNNEL_DEPTH)
        return 0;
    d->depth++;
    d->tunneled = 1;
    return 1;
}

/* TCP. cap = bytes of the IP payload captured (<= wire), wire = IP payload
 * length according to the IP header. */
static enum ar_decode_rc dec_tcp(struct dctx *d, const uint8_t *p, size_t cap, size_t wire)
{
    struct ar_cur c;
    struct ar_pkt *o = d->out;

    if (wire < 20)
        return bad(d, WHY_MALFORMED);
    ar_cur_init(&c, p, cap);
    o->sport = ar_cur_be16(&c);
    o->dport = ar_cur_be16(&c);
    o->seq = ar_cur_be32(&c);
    o->ack = ar_cur_be32(&c);
    uint8_t off = ar_cur_u8(&c);
    uint8_t fl = ar_cur_u8(&c);
    ar_cur_skip(&c, 6); /* window, checksum, urgent */
    if (c.bad)
        return bad(d, WHY_TRUNC);
    size_t hl = (size_t)(off >> 4) * 4;
    if (hl < 20 || hl > wire)
        return bad(d, WHY_MALFORMED);
    if (!ar_cur_skip(&c, hl - 20))
        return bad(d, WHY_TRUNC);
    o->flags = fl;
    o->payload = p + hl;
    o->payload_len = (uint32_t)(cap - hl);
    o->payload_wire_len = (uint32_t)(wire - hl);
    return AR_DEC_TCP;
}

/* Teredo (RFC 4380): an IPv6 packet in UDP, optionally preceded by an
 * authentication indicator (type 1) and/or an origin indication (type 0).
 * Relays talk to clients on any port, so besides port 3544 a datagram is
 * Teredo when it is exactly one IPv6 packet (payload length + 40 == UDP
 * payload) with a Teredo (2001:0::/32) source or destination, as Zeek's
 * detection does. p/cap/wire: the UDP payload. Anything that does not parse
 * as Teredo is plain UDP (SKIP, nontcp). */
static enum ar_decode_rc dec_teredo(struct dctx *d, const uint8_t *p, size_t cap, size_t wire,
                                    int on_port)
{
    struct ar_cur c;
    size_t off = 0;
    int auth = 0, origin = 0;
    /* Cut before we can tell: on port 3544 that is truncation, elsewhere just UDP. */
    enum ar_decode_rc (*no)(struct dctx *, enum why) = on_port ? bad : skip;
    enum why cut = on_port ? WHY_TRUNC : WHY_NONTCP;

    for (;;) {                          /* auth, then origin, then IPv6: 3 rounds at most */
        ar_cur_init(&c, p, cap);
        ar_cur_skip(&c, off);
        uint8_t b0 = ar_cur_u8(&c);
        uint8_t b1 = ar_cur_u8(&c);
        if (wire - off < 2)
            return skip(d, WHY_NONTCP);
        if (c.bad)
            return no(d, cut);
        size_t hl;
        if (b0 == 0 && b1 == 1 && !auth && !origin) {
            /* type, id-len, au-len, client id, auth value, nonce(8), confirmation(1) */
            if (wire - off < 4)
                return skip(d, WHY_NONTCP);
            uint8_t idl = ar_cur_u8(&c);
            uint8_t aul = ar_cur_u8(&c);
            if (c.bad)
                return no(d, cut);
            hl = 4 + (size_t)idl + aul + 8 + 1;
            auth = 1;
        } else if (b0 == 0 && b1 == 0 && !origin) {
            hl = 8;                     /* type, obfuscated port and address */
            origin = 1;
        } else {
            break;                      /* the IPv6 packet */
        }
        if (wire - off < hl)
            return skip(d, WHY_NONTCP);
        off += hl;
    }
    if (wire - off < 40)
        return skip(d, WHY_NONTCP);
    ar_cur_init(&c, p, cap);
    ar_cur_skip(&c, off);
    uint8_t v = ar_cur_u8(&c);
    ar_cur_skip(&c, 3);
    size_t plen = ar_cur_be16(&c);
    ar_cur_skip(&c, 2);
    uint8_t a[16], b[16];
    cur_copy(&c, a, 16);
    cur_copy(&c, b, 16);
    if (c.bad)
        return no(d, cut);
    if ((v >> 4) != 6 || plen + 40 != wire - off)
        return skip(d, WHY_NONTCP);
    static const uint8_t pfx[4] = {0x20, 0x01, 0x00, 0x00};
    if (!on_port && memcmp(a, pfx, 4) != 0 && memcmp(b, pfx, 4) != 0)
        return skip(d, WHY_NONTCP);
    if (!enter_tunnel(d))
        return skip(d, WHY_UNSUPPORTED);
    return dec_ipv6(d, p + off, cap - off);
}

/* UDP: VXLAN and Teredo interest us. A port of 4789 may also be some
 * client's ephemeral port, so anything that does not look like VXLAN is
 * plain UDP. */
static enum ar_decode_rc dec_udp(struct dctx *d, const uint8_t *p, size_t cap, size_t wire)
{
    struct ar_cur c;

    if (wire < 8)
        return bad(d, WHY_MALFORMED);
    ar_cur_init(&c, p, cap);
    uint16_t sport = ar_cur_be16(&c);
    uint16_t dport = ar_cur_be16(&c);
    size_t ulen = ar_cur_be16(&c);
    ar_cur_skip(&c, 2);                 /* checksum */
    if (c.bad)
        return bad(d, WHY_TRUNC);
    if (ulen < 8 || ulen > wire)
        return skip(d, WHY_NONTCP);
    /* The datagram ends at the UDP length, even if the IP packet goes on. */
    if (cap > ulen)
        cap = ulen;
    if (sport != VXLAN_PORT && dport != VXLAN_PORT)
        return dec_teredo(d, p + 8, cap - 8, ulen - 8,
                          sport == TEREDO_PORT || dport == TEREDO_PORT);
    if (ulen < 16)
        return skip(d, WHY_NONTCP);
    ar_cur_init(&c, p, cap);
    ar_cur_skip(&c, 8);
    uint8_t flags = ar_cur_u8(&c);
    ar_cur_skip(&c, 7);                 /* reserved, VNI, reserved */
    if (c.bad)
        return bad(d, WHY_TRUNC);
    if (!(flags & 0x08)) /* I flag: a valid VNI. Anything else is not VXLAN as we know it. */
        return skip(d, WHY_NONTCP);
    if (!enter_tunnel(d))
        return skip(d, WHY_UNSUPPORTED);
    return dec_eth(d, p + 16, cap - 16);
}

/* GRE version 0 (RFC 2784 + RFC 2890 key and sequence). */
static enum ar_decode_rc dec_gre(struct dctx *d, const uint8_t *p, size_t cap)
{
    struct ar_cur c;

    ar_cur_init(&c, p, cap);
    uint16_t fv = ar_cur_be16(&c);
    uint16_t proto = ar_cur_be16(&c);
    if (c.bad)
        return bad(d, WHY_TRUNC);
    if ((fv & 0x0007) != 0 || (fv & 0x4000)) /* version 1 (PPTP) or source routing */
        return skip(d, WHY_UNSUPPORTED);
    if (fv & 0x8000) ar_cur_skip(&c, 4);    /* checksum + reserved1 */
    if (fv & 0x2000) ar_cur_skip(&c, 4);    /* key */
    if (fv & 0x1000) ar_cur_skip(&c, 4);    /* sequence number */
    if (c.bad)
        return bad(d, WHY_TRUNC);
    if (!enter_tunnel(d))
        return skip(d, WHY_UNSUPPORTED);
    const uint8_t *q = p + c.off;
    size_t n = ar_cur_left(&c);
    if (proto == ET_TEB)
        return dec_eth(d, q, n);
    return dec_ethertype(d, proto, q, n);
}

/* The transport layer of an IP packet (v4 or v6 after extension headers). */
static enum ar_decode_rc dec_l4(struct dctx *d, uint8_t proto, const uint8_t *p, size_t cap,
                                size_t wire)
{
    switch (proto) {
    case IPPROTO_V_TCP:
        return dec_tcp(d, p, cap, wire);
    case IPPROTO_V_UDP:
        return dec_udp(d, p, cap, wire);
    case IPPROTO_V_GRE:
        return dec_gre(d, p, cap);
    case IPPROTO_V_IPIP:
        if (!enter_tunnel(d))
            return skip(d, WHY_UNSUPPORTED);
        return dec_ipv4(d, p, cap);
    case IPPROTO_V_IPV6:
        if (!enter_tunnel(d))
            return skip(d, WHY_UNSUPPORTED);
        return dec_ipv6(d, p, cap);
    default:
        return skip(d, WHY_NONTCP);
    }
}

static void set_l3(struct dctx *d, const uint8_t *p, size_t len)
{
    d->out->l3 = p;
    d->out->l3_len = (uint32_t)(len > 65535 ? 65535 : len);
}

static enum ar_decode_rc dec_ipv4(struct dctx *d, const uint8_t *p, size_t len)
{
    struct ar_cur c;
    struct ar_pkt *o = d->out;

    ar_cur_init(&c, p, len);
    uint8_t vihl = ar_cur_u8(&c);
    if (c.bad)
        return bad(d, WHY_TRUNC);
    if ((vihl >> 4) != 4 || (vihl & 0x0f) < 5)
        return bad(d, WHY_MALFORMED);
    size_t hl = (size_t)(vihl & 0x0f) * 4;
    ar_cur_skip(&c, 1);                 /* DSCP/ECN */
    size_t tot = ar_cur_be16(&c);
    ar_cur_skip(&c, 2);                 /* identification */
    uint16_t frag = ar_cur_be16(&c);
    ar_cur_skip(&c, 1);                 /* TTL */
    uint8_t proto = ar_cur_u8(&c);
    ar_cur_skip(&c, 2);                 /* checksum */
    memset(o->src, 0, sizeof(o->src));
    memset(o->dst, 0, sizeof(o->dst));
    cur_copy(&c, o->src, 4);
    cur_copy(&c, o->dst, 4);
    if (c.bad)
        return bad(d, WHY_TRUNC);
    if (tot == 0)
        tot = len;  /* TSO/GSO: the stack had not filled it in yet; trust the capture */
    if (tot < hl)
        return bad(d, WHY_MALFORMED);
    if (!ar_cur_skip(&c, hl - 20))      /* options */
        return bad(d, WHY_TRUNC);
    o->family = 4;

    /* Trim to the total length: Ethernet pads short frames and the padding
     * must never become payload. */
    size_t cap = len;
    if (cap > tot)
        cap = tot;
    else if (cap < tot)
        d->truncated = 1;
    set_l3(d, p, cap);
    if (frag & 0x3fff) /* MF or a fragment offset */
        return skip(d, WHY_FRAGMENT);
    return dec_l4(d, proto, p + hl, cap - hl, tot - hl);
}

static enum ar_decode_rc dec_ipv6(struct dctx *d, const uint8_t *p, size_t len)
{
    struct ar_cur c;
    struct ar_pkt *o = d->out;

    ar_cur_init(&c, p, len);
    uint8_t v = ar_cur_u8(&c);
    if (c.bad)
        return bad(d, WHY_TRUNC);
    if ((v >> 4) != 6)
        return bad(d, WHY_MALFORMED);
    ar_cur_skip(&c, 3);                 /* traffic class, flow label */
    size_t plen = ar_cur_be16(&c);
    uint8_t nh = ar_cur_u8(&c);
    ar_cur_skip(&c, 1);                 /* hop limit */
    cur_copy(&c, o->src, 16);
    cur_copy(&c, o->dst, 16);
    if (c.bad)
        return bad(d, WHY_TRUNC);
    o->family = 6;

    size_t cap = len - 40;
    if (cap > plen)
        cap = plen;
    else if (cap < plen)
        d->truncated = 1;
    set_l3(d, p, 40 + cap);

    /* Extension headers, inside the payload: captured cap of wire plen. */
    size_t off = 0;
    for (int i = 0;; i++) {
        size_t hlen;
        struct ar_cur e;
        switch (nh) {
        case 0: case 43: case 60: case 135: case 139: case 140: case 51: case 44:
            break;
        default:
            return dec_l4(d, nh, p + 40 + off, cap - off, plen - off);
        }
        if (i >= MAX_IPV6_EXT)
            return skip(d, WHY_UNSUPPORTED);
        if (nh == 44)
            return skip(d, WHY_FRAGMENT); /* not reassembled, whatever the offset */
        if (plen - off < 2)
            return bad(d, WHY_MALFORMED);
        ar_cur_init(&e, p + 40 + off, cap - off);
        uint8_t next = ar_cur_u8(&e);
        uint8_t hx = ar_cur_u8(&e);
        if (e.bad)
            return bad(d, WHY_TRUNC);
        hlen = nh == 51 ? ((size_t)hx + 2) * 4 : ((size_t)hx + 1) * 8;
        if (hlen > plen - off)
            return bad(d, WHY_MALFORMED);
        if (!ar_cur_skip(&e, hlen - 2))
            return bad(d, WHY_TRUNC);
        off += hlen;
        nh = next;
    }
}

/* Raw IP: the version nibble decides. */
static enum ar_decode_rc dec_ip(struct dctx *d, const uint8_t *p, size_t len)
{
    struct ar_cur c;

    ar_cur_init(&c, p, len);
    uint8_t v = ar_cur_u8(&c);
    if (c.bad)
        return bad(d, WHY_TRUNC);
    switch (v >> 4) {
    case 4: return dec_ipv4(d, p, len);
    case 6: return dec_ipv6(d, p, len);
    default: return bad(d, WHY_MALFORMED);
    }
}

/* Everything that an EtherType may announce (Ethernet, SLL, SLL2, GRE). */
static enum ar_decode_rc dec_ethertype(struct dctx *d, uint16_t et, const uint8_t *p, size_t len)
{
    struct ar_cur c;

    ar_cur_init(&c, p, len);
    /* VLAN tags, any depth: each costs 4 bytes, so the frame bounds the loop. */
    while (et == ET_VLAN || et == ET_QINQ || et == ET_QINQ_OLD) {
        ar_cur_skip(&c, 2);             /* TCI */
        et = ar_cur_be16(&c);
        if (c.bad)
            return bad(d, WHY_TRUNC);
    }
    const uint8_t *q = p + c.off;
    size_t n = ar_cur_left(&c);

    switch (et) {
    case ET_IPV4:
        return dec_ipv4(d, q, n);
    case ET_IPV6:
        return dec_ipv6(d, q, n);
    case ET_MPLS_UC:
    case ET_MPLS_MC: {
        uint32_t lse;
        do {
            lse = ar_cur_be32(&c);
            if (c.bad)
                return bad(d, WHY_TRUNC);
        } while (!(lse & 0x100));       /* bottom of stack */
        q = p + c.off;
        n = ar_cur_left(&c);
        uint8_t v = ar_cur_u8(&c);
        if (c.bad)
            return bad(d, WHY_TRUNC);
        if ((v >> 4) == 4)
            return dec_ipv4(d, q, n);
        if ((v >> 4) == 6)
            return dec_ipv6(d, q, n);
        return skip(d, WHY_UNSUPPORTED); /* pseudowire, control word, ... */
    }
    case ET_PPPOE_S: {
        uint8_t vt = ar_cur_u8(&c);
        uint8_t code = ar_cur_u8(&c);
        ar_cur_skip(&c, 4);             /* session id, length */
        /* PPP protocol field compression (RFC 1661 6.5): a protocol whose
         * first byte is odd was sent as that one byte (0x21 for IPv4). */
        uint16_t pp = ar_cur_u8(&c);
        if (!(pp & 1))
            pp = (uint16_t)((pp << 8) | ar_cur_u8(&c));
        if (c.bad)
            return bad(d, WHY_TRUNC);
        if (vt != 0x11 || code != 0)
            return skip(d, WHY_UNSUPPORTED);
        q = p + c.off;
        n = ar_cur_left(&c);
        if (pp == PPP_IPV4)
            return dec_ipv4(d, q, n);
        if (pp == PPP_IPV6)
            return dec_ipv6(d, q, n);
        return skip(d, WHY_UNSUPPORTED); /* LCP, IPCP, ... */
    }
    default:
        return skip(d, WHY_UNSUPPORTED); /* ARP, LLDP, 802.3 length, ... */
    }
}

/* IEEE 802.3 with an 802.2 LLC header: only SNAP (AA AA 03) with an
 * encapsulated EtherType (OUI 00-00-00, or 00-00-F8 for Cisco's 802.1H)
 * carries IP for us. len is the 802.3 length field (bytes after the MAC
 * header); padding after it is not ours. */
static enum ar_decode_rc dec_llc(struct dctx *d, const uint8_t *p, size_t cap, size_t len)
{
    struct ar_cur c;

    if (cap > len)
        cap = len;
    ar_cur_init(&c, p, cap);
    uint8_t dsap = ar_cur_u8(&c);
    uint8_t ssap = ar_cur_u8(&c);
    uint8_t ctl = ar_cur_u8(&c);
    if (c.bad)
        return len < 3 ? bad(d, WHY_MALFORMED) : bad(d, WHY_TRUNC);
    if (dsap != 0xAA || ssap != 0xAA || ctl != 0x03)
        return skip(d, WHY_UNSUPPORTED);   /* STP, NetBIOS, IPX, ... */
    uint32_t oui = (uint32_t)ar_cur_u8(&c) << 16;
    oui |= (uint32_t)ar_cur_be16(&c);
    uint16_t et = ar_cur_be16(&c);
    if (c.bad)
        return len < 8 ? bad(d, WHY_MALFORMED) : bad(d, WHY_TRUNC);
    if (oui != 0x000000 && oui != 0x0000F8)
        return skip(d, WHY_UNSUPPORTED);   /* vendor protocols (CDP, ...) */
    return dec_ethertype(d, et, p + 8, cap - 8);
}

static enum ar_decode_rc dec_eth(struct dctx *d, const uint8_t *p, size_t len)
{
    struct ar_cur c;

    ar_cur_init(&c, p, len);
    ar_cur_skip(&c, 12);                /* destination, source */
    uint16_t et = ar_cur_be16(&c);
    if (c.bad)
        return bad(d, WHY_TRUNC);
    if (et <= 1500)                     /* an 802.3 length, not an EtherType */
        return dec_llc(d, p + 14, len - 14, et);
    return dec_ethertype(d, et, p + 14, len - 14);
}

/* ARCNET (LINKTYPE_ARCNET_BSD 7, LINKTYPE_ARCNET_LINUX 129), as tcpdump's
 * print-arcnet.c reads it: source, destination, [Linux: 2-byte offset],
 * protocol id; the RFC 1201 protocol ids then have a split flag and a
 * sequence number (BSD: an exception packet, flag 0xff, repeats them after
 * 4 bytes), the old RFC 1051 ones (IP 240, ARP 241) have nothing more. A
 * packet that RFC 1201 split into fragments is not reassembled. */
#define ARC_IP_OLD   240
#define ARC_ARP_OLD  241
#define ARC_DIAGNOSE 0x80
#define ARC_IP       212
#define ARC_INET6    0xC4

static enum ar_decode_rc dec_arcnet(struct dctx *d, const uint8_t *p, size_t len, int linux_hdr)
{
    struct ar_cur c;

    ar_cur_init(&c, p, len);
    ar_cur_skip(&c, linux_hdr ? 4 : 2); /* source, destination, [offset] */
    uint8_t type = ar_cur_u8(&c);
    if (c.bad)
        return bad(d, WHY_TRUNC);
    if (type != ARC_IP_OLD && type != ARC_ARP_OLD && type != ARC_DIAGNOSE) {
        uint8_t flag = ar_cur_u8(&c);
        ar_cur_skip(&c, 2);             /* sequence id */
        if (!linux_hdr && flag == 0xff) {
            ar_cur_skip(&c, 1);         /* exception packet: padding, then again */
            flag = ar_cur_u8(&c);
            ar_cur_skip(&c, 2);
        }
        if (c.bad)
            return bad(d, WHY_TRUNC);
        if (flag != 0)
            return skip(d, WHY_FRAGMENT); /* split packet (RFC 1201) */
    }
    const uint8_t *q = p + c.off;
    size_t n = ar_cur_left(&c);
    switch (type) {
    case ARC_IP_OLD:
    case ARC_IP:
        return dec_ipv4(d, q, n);
    case ARC_INET6:
        return dec_ipv6(d, q, n);
    default:
        return skip(d, WHY_UNSUPPORTED); /* ARP, IPX, AppleTalk, diagnostics */
    }
}

/* Linux NFLOG (LINKTYPE_NFLOG 239): family, version, resource id (4 bytes),
 * then TLVs: length (including the 4-byte TLV header) and type, both in the
 * capturing host's byte order, which libpcap converts to ours when it reads
 * a file from the other byte order; each TLV padded to 4. NFULA_PAYLOAD (9)
 * is the IP packet. */
#define NFULA_PAYLOAD 9

static uint16_t cur_h16(struct ar_cur *c)
{
    uint16_t v = 0;
    if (ar_cur_need(c, 2)) {
        memcpy(&v, c->p + c->off, 2);
        c->off += 2;
    }
    return v;
}

static enum ar_decode_rc dec_nflog(struct dctx *d, const uint8_t *p, size_t len)
{
    struct ar_cur c;

    ar_cur_init(&c, p, len);
    uint8_t family = ar_cur_u8(&c);
    uint8_t version = ar_cur_u8(&c);
    ar_cur_skip(&c, 2);                 /* resource id (group), big-endian */
    if (c.bad)
        return bad(d, WHY_TRUNC);
    if (version != 0)
        return skip(d, WHY_UNSUPPORTED);
    /* Every TLV is at least 4 bytes, so the packet bounds the loop. */
    while (ar_cur_left(&c) > 0) {
        size_t at = c.off;
        size_t tl = cur_h16(&c);
        uint16_t type = cur_h16(&c) & 0x3fff; /* without NLA_F_NESTED / NET_BYTEORDER */
        if (c.bad)
            return bad(d, WHY_TRUNC);
        if (tl < 4)
            return bad(d, WHY_MALFORMED);
        if (type == NFULA_PAYLOAD) {
            const uint8_t *q = p + c.off;
            size_t n = ar_cur_left(&c);
            if (n > tl - 4)
                n = tl - 4;
            if (family == 2)
                return dec_ipv4(d, q, n);
            if (family == 10)
                return dec_ipv6(d, q, n);
            return dec_ip(d, q, n);     /* AF_UNSPEC: trust the version */
        }
        c.off = at;
        if (!ar_cur_skip(&c, tl))
            return bad(d, WHY_TRUNC);
        size_t pad = ((tl + 3) & ~(size_t)3) - tl;
        ar_cur_skip(&c, pad < ar_cur_left(&c) ? pad : ar_cur_left(&c)); /* last may be unpadded */
    }
    return skip(d, WHY_NONTCP);         /* no payload TLV (a verdict-only message) */
}

/* BSD loopback: the address family, 4 bytes. */
static int af_is_ipv6(uint32_t af) { return af == 10 || af == 24 || af == 28 || af == 30; }

static enum ar_decode_rc dec_null(struct dctx *d, const uint8_t *p, size_t len, int net_order)
{
    struct ar_cur c;

    ar_cur_init(&c, p, len);
    uint32_t be = ar_cur_be32(&c);
    if (c.bad)
        return bad(d, WHY_TRUNC);
    uint32_t le = ((be & 0xff) << 24) | ((be & 0xff00) << 8) | ((be >> 8) & 0xff00) | (be >> 24);
    /* DLT_NULL is in the writer's byte order, which we do not know: a
     * family is a small number, so whichever reading is small wins. */
    uint32_t af = net_order ? be : (be <= 0xffff ? be : le);
    if (af == 2)
        return dec_ipv4(d, p + 4, len - 4);
    if (af_is_ipv6(af))
        return dec_ipv6(d, p + 4, len - 4);
    return skip(d, WHY_UNSUPPORTED);
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* The common frame, Ethernet + IPv4 without options + TCP, whole and not a
 * fragment, decoded in one go (a third of the decoding time on the
 * benchmark capture). Anything else, or anything odd about it, returns 0
 * and goes through the layers above, which give the same result for the
 * frames accepted here (check_decode compares the two on every frame). */
static int fast_eth_ipv4_tcp(const uint8_t *p, uint32_t caplen, struct ar_pkt *o)
{
    if (caplen < 54 || p[12] != 0x08 || p[13] != 0x00 || p[14] != 0x45 || p[23] != 6)
        return 0;
    const uint8_t *ip = p + 14, *tcp = ip + 20;
    size_t tot = be16(ip + 2), cap = caplen - 14u;
    if (tot < 40 || tot > cap || (be16(ip + 6) & 0x3fff))
        return 0;                           /* TSO length 0, cut short, a fragment */
    size_t hl = (size_t)(tcp[12] >> 4) * 4;
    if (hl < 20 || hl > tot - 20)
        return 0;
    o->family = 4;              /* every field is set: no memset of the whole */
    memcpy(o->src, ip + 12, 4);
    memset(o->src + 4, 0, 12);
    memcpy(o->dst, ip + 16, 4);
    memset(o->dst + 4, 0, 12);
    o->sport = be16(tcp);
    o->dport = be16(tcp + 2);
    o->seq = be32(tcp + 4);
    o->ack = be32(tcp + 8);
    o->flags = tcp[13];
    o->payload = tcp + hl;
    o->payload_len = o->payload_wire_len = (uint32_t)(tot - 20 - hl);
    o->l3 = ip;
    o->l3_len = (uint32_t)tot;
    return 1;
}

int ar_decode_fast(int dlt, const uint8_t *data, uint32_t caplen, struct ar_pkt *out)
{
    return dlt == LT_ETHERNET && data && fast_eth_ipv4_tcp(data, caplen, out);
}

enum ar_decode_rc ar_decode(int dlt, const uint8_t *data, uint32_t caplen,
                            struct ar_pkt *out, struct ar_counters *ctr)
{
    if (ar_decode_fast(dlt, data, caplen, out))
        return AR_DEC_TCP;
    return ar_decode_layers(dlt, data, caplen, out, ctr);
}

enum ar_decode_rc ar_decode_layers(int dlt, const uint8_t *data, uint32_t caplen,
                                   struct ar_pkt *out, struct ar_counters *ctr)
{
    struct dctx d;
    enum ar_decode_rc rc;
    struct ar_cur c;
    size_t len = data ? caplen : 0;

    memset(out, 0, sizeof(*out));
    memset(&d, 0, sizeof(d));
    d.out = out;

    switch (dlt) {
    case LT_ETHERNET:
        rc = dec_eth(&d, data, len);
        break;
    case LT_NULL:
        rc = dec_null(&d, data, len, 0);
        break;
    case LT_LOOP:
        rc = dec_null(&d, data, len, 1);
        break;
    case LT_RAW_12:
    case LT_RAW_14:
    case LT_RAW:
        rc = dec_ip(&d, data, len);
        break;
    case LT_IPV4:
        rc = dec_ipv4(&d, data, len);
        break;
    case LT_IPV6:
        rc = dec_ipv6(&d, data, len);
        break;
    case LT_ARCNET_BSD:
        rc = dec_arcnet(&d, data, len, 0);
        break;
    case LT_ARCNET_LINUX:
        rc = dec_arcnet(&d, data, len, 1);
        break;
    case LT_NFLOG:
        rc = dec_nflog(&d, data, len);
        break;
    case LT_LINUX_SLL: {
        ar_cur_init(&c, data, len);
        ar_cur_skip(&c, 14);            /* packet type, ARPHRD, address length, address */
        uint16_t et = ar_cur_be16(&c);
        rc = c.bad ? bad(&d, WHY_TRUNC) : dec_ethertype(&d, et, data + 16, len - 16);
        break;
    }
    case LT_LINUX_SLL2: {
        ar_cur_init(&c, data, len);
        uint16_t et = ar_cur_be16(&c);
        ar_cur_skip(&c, 18);            /* reserved, ifindex, ARPHRD, type, address */
        rc = c.bad ? bad(&d, WHY_TRUNC) : dec_ethertype(&d, et, data + 20, len - 20);
        break;
    }
    default:
        rc = skip(&d, WHY_UNSUPPORTED);
        break;
    }

    if (d.tunneled)
        AR_INC(ctr, pkt_tunnel);
    if (rc == AR_DEC_TCP) {
        if (d.truncated)
            AR_INC(ctr, pkt_truncated);
        return rc;
    }
    switch (d.why) {
    case WHY_TRUNC:       AR_INC(ctr, pkt_truncated); break;
    case WHY_MALFORMED:   AR_INC(ctr, pkt_malformed); break;
    case WHY_UNSUPPORTED: AR_INC(ctr, pkt_unsupported); break;
    case WHY_NONTCP:      AR_INC(ctr, pkt_nontcp); break;
    case WHY_FRAGMENT:    AR_INC(ctr, pkt_fragments); break;
    case WHY_NONE:        break;
    }
    /* A BAD/SKIP verdict leaves no half-filled segment behind. */
    memset(out, 0, sizeof(*out));
    return rc;
}

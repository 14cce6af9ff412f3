/* reasm.c - TCP reassembly for one direction (see reasm.h for the contract).
 *
 * State is next_seq (the next byte owed to the consumer) and a sorted list of
 * buffered out-of-order segments whose captured ranges never overlap one
 * another: when a new early segment overlaps buffered bytes, only its new
 * bytes are stored (first data wins) and a difference in the overlapping
 * bytes is counted in tcp_overlap_diff.
 *
 * What we cannot see: bytes already delivered are not kept, so a
 * retransmission that differs from what was delivered is dropped without
 * being compared (only buffered-vs-buffered and in-order-vs-buffered overlaps
 * are compared).
 *
 * Snaplen: a segment may carry fewer bytes (len) than were sent (wire). The
 * missing tail is reported as a gap when delivery reaches it, unless other
 * captured data for the same sequence range is available, which then fills
 * it. A buffered segment keeps its wire length for that purpose and, once
 * drained, leaves its tail in s->tail_end.
 *
 * Invariant between calls: every buffered segment starts after next_seq
 * (anything at or before it is drained by advance()).
 *
 * Callbacks must not call back into this stream. */
#include <stdlib.h>
#include <string.h>
#include "reasm.h"
#include "decode.h"

struct ar_seg {
    struct ar_seg *next;
    uint32_t seq;       /* first byte */
    uint32_t len;       /* bytes captured, in data[] */
    uint32_t wire;      /* bytes sent from seq (>= len): the rest is a snaplen tail */
    uint8_t data[];
};

/* 32-bit serial number arithmetic (RFC 1982): a is before b when the
 * distance from b to a, taken modulo 2^32, is "negative". */
static inline int seq_lt(uint32_t a, uint32_t b) { return (uint32_t)(a - b) > 0x7fffffffu; }
static inline int seq_leq(uint32_t a, uint32_t b) { return a == b || seq_lt(a, b); }
static inline int seq_gt(uint32_t a, uint32_t b) { return seq_lt(b, a); }
static inline int seq_geq(uint32_t a, uint32_t b) { return seq_leq(b, a); }
static inline uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

static void emit(const struct ar_reasm_ctx *ctx, void *ud, int dir, const uint8_t *p, uint32_t n)
{
    if (n && ctx->on_data)
        ctx->on_data(ud, dir, p, n);
}

/* Skip n bytes never seen. */
static void gap(struct ar_stream *s, const struct ar_reasm_ctx *ctx, void *ud, int dir, uint32_t n)
{
    if (!n)
        return;
    AR_INC(ctx->ctr, tcp_gaps);
    AR_ADD(ctx->ctr, tcp_gap_bytes, n);
    s->next_seq += n;
    if (ctx->on_gap)
        ctx->on_gap(ud, dir, n);
}

static void seg_release(struct ar_stream *s, const struct ar_reasm_ctx *ctx, struct ar_seg *h)
{
    s->ooo_bytes -= h->len;
    s->ooo_count--;
    if (ctx->ooo_total)
        *ctx->ooo_total -= h->len;
    free(h);
}

static void note_tail(struct ar_stream *s, uint32_t end)
{
    if (!s->tail || seq_gt(end, s->tail_end)) {
        s->tail = 1;
        s->tail_end = end;
    }
}

static void check_fin(struct ar_stream *s, const struct ar_reasm_ctx *ctx, void *ud, int dir)
{
    if (s->fin && !s->fin_done && seq_geq(s->next_seq, s->fin_seq)) {
        s->fin_done = 1;
        if (ctx->on_fin)
            ctx->on_fin(ud, dir);
    }
}

/* Deliver whatever became contiguous: buffered segments starting at or
 * before next_seq, and snaplen tails (as gaps) up to the next buffered byte. */
static void advance(struct ar_stream *s, const struct ar_reasm_ctx *ctx, void *ud, int dir)
{
    for (;;) {
        struct ar_seg *h = s->ooo;
        if (h && seq_leq(h->seq, s->next_seq)) {
            s->ooo = h->next;
            uint32_t wend = h->seq + h->wire;
            if (seq_gt(wend, s->next_seq)) {
                uint32_t off = s->next_seq - h->seq;
                if (off < h->len) {
                    emit(ctx, ud, dir, h->data + off, h->len - off);
                    s->next_seq = h->seq + h->len;
                }
                if (h->wire > h->len)
                    note_tail(s, wend);
            }
            seg_release(s, ctx, h);
            continue;
        }
        if (s->tail) {
            if (seq_lt(s->next_seq, s->tail_end)) {
                uint32_t lim = s->tail_end;
                if (h && seq_lt(h->seq, lim))
                    lim = h->seq;
                gap(s, ctx, ud, dir, lim - s->next_seq);
                continue;
            }
            s->tail = 0;
        }
        break;
    }
    check_fin(s, ctx, ud, dir);
}

/* A segment starting exactly at next_seq: deliver it from the packet. Bytes
 * that an earlier buffered segment already holds are taken from the buffer
 * (first data wins); the overlap is compared. */
static void deliver_inorder(struct ar_stream *s, const struct ar_reasm_ctx *ctx, void *ud, int dir,
                            const uint8_t *data, uint32_t len, uint32_t wire)
{
    while (wire > 0) {
        struct ar_seg *h = s->ooo; /* NULL or h->seq > next_seq */
        uint32_t lim = wire;
        if (h && seq_lt(h->seq, s->next_seq + wire))
            lim = h->seq - s->next_seq;
        uint32_t c = min32(lim, len);
        emit(ctx, ud, dir, data, c);
        s->next_seq += c;
        if (lim > c) /* snaplen tail, up to the buffered data */
            gap(s, ctx, ud, dir, lim - c);
        if (c) {
            data += c;
            len -= c;
        }
        wire -= lim;
        if (wire == 0)
            break;
        /* h starts at next_seq, inside this segment. */
        uint32_t ov = min32(len, h->len);
        if (ov && memcmp(data, h->data, ov) != 0)
            AR_INC(ctx->ctr, tcp_overlap_diff);
        uint32_t start = s->next_seq;
        advance(s, ctx, ud, dir);
        uint32_t done = s->next_seq - start;
        if (done >= wire)
            return; /* advance() ran check_fin already */
        uint32_t cs = min32(done, len);
        if (cs) {
            data += cs;
            len -= cs;
        }
        wire -= done;
    }
    advance(s, ctx, ud, dir);
}

/* Store the new bytes of an early segment. Returns 0 when stored (or when
 * nothing in it was new), -1 when a bound would be exceeded (counted) or
 * memory ran out. */
static int ooo_insert(struct ar_stream *s, const struct ar_reasm_ctx *ctx,
                      uint32_t seq, const uint8_t *data, uint32_t len, uint32_t wire)
{
    const struct ar_limits *L = ctx->lim;
    const uint32_t end = seq + len, wend = seq + wire;
    uint64_t nbytes = 0, nsegs = 0;
    int diff = 0, stored = 0;

    /* Pass 0 measures, pass 1 stores. Buffered captured ranges are disjoint
     * and sorted, so the new segment splits into at most one piece before
     * each of them plus one after. */
    for (int pass = 0; pass < 2; pass++) {
        struct ar_seg **link = &s->ooo, *e;
        uint32_t pos = seq;
        while ((e = *link) != NULL) {
            uint32_t eend = e->seq + e->len;
            if (seq_leq(eend, pos)) {
                link = &e->next;
                continue;
            }
            if (seq_geq(e->seq, end))
                break;
            if (seq_lt(pos, e->seq)) {
                uint32_t n = e->seq - pos;
                if (pass == 0) {
                    nbytes += n;
                    nsegs++;
                } else {
                    struct ar_seg *g = malloc(sizeof(*g) + n);
                    if (!g)
                        return -1;
                    g->seq = pos;
                    g->len = g->wire = n;
                    memcpy(g->data, data + (pos - seq), n);
                    g->next = e;
                    *link = g;
                    link = &g->next;
                    s->ooo_bytes += n;
                    s->ooo_count++;
                    if (ctx->ooo_total)
                        *ctx->ooo_total += n;
                    stored = 1;
                }
                pos = e->seq;
            }
            /* overlap [pos, min(end, eend)) with e's bytes */
            uint32_t oe = seq_lt(end, eend) ? end : eend;
            if (pass == 0 && oe != pos &&
                memcmp(data + (pos - seq), e->data + (pos - e->seq), oe - pos) != 0)
                diff = 1;
            pos = eend;
            link = &e->next;
        }
        /* The last piece: captured bytes after every overlap, plus the
         * snaplen tail (which may be all there is). */
        uint32_t n = seq_lt(pos, end) ? end - pos : 0;
        uint32_t w = seq_lt(pos, wend) ? wend - pos : 0;
        if (w > 0) {
            if (pass == 0) {
                nbytes += n;
                nsegs++;
            } else {
                struct ar_seg *g = malloc(sizeof(*g) + n);
                if (!g)
                    return -1;
                g->seq = pos;
                g->len = n;
                g->wire = w;
                if (n)
                    memcpy(g->data, data + (pos - seq), n);
                g->next = *link;
                *link = g;
                s->ooo_bytes += n;
                s->ooo_count++;
                if (ctx->ooo_total)
                    *ctx->ooo_total += n;
                stored = 1;
            }
        }
        if (pass == 0) {
            if (nsegs == 0) { /* every byte already buffered */
                AR_INC(ctx->ctr, tcp_retransmitted);
                break;
            }
            if (s->ooo_count + nsegs > L->ooo_segments) {
                AR_INC(ctx->ctr, limit_ooo_segments);
                return -1;
            }
            if (s->ooo_bytes + nbytes > L->ooo_bytes) {
                AR_INC(ctx->ctr, limit_ooo_bytes);
                return -1;
            }
            if (ctx->ooo_total && *ctx->ooo_total + nbytes > L->ooo_total_bytes) {
                AR_INC(ctx->ctr, limit_ooo_total_bytes);
                return -1;
            }
        }
    }
    if (stored)
        AR_INC(ctx->ctr, tcp_out_of_order);
    if (diff)
        AR_INC(ctx->ctr, tcp_overlap_diff);
    return 0;
}

static void process(struct ar_stream *s, const struct ar_reasm_ctx *ctx, void *ud, int dir,
                    uint32_t seq, const uint8_t *data, uint32_t len, uint32_t wire)
{
    for (;;) {
        if (seq_leq(seq + wire, s->next_seq)) {
            AR_INC(ctx->ctr, tcp_retransmitted);
            return;
        }
        if (seq_lt(seq, s->next_seq)) { /* partly old: keep the new tail */
            uint32_t skip = s->next_seq - seq;
            uint32_t cs = min32(skip, len);
            if (cs) { /* data may be NULL when nothing was captured */
                data += cs;
                len -= cs;
            }
            wire -= skip;
            seq = s->next_seq;
        }
        if (seq == s->next_seq) {
            deliver_inorder(s, ctx, ud, dir, data, len, wire);
            return;
        }
        if (ooo_insert(s, ctx, seq, data, len, wire) == 0)
            return;
        /* A bound was hit: give up on the first hole, deliver what follows
         * it, and try again. When this segment itself is the first thing
         * after the hole it is delivered straight from the packet. */
        struct ar_seg *h = s->ooo;
        uint32_t to = (h && seq_lt(h->seq, seq)) ? h->seq : seq;
        gap(s, ctx, ud, dir, to - s->next_seq);
        advance(s, ctx, ud, dir);
    }
}

void ar_stream_init(struct ar_stream *s)
{
    memset(s, 0, sizeof(*s));
}

void ar_stream_segment(struct ar_stream *s, const struct ar_reasm_ctx *ctx, void *ud, int dir,
                       uint32_t seq, uint8_t flags, const uint8_t *data, uint32_t len,
                       uint32_t wire_len)
{
    if (!data)
        len = 0;
    if (wire_len < len)
        wire_len = len;
    if ((flags & AR_TCP_SYN) && s->init && !s->established && (!s->syn || s->isn != seq) &&
        s->next_seq == s->start && !s->ooo && !s->tail) {
        /* A new ISN before anything was carried or acknowledged: the
         * connection that the old one began never happened. Start over. */
        ar_stream_free(s, ctx);
        ar_stream_init(s);
    }
    if (flags & AR_TCP_SYN) {
        if (!s->init) {
            s->syn = 1;
            s->isn = seq;
        }
        seq++; /* the SYN occupies the ISN; data (TFO) starts after it */
    }
    if (!s->init) {
        s->next_seq = s->start = seq;
        s->init = 1;
    }
    if ((flags & AR_TCP_FIN) && !s->fin) {
        s->fin = 1;
        s->fin_seq = seq + wire_len;
    }
    if (wire_len > 0) {
        AR_INC(ctx->ctr, tcp_segments);
        if (s->fin) { /* nothing exists after the FIN */
            if (seq_geq(seq, s->fin_seq)) {
                wire_len = len = 0;
            } else if (seq_gt(seq + wire_len, s->fin_seq)) {
                wire_len = s->fin_seq - seq;
                len = min32(len, wire_len);
            }
        }
        if (wire_len > 0)
            process(s, ctx, ud, dir, seq, data, len, wire_len);
    }
    advance(s, ctx, ud, dir);
}

void ar_stream_ack(struct ar_stream *s, const struct ar_reasm_ctx *ctx, void *ud, int dir,
                   uint32_t ack)
{
    if (!s->init)
        return;
    if (s->syn && !s->established && seq_gt(ack, s->isn) && seq_leq(ack, s->next_seq))
        s->established = 1; /* the peer took the SYN (and what we saw after it) */
    if (!s->ooo || !seq_gt(ack, s->ooo->seq))
        return;
    /* One ACK past a hole is not enough: in a capture reordered on its way to
     * the sniffer, the ACK may come just before the segment that fills the
     * hole. The hole is skipped when a second ACK still proves it. */
    if (s->hole_acks == 0 || s->hole_seq != s->next_seq) {
        s->hole_seq = s->next_seq;
        s->hole_acks = 1;
        return;
    }
    s->hole_acks = 0;
    while (s->ooo && seq_gt(ack, s->ooo->seq)) {
        uint32_t to = s->ooo->seq;
        if (seq_gt(to, s->next_seq))
            gap(s, ctx, ud, dir, to - s->next_seq);
        advance(s, ctx, ud, dir);
    }
}

void ar_stream_flush(struct ar_stream *s, const struct ar_reasm_ctx *ctx, void *ud, int dir)
{
    while (s->ooo) {
        uint32_t to = s->ooo->seq;
        if (seq_gt(to, s->next_seq))
            gap(s, ctx, ud, dir, to - s->next_seq);
        advance(s, ctx, ud, dir);
    }
    advance(s, ctx, ud, dir); /* snaplen tail of the last segment */
    if (s->fin && !s->fin_done) {
        if (seq_lt(s->next_seq, s->fin_seq))
            gap(s, ctx, ud, dir, s->fin_seq - s->next_seq);
        check_fin(s, ctx, ud, dir);
    }
}

void ar_stream_free(struct ar_stream *s, const struct ar_reasm_ctx *ctx)
{
    struct ar_seg *h = s->ooo;
    while (h) {
        struct ar_seg *n = h->next;
        seg_release(s, ctx, h);
        h = n;
    }
    s->ooo = NULL;
}

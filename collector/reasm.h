/* reasm.h - TCP reassembly for one direction of a connection.
 *
 * In-order bytes are handed to the data callback straight from the packet
 * (no copy). Early segments are copied into a bounded out-of-order list.
 * Retransmitted and overlapping bytes are delivered once: the first data
 * wins, and overlaps whose bytes differ are counted. Holes are skipped and
 * reported through the gap callback when (a) the out-of-order bounds are hit,
 * (b) the peer acknowledges bytes never seen, or (c) the stream is flushed. */
#ifndef AR_REASM_H
#define AR_REASM_H

#include <stdint.h>
#include "../core/counters.h"
#include "../core/limits.h"

struct ar_seg;  /* buffered out-of-order segment (private) */

struct ar_stream {
    uint32_t next_seq;      /* next byte expected */
    int init;               /* next_seq is valid */
    int fin;                /* FIN seen: no data after fin_seq */
    uint32_t fin_seq;
    struct ar_seg *ooo;     /* sorted by seq */
    uint32_t ooo_bytes;
    uint32_t ooo_count;
    /* private */
    int syn;                /* started by a SYN: isn is valid */
    uint32_t isn;
    uint32_t start;         /* first data sequence number */
    int established;        /* the peer acknowledged the SYN */
    uint32_t hole_seq;      /* next_seq when an ACK first proved the hole after it */
    int hole_acks;          /* ACKs past that hole so far (a hole is skipped on the 2nd) */
    int fin_done;           /* on_fin was called */
    int tail;               /* bytes up to tail_end were sent but not captured */
    uint32_t tail_end;
};

struct ar_reasm_ctx {
    const struct ar_limits *lim;
    struct ar_counters *ctr;
    uint64_t *ooo_total;    /* bytes buffered over all streams (shared) */
    void (*on_data)(void *ud, int dir, const uint8_t *data, uint32_t len);
    void (*on_gap)(void *ud, int dir, uint32_t missing_bytes);
    void (*on_fin)(void *ud, int dir);   /* FIN reached in order (or at flush) */
};

void ar_stream_init(struct ar_stream *s);
/* A segment of this direction. With SYN, seq is the ISN (data starts at seq+1).
 * The first segment of a stream without SYN starts it at its own seq.
 * A SYN with another ISN restarts a stream that has carried nothing yet and
 * whose SYN the peer has not acknowledged (as Linux does: a SYN retransmitted
 * with a new ISN, or a SYN after a RST/FIN that ended a connection before it
 * started); after the handshake such a SYN is ignored.
 * len bytes were captured out of wire_len sent (snaplen): the missing tail is
 * a gap once delivery reaches it. */
void ar_stream_segment(struct ar_stream *s, const struct ar_reasm_ctx *ctx, void *ud, int dir,
                       uint32_t seq, uint8_t flags, const uint8_t *data, uint32_t len,
                       uint32_t wire_len);
/* The other direction acknowledged `ack` for this stream. A cumulative ACK
 * past the first buffered segment proves the hole before it was sent and
 * received, only not captured: skip it (gap) and deliver what follows. An ACK
 * with nothing buffered beyond it changes nothing (the data may yet arrive
 * late in a reordered capture). */
void ar_stream_ack(struct ar_stream *s, const struct ar_reasm_ctx *ctx, void *ud, int dir,
                   uint32_t ack);
/* Deliver everything buffered, skipping holes (end of flow). */
void ar_stream_flush(struct ar_stream *s, const struct ar_reasm_ctx *ctx, void *ud, int dir);
/* Free buffered segments (no delivery). */
void ar_stream_free(struct ar_stream *s, const struct ar_reasm_ctx *ctx);

#endif

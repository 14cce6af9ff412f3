/* pcapfile.c - classic pcap files read once, for one or several collectors.
 *
 * libpcap reads a capture file through stdio and copies every packet into its
 * own buffer; a mapping of the file costs a page fault and a TLB miss every
 * few packets, and on several cores each worker would fault the whole file
 * again. Here the file is read() in blocks of whole records into a small ring
 * that the n readers (the shards of a file capture, or the one collector)
 * share: a block is read by whichever reader needs it first, every reader
 * walks it, and its slot is filled again once all of them are through.
 *
 * Only what libpcap would read the same way is taken: the two classic magics
 * in host byte order, version 2.4, and the link types decode.c knows;
 * libpcap's limits are applied as it applies them (snapshot length, 256 KiB
 * records refused as corrupt, a record cut by the end of the file). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "../core/log.h"
#include "../core/util.h"
#include "pcapfile.h"

#define MAX_SNAPLEN 262144u
#define REC_MAX (16u + MAX_SNAPLEN)     /* the longest record */
#define READ_SIZE (512u << 10)          /* bytes read into a block at once */
/* Pages of the file the page cache has let go of are asked for this far
 * ahead of the reads (POSIX_FADV_WILLNEED starts the reads and returns):
 * without it, such a page is read from disk while the shards wait. */
#define AHEAD_BYTES (16u << 20)

enum end { END_NONE, END_OK, END_CUT, END_CORRUPT, END_LIBPCAP, END_ERROR };

/* A record as the shards walk it: its time and owner found once, by the
 * reader, and its header not touched again by the shards that do not own it. */
struct rec {
    double ts;
    uint32_t off;               /* of its data in the block */
    uint32_t caplen;            /* bytes of it given (caplen, at most snaplen) */
    uint32_t len;               /* on the wire */
    uint32_t owner;             /* its shard, or AR_OWNER_ANY */
};

struct slot {
    uint8_t *buf;               /* REC_MAX (a record carried over) + READ_SIZE */
    size_t len;                 /* bytes of whole records */
    uint64_t seq;               /* the block it holds (global number) */
    int file;                   /* index of the file it belongs to */
    int dlt, nsec;              /* that file's link type and time unit */
    uint32_t snap;              /* and snapshot length */
    int ready;
    unsigned users;             /* readers still to walk it */
    struct rec *rec;            /* n > 1: the records, read once for all shards */
    size_t nrec, rec_cap;
    enum end end;               /* END_NONE: more of the file follows */
    char msg[512];              /* END_CUT: why; END_CORRUPT, END_ERROR: the error */
};

struct ar_capture_feed {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned n, active, nslots;
    uint64_t seed;              /* the shards' (ar_collector_set_shard) */
    struct slot *slots;
    uint64_t next_fill;         /* the next block to read */
    int filling;
    int used;                   /* a reader has asked for a block */
    char *const *files;
    int nfiles;
    /* the file being read: touched by the filler only (one at a time) */
    int file;                   /* index of the next file to open, or of the open one */
    int fd;
    const char *name;
    int dlt, nsec;
    uint32_t snap;
    uint64_t fpos;              /* file offset of the next byte read */
    uint64_t ahead;             /* asked for up to here (POSIX_FADV_WILLNEED) */
    uint64_t rec;               /* records found so far */
    struct slot *carry_from;    /* the block whose tail starts the next one */
    size_t carry;
    /* per reader: the next block it walks */
    uint64_t *next;
};

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

struct ar_capture_feed *ar_capture_feed_new(unsigned n, uint64_t seed, char *const *files,
                                            int nfiles)
{
    struct ar_capture_feed *f = ar_xcalloc(1, sizeof(*f));
    f->seed = seed;
    f->files = files;
    f->nfiles = nfiles;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->n = f->active = n ? n : 1;
    /* one block per reader being walked, one being read, one read ahead */
    f->nslots = f->n + 2;
    f->slots = ar_xcalloc(f->nslots, sizeof(*f->slots));
    f->next = ar_xcalloc(f->n, sizeof(*f->next));
    f->fd = -1;
    return f;
}

void ar_capture_feed_free(struct ar_capture_feed *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    for (unsigned i = 0; i < f->nslots; i++) {
        free(f->slots[i].buf);
        free(f->slots[i].rec);
    }
    free(f->slots);
    free(f->next);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static void end_file(struct ar_capture_feed *f, struct slot *s, enum end how)
{
    s->end = how;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    f->file++;
    f->carry = 0;
    f->carry_from = NULL;
}

/* Open file f->file for the block s: 1 when it is read here, 0 when s says
 * the file is libpcap's (or could not be opened: END_ERROR). */
static int open_file(struct ar_capture_feed *f, struct slot *s)
{
    f->name = f->files[f->file];
    /* only a regular file is read here: a FIFO is libpcap's, and opening it
     * here would wait for a writer and then throw its bytes away (it is
     * looked at first, and opened without waiting in case it just changed) */
    struct stat st;
    if (stat(f->name, &st) == 0 && !S_ISREG(st.st_mode)) {
        end_file(f, s, END_LIBPCAP);
        return 0;
    }
    f->fd = open(f->name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (f->fd < 0) {
        snprintf(s->msg, sizeof(s->msg), "%s: %s", f->name, strerror(errno));
        end_file(f, s, END_ERROR);
        return 0;
    }
    uint8_t h[24];
    ssize_t got = fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode) ? pread(f->fd, h, 24, 0) : -1;
    int dlt = got == 24 ? dlt_of(rd32(h + 20)) : -1;
    uint32_t magic = got == 24 ? rd32(h) : 0;
    if ((magic != 0xa1b2c3d4u && magic != 0xa1b23c4du) || rd16(h + 4) != 2 || rd16(h + 6) != 4 ||
        dlt < 0) {
        end_file(f, s, END_LIBPCAP);
        return 0;
    }
    posix_fadvise(f->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    f->ahead = 0;
    f->nsec = magic == 0xa1b23c4du;
    f->dlt = dlt;
    f->snap = rd32(h + 16);
    if (f->snap == 0 || f->snap > MAX_SNAPLEN)
        f->snap = MAX_SNAPLEN;
    f->fpos = 24;
    f->rec = 0;
    f->carry = 0;
    f->carry_from = NULL;
    return 1;
}

/* Read the next block of the current file (opening it first) into s: whole
 * records only; the partial one at the end is carried into the next block. */
static void fill(struct ar_capture_feed *f, struct slot *s)
{
    s->len = 0;
    s->nrec = 0;
    s->end = END_NONE;
    s->msg[0] = '\0';
    s->file = f->file;
    if (!s->buf)
        s->buf = ar_xmalloc(REC_MAX + READ_SIZE);
    if (f->fd < 0 && !open_file(f, s))
        return;
    s->dlt = f->dlt;
    s->nsec = f->nsec;
    s->snap = f->snap;
    size_t have = f->carry;
    if (have)
        memcpy(s->buf, f->carry_from->buf + f->carry_from->len, have);
    uint64_t base = f->fpos - have;     /* file offset of s->buf[0] */
    if (f->fpos + AHEAD_BYTES / 2 >= f->ahead) {
        posix_fadvise(f->fd, (off_t)f->fpos, AHEAD_BYTES, POSIX_FADV_WILLNEED);
        f->ahead = f->fpos + AHEAD_BYTES;
    }
    int eof = 0;
    while (have < f->carry + READ_SIZE) {
        ssize_t r = pread(f->fd, s->buf + have, f->carry + READ_SIZE - have, (off_t)f->fpos);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(s->msg, sizeof(s->msg), "%s: %s", f->name, strerror(errno));
            end_file(f, s, END_ERROR);
            return;
        }
        if (r == 0) {
            eof = 1;
            break;
        }
        have += (size_t)r;
        f->fpos += (uint64_t)r;
    }
    size_t at = 0, nrec = 0;
    while (have - at >= 16) {
        uint32_t caplen = rd32(s->buf + at + 8);
        if (caplen > MAX_SNAPLEN) {
            /* not a file cut short: a corrupt one, refused as libpcap refuses
             * it (the records after it cannot be found) */
            char why[128];
            snprintf(why, sizeof(why), "invalid packet capture length %u, bigger than %s of %u",
                     caplen, caplen > f->snap ? "snaplen" : "maximum",
                     caplen > f->snap ? f->snap : MAX_SNAPLEN);
            snprintf(s->msg, sizeof(s->msg), AR_PCAP_CORRUPT_FMT, f->name,
                     (unsigned long long)f->rec + 1, (unsigned long long)(base + at), why);
            s->len = at;
            s->nrec = nrec;
            end_file(f, s, END_CORRUPT);
            return;
        }
        if (have - at - 16 < caplen)
            break;
        /* with several shards: which one tracks it, and its time, found
         * here once, not by every shard decoding every packet */
        if (f->n > 1) {
            if (nrec == s->rec_cap) {
                s->rec_cap = s->rec_cap ? s->rec_cap * 2 : 2048;
                s->rec = ar_xrealloc(s->rec, s->rec_cap * sizeof(*s->rec));
            }
            struct rec *r = &s->rec[nrec];
            int32_t frac = (int32_t)rd32(s->buf + at + 4);
            r->ts = ar_pcap_time((int32_t)rd32(s->buf + at), f->nsec ? frac / 1000 : frac);
            r->off = (uint32_t)(at + 16);
            r->caplen = caplen > f->snap ? f->snap : caplen;
            r->len = rd32(s->buf + at + 12);
            r->owner = ar_shard_of_frame(f->seed, f->n, f->dlt, s->buf + r->off, r->caplen);
        }
        nrec++;
        at += 16 + caplen;
        f->rec++;
    }
    s->len = at;
    s->nrec = nrec;
    f->carry = have - at;
    f->carry_from = s;
    if (!eof)
        return;
    if (f->carry < 16 && f->carry) {
        snprintf(s->msg, sizeof(s->msg),
                 "truncated dump file; tried to read 16 header bytes, only got %zu", f->carry);
    } else if (f->carry) {
        uint32_t caplen = rd32(s->buf + at + 8);
        uint32_t want = caplen > f->snap ? f->snap : caplen;
        size_t got = f->carry - 16;
        snprintf(s->msg, sizeof(s->msg),
                 "truncated dump file; tried to read %u captured bytes, only got %zu", want,
                 got < want ? got : want);
    }
    end_file(f, s, s->msg[0] ? END_CUT : END_OK);
}

/* Under f->mu, f->filling claimed: read block seq into s (the lock is let
 * go meanwhile). */
static void fill_locked(struct ar_capture_feed *f, struct slot *s, uint64_t seq)
{
    pthread_mutex_unlock(&f->mu);
    fill(f, s);
    pthread_mutex_lock(&f->mu);
    s->seq = seq;
    s->users = f->active;
    s->ready = 1;
    f->next_fill++;
    f->filling = 0;
    pthread_cond_broadcast(&f->cv);
}

/* Reader k's next block, read from the file if nobody has yet. */
static struct slot *acquire(struct ar_capture_feed *f, unsigned k)
{
    uint64_t seq = f->next[k];
    struct slot *s = &f->slots[seq % f->nslots];
    pthread_mutex_lock(&f->mu);
    f->used = 1;
    for (;;) {
        if (s->ready && s->seq == seq)
            break;
        if (!f->filling && f->next_fill == seq && !s->ready) {
            f->filling = 1;
            fill_locked(f, s, seq);
            break;
        }
        pthread_cond_wait(&f->cv, &f->mu);
    }
    pthread_mutex_unlock(&f->mu);
    return s;
}

int ar_capture_feed_help(struct ar_capture_feed *f)
{
    int did = 0;
    pthread_mutex_lock(&f->mu);
    uint64_t seq = f->next_fill;
    struct slot *s = &f->slots[seq % f->nslots];
    /* only once the readers read blocks (not with a filter), and not past
     * the last file */
    if (f->used && f->active && !f->filling && !s->ready && f->file < f->nfiles) {
        f->filling = 1;
        fill_locked(f, s, seq);
        did = 1;
    }
    pthread_mutex_unlock(&f->mu);
    return did;
}

/* Under f->mu: reader k is through with s. */
static void release_locked(struct ar_capture_feed *f, struct slot *s)
{
    if (--s->users == 0) {
        s->ready = 0;
        pthread_cond_broadcast(&f->cv);
    }
}

static void release(struct ar_capture_feed *f, unsigned k, struct slot *s)
{
    pthread_mutex_lock(&f->mu);
    f->next[k]++;
    release_locked(f, s);
    pthread_mutex_unlock(&f->mu);
}

void ar_capture_feed_leave(struct ar_capture_feed *f, unsigned k)
{
    pthread_mutex_lock(&f->mu);
    /* the blocks read but not walked by k no longer wait for it */
    for (unsigned i = 0; i < f->nslots; i++) {
        struct slot *s = &f->slots[i];
        if (s->ready && s->seq >= f->next[k])
            release_locked(f, s);
    }
    f->next[k] = UINT64_MAX;
    f->active--;
    pthread_mutex_unlock(&f->mu);
}

static void walk(struct ar_collector *c, const struct slot *s, int shared)
{
    if (shared) {
        for (size_t i = 0; i < s->nrec; i++) {
            const struct rec *r = &s->rec[i];
            ar_collector_packet_owned(c, s->dlt, r->ts, s->buf + r->off, r->caplen, r->len,
                                      r->owner);
        }
        return;
    }
    const uint8_t *p = s->buf, *end = s->buf + s->len;
    int dlt = s->dlt, nsec = s->nsec;
    uint32_t snap = s->snap;
    while (p < end) {
        int32_t sec = (int32_t)rd32(p), frac = (int32_t)rd32(p + 4);
        uint32_t caplen = rd32(p + 8), len = rd32(p + 12);
        if (nsec)
            frac /= 1000; /* read at microsecond precision, as capture.c asks libpcap */
        double ts = ar_pcap_time(sec, frac);
        ar_collector_packet(c, dlt, ts, p + 16, caplen > snap ? snap : caplen, len);
        p += 16 + caplen;
    }
}

int ar_pcapfile_read(struct ar_capture_feed *f, unsigned k, int i, struct ar_collector *c,
                     char *err, size_t errsz)
{
    char *const *files = f->files;
    for (;;) {
        struct slot *s = acquire(f, k);
        if (s->file != i) {
            /* cannot happen: every reader takes the files in order */
            snprintf(err, errsz, "%s: capture files read out of order", files[i]);
            release(f, k, s);
            return -1;
        }
        walk(c, s, f->n > 1);
        enum end how = s->end;
        char msg[sizeof(s->msg)];
        if (how != END_NONE)
            memcpy(msg, s->msg, sizeof(msg));
        release(f, k, s);
        switch (how) {
        case END_NONE:
            continue;
        case END_OK:
            return 1;
        case END_CUT:
            AR_INC(ar_collector_counters(c), pkt_truncated);
            if (ar_collector_logs(c))
                ar_warn("%s: %s (counted as a truncated packet)", files[i], msg);
            return 1;
        case END_LIBPCAP:
            return 0;
        default:
            ar_strlcpy(err, msg, errsz);
            return -1;
        }
    }
}

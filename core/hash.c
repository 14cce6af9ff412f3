/* hash.c - SipHash-1-3 (Aumasson, Bernstein), 64-bit output. */
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include "hash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                       \
    do {                                                               \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);      \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                         \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                         \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);      \
    } while (0)

/* The last block b (length in the top byte), then SipHash-1-3's three
 * finalization rounds; shared by the one-shot and the incremental hash. */
static inline uint64_t sip_finish(uint64_t v0, uint64_t v1, uint64_t v2, uint64_t v3, uint64_t b)
{
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

void ar_hash_key_random(struct ar_hash_key *k)
{
    if (getrandom(k, sizeof(*k), GRND_NONBLOCK) != (ssize_t)sizeof(*k)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        k->k0 = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid();
        k->k1 = (uint64_t)ts.tv_sec * 0xC2B2AE3D27D4EB4FULL ^ (uint64_t)(uintptr_t)k;
    }
}

uint64_t ar_hash(const struct ar_hash_key *key, const void *data, size_t len)
{
    const unsigned char *in = data;
    uint64_t v0 = 0x736f6d6570736575ULL ^ key->k0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ key->k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ key->k0;
    uint64_t v3 = 0x7465646279746573ULL ^ key->k1;
    uint64_t b = (uint64_t)len << 56;
    size_t left = len & 7, i;

    for (i = 0; i + 8 <= len; i += 8) {
        uint64_t m;
        memcpy(&m, in + i, 8); /* little-endian hosts only; hashing need not be portable */
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t j = 0; j < left; j++)
        b |= (uint64_t)in[i + j] << (8 * j);
    return sip_finish(v0, v1, v2, v3, b);
}

void ar_hash_init(struct ar_hash_state *s, const struct ar_hash_key *key)
{
    s->v0 = 0x736f6d6570736575ULL ^ key->k0;
    s->v1 = 0x646f72616e646f6dULL ^ key->k1;
    s->v2 = 0x6c7967656e657261ULL ^ key->k0;
    s->v3 = 0x7465646279746573ULL ^ key->k1;
    s->tail = 0;
    s->len = 0;
}

void ar_hash_update(struct ar_hash_state *s, const void *data, size_t len)
{
    const unsigned char *in = data;
    uint64_t v0 = s->v0, v1 = s->v1, v2 = s->v2, v3 = s->v3, m;
    size_t fill = s->len & 7;
    s->len += len;
    if (fill) {                              /* complete the word begun before */
        while (fill < 8 && len) {
            s->tail |= (uint64_t)*in++ << (8 * fill++);
            len--;
        }
        if (fill < 8)
            return;
        m = s->tail;
        s->tail = 0;
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    for (; len >= 8; in += 8, len -= 8) {
        memcpy(&m, in, 8);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t j = 0; j < len; j++)
        s->tail |= (uint64_t)in[j] << (8 * j);
    s->v0 = v0;
    s->v1 = v1;
    s->v2 = v2;
    s->v3 = v3;
}

uint64_t ar_hash_final(const struct ar_hash_state *s)
{
    return sip_finish(s->v0, s->v1, s->v2, s->v3, ((uint64_t)s->len << 56) | s->tail);
}

uint64_t ar_hash_fast(const struct ar_hash_key *k, const void *data, size_t n)
{
    const unsigned char *s = data;
    uint64_t h = k->k0 ^ ((uint64_t)n * 0x9E3779B97F4A7C15ULL);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t m;
        memcpy(&m, s + i, 8);
        h = (h ^ m) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    /* the last n - i bytes, little-endian, without reading past s + n: the
     * last word overlapped with the one before, or two overlapping halves */
    uint64_t t = 0;
    size_t r = n - i;
    if (n >= 8 && r) {
        memcpy(&t, s + n - 8, 8);
        t >>= 8 * (8 - r);
    } else if (r >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, s + r - 4, 4);
        t = lo | (uint64_t)hi << (8 * (r - 4));
    } else if (r) {
        t = (uint64_t)s[0] | (uint64_t)s[r / 2] << (8 * (r / 2)) |
            (uint64_t)s[r - 1] << (8 * (r - 1));
    }
    h = (h ^ t ^ k->k1) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 32);
}

/* hash.h - seeded hashing (SipHash-1-3) for tables fed by the network, so an
 * attacker who controls addresses or paths cannot aim at one bucket. */
#ifndef AR_HASH_H
#define AR_HASH_H

#include <stddef.h>
#include <stdint.h>

struct ar_hash_key { uint64_t k0, k1; };

/* A random key from getrandom(); falls back to time and pid. */
void ar_hash_key_random(struct ar_hash_key *k);
uint64_t ar_hash(const struct ar_hash_key *k, const void *data, size_t len);

/* A cheaper keyed hash (multiply and shift, a word at a time), for what
 * traffic cannot flood: tables filled from files, fixed-size caches, short
 * lists. Not for a table the network fills: that is ar_hash's job. */
uint64_t ar_hash_fast(const struct ar_hash_key *k, const void *data, size_t len);

/* The same hash over bytes given in pieces: after init, updates with the
 * pieces of X, final gives ar_hash(k, X). final leaves the state as it was, so
 * that a long common prefix is hashed once and finished several ways. */
struct ar_hash_state {
    uint64_t v0, v1, v2, v3;
    uint64_t tail;           /* the last len % 8 bytes, not yet compressed */
    size_t len;
};
void ar_hash_init(struct ar_hash_state *s, const struct ar_hash_key *k);
void ar_hash_update(struct ar_hash_state *s, const void *data, size_t len);
uint64_t ar_hash_final(const struct ar_hash_state *s);

#endif

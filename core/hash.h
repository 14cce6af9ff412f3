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

#endif

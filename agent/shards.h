/* shards.h - capture files read on several cores (see shards.c). */
#ifndef AR_SHARDS_H
#define AR_SHARDS_H

#include "../collector/collector.h"

/* Read the files with n shard threads (n >= 2) and run hooks->on_exchange
 * and hooks->on_tls on the calling thread, in an order that depends only on
 * the files. ready(hooks->ud), if set, runs on the calling thread once the
 * shards have started, before the first hook (time to get the consumer ready
 * while they read). lim is shared out: each shard gets max_flows / n and
 * ooo_total_bytes / n. The shards' counters are added to ctr at the end.
 * Returns 0; -1 with a one-line reason naming the file in err; 1 when the
 * threads could not be started (nothing was read: read the files without
 * shards). */
int ar_capture_sharded(unsigned n, const struct ar_limits *lim, char *const *files, int nfiles,
                       const char *filter, const struct ar_collector_hooks *hooks,
                       void (*ready)(void *ud), struct ar_counters *ctr, char *err, size_t errsz);

#endif

/* fuzz_capture.c - the whole collector from capture-file bytes.
 *
 * The input is a pcap or pcapng file image (the seeds are the corpus captures
 * as they are). It goes through libpcap or the block reader from a temporary
 * file, then decode, flow table, nDPI, reassembly and HTTP, exactly as
 * `apiroster capture -r` reads a file. The collector (and its nDPI module,
 * slow to build) lives for the whole run; every input ends with
 * ar_collector_finish, which ends all its flows, so no state but the counters
 * carries over. Limits are small so that they are reached by small inputs.
 *
 * Built a second time with AR_FUZZ_SHARDS as fuzz_shards: the file, twice,
 * is read by two shard threads and their consumer (agent/shards.c), as a
 * capture of 32 MiB or more on two cores reads it: the blocks shared, the
 * owner of each frame found by the shard that read the block, the records
 * put back in packet order by the consumer, which reads ahead when it has
 * nothing to deliver. Every input makes its collectors (and, when a flow
 * needs it, their nDPI modules): slower, for the threads and their ends. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../agent/shards.h"
#include "../../collector/collector.h"

#ifndef AR_FUZZ_SHARDS
static struct ar_collector *col;
#endif
static struct ar_counters ctr;
static struct ar_limits lim;
static char path[64];
static uint64_t sink;

static void on_exchange(const struct ar_exchange *x, void *ud)
{
    (void)ud;
    /* read every string a sink reads, so ASan sees any dangling pointer */
    const char *s[] = { x->client, x->server, x->method, x->host, x->path,
                        x->query,  x->req_ct, x->resp_ct, x->auth };
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        sink += s[i] ? strlen(s[i]) : 0;
    sink += (uint64_t)x->status;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ar_limits_default(&lim);
    lim.max_flows = 64;
    lim.ooo_bytes = 4096;
    lim.ooo_segments = 16;
    lim.ooo_total_bytes = 65536;
    lim.max_target = 512;
    lim.max_header_bytes = 2048;
    lim.max_headers = 16;
    lim.max_pending = 8;
#ifndef AR_FUZZ_SHARDS
    struct ar_collector_hooks hooks = { .on_exchange = on_exchange };
    col = ar_collector_new(&lim, &hooks, &ctr);
    if (!col)
        abort();
#endif
    snprintf(path, sizeof(path), "/dev/shm/fuzz_capture.%ld.pcap", (long)getpid());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        abort();
    if (size && fwrite(data, 1, size, fp) != size)
        abort();
    fclose(fp);
    char err[256];
    memset(&ctr, 0, sizeof(ctr));
#ifdef AR_FUZZ_SHARDS
    /* the file twice: the second one starts in the blocks after the first */
    char *files[2] = { path, path };
    struct ar_collector_hooks hooks = { .on_exchange = on_exchange };
    ar_capture_sharded(2, &lim, files, 2, NULL, &hooks, NULL, &ctr, err, sizeof(err));
#else
    char *files[1] = { path };
    ar_capture_files(col, files, 1, NULL, err, sizeof(err));
    ar_collector_finish(col);
#endif
    unlink(path);
    return 0;
}

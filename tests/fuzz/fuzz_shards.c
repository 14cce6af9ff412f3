/* fuzz_shards.c - capture-file bytes read by two shard threads and their
 * consumer (agent/shards.c), as `apiroster capture -r` reads a file of 32 MiB
 * or more on two cores: the blocks of the file shared by the shards, the
 * owner of each frame found by the one that read the block, the records put
 * back in packet order by the consumer, which reads ahead when it has nothing
 * to deliver. The inputs are those of fuzz_capture (pcap or pcapng images).
 * Every run makes its collectors (and, when a flow needs it, their nDPI
 * modules), so it is slower than fuzz_capture: this target is for the
 * threads, their hand-offs and their ends. Limits are small, as there. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../agent/shards.h"

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
    snprintf(path, sizeof(path), "/dev/shm/fuzz_shards.%ld.pcap", (long)getpid());
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
    /* the file twice: the second one starts in the blocks after the first */
    char *files[2] = { path, path };
    char err[256];
    struct ar_counters ctr;
    memset(&ctr, 0, sizeof(ctr));
    struct ar_collector_hooks hooks = { .on_exchange = on_exchange };
    ar_capture_sharded(2, &lim, files, 2, NULL, &hooks, NULL, &ctr, err, sizeof(err));
    unlink(path);
    return 0;
}

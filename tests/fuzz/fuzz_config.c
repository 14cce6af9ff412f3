/* fuzz_config.c - the config file parser, through its public entry point only
 * (agent/config.c is being restructured: this target calls nothing else).
 * The input is written to a temporary file and loaded; the result, a config or
 * a "file:line: reason", is read back and freed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../agent/config.h"

static char path[64];
static uint64_t sink;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(path, sizeof(path), "/dev/shm/fuzz_config.%ld.conf", (long)getpid());
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
    struct ar_config c;
    char err[512];
    ar_config_init(&c);
    err[0] = '\0';
    if (ar_config_load(&c, path, err, sizeof(err)) < 0) {
        /* an error names the file and the line */
        if (strncmp(err, path, strlen(path)) != 0)
            abort();
    }
    sink += strlen(err) + c.lim.max_flows;
    ar_config_free(&c);
    unlink(path);
    return 0;
}

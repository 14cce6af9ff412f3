/* fuzz_spec.c - spec loading (inventory/spec.c) and matching: the input is a
 * JSON or YAML document (the first byte picks the name: odd = "f.json", even =
 * "f.yaml"); every file it refers to reads as the input itself (so refs to
 * other files and their cycles are exercised). A loaded spec is put in a
 * specset and matched against a few paths built from its own operations. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../inventory/spec.h"
#include "../../inventory/specmatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct buf {
    const uint8_t *p;
    size_t n;
};

static int read_self(void *ud, const char *path, char **out, size_t *len)
{
    const struct buf *b = ud;
    (void)path;
    *out = malloc(b->n + 1);
    if (!*out)
        return -1;
    memcpy(*out, b->p, b->n);
    (*out)[b->n] = '\0';
    *len = b->n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *name = (data[0] & 1) ? "dir/f.json" : "dir/f.yaml";
    struct buf b = { data + 1, size - 1 };
    char err[512];
    (void)ar_spec_detect(name, (const char *)b.p, b.n, err, sizeof(err));
    struct ar_spec *spec = NULL;
    if (ar_spec_load(name, (const char *)b.p, b.n, read_self, &b, &spec, err, sizeof(err)) < 0)
        return 0;
    struct ar_specset *ss = ar_specset_new();
    ar_specset_add(ss, spec, name);
    size_t n = ar_specset_count(ss);
    for (size_t i = 0; i < n && i < 64; i++) {
        struct ar_spec_entry e;
        if (ar_specset_entry(ss, i, &e) < 0)
            abort();
        struct ar_spec_match m;
        ar_specset_match(ss, e.server->host, e.op->method, e.tmpl, &m);
        ar_specset_match(ss, "x.test", "HEAD", e.tmpl, &m);
        ar_specset_match(ss, e.server->host, "GET", "/a/1/b.json", &m);
    }
    ar_specset_free(ss);
    ar_spec_free(spec);
    return 0;
}

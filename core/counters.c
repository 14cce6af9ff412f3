/* counters.c - names of the counters table. */
#include <string.h>
#include "counters.h"

static const char *const ctr_names[] = {
#define AR_X(name, what) #name,
    AR_COUNTERS(AR_X)
#undef AR_X
};
static const char *const ctr_help[] = {
#define AR_X(name, what) what,
    AR_COUNTERS(AR_X)
#undef AR_X
};

const char *ar_counter_name(int id)
{
    return (id >= 0 && id < AR_CTR__COUNT) ? ctr_names[id] : NULL;
}

const char *ar_counter_help(int id)
{
    return (id >= 0 && id < AR_CTR__COUNT) ? ctr_help[id] : NULL;
}

int ar_counter_lookup(const char *name)
{
    for (int i = 0; i < AR_CTR__COUNT; i++)
        if (strcmp(ctr_names[i], name) == 0)
            return i;
    return -1;
}

void ar_counters_add(struct ar_counters *dst, const struct ar_counters *src)
{
    for (int i = 0; i < AR_CTR__COUNT; i++)
        dst->v[i] += src->v[i];
}

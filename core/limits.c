/* limits.c - defaults and lookup for the limits table. */
#include <string.h>
#include "limits.h"

static const struct {
    const char *name;
    uint64_t def;
    const char *unit;
} limit_table[] = {
#define AR_X(name, def, unit, what) { #name, def, unit },
    AR_LIMITS(AR_X)
#undef AR_X
};

void ar_limits_default(struct ar_limits *l)
{
#define AR_X(name, def, unit, what) l->name = def;
    AR_LIMITS(AR_X)
#undef AR_X
}

int ar_limit_lookup(const char *name)
{
    for (int i = 0; i < AR_LIMIT__COUNT; i++)
        if (strcmp(limit_table[i].name, name) == 0)
            return i;
    return -1;
}

uint64_t *ar_limit_ptr(struct ar_limits *l, int id)
{
    switch (id) {
#define AR_X(name, def, unit, what) case AR_LIMIT_##name: return &l->name;
    AR_LIMITS(AR_X)
#undef AR_X
    default: return NULL;
    }
}

const char *ar_limit_name(int id)
{
    return (id >= 0 && id < AR_LIMIT__COUNT) ? limit_table[id].name : NULL;
}

const char *ar_limit_unit(int id)
{
    return (id >= 0 && id < AR_LIMIT__COUNT) ? limit_table[id].unit : NULL;
}

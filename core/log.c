/* log.c - stderr logging with a level. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include "log.h"

/* atomic: the live capture's packet thread sets it on reload while the writer logs */
static _Atomic int cur_level = AR_LOG_WARN;

void ar_log_set_level(enum ar_log_level lvl)
{
    cur_level = lvl;
}

void ar_log(enum ar_log_level lvl, const char *fmt, ...)
{
    static const char *const names[] = { "error", "warning", "info", "debug" };
    if ((int)lvl > atomic_load(&cur_level))
        return;
    va_list ap;
    va_start(ap, fmt);
    flockfile(stderr); /* one line at a time from several threads */
    fprintf(stderr, "apiroster: %s: ", names[lvl]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    funlockfile(stderr);
    va_end(ap);
}

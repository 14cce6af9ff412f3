/* output.c - what the commands write: output files that must not be an input. */
#include <linux/limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "../core/util.h"
#include "agent.h"

/* ---- output files that would destroy an input --------------------------- */

/* path with its directory resolved (the file itself may not exist yet), or
 * path as given when the directory cannot be resolved. */
static void resolve(const char *path, char *out, size_t outsz)
{
    char dir[PATH_MAX], real[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!slash)
        ar_strlcpy(dir, ".", sizeof(dir));
    else if (slash == path)
        ar_strlcpy(dir, "/", sizeof(dir));
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    if (!*base || !realpath(dir, real)) {
        ar_strlcpy(out, path, outsz);
        return;
    }
    snprintf(out, outsz, "%s%s%s", real, strcmp(real, "/") ? "/" : "", base);
}

/* 1 when a and b are one file: the same inode of a regular file when both
 * exist, else the same path once their directories are resolved (neither
 * exists yet). */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    int ha = stat(a, &sa) == 0, hb = stat(b, &sb) == 0;
    if (ha && hb)       /* a device (/dev/null) may be written twice */
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino && S_ISREG(sa.st_mode);
    if (ha || hb)
        return 0;
    char ra[PATH_MAX + NAME_MAX + 2], rb[PATH_MAX + NAME_MAX + 2];
    resolve(a, ra, sizeof(ra));
    resolve(b, rb, sizeof(rb));
    return !strcmp(ra, rb);
}

void ar_refuse_clobber(const char *out, const char *flag, const char *db,
                       const char *const *inputs, const char *const *what, int ninputs)
{
    if (!out || !strcmp(out, "-"))
        return;
    if (db) {
        static const char *const side[] = { "", "-wal", "-shm", "-journal" };
        static const char *const side_what[] = { "the database", "the database's write-ahead log",
                                                 "the database's shared-memory file",
                                                 "the database's rollback journal" };
        for (size_t i = 0; i < AR_ARRAY_LEN(side); i++) {
            char p[PATH_MAX + 16];
            snprintf(p, sizeof(p), "%s%s", db, side[i]);
            if (same_file(out, p))
                ar_die(AR_EXIT_USAGE, "%s %s: that is %s %s; refusing to overwrite it", flag, out,
                       side_what[i], p);
        }
    }
    for (int i = 0; i < ninputs; i++)
        if (inputs[i] && same_file(out, inputs[i]))
            ar_die(AR_EXIT_USAGE, "%s %s: that is %s %s; refusing to overwrite it", flag, out,
                   what[i], inputs[i]);
}

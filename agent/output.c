/* output.c - what the commands write: human output made safe for a terminal,
 * output files that must not be an input, and write errors that must not go
 * unnoticed. */
#include <errno.h>
#include <linux/limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "../core/json.h"
#include "../core/util.h"
#include "agent.h"

/* ---- terminal-safe text ------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (2 to 4 bytes; shortest form, no
 * surrogate, at most U+10FFFF) with its code point in *cp, or 0. */
static size_t utf8_seq(const unsigned char *p, unsigned *cp)
{
    unsigned c = p[0], n, min;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, min = 0x80, c &= 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, min = 0x800, c &= 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, min = 0x10000, c &= 0x07;
    else
        return 0;
    for (unsigned i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

/* Code points a terminal acts on or that reorder the line: C1 controls
 * (U+0080-U+009F: U+009B is CSI on some terminals) and the bidirectional
 * embeddings, overrides and isolates. */
static int unsafe_cp(unsigned cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* The bytes of s that must be escaped: 0 when s prints as it is. */
static size_t vis_scan(const unsigned char *s, size_t *len)
{
    size_t bad = 0, i = 0;
    while (s[i]) {
        unsigned cp;
        size_t n;
        if (s[i] < 0x20 || s[i] == 0x7f) {
            bad++;
            i++;
        } else if (s[i] < 0x80) {
            i++;
        } else if ((n = utf8_seq(s + i, &cp)) == 0) {
            bad++;
            i++;
        } else {
            if (unsafe_cp(cp))
                bad += n;
            i += n;
        }
    }
    *len = i;
    return bad;
}

#define VIS_SLOTS 8
static struct {
    char *buf;
    size_t cap;
} vis_slot[VIS_SLOTS];
static unsigned vis_next;

const char *ar_vis(const char *str)
{
    if (!str)
        return NULL;
    const unsigned char *s = (const unsigned char *)str;
    size_t len, bad = vis_scan(s, &len);
    if (!bad)
        return str;
    size_t need = len + 3 * bad + 1;
    unsigned k = vis_next++ % VIS_SLOTS;
    if (vis_slot[k].cap < need) {
        vis_slot[k].buf = ar_xrealloc(vis_slot[k].buf, need);
        vis_slot[k].cap = need;
    }
    char *o = vis_slot[k].buf;
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t n = 1, esc;
        if (s[i] < 0x20 || s[i] == 0x7f)
            esc = 1;
        else if (s[i] < 0x80)
            esc = 0;
        else if ((n = utf8_seq(s + i, &cp)) == 0)
            n = esc = 1;
        else
            esc = unsafe_cp(cp);
        for (size_t b = 0; b < n; b++, i++) {
            if (esc) {
                *o++ = '\\';
                *o++ = 'x';
                *o++ = hex[s[i] >> 4];
                *o++ = hex[s[i] & 15];
            } else {
                *o++ = (char)s[i];
            }
        }
    }
    *o = '\0';
    return vis_slot[k].buf;
}

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

/* ---- write errors ------------------------------------------------------- */

static int stdout_reported;  /* a write error on stdout was already said */

int ar_close_output(FILE *fp, const char *path, int first_errno, char *err, size_t errsz)
{
    if (fp == stdout && stdout_reported) {
        snprintf(err, errsz, "write error: %s", path);
        return -1;
    }
    int had = ferror(fp);
    errno = 0;
    int rc = fp == stdout ? fflush(fp) : fclose(fp);
    int e = rc != 0 ? errno : 0;
    if (!had && rc == 0)
        return 0;
    if (first_errno)
        e = first_errno;
    if (e)
        snprintf(err, errsz, "write error: %s: %s", path, strerror(e));
    else
        snprintf(err, errsz, "write error: %s", path);
    if (fp == stdout)
        stdout_reported = 1;    /* the caller says it: not again at exit */
    return -1;
}

static int stdout_errno;     /* of the first failed ar_write_stdout */

void ar_write_stdout(struct ar_json *j)
{
    errno = 0;
    if (ar_json_write(j, stdout) < 0 && !stdout_errno)
        stdout_errno = errno ? errno : EIO;
}

void ar_close_stdout(void)
{
    char err[512];
    /* as coreutils' close_stdout: an atexit handler, so that every path that
     * exits goes through it; _exit, since exit must not be called from here */
    if (stdout_reported)
        return;
    if (ar_close_output(stdout, "stdout", stdout_errno, err, sizeof(err)) == 0) {
        errno = 0;
        if (fclose(stdout) == 0 || errno == EBADF)  /* EBADF: started with stdout closed */
            return;
        snprintf(err, sizeof(err), "write error: stdout: %s", strerror(errno));
    }
    fprintf(stderr, "apiroster: %s\n", err);
    _exit(AR_EXIT_FAIL);
}

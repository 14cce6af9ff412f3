/* rules.c - CODEOWNERS-syntax rules over "host/path" subjects (see rules.h). */
#include "rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/util.h"

/* Compiled pattern: segments; in a segment's text, 0x01 is "*" and 0x02 is
 * "?" (literal bytes below 0x20 are refused in patterns). A segment with
 * dstar set is a "**" (any number of segments). */
#define W_STAR '\x01'
#define W_ONE '\x02'

struct seg {
    char *s;
    size_t n;
    int dstar;
};

struct rule {
    unsigned line;
    char *pattern;        /* as written */
    char **owners;
    size_t nowners;
    size_t section;       /* index into sections; 0 = unnamed */
    int defaulted;
    struct seg *segs;
    size_t nsegs;
};

struct section {
    char *name;           /* NULL for the unnamed section */
    int optional;
    unsigned approvals;
    size_t nrules;
};

struct ar_rules {
    char *file;
    struct rule *rules;
    size_t nrules, caprules;
    struct section *sections;
    size_t nsections, capsections;
    char **hdr_owners;    /* default owners of every section header (owned) */
    size_t nhdr_owners;
    const char **teams;   /* point into rules[] owners or hdr_owners */
    size_t nteams;
};

/* ------------------------------------------------------------ matching */

/* Glob within one segment: W_STAR any run, W_ONE one byte. */
static int seg_match(const char *p, size_t pn, const char *s, size_t sn)
{
    size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;
    while (si < sn) {
        if (pi < pn && p[pi] == W_STAR) {
            star = pi++;
            mark = si;
        } else if (pi < pn && (p[pi] == W_ONE || p[pi] == s[si])) {
            pi++;
            si++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return 0;
        }
    }
    while (pi < pn && p[pi] == W_STAR)
        pi++;
    return pi == pn;
}

struct sseg {
    const char *s;
    size_t n;
};

/* The same greedy algorithm over segments, "**" being the star. */
static int segs_match(const struct seg *p, size_t pn, const struct sseg *s, size_t sn)
{
    size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;
    while (si < sn) {
        if (pi < pn && p[pi].dstar) {
            star = pi++;
            mark = si;
        } else if (pi < pn && seg_match(p[pi].s, p[pi].n, s[si].s, s[si].n)) {
            pi++;
            si++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return 0;
        }
    }
    while (pi < pn && p[pi].dstar)
        pi++;
    return pi == pn;
}

/* Split subject on '/'. Returns the count; *out is buf or a malloc'd array. */
static size_t split_subject(const char *subject, struct sseg *buf, size_t bufn, struct sseg **out)
{
    size_t n = 1;
    for (const char *c = subject; *c; c++)
        if (*c == '/')
            n++;
    struct sseg *v = n <= bufn ? buf : ar_xmalloc(n * sizeof(*v));
    size_t i = 0;
    const char *start = subject;
    for (const char *c = subject;; c++) {
        if (*c == '/' || *c == '\0') {
            v[i].s = start;
            v[i].n = (size_t)(c - start);
            i++;
            if (*c == '\0')
                break;
            start = c + 1;
        }
    }
    *out = v;
    return n;
}

static int rule_matches(const struct seg *segs, size_t nsegs, const struct sseg *s, size_t sn)
{
    return segs_match(segs, nsegs, s, sn);
}

/* ------------------------------------------------------------ compiling */

static void segs_free(struct seg *segs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(segs[i].s);
    free(segs);
}

static void push_seg(struct seg **segs, size_t *n, size_t *cap, char *s, size_t len, int dstar)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *segs = ar_xrealloc(*segs, *cap * sizeof(**segs));
    }
    (*segs)[*n].s = s;
    (*segs)[*n].n = len;
    (*segs)[*n].dstar = dstar;
    (*n)++;
}

/* Compile a pattern as written (escapes still in it). Returns NULL and a reason
 * on a pattern we refuse. */
static struct seg *compile(const char *pat, size_t plen, size_t *nsegs, const char **why)
{
    /* First unescape into a buffer where wildcards are W_STAR / W_ONE and
     * escaped characters are literal. */
    char *u = ar_xmalloc(plen + 1);
    size_t un = 0;
    for (size_t i = 0; i < plen; i++) {
        unsigned char c = (unsigned char)pat[i];
        if (c == '\\') {
            if (i + 1 == plen) {
                free(u);
                *why = "a pattern cannot end with a lone '\\'";
                return NULL;
            }
            c = (unsigned char)pat[++i];
            if (c < 0x20 || c == 0x7f) {
                free(u);
                *why = "control character in a pattern";
                return NULL;
            }
            u[un++] = (char)c;
            continue;
        }
        if (c == '*')
            u[un++] = W_STAR;
        else if (c == '?')
            u[un++] = W_ONE;
        else if (c == '[') {
            free(u);
            *why = "character classes ([...]) are not supported in CODEOWNERS patterns";
            return NULL;
        } else
            u[un++] = (char)c;
    }
    u[un] = '\0';

    size_t b = 0, e = un;
    int anchored = 0;
    if (b < e && u[b] == '/') {
        anchored = 1;
        b++;
    }
    if (e > b && u[e - 1] == '/')
        e--;
    if (b == e) {
        free(u);
        *why = "empty pattern";
        return NULL;
    }
    if (memchr(u + b, '/', e - b))
        anchored = 1;

    struct seg *segs = NULL;
    size_t n = 0, cap = 0;
    if (!anchored)
        push_seg(&segs, &n, &cap, NULL, 0, 1);
    size_t s = b;
    for (size_t i = b;; i++) {
        if (i == e || u[i] == '/') {
            size_t len = i - s;
            int allstars = len >= 2;
            for (size_t k = s; k < i && allstars; k++)
                allstars = u[k] == W_STAR;
            if (allstars) {
                if (!(n > 0 && segs[n - 1].dstar))
                    push_seg(&segs, &n, &cap, NULL, 0, 1);
            } else {
                /* runs of stars inside a segment are one star */
                char *t = ar_xmalloc(len + 1);
                size_t tn = 0;
                for (size_t k = s; k < i; k++)
                    if (!(u[k] == W_STAR && tn > 0 && t[tn - 1] == W_STAR))
                        t[tn++] = u[k];
                t[tn] = '\0';
                push_seg(&segs, &n, &cap, t, tn, 0);
            }
            if (i == e)
                break;
            s = i + 1;
        }
    }
    free(u);
    /* What a pattern names, it names with everything beneath it, except
     * a lone-star last segment (direct children only). */
    struct seg *last = &segs[n - 1];
    int lone_star = !last->dstar && last->n == 1 && last->s[0] == W_STAR;
    if (!last->dstar && !lone_star)
        push_seg(&segs, &n, &cap, NULL, 0, 1);
    *nsegs = n;
    return segs;
}

int ar_rules_pattern_match(const char *pattern, const char *subject)
{
    const char *why = NULL;
    size_t nsegs = 0;
    struct seg *segs = compile(pattern, strlen(pattern), &nsegs, &why);
    if (!segs)
        return -1;
    struct sseg buf[32], *ss;
    size_t sn = split_subject(subject, buf, AR_ARRAY_LEN(buf), &ss);
    int m = rule_matches(segs, nsegs, ss, sn);
    if (ss != buf)
        free(ss);
    segs_free(segs, nsegs);
    return m;
}

/* ------------------------------------------------------------ parsing */

static void seterr(char *err, size_t errsz, const char *file, unsigned line, const char *fmt, ...)
{
    if (!err || !errsz)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(err, errsz, "%s:%u: %s", file ? file : "(rules)", line, msg);
}

static int is_owner(const char *t, size_t n)
{
    if (n >= 2 && t[0] == '@') {
        for (size_t i = 1; i < n; i++)
            if (t[i] == '\\' || t[i] == '#')
                return 0;
        return t[n - 1] != '/';
    }
    /* an e-mail address: something@something.something */
    const char *at = memchr(t, '@', n);
    if (!at || at == t || at == t + n - 1)
        return 0;
    if (memchr(at + 1, '@', (size_t)(t + n - at - 1)))
        return 0;
    if (!memchr(at + 1, '.', (size_t)(t + n - at - 1)))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (t[i] == '/' || t[i] == '\\')
            return 0;
    return 1;
}

struct tok {
    const char *s;
    size_t n;
};

/* Split a line into whitespace-separated tokens ("\ " keeps a space in a
 * token); stops at a token that starts with an unescaped '#'. */
static size_t tokenize(const char *l, size_t n, struct tok **toks, size_t *cap)
{
    size_t nt = 0, i = 0;
    while (i < n) {
        while (i < n && (l[i] == ' ' || l[i] == '\t'))
            i++;
        if (i == n || l[i] == '#')
            break;
        size_t s = i;
        while (i < n && l[i] != ' ' && l[i] != '\t') {
            if (l[i] == '\\' && i + 1 < n)
                i++;
            i++;
        }
        if (nt == *cap) {
            *cap = *cap ? *cap * 2 : 8;
            *toks = ar_xrealloc(*toks, *cap * sizeof(**toks));
        }
        (*toks)[nt].s = l + s;
        (*toks)[nt].n = i - s;
        nt++;
    }
    return nt;
}

static size_t find_section(struct ar_rules *r, const char *name, size_t n, int optional,
                           unsigned approvals)
{
    for (size_t i = 1; i < r->nsections; i++)
        if (strlen(r->sections[i].name) == n && ar_strncaseeq(r->sections[i].name, name, n))
            return i;
    if (r->nsections == r->capsections) {
        r->capsections *= 2;
        r->sections = ar_xrealloc(r->sections, r->capsections * sizeof(*r->sections));
    }
    struct section *s = &r->sections[r->nsections];
    s->name = ar_xstrndup(name, n);
    s->optional = optional;
    s->approvals = approvals;
    s->nrules = 0;
    return r->nsections++;
}

static char **dup_owners(const struct tok *t, size_t n)
{
    if (!n)
        return NULL;
    char **o = ar_xmalloc(n * sizeof(*o));
    for (size_t i = 0; i < n; i++)
        o[i] = ar_xstrndup(t[i].s, t[i].n);
    return o;
}

static void free_owners(char **o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(o[i]);
    free(o);
}

struct named {
    const char *s;
    size_t order;
};

static int cmp_named(const void *a, const void *b)
{
    const struct named *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    if (c)
        return c;
    return (x->order > y->order) - (x->order < y->order);
}

/* De-duplicate names[] (in order of appearance) into r->teams. */
static void set_teams(struct ar_rules *r, const char **names, size_t n)
{
    if (!n)
        return;
    struct named *v = ar_xmalloc(n * sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        v[i].s = names[i];
        v[i].order = i;
    }
    qsort(v, n, sizeof(*v), cmp_named);
    unsigned char *keep = ar_xcalloc(n, 1);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(v[i].s, v[i - 1].s) != 0)
            keep[v[i].order] = 1;
    r->teams = ar_xmalloc(n * sizeof(*r->teams));
    for (size_t i = 0; i < n; i++)
        if (keep[i])
            r->teams[r->nteams++] = names[i];
    free(keep);
    free(v);
}

static void push_name(const char ***v, size_t *n, size_t *cap, const char *s)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *v = ar_xrealloc(*v, *cap * sizeof(**v));
    }
    (*v)[(*n)++] = s;
}

void ar_rules_free(struct ar_rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nrules; i++) {
        struct rule *ru = &r->rules[i];
        free(ru->pattern);
        free_owners(ru->owners, ru->nowners);
        segs_free(ru->segs, ru->nsegs);
    }
    free(r->rules);
    for (size_t i = 0; i < r->nsections; i++)
        free(r->sections[i].name);
    free(r->sections);
    free_owners(r->hdr_owners, r->nhdr_owners);
    free(r->teams);
    free(r->file);
    free(r);
}

/* A section header: "[Name]", "^[Name]", "[Name][N]", then default owners.
 * Returns 0, or -1 with a reason. */
static int parse_header(struct ar_rules *r, const char *l, size_t n, size_t *cur,
                        char ***defs, size_t *ndefs, struct tok **toks, size_t *tcap,
                        const char **why, char *bad, size_t badsz)
{
    size_t i = 0;
    int optional = 0;
    if (l[i] == '^') {
        optional = 1;
        i++;
    }
    i++; /* '[' */
    size_t ns = i;
    while (i < n && l[i] != ']')
        i++;
    if (i == n) {
        *why = "unterminated '[': a GitLab section header is [Name]";
        return -1;
    }
    size_t ne = i++;
    while (ns < ne && (l[ns] == ' ' || l[ns] == '\t'))
        ns++;
    while (ne > ns && (l[ne - 1] == ' ' || l[ne - 1] == '\t'))
        ne--;
    if (ns == ne) {
        *why = "empty section name";
        return -1;
    }
    unsigned approvals = 0;
    if (i < n && l[i] == '[') {
        size_t ds = ++i;
        while (i < n && l[i] >= '0' && l[i] <= '9' && i - ds < 6)
            approvals = approvals * 10 + (unsigned)(l[i++] - '0');
        if (i == ds || i == n || l[i] != ']') {
            *why = "bad approval count in a section header: [Name][N] needs digits";
            return -1;
        }
        i++;
    }
    if (i < n && l[i] != ' ' && l[i] != '\t' && l[i] != '#') {
        *why = "unexpected text right after a section header";
        return -1;
    }
    size_t nt = tokenize(l + i, n - i, toks, tcap);
    for (size_t k = 0; k < nt; k++)
        if (!is_owner((*toks)[k].s, (*toks)[k].n)) {
            snprintf(bad, badsz, "%.*s", (int)AR_MIN((*toks)[k].n, 64), (*toks)[k].s);
            *why = "not an owner after a section header";
            return -1;
        }
    *cur = find_section(r, l + ns, ne - ns, optional, approvals);
    free_owners(*defs, *ndefs);
    *defs = dup_owners(*toks, nt);
    *ndefs = nt;
    return 0;
}

struct ar_rules *ar_rules_parse(const char *file, const char *data, size_t len, char *err,
                                size_t errsz)
{
    struct ar_rules *r = ar_xcalloc(1, sizeof(*r));
    r->file = ar_xstrdup(file ? file : "(rules)");
    r->capsections = 4;
    r->sections = ar_xcalloc(r->capsections, sizeof(*r->sections));
    r->nsections = 1; /* the unnamed section */
    size_t cur = 0;
    char **defs = NULL;  /* current header's default owners */
    size_t ndefs = 0;
    struct tok *toks = NULL;
    size_t tcap = 0;
    const char **names = NULL; /* every owner in order of appearance */
    size_t nnames = 0, capnames = 0;
    unsigned lineno = 0;
    size_t pos = 0;
    const char *why = NULL;
    char bad[80] = "";

    if (err && errsz)
        err[0] = '\0';
    while (pos < len) {
        const char *l = data + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - l) : len - pos;
        pos += n + (nl ? 1 : 0);
        lineno++;
        if (n && l[n - 1] == '\r')
            n--;
        if (lineno == 1 && n >= 3 && memcmp(l, "\xef\xbb\xbf", 3) == 0) {
            l += 3;
            n -= 3;
        }
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)l[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                why = "control character in line";
                goto fail;
            }
        }
        while (n && (*l == ' ' || *l == '\t')) {
            l++;
            n--;
        }
        if (!n || l[0] == '#')
            continue;
        if (l[0] == '[' || (l[0] == '^' && n > 1 && l[1] == '[')) {
            if (parse_header(r, l, n, &cur, &defs, &ndefs, &toks, &tcap, &why, bad,
                             sizeof(bad)) != 0)
                goto fail;
            /* keep the header's owners for ar_rules_teams() */
            for (size_t k = 0; k < ndefs; k++) {
                r->hdr_owners = ar_xrealloc(r->hdr_owners,
                                            (r->nhdr_owners + 1) * sizeof(*r->hdr_owners));
                r->hdr_owners[r->nhdr_owners] = ar_xstrdup(defs[k]);
                push_name(&names, &nnames, &capnames, r->hdr_owners[r->nhdr_owners++]);
            }
            continue;
        }
        size_t nt = tokenize(l, n, &toks, &tcap);
        if (!nt)
            continue;
        const struct tok *pt = &toks[0];
        if (pt->s[0] == '@') {
            why = "a line of owners without a pattern";
            goto fail;
        }
        if (pt->s[0] == '!') {
            why = "negation (!) is not supported in CODEOWNERS";
            goto fail;
        }
        for (size_t k = 1; k < nt; k++)
            if (!is_owner(toks[k].s, toks[k].n)) {
                snprintf(bad, sizeof(bad), "%.*s", (int)AR_MIN(toks[k].n, 64), toks[k].s);
                why = "not an owner (@user, @org/team or an e-mail address)";
                goto fail;
            }
        size_t nsegs = 0;
        struct seg *segs = compile(pt->s, pt->n, &nsegs, &why);
        if (!segs)
            goto fail;
        if (r->nrules == r->caprules) {
            r->caprules = r->caprules ? r->caprules * 2 : 16;
            r->rules = ar_xrealloc(r->rules, r->caprules * sizeof(*r->rules));
        }
        struct rule *ru = &r->rules[r->nrules++];
        memset(ru, 0, sizeof(*ru));
        ru->line = lineno;
        ru->pattern = ar_xstrndup(pt->s, pt->n);
        ru->section = cur;
        ru->segs = segs;
        ru->nsegs = nsegs;
        if (nt > 1) {
            ru->owners = dup_owners(toks + 1, nt - 1);
            ru->nowners = nt - 1;
            for (size_t k = 0; k < ru->nowners; k++)
                push_name(&names, &nnames, &capnames, ru->owners[k]);
        } else if (ndefs) {
            ru->owners = ar_xmalloc(ndefs * sizeof(*ru->owners));
            for (size_t k = 0; k < ndefs; k++)
                ru->owners[k] = ar_xstrdup(defs[k]);
            ru->nowners = ndefs;
            ru->defaulted = 1;
        }
        r->sections[cur].nrules++;
    }
    set_teams(r, names, nnames);
    free(names);
    free_owners(defs, ndefs);
    free(toks);
    return r;

fail:
    free(names);
    if (bad[0])
        seterr(err, errsz, file, lineno, "'%s': %s", bad, why);
    else
        seterr(err, errsz, file, lineno, "%s", why);
    free_owners(defs, ndefs);
    free(toks);
    ar_rules_free(r);
    return NULL;
}

size_t ar_rules_count(const struct ar_rules *r)
{
    return r ? r->nrules : 0;
}

size_t ar_rules_section_count(const struct ar_rules *r)
{
    if (!r)
        return 0;
    return r->nsections - (r->sections[0].nrules ? 0 : 1);
}

size_t ar_rules_team_count(const struct ar_rules *r)
{
    return r ? r->nteams : 0;
}

const char *ar_rules_team(const struct ar_rules *r, size_t i)
{
    return r && i < r->nteams ? r->teams[i] : NULL;
}

const char *ar_rules_file(const struct ar_rules *r)
{
    return r ? r->file : NULL;
}

static void fill_hit(const struct ar_rules *r, const struct rule *ru, struct ar_rule_hit *h)
{
    const struct section *s = &r->sections[ru->section];
    h->line = ru->line;
    h->pattern = ru->pattern;
    h->owners = (const char *const *)ru->owners;
    h->nowners = ru->nowners;
    h->section = s->name;
    h->optional = s->optional;
    h->unowned = ru->nowners == 0;
    h->defaulted = ru->defaulted;
}

size_t ar_rules_match_all(const struct ar_rules *r, const char *subject,
                          struct ar_rule_hit *hits, size_t max)
{
    if (!r || !subject || !r->nrules)
        return 0;
    struct sseg buf[32], *ss;
    size_t sn = split_subject(subject, buf, AR_ARRAY_LEN(buf), &ss);
    /* winner per section, found walking backwards */
    size_t wbuf[16];
    size_t *win = r->nsections <= AR_ARRAY_LEN(wbuf) ? wbuf
                                                      : ar_xmalloc(r->nsections * sizeof(*win));
    for (size_t i = 0; i < r->nsections; i++)
        win[i] = (size_t)-1;
    size_t found = 0, primary = (size_t)-1;
    for (size_t i = r->nrules; i-- > 0 && found < r->nsections;) {
        const struct rule *ru = &r->rules[i];
        if (win[ru->section] != (size_t)-1)
            continue;
        if (!rule_matches(ru->segs, ru->nsegs, ss, sn))
            continue;
        win[ru->section] = i;
        if (primary == (size_t)-1)
            primary = i;
        found++;
    }
    size_t out = 0;
    if (primary != (size_t)-1) {
        if (max > 0)
            fill_hit(r, &r->rules[primary], &hits[0]);
        out = 1;
        for (size_t s = 0; s < r->nsections; s++) {
            if (win[s] == (size_t)-1 || win[s] == primary)
                continue;
            if (out < max)
                fill_hit(r, &r->rules[win[s]], &hits[out]);
            out++;
        }
    }
    if (win != wbuf)
        free(win);
    if (ss != buf)
        free(ss);
    return out;
}

int ar_rules_match(const struct ar_rules *r, const char *subject, struct ar_rule_hit *hit)
{
    struct ar_rule_hit h;
    if (ar_rules_match_all(r, subject, &h, 1) == 0)
        return 0;
    if (hit)
        *hit = h;
    return 1;
}

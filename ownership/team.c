/* team.c - canonical team names (see team.h). */
#include "team.h"

#include <ctype.h>
#include <string.h>
#include "../core/util.h"

int ar_team_canon(const char *in, char *out, size_t outsz)
{
    if (!in || !out || !outsz)
        return -1;
    const char *s = in, *e = in + strlen(in);
    while (s < e && isspace((unsigned char)*s))
        s++;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    for (int k = 0; k < 2 && s < e && *s == '@'; k++)
        s++;
    /* kind: letters before a ':' that comes before any '/' */
    const char *c = s;
    while (c < e && isalpha((unsigned char)*c))
        c++;
    if (c > s && c < e && *c == ':')
        s = c + 1;
    if ((size_t)(e - s) > 8 && ar_strncaseeq(s, "default/", 8))
        s += 8;
    size_t n = (size_t)(e - s);
    if (n == 0 || n >= outsz)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[n] = '\0';
    return (int)n;
}

int ar_team_eq(const char *a, const char *b)
{
    char ca[256], cb[256];
    if (ar_team_canon(a, ca, sizeof(ca)) < 0 || ar_team_canon(b, cb, sizeof(cb)) < 0)
        return 0;
    return strcmp(ca, cb) == 0;
}

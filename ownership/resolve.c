/* resolve.c - owner resolution with alternatives and evidence (ownership.h). */
#include "ownership.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/util.h"

static const char *const source_names[] = {
    [AR_OWN_PIN] = "pin",       [AR_OWN_SPEC] = "spec",         [AR_OWN_CATALOG] = "catalog",
    [AR_OWN_RULES] = "rules",   [AR_OWN_HOST] = "host",         [AR_OWN_INFERRED] = "inferred",
    [AR_OWN_NONE] = "none",
};

const char *ar_owner_source_name(enum ar_owner_source s)
{
    return (unsigned)s < AR_ARRAY_LEN(source_names) ? source_names[s] : "none";
}

int ar_owner_source_from(const char *name, enum ar_owner_source *out)
{
    for (size_t i = 0; name && i < AR_ARRAY_LEN(source_names); i++)
        if (strcmp(name, source_names[i]) == 0) {
            *out = (enum ar_owner_source)i;
            return 0;
        }
    return -1;
}

static const char *own(struct ar_owner_result *r, const char *s)
{
    if (!s)
        return NULL;
    r->strs_ = ar_xrealloc(r->strs_, (r->nstrs_ + 1) * sizeof(*r->strs_));
    return r->strs_[r->nstrs_++] = ar_xstrdup(s);
}

static int is_known(const char *canon, const char *const *known, size_t nknown)
{
    for (size_t i = 0; i < nknown; i++)
        if (known[i] && ar_team_eq(canon, known[i]))
            return 1;
    return 0;
}

static void add_unresolved(struct ar_owner_result *r, const struct ar_owner_cand *c,
                           const char *reason)
{
    r->unresolved = ar_xrealloc(r->unresolved, (r->nunresolved + 1) * sizeof(*r->unresolved));
    struct ar_owner_unresolved *u = &r->unresolved[r->nunresolved++];
    u->source = c->source;
    u->team = own(r, c->team);
    u->evidence = own(r, c->evidence);
    u->reason = reason;
}

static int same_team(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

int ar_owner_resolve(const struct ar_owner_cand *cands, size_t n, const char *const *known,
                     size_t nknown, struct ar_owner_result *res)
{
    memset(res, 0, sizeof(*res));
    res->source = AR_OWN_NONE;
    int have = 0;
    /* stable walk in precedence order: one pass per source */
    for (int src = AR_OWN_PIN; src < AR_OWN_NONE; src++) {
        for (size_t i = 0; i < n; i++) {
            const struct ar_owner_cand *c = &cands[i];
            if ((int)c->source != src)
                continue;
            char canon[256];
            const char *team = NULL;
            if (!c->unowned) {
                if (!c->team || ar_team_canon(c->team, canon, sizeof(canon)) < 0) {
                    add_unresolved(res, c, "empty or unreadable owner");
                    continue;
                }
                team = canon;
                if (c->source == AR_OWN_SPEC && nknown > 0 && !is_known(canon, known, nknown)) {
                    add_unresolved(res, c, "not a known team");
                    continue;
                }
            }
            if (!have) {
                have = 1;
                res->source = c->source;
                res->team = own(res, team);
                res->team_written = own(res, c->unowned ? NULL : c->team);
                res->evidence = own(res, c->evidence);
                res->unowned = c->unowned;
                continue;
            }
            if (same_team(team, res->team))
                continue;
            int dup = 0;
            for (size_t k = 0; k < res->nalts && !dup; k++)
                dup = res->alts[k].source == c->source && same_team(res->alts[k].team, team);
            if (dup)
                continue;
            res->alts = ar_xrealloc(res->alts, (res->nalts + 1) * sizeof(*res->alts));
            struct ar_owner_alt *a = &res->alts[res->nalts++];
            a->source = c->source;
            a->team = own(res, team);
            a->evidence = own(res, c->evidence);
        }
    }
    return res->team != NULL;
}

void ar_owner_result_free(struct ar_owner_result *res)
{
    if (!res)
        return;
    for (size_t i = 0; i < res->nstrs_; i++)
        free(res->strs_[i]);
    free(res->strs_);
    free(res->alts);
    free(res->unresolved);
    memset(res, 0, sizeof(*res));
    res->source = AR_OWN_NONE;
}

void ar_owner_result_json_fields(struct ar_json *j, const struct ar_owner_result *res)
{
    ar_json_kstr(j, "owner", res->team);
    ar_json_kstr(j, "source", ar_owner_source_name(res->source));
    ar_json_kstr(j, "evidence", res->evidence);
    ar_json_key(j, "alternatives");
    ar_json_arr_open(j);
    for (size_t i = 0; i < res->nalts; i++) {
        ar_json_obj_open(j);
        ar_json_kstr(j, "owner", res->alts[i].team);
        ar_json_kstr(j, "source", ar_owner_source_name(res->alts[i].source));
        ar_json_kstr(j, "evidence", res->alts[i].evidence);
        ar_json_obj_close(j);
    }
    ar_json_arr_close(j);
    ar_json_key(j, "unresolved");
    ar_json_arr_open(j);
    for (size_t i = 0; i < res->nunresolved; i++) {
        ar_json_obj_open(j);
        ar_json_kstr(j, "owner", res->unresolved[i].team);
        ar_json_kstr(j, "source", ar_owner_source_name(res->unresolved[i].source));
        ar_json_kstr(j, "evidence", res->unresolved[i].evidence);
        ar_json_kstr(j, "reason", res->unresolved[i].reason);
        ar_json_obj_close(j);
    }
    ar_json_arr_close(j);
}

void ar_owner_result_json(struct ar_json *j, const struct ar_owner_result *res)
{
    ar_json_obj_open(j);
    ar_owner_result_json_fields(j, res);
    ar_json_obj_close(j);
}

int ar_ownership_fuzz_one(const uint8_t *data, size_t len)
{
    static const char *const subjects[] = {
        "api.shop.test/orders/123", "api.shop.test/orders/{orderId}", "a/b/c/d/e/f",
        "", "/", "x", "api.shop.test:8080/", "10.1.2.3:8080/admin", "[2001:db8::1]:443/x",
    };
    char err[256];
    struct ar_rules *r = ar_rules_parse("fuzz", (const char *)data, len, err, sizeof(err));
    if (r) {
        struct ar_rule_hit hits[4];
        for (size_t i = 0; i < AR_ARRAY_LEN(subjects); i++)
            (void)ar_rules_match_all(r, subjects[i], hits, AR_ARRAY_LEN(hits));
        for (size_t i = 0; i < ar_rules_team_count(r); i++)
            (void)ar_rules_team(r, i);
        ar_rules_free(r);
    }
    /* one host rule from the first line, and the data as a subject */
    char line[256];
    size_t n = 0;
    while (n < len && n < sizeof(line) - 1 && data[n] != '\n' && data[n] != '\0') {
        line[n] = (char)data[n];
        n++;
    }
    line[n] = '\0';
    struct ar_hostrule hr;
    if (ar_hostrule_parse(line, &hr, err, sizeof(err)) == 0) {
        for (size_t i = 0; i < AR_ARRAY_LEN(subjects); i++)
            (void)ar_hostrule_match(&hr, subjects[i]);
        ar_hostrule_clear(&hr);
    }
    (void)ar_rules_pattern_match("*.shop.test/**", line);
    (void)ar_rules_pattern_match(line, "api.shop.test/orders/1");
    char canon[64];
    (void)ar_team_canon(line, canon, sizeof(canon));
    struct ar_bcatalog *c = ar_bcatalog_parse("fuzz", (const char *)data, len, err, sizeof(err));
    if (c) {
        for (size_t i = 0; i < ar_bcatalog_count(c); i++) {
            const struct ar_entity *e = ar_bcatalog_entity(c, i);
            if (e->kind == AR_ENT_API) {
                const struct ar_entity *p[2];
                (void)ar_bcatalog_api_providers(c, e->ns, e->name, p, 2);
            }
        }
        ar_bcatalog_free(c);
    }
    return 0;
}

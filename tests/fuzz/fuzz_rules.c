/* fuzz_rules.c - the ownership parsers (ownership/): the input read as a
 * CODEOWNERS rules file, a Backstage catalog and host rules, with lookups
 * (ar_ownership_fuzz_one), then each rules line's pattern matched against
 * subjects made from the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../ownership/ownership.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ar_ownership_fuzz_one(data, size);
    char err[512];
    struct ar_rules *r = ar_rules_parse("OWNERS", (const char *)data, size, err, sizeof(err));
    if (!r)
        return 0;
    static const char *const subjects[] = { "api.shop.test/orders/12", "a/b/c/d.json",
                                            "x.test/{id}/items", "" };
    for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
        struct ar_rule_hit hits[4];
        size_t n = ar_rules_match_all(r, subjects[i], hits, 4);
        for (size_t k = 0; k < n && k < 4; k++)
            if (!hits[k].pattern || (hits[k].nowners && !hits[k].owners[0]))
                abort();
    }
    ar_rules_free(r);
    return 0;
}

/* sources.c - import of specs, catalogs and ownership rules ([sources]), at
 * the start of a live capture and on SIGHUP, on the writer side only.
 *
 * Each call imports the config's [sources] into the database, loads a new
 * model (specs, catalogs, rules, [owners]), makes it the store's judge and
 * judges the whole roster again (so a changed spec changes states at once,
 * with its outbox deltas), then frees the previous model: the judge only
 * runs in the writer's flushes, on this same thread. The writer's templater
 * gets the spec templates; the packet thread's gets them at start (before the
 * packet loop runs). After a SIGHUP, new spec templates reach the packet
 * thread's templater only at the next start: traffic is still judged against
 * the new specs, because matching compares parameter segments by shape, not
 * by name. If anything fails, the previous model stays. */
#include <stdio.h>
#include "../core/log.h"
#include "agent.h"
#include "roster.h"

static struct ar_model *current;    /* the store's judge; writer side only */

static void seed_packet_tp(void *arg, struct ar_templater *packet_tp)
{
    ar_model_seed_templater(arg, packet_tp);
}

int ar_agent_reload_sources(struct ar_reload_ctx *ctx, char *err, size_t errsz)
{
    if (ar_roster_import_config(ctx->store, ctx->cfg, err, errsz) < 0)
        return -1;
    struct ar_model *m = ar_model_load(ctx->store, ctx->cfg, err, errsz);
    if (!m)
        return -1;
    ar_model_seed_templater(m, ctx->writer_tp);
    ar_store_set_judge(ctx->store, ar_model_judge, m);
    int64_t changed = ar_store_judge_all(ctx->store, err, errsz);
    if (changed < 0) {
        ar_store_set_judge(ctx->store, current ? ar_model_judge : NULL, current);
        ar_model_free(m);
        return -1;
    }
    if (!current) {                 /* the start: the packet loop does not run yet */
        ctx->packet_apply = seed_packet_tp;
        ctx->packet_arg = m;
    }
    ar_model_free(current);
    current = m;
    ar_info("sources: %zu spec%s loaded; %lld endpoint%s changed state or owner",
            ar_model_spec_count(m), ar_model_spec_count(m) == 1 ? "" : "s", (long long)changed,
            changed == 1 ? "" : "s");
    return 0;
}

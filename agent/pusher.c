/* pusher.c - the live capture's push thread.
 *
 * A third thread with its own connection to the database: every target's
 * [push] interval it runs ar_push_run for the targets that are due (flags 0:
 * only the deliveries whose retry time has come). It blocks on the network,
 * so it is neither the packet thread nor the writer: a slow receiver delays
 * no flush. SIGHUP re-reads its config (targets, intervals, secrets). At
 * stop, a transfer in progress is aborted (the delivery stays pending under
 * its webhook-id and is sent again at the next start or `apiroster push`). */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../core/log.h"
#include "../core/util.h"
#include "../inventory/store.h"
#include "agent.h"
#include "push.h"

struct ar_pusher {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int stop;            /* read by the curl progress callback too */
    int reload;
    char *db_path, *config_path;
};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Replace *cfg (initialized, or loaded before) with the config file as it is now. */
static void load(struct ar_pusher *p, struct ar_config *cfg)
{
    struct ar_config nc;
    char err[1024];
    ar_config_init(&nc);
    if (p->config_path && ar_config_load(&nc, p->config_path, err, sizeof(err)) < 0) {
        ar_err("push: %s; the push keeps its previous targets", err);
        ar_config_free(&nc);
        return;
    }
    if (ar_push_check(&nc, err, sizeof(err)) < 0)
        ar_warn("push: %s (that target is skipped until it is fixed)", err);
    ar_config_free(cfg);    /* also the defaults ar_config_init allocated */
    *cfg = nc;
}

static void log_report(const struct ar_push_report *rep)
{
    for (int i = 0; i < rep->ntargets; i++) {
        const struct ar_push_target_report *t = &rep->t[i];
        if (t->delivered || t->attempts)
            ar_info("push: %s: %" PRIu64 " delivered, %" PRIu64 " pending, %" PRIu64 " failed%s%s",
                    t->label, t->delivered, t->pending + t->unassigned, t->failed,
                    t->last_error[0] ? "; last error: " : "", t->last_error);
    }
}

static void *pusher_main(void *arg)
{
    struct ar_pusher *p = arg;
    struct ar_config cfg;
    struct ar_store *s = NULL;
    double due[AR_MAX_PUSH];
    char err[1024];

    ar_config_init(&cfg);
    load(p, &cfg);
    double t0 = mono();
    for (int i = 0; i < AR_MAX_PUSH; i++)
        due[i] = t0 + (double)(i < cfg.npush ? cfg.push[i].interval : 0);
    pthread_mutex_lock(&p->mu);
    while (!atomic_load(&p->stop)) {
        double now = mono(), next = now + 3600;
        for (int i = 0; i < cfg.npush; i++)
            if (due[i] < next)
                next = due[i];
        if (next > now && !p->reload) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            double w = next - now;
            until.tv_sec += (time_t)w;
            until.tv_nsec += (long)((w - (double)(time_t)w) * 1e9);
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&p->cv, &p->mu, &until);
            continue;
        }
        int reload = p->reload;
        p->reload = 0;
        pthread_mutex_unlock(&p->mu);

        if (reload) {
            load(p, &cfg);
            now = mono();
            for (int i = 0; i < cfg.npush; i++)
                if (due[i] > now + (double)cfg.push[i].interval)
                    due[i] = now + (double)cfg.push[i].interval;
        }
        /* the targets that are due, in a view of the config (same strings) */
        struct ar_config *view = ar_xmalloc(sizeof(*view));
        *view = cfg;
        view->npush = 0;
        for (int i = 0; i < cfg.npush; i++)
            if (due[i] <= now) {
                view->push[view->npush++] = cfg.push[i];
                due[i] = now + (double)(cfg.push[i].interval ? cfg.push[i].interval : 1);
            }
        if (view->npush && !s && ar_store_open(p->db_path, AR_STORE_RW, &s, err, sizeof(err)) < 0) {
            ar_err("push: %s", err);
            s = NULL;
        }
        if (view->npush && s) {
            struct ar_push_report rep;
            if (ar_push_run(s, view, 0, &rep) < 0)
                ar_err("push: %s", rep.err);
            log_report(&rep);
        }
        free(view);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    if (s)
        ar_store_close(s);
    ar_config_free(&cfg);
    return NULL;
}

struct ar_pusher *ar_pusher_start(const char *db_path, const char *config_path)
{
    struct ar_pusher *p = ar_xcalloc(1, sizeof(*p));
    p->db_path = ar_xstrdup(db_path);
    p->config_path = config_path ? ar_xstrdup(config_path) : NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    ar_push_cancel_on(&p->stop);
    if (pthread_create(&p->th, NULL, pusher_main, p) != 0) {
        ar_err("cannot start the push thread: deltas stay in the outbox for `apiroster push`");
        ar_push_cancel_on(NULL);
        free(p->db_path);
        free(p->config_path);
        free(p);
        return NULL;
    }
    return p;
}

void ar_pusher_reload(struct ar_pusher *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->reload = 1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void ar_pusher_stop(struct ar_pusher *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, 1);
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->th, NULL);
    ar_push_cancel_on(NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->db_path);
    free(p->config_path);
    free(p);
}

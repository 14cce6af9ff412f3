/* classify.c - nDPI 4.2 wrapper. Pitfalls (../shared/notes/libraries.md 3.2):
 * set the detection bitmask or everything is Unknown; finalize; zero the flow
 * struct; packetlen is an unsigned short. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <ndpi_api.h>
#include "../core/util.h"
#include "classify.h"

struct ar_classifier {
    struct ndpi_detection_module_struct *ndpi;
};

struct ar_dpi_flow {
    struct ndpi_flow_struct *f;
    enum ar_dpi_result verdict;
};

/* One module per thread (the shards of a file capture), but nDPI's header
 * says that ndpi_init_detection_module calls must not run concurrently. */
static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;

struct ar_classifier *ar_classifier_new(char *err, size_t errsz)
{
    pthread_mutex_lock(&init_mu);
    struct ndpi_detection_module_struct *m = ndpi_init_detection_module(ndpi_no_prefs);
    if (m) {
        NDPI_PROTOCOL_BITMASK all;
        NDPI_BITMASK_SET_ALL(all);
        ndpi_set_protocol_detection_bitmask2(m, &all);
        ndpi_finalize_initialization(m);
    }
    pthread_mutex_unlock(&init_mu);
    if (!m) {
        snprintf(err, errsz, "nDPI: cannot initialize the detection module");
        return NULL;
    }
    struct ar_classifier *c = ar_xcalloc(1, sizeof(*c));
    c->ndpi = m;
    return c;
}

void ar_classifier_free(struct ar_classifier *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&init_mu);
    ndpi_exit_detection_module(c->ndpi);
    pthread_mutex_unlock(&init_mu);
    free(c);
}

struct ar_dpi_flow *ar_dpi_flow_new(void)
{
    struct ar_dpi_flow *f = ar_xcalloc(1, sizeof(*f));
    f->f = ar_xcalloc(1, SIZEOF_FLOW_STRUCT);
    return f;
}

void ar_dpi_flow_free(struct ar_dpi_flow *f)
{
    if (!f)
        return;
    ndpi_free_flow_data(f->f);
    free(f->f);
    free(f);
}

static enum ar_dpi_result verdict(ndpi_protocol p)
{
    if (p.master_protocol == NDPI_PROTOCOL_TLS || p.app_protocol == NDPI_PROTOCOL_TLS)
        return AR_DPI_TLS;
    if (p.master_protocol == NDPI_PROTOCOL_HTTP || p.app_protocol == NDPI_PROTOCOL_HTTP)
        return AR_DPI_HTTP;
    if (p.app_protocol == NDPI_PROTOCOL_UNKNOWN && p.master_protocol == NDPI_PROTOCOL_UNKNOWN)
        return AR_DPI_PENDING;
    return AR_DPI_OTHER;
}

enum ar_dpi_result ar_dpi_packet(struct ar_classifier *c, struct ar_dpi_flow *f,
                                 const uint8_t *l3, uint32_t l3_len, double ts)
{
    if (f->verdict != AR_DPI_PENDING)
        return f->verdict;
    if (l3_len > 65535)
        l3_len = 65535;
    /* packet time comes from the file: it may be negative or absurd (a
     * converted value out of range is undefined behaviour) */
    double ms = ts * 1000.0;
    u_int64_t when = (ms >= 0.0 && ms < 9.0e18) ? (u_int64_t)ms : 0;
    ndpi_protocol p = ndpi_detection_process_packet(c->ndpi, f->f, l3, (unsigned short)l3_len, when);
    f->verdict = verdict(p);
    return f->verdict;
}

enum ar_dpi_result ar_dpi_giveup(struct ar_classifier *c, struct ar_dpi_flow *f)
{
    if (f->verdict != AR_DPI_PENDING)
        return f->verdict;
    u_int8_t guessed = 0;
    ndpi_protocol p = ndpi_detection_giveup(c->ndpi, f->f, 0, &guessed);
    f->verdict = verdict(p);
    if (f->verdict == AR_DPI_PENDING)
        f->verdict = AR_DPI_UNKNOWN;
    return f->verdict;
}

void ar_dpi_tls_info(const struct ar_dpi_flow *f, char *sni, size_t snisz, char *alpn,
                     size_t alpnsz)
{
    ar_strlcpy(sni, f->f->host_server_name, snisz);
    ar_strlcpy(alpn, f->f->protos.tls_quic.alpn ? f->f->protos.tls_quic.alpn : "", alpnsz);
}

/* live.c - live capture from an interface through libpcap.
 *
 * The handle is made with pcap_create + pcap_activate (snaplen, buffer size,
 * immediate mode), then put in non-blocking mode: pcap_dispatch() blocks for
 * ever on a quiet interface whatever pcap_set_timeout says, so the caller
 * poll()s ar_live_fd() with its own timeout and calls ar_live_dispatch() when
 * it is readable (or when the timeout ran out: TPACKET_V3 may hold packets in
 * a block until its timeout, poll() does not always say so). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>
#include "../core/log.h"
#include "../core/util.h"
#include "collector.h"
#include "pcapfile.h"

struct ar_live {
    pcap_t *p;
    int dlt;
    char *iface;
    struct ar_collector *col;
    /* last raw 32-bit pcap_stats values and their 64-bit totals */
    uint32_t last_recv, last_drop, last_ifdrop;
    struct ar_live_stats tot;
};

uint64_t ar_widen32(uint64_t total, uint32_t *last, uint32_t cur)
{
    /* unsigned 32-bit difference: right across one wrap of the counter (the
     * caller reads often enough that it cannot wrap twice in between) */
    total += (uint32_t)(cur - *last);
    *last = cur;
    return total;
}

static int set_filter(pcap_t *p, const char *filter, char *err, size_t errsz)
{
    struct bpf_program prog;
    if (pcap_compile(p, &prog, filter && *filter ? filter : "", 1, PCAP_NETMASK_UNKNOWN) < 0) {
        snprintf(err, errsz, "filter '%s': %s", filter ? filter : "", pcap_geterr(p));
        return -1;
    }
    int rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (rc < 0) {
        snprintf(err, errsz, "filter '%s': %s", filter ? filter : "", pcap_geterr(p));
        return -1;
    }
    return 0;
}

int ar_live_open(const struct ar_live_opts *o, struct ar_live **out, char *err, size_t errsz)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    *out = NULL;
    pcap_t *p = pcap_create(o->iface, ebuf);
    if (!p) {
        snprintf(err, errsz, "%s: %s", o->iface, ebuf);
        return -1;
    }
    pcap_set_snaplen(p, (int)o->snaplen);
    pcap_set_buffer_size(p, (int)o->buffer);
    pcap_set_promisc(p, o->promisc);
    /* immediate mode: packets are handed over as they come (no batching in
     * the kernel block); the timeout only matters if immediate mode is not
     * available */
    pcap_set_immediate_mode(p, 1);
    pcap_set_timeout(p, 100);
    int rc = pcap_activate(p);
    if (rc < 0) {
        snprintf(err, errsz, "%s: cannot capture: %s", o->iface,
                 rc == PCAP_ERROR_PERM_DENIED ? "permission denied (needs root or CAP_NET_RAW)"
                 : rc == PCAP_ERROR_NO_SUCH_DEVICE ? "no such interface"
                                                   : pcap_geterr(p));
        pcap_close(p);
        return -1;
    }
    if (rc > 0)
        ar_warn("%s: %s", o->iface, pcap_statustostr(rc));
    if (pcap_setnonblock(p, 1, ebuf) < 0) {
        snprintf(err, errsz, "%s: cannot set non-blocking: %s", o->iface, ebuf);
        pcap_close(p);
        return -1;
    }
    if (pcap_get_selectable_fd(p) < 0) {
        snprintf(err, errsz, "%s: no selectable file descriptor", o->iface);
        pcap_close(p);
        return -1;
    }
    if (set_filter(p, o->filter, err, errsz) < 0) {
        pcap_close(p);
        return -1;
    }
    struct ar_live *l = ar_xcalloc(1, sizeof(*l));
    l->p = p;
    l->dlt = pcap_datalink(p);
    l->iface = ar_xstrdup(o->iface);
    *out = l;
    return 0;
}

int ar_live_check_filter(const char *filter, char *err, size_t errsz)
{
    /* a dead handle of a common link type: enough to compile the expression */
    pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
    if (!p) {
        snprintf(err, errsz, "cannot check the filter");
        return -1;
    }
    struct bpf_program prog;
    int rc = pcap_compile(p, &prog, filter && *filter ? filter : "", 1, PCAP_NETMASK_UNKNOWN);
    if (rc < 0)
        snprintf(err, errsz, "filter '%s': %s", filter ? filter : "", pcap_geterr(p));
    else
        pcap_freecode(&prog);
    pcap_close(p);
    return rc < 0 ? -1 : 0;
}

int ar_live_fd(const struct ar_live *l)
{
    return pcap_get_selectable_fd(l->p);
}

int ar_live_datalink(const struct ar_live *l)
{
    return l->dlt;
}

static void on_packet(u_char *ud, const struct pcap_pkthdr *h, const u_char *data)
{
    struct ar_live *l = (struct ar_live *)ud;
    double ts = ar_pcap_time(h->ts.tv_sec, h->ts.tv_usec);
    ar_collector_packet(l->col, l->dlt, ts, data, h->caplen, h->len);
}

int ar_live_dispatch(struct ar_live *l, struct ar_collector *c, int max, char *err, size_t errsz)
{
    l->col = c;
    int n = pcap_dispatch(l->p, max, on_packet, (u_char *)l);
    if (n == PCAP_ERROR) {
        snprintf(err, errsz, "%s: %s", l->iface, pcap_geterr(l->p));
        return -1;
    }
    return n < 0 ? 0 : n; /* PCAP_ERROR_BREAK: nothing more now */
}

int ar_live_set_filter(struct ar_live *l, const char *filter, char *err, size_t errsz)
{
    return set_filter(l->p, filter, err, errsz);
}

int ar_live_stats(struct ar_live *l, struct ar_live_stats *st, char *err, size_t errsz)
{
    struct pcap_stat ps;
    if (pcap_stats(l->p, &ps) < 0) {
        snprintf(err, errsz, "%s: pcap_stats: %s", l->iface, pcap_geterr(l->p));
        return -1;
    }
    l->tot.received = ar_widen32(l->tot.received, &l->last_recv, ps.ps_recv);
    l->tot.kernel_drops = ar_widen32(l->tot.kernel_drops, &l->last_drop, ps.ps_drop);
    l->tot.iface_drops = ar_widen32(l->tot.iface_drops, &l->last_ifdrop, ps.ps_ifdrop);
    *st = l->tot;
    return 0;
}

void ar_live_close(struct ar_live *l)
{
    if (!l)
        return;
    pcap_close(l->p);
    free(l->iface);
    free(l);
}

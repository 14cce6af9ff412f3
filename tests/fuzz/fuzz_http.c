/* fuzz_http.c - collector/http.c on one connection's two byte streams.
 *
 * Input: CTRL REQUEST [SEP RESPONSE], SEP being the 4 bytes "\0\xffRS" (no
 * separator: the whole input is the request stream). CTRL drives the feed:
 *   bits 0-3  chunk size is 1 << (bits), 1 to 32768 bytes, alternating request
 *             and response chunks (a pipelined client, an interleaved server)
 *   bit 4     the handshake was not seen (client_side -1: the data decides)
 *   bit 5     a gap of CTRL bytes in the request stream after its first chunk
 *   bit 6     a gap of CTRL bytes in the response stream after its first chunk
 *   bit 7     FIN on both sides before the end of the connection
 * Small limits, so that inputs of a few KB reach every one of them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../collector/http.h"

static struct ar_limits lim;
static struct ar_counters ctr;
static uint64_t sink;

static void on_exchange(const struct ar_exchange *x, void *ud)
{
    (void)ud;
    const char *s[] = { x->client, x->server, x->method, x->host, x->path,
                        x->query,  x->req_ct, x->resp_ct, x->auth };
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        sink += s[i] ? strlen(s[i]) : 0;
    sink += (uint64_t)x->status;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ar_limits_default(&lim);
    lim.max_target = 256;
    lim.max_header_bytes = 1024;
    lim.max_headers = 16;
    lim.max_pending = 8;
    lim.max_query_names = 4;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t sep[4] = { 0, 0xff, 'R', 'S' };
    if (size < 1)
        return 0;
    uint8_t ctrl = data[0];
    const uint8_t *req = data + 1, *resp = NULL;
    size_t req_len = size - 1, resp_len = 0;
    const uint8_t *m = req_len >= 4 ? memmem(req, req_len, sep, 4) : NULL;
    if (m) {
        resp = m + 4;
        resp_len = (size_t)(req + req_len - resp);
        req_len = (size_t)(m - req);
    }
    struct ar_http_env env = { &lim, &ctr, on_exchange, NULL };
    struct ar_http *h = ar_http_new(&env, "10.0.0.1:40000", "10.0.0.2:80",
                                    (ctrl & 0x10) ? -1 : 0);
    if (!h)
        return 0;
    size_t chunk = (size_t)1 << (ctrl & 0x0f);
    size_t ro = 0, so = 0;
    double ts = 1.0;
    while (ro < req_len || so < resp_len) {
        if (ro < req_len) {
            size_t n = req_len - ro < chunk ? req_len - ro : chunk;
            ar_http_data(h, 0, req + ro, n, ts);
            if (ro == 0 && (ctrl & 0x20))
                ar_http_gap(h, 0, ctrl);
            ro += n;
        }
        if (so < resp_len) {
            size_t n = resp_len - so < chunk ? resp_len - so : chunk;
            ar_http_data(h, 1, resp + so, n, ts);
            if (so == 0 && (ctrl & 0x40))
                ar_http_gap(h, 1, ctrl);
            so += n;
        }
        ts += 0.001;
    }
    if (ctrl & 0x80) {
        ar_http_fin(h, 0);
        ar_http_fin(h, 1);
    }
    ar_http_end(h);
    ar_http_free(h);
    return 0;
}

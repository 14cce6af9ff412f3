/* check_http.c - request/response pairing and resynchronization in collector/http.c,
 * fed with byte streams exactly as reassembly hands them over. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "../../collector/http.h"
#include "../../core/util.h"

#define MAXX 64

struct rec {
    char method[32], host[128], path[256], query[256], req_ct[64], resp_ct[64], auth[16];
    int has_method, has_host, has_path, status;
};

static struct rec got[MAXX];
static int ngot;
static struct ar_counters ctr;
static struct ar_limits lim;

static void cp(char *dst, size_t sz, const char *s, int *has)
{
    if (has)
        *has = s != NULL;
    ar_strlcpy(dst, s ? s : "", sz);
}

static void on_x(const struct ar_exchange *x, void *ud)
{
    (void)ud;
    ck_assert_int_lt(ngot, MAXX);
    struct rec *r = &got[ngot++];
    memset(r, 0, sizeof(*r));
    cp(r->method, sizeof(r->method), x->method, &r->has_method);
    cp(r->host, sizeof(r->host), x->host, &r->has_host);
    cp(r->path, sizeof(r->path), x->path, &r->has_path);
    cp(r->query, sizeof(r->query), x->query, NULL);
    cp(r->req_ct, sizeof(r->req_ct), x->req_ct, NULL);
    cp(r->resp_ct, sizeof(r->resp_ct), x->resp_ct, NULL);
    cp(r->auth, sizeof(r->auth), x->auth, NULL);
    r->status = x->status;
}

static struct ar_http *conn(int client_side)
{
    ngot = 0;
    memset(&ctr, 0, sizeof(ctr));
    ar_limits_default(&lim);
    struct ar_http_env env = { &lim, &ctr, on_x, NULL };
    return ar_http_new(&env, "10.0.0.1:40000", "10.0.0.2:80", client_side);
}

static void feed(struct ar_http *h, int side, const char *s)
{
    ar_http_data(h, side, (const uint8_t *)s, strlen(s), 1.0);
}

/* one byte at a time, as 1-byte TCP segments would */
static void feed_bytes(struct ar_http *h, int side, const char *s)
{
    for (size_t i = 0; s[i]; i++)
        ar_http_data(h, side, (const uint8_t *)s + i, 1, 1.0);
}

static void done(struct ar_http *h)
{
    ar_http_end(h);
    ar_http_free(h);
}

START_TEST(test_simple_get)
{
    struct ar_http *h = conn(0);
    feed(h, 0, "GET /api/v1/users/42?page=2&limit=10&page=3 HTTP/1.1\r\nHost: api.example.test\r\n"
               "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.secret.sig\r\nAccept: */*\r\n\r\n");
    feed(h, 1, "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
               "Content-Length: 2\r\n\r\n{}");
    done(h);
    ck_assert_int_eq(ngot, 1);
    ck_assert_str_eq(got[0].method, "GET");
    ck_assert_str_eq(got[0].host, "api.example.test");
    ck_assert_str_eq(got[0].path, "/api/v1/users/42");
    ck_assert_str_eq(got[0].query, "page&limit");
    ck_assert_str_eq(got[0].resp_ct, "application/json");
    ck_assert_str_eq(got[0].auth, "bearer");
    ck_assert_int_eq(got[0].status, 200);
    ck_assert_uint_eq(AR_GET(&ctr, exchanges), 1);
}
END_TEST

START_TEST(test_pipelining_and_head)
{
    struct ar_http *h = conn(0);
    feed(h, 0, "HEAD /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
               "POST /c HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 5\r\n\r\n1,2,3"
               "DELETE /d HTTP/1.1\r\nHost: x\r\n\r\n");
    /* HEAD answer carries Content-Length but no body: the next response must not
     * be swallowed as its body */
    feed(h, 1, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
               "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"
               "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
               "HTTP/1.1 204 No Content\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 4);
    ck_assert_str_eq(got[0].method, "HEAD");
    ck_assert_int_eq(got[0].status, 200);
    ck_assert_str_eq(got[1].path, "/b");
    ck_assert_int_eq(got[1].status, 304);
    ck_assert_str_eq(got[2].method, "POST");
    ck_assert_str_eq(got[2].req_ct, "text/csv");
    ck_assert_int_eq(got[2].status, 201);
    ck_assert_str_eq(got[3].method, "DELETE");
    ck_assert_int_eq(got[3].status, 204);
    ck_assert_uint_eq(AR_GET(&ctr, http_parse_errors), 0);
}
END_TEST

START_TEST(test_100_continue)
{
    struct ar_http *h = conn(0);
    feed(h, 0, "POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    feed(h, 1, "HTTP/1.1 100 Continue\r\n\r\n");
    feed(h, 0, "abc");
    feed(h, 1, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 1);
    ck_assert_int_eq(got[0].status, 404);
}
END_TEST

START_TEST(test_one_byte_segments)
{
    struct ar_http *h = conn(0);
    feed_bytes(h, 0, "GET /x/y?q=1 HTTP/1.1\r\nHost: h.test\r\n\r\nPUT /z HTTP/1.1\r\nHost: h.test\r\n"
                     "Content-Length: 2\r\n\r\nab");
    feed_bytes(h, 1, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 500 Oops\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 2);
    ck_assert_str_eq(got[0].path, "/x/y");
    ck_assert_str_eq(got[0].query, "q");
    ck_assert_str_eq(got[0].host, "h.test");
    ck_assert_int_eq(got[0].status, 200);
    ck_assert_str_eq(got[1].method, "PUT");
    ck_assert_int_eq(got[1].status, 500);
}
END_TEST

START_TEST(test_close_delimited_and_http10)
{
    struct ar_http *h = conn(0);
    feed(h, 0, "GET /old HTTP/1.0\r\n\r\n");
    feed(h, 1, "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>body until close");
    ar_http_fin(h, 1);
    done(h);
    ck_assert_int_eq(ngot, 1);
    ck_assert_int_eq(got[0].has_host, 0);
    ck_assert_str_eq(got[0].resp_ct, "text/html");
    ck_assert_int_eq(got[0].status, 200);
}
END_TEST

START_TEST(test_unknown_method_and_bare_lf)
{
    struct ar_http *h = conn(0);
    feed(h, 0, "QUERY /search HTTP/1.1\nHost: q.test\nContent-Length: 2\n\n{}"
               "GET /next HTTP/1.1\nHost: q.test\n\n");
    feed(h, 1, "HTTP/1.1 200 OK\nContent-Length: 0\n\nHTTP/1.1 202 Accepted\nContent-Length: 0\n\n");
    done(h);
    ck_assert_int_eq(ngot, 2);
    ck_assert_str_eq(got[0].method, "QUERY");
    ck_assert_str_eq(got[0].path, "/search");
    ck_assert_int_eq(got[0].status, 200);
    ck_assert_str_eq(got[1].method, "GET");
    ck_assert_int_eq(got[1].status, 202);
}
END_TEST

START_TEST(test_absolute_form)
{
    struct ar_http *h = conn(0);
    feed(h, 0, "GET http://proxy.test:8080?x=1 HTTP/1.1\r\n\r\nGET http://a.test/p/q?k=v HTTP/1.1\r\n"
               "Host: b.test\r\n\r\nGET http://user:PLANTEDPW@c.test/r HTTP/1.1\r\n\r\n");
    feed(h, 1, "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
               "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 3);
    ck_assert_str_eq(got[0].path, "/");
    ck_assert_str_eq(got[0].host, "proxy.test:8080");
    ck_assert_str_eq(got[0].query, "x");
    ck_assert_str_eq(got[1].path, "/p/q");
    /* the target's authority wins over the Host header (RFC 9112 3.2.2) */
    ck_assert_str_eq(got[1].host, "a.test");
    /* userinfo is a credential: dropped */
    ck_assert_str_eq(got[2].host, "c.test");
    ck_assert_str_eq(got[2].path, "/r");
}
END_TEST

START_TEST(test_connect_tunnel)
{
    struct ar_http *h = conn(0);
    feed(h, 0, "CONNECT api.test:443 HTTP/1.1\r\nHost: api.test:443\r\n\r\n");
    feed(h, 1, "HTTP/1.1 200 Connection established\r\n\r\n");
    feed(h, 0, "\x16\x03\x01\x02\x00\x01\x00\x01\xfcGET / HTTP/1.1\r\n\r\n");
    feed(h, 1, "\x16\x03\x03\x00\x5a\x02\x00HTTP/1.1 200 OK\r\n\r\n");
    ck_assert_int_eq(ar_http_done(h), 1);
    done(h);
    ck_assert_int_eq(ngot, 1);
    ck_assert_str_eq(got[0].method, "CONNECT");
    ck_assert_str_eq(got[0].path, "api.test:443");
    ck_assert_int_eq(got[0].status, 200);
    ck_assert_uint_eq(AR_GET(&ctr, http_tunnels), 1);
}
END_TEST

START_TEST(test_upgrade_refused_then_more)
{
    struct ar_http *h = conn(0);
    feed(h, 0, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    feed(h, 1, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    feed(h, 0, "GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
    feed(h, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 2);
    ck_assert_int_eq(got[0].status, 400);
    ck_assert_str_eq(got[1].path, "/after");
    ck_assert_int_eq(got[1].status, 200);
}
END_TEST

START_TEST(test_upgrade_101)
{
    struct ar_http *h = conn(0);
    feed(h, 0, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    feed(h, 1, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
               "\x81\x05hello");
    feed(h, 0, "\x81\x85\x00\x00\x00\x00hello");
    done(h);
    ck_assert_int_eq(ngot, 1);
    ck_assert_int_eq(got[0].status, 101);
    ck_assert_uint_eq(AR_GET(&ctr, http_tunnels), 1);
    ck_assert_uint_eq(AR_GET(&ctr, http_parse_errors), 0);
}
END_TEST

START_TEST(test_midstream_resync)
{
    /* no handshake: the capture starts inside a response body */
    struct ar_http *h = conn(-1);
    feed(h, 1, "ody of an earlier response\r\nmore\r\n");
    feed(h, 0, "ntent-Length: 3\r\n\r\nabc");
    feed(h, 0, "GET /picked/up HTTP/1.1\r\nHost: m.test\r\n\r\n");
    feed(h, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 1);
    ck_assert_str_eq(got[0].path, "/picked/up");
    ck_assert_int_eq(got[0].status, 200);
}
END_TEST

START_TEST(test_gap_then_resync)
{
    struct ar_http *h = conn(0);
    feed(h, 0, "GET /one HTTP/1.1\r\nHost: g\r\n\r\n");
    feed(h, 1, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123");
    ar_http_gap(h, 1, 500);
    feed(h, 1, "garbage tail of the body\r\n0\r\n\r\n");
    feed(h, 0, "GET /two HTTP/1.1\r\nHost: g\r\n\r\n");
    feed(h, 1, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 2);
    ck_assert_str_eq(got[0].path, "/one");
    ck_assert_int_eq(got[0].status, 200);
    ck_assert_str_eq(got[1].path, "/two");
    ck_assert_int_eq(got[1].status, 404);
    ck_assert_uint_eq(AR_GET(&ctr, http_resyncs), 1);
}
END_TEST

START_TEST(test_gap_inside_content_length_body)
{
    struct ar_http *h = conn(0);
    feed(h, 0, "GET /big HTTP/1.1\r\nHost: g\r\n\r\nGET /small HTTP/1.1\r\nHost: g\r\n\r\n");
    feed(h, 1, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789");
    ar_http_gap(h, 1, 980);
    feed(h, 1, "0123456789HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 2);
    ck_assert_int_eq(got[1].status, 201);
    ck_assert_uint_eq(AR_GET(&ctr, http_resyncs), 0);
}
END_TEST

START_TEST(test_one_sided)
{
    struct ar_http *h = conn(-1);
    feed(h, 0, "GET /only/requests HTTP/1.1\r\nHost: r\r\n\r\nGET /again HTTP/1.1\r\nHost: r\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 2);
    ck_assert_int_eq(got[0].status, -1);
    ck_assert_str_eq(got[1].path, "/again");
    ck_assert_uint_eq(AR_GET(&ctr, requests_no_response), 2);

    h = conn(-1);
    feed(h, 1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 2);
    ck_assert_int_eq(got[0].has_method, 0);
    ck_assert_int_eq(got[0].status, 200);
    ck_assert_int_eq(got[1].status, 503);
    ck_assert_uint_eq(AR_GET(&ctr, responses_no_request), 2);
}
END_TEST

START_TEST(test_limits)
{
    struct ar_http *h = conn(0);
    lim.max_pending = 2;
    lim.max_target = 16;
    lim.max_headers = 3;
    feed(h, 0, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n");
    ck_assert_uint_eq(AR_GET(&ctr, limit_max_pending), 1);
    ck_assert_int_eq(ngot, 1); /* /a given up without a response */
    ck_assert_int_eq(got[0].status, -1);
    feed(h, 0, "GET /0123456789abcdefghij HTTP/1.1\r\n\r\n");
    ck_assert_uint_eq(AR_GET(&ctr, limit_max_target), 1);
    feed(h, 0, "GET /h HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\nGET /fine HTTP/1.1\r\n\r\n");
    ck_assert_uint_eq(AR_GET(&ctr, limit_max_headers), 1);
    done(h);
    int found = 0;
    for (int i = 0; i < ngot; i++) {
        if (!strcmp(got[i].path, "/0123456789abcde"))
            found |= 1;
        if (!strcmp(got[i].path, "/fine"))
            found |= 2;
    }
    ck_assert_int_eq(found, 3);
}
END_TEST

/* The header names read (Host, Content-Type, the auth ones) in any case, and
 * names of the same length one byte off, or with a '_' or a digit where a
 * '-' or a letter is, that must not be taken for them. */
START_TEST(test_header_names_any_case)
{
    static const struct { const char *name; const char *auth; int host, ctype; } cases[] = {
        { "HOST", "none", 1, 0 }, { "hOsT", "none", 1, 0 }, { "Hosu", "none", 0, 0 },
        { "Gost", "none", 0, 0 }, { "CONTENT-TYPE", "none", 0, 1 },
        { "content-Type", "none", 0, 1 }, { "Content_Type", "none", 0, 0 },
        { "Content-Typf", "none", 0, 0 }, { "Dontent-Type", "none", 0, 0 },
        { "AUTHORIZATION", "bearer", 0, 0 }, { "Authorizatioo", "none", 0, 0 },
        { "PROXY-AUTHORIZATION", "bearer", 0, 0 }, { "Proxy-Authorizatiom", "none", 0, 0 },
        { "COOKIE", "cookie", 0, 0 }, { "Cookif", "none", 0, 0 },
        { "APIKEY", "apikey", 0, 0 }, { "Api-Key", "apikey", 0, 0 },
        { "X-ApiKey", "apikey", 0, 0 }, { "x-api-KEY", "apikey", 0, 0 },
        { "X-Api-Ke1", "none", 0, 0 }, { "X-AUTH-TOKEN", "apikey", 0, 0 },
        { "X-API-TOKEN", "apikey", 0, 0 }, { "X-API-TOKEM", "none", 0, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ar_http *h = conn(0);
        char req[512];
        snprintf(req, sizeof(req), "GET /p HTTP/1.1\r\n%s: Bearer text/x-v.example\r\n\r\n",
                 cases[i].name);
        feed(h, 0, req);
        feed(h, 1, "HTTP/1.1 204 No Content\r\n\r\n");
        done(h);
        ck_assert_int_eq(ngot, 1);
        ck_assert_msg(!strcmp(got[0].auth, cases[i].auth), "%s: auth %s", cases[i].name,
                      got[0].auth);
        ck_assert_msg(got[0].has_host == cases[i].host, "%s: host %d", cases[i].name,
                      got[0].has_host);
        if (cases[i].host)
            ck_assert_str_eq(got[0].host, "Bearer text/x-v.example");
        ck_assert_str_eq(got[0].req_ct, cases[i].ctype ? "bearer text/x-v.example" : "");
    }
}
END_TEST

START_TEST(test_auth_words_and_privacy)
{
    static const struct { const char *hdr, *word; } cases[] = {
        { "Authorization: Basic dXNlcjpwYXNz\r\n", "basic" },
        { "Authorization: Digest username=\"u\"\r\n", "digest" },
        { "Authorization: Negotiate YIIabc\r\n", "negotiate" },
        { "Authorization: NTLM TlRMTVNTUAAB\r\n", "ntlm" },
        { "Authorization: AWS4-HMAC-SHA256 Credential=x\r\n", "other" },
        { "X-API-Key: sk_live_123\r\n", "apikey" },
        { "Cookie: session=abc123\r\n", "cookie" },
        { "Cookie: s=1\r\nAuthorization: Bearer t0k3n\r\n", "bearer" },
        { "", "none" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ar_http *h = conn(0);
        char req[512];
        snprintf(req, sizeof(req), "GET /p?token=SECRETVALUE HTTP/1.1\r\nHost: a\r\n%s\r\n",
                 cases[i].hdr);
        feed(h, 0, req);
        done(h);
        ck_assert_int_eq(ngot, 1);
        ck_assert_str_eq(got[0].auth, cases[i].word);
        ck_assert_str_eq(got[0].query, "token");
        ck_assert_ptr_null(strstr(got[0].path, "SECRET"));
    }
}
END_TEST

/* Values never kept: ;path parameters are cut from each segment, and a query key
 * without '=' is kept only when it reads as a name (no digit, at most 32 letters). */
START_TEST(test_path_params_and_bare_query_values)
{
    struct ar_http *h = conn(0);
    feed(h, 0, "GET /app/session;jsessionid=PLANTED9F3A/cart;v=2/x?wsdl&PLANTEDTOKEN7F3A&a=1&debug HTTP/1.1\r\n"
               "Host: a\r\n\r\n"
               "GET /b?eyJhbGciOiJIUzI1NiJ9 HTTP/1.1\r\nHost: a\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 2);
    ck_assert_str_eq(got[0].path, "/app/session/cart/x");
    ck_assert_str_eq(got[0].query, "wsdl&a&debug");
    ck_assert_str_eq(got[1].path, "/b");
    ck_assert_str_eq(got[1].query, "");
    ck_assert_uint_eq(AR_GET(&ctr, path_params_dropped), 1);
    ck_assert_uint_eq(AR_GET(&ctr, query_bare_dropped), 2);

    /* base64 padding makes no value of a token; an empty value keeps a name; a
     * target that is only a parameter is "/"; a URL in the query is no authority */
    h = conn(0);
    feed(h, 0, "GET /c?dG9rZW4xMjM=&x=&y==&page=2 HTTP/1.1\r\nHost: a\r\n\r\n"
               "GET ;jsessionid=PLANTED HTTP/1.1\r\nHost: a\r\n\r\n"
               "GET /r?u=http://evil.test/x HTTP/1.1\r\nHost: good.test\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 3);
    ck_assert_str_eq(got[0].query, "x&y&page");
    ck_assert_str_eq(got[1].path, "/");
    ck_assert_str_eq(got[2].host, "good.test");
    ck_assert_str_eq(got[2].path, "/r");
    ck_assert_uint_eq(AR_GET(&ctr, query_bare_dropped), 1);

    /* the encoded ';' cuts too; a bare key that is not a short lower-case flag
     * (a name, a mixed-case token) is a value; %-escapes elsewhere stay */
    h = conn(0);
    feed(h, 0, "GET /s%3bjsessionid=PLANTED/x%20y?JohnSmith&averylongflagnamethatisatoken&debug HTTP/1.1\r\nHost: a\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 1);
    ck_assert_str_eq(got[0].path, "/s/x%20y");
    ck_assert_str_eq(got[0].query, "debug");
    ck_assert_uint_eq(AR_GET(&ctr, path_params_dropped), 1);
    ck_assert_uint_eq(AR_GET(&ctr, query_bare_dropped), 2);

    /* a NUL in Host does not cut it into a valid host: it stays a control byte */
    h = conn(0);
    static const char nul[] = "GET / HTTP/1.1\r\nHost: good.test\0evil\r\n\r\n";
    ar_http_data(h, 0, (const uint8_t *)nul, sizeof(nul) - 1, 1.0);
    done(h);
    ck_assert_int_eq(ngot, 1);
    ck_assert_str_eq(got[0].host, "\x01");
}
END_TEST

/* The HTTP/2 connection preface (h2c with prior knowledge) is no request: the
 * connection is a tunnel, no endpoint "PRI *". */
START_TEST(test_h2c_preface)
{
    struct ar_http *h = conn(0);
    feed(h, 0, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00\x00\x00\x00\x00GET /x HTTP/1.1\r\n\r\n");
    feed(h, 1, "\x00\x00\x00\x04\x01\x00\x00\x00\x00");
    done(h);
    ck_assert_int_eq(ngot, 0);
    ck_assert_uint_eq(AR_GET(&ctr, http_tunnels), 1);
    ck_assert_uint_eq(AR_GET(&ctr, http_parse_errors), 0);
}
END_TEST

START_TEST(test_loose_request_lines)
{
    /* as Zeek reads them: HTTP/0.9, lower-case methods, a version llhttp
     * refuses, a CONNECT target with a space, a method glued to junk */
    struct ar_http *h = conn(0);
    feed(h, 0, "GET /zeek.html\n");
    done(h);
    ck_assert_int_eq(ngot, 1);
    ck_assert_str_eq(got[0].path, "/zeek.html");
    ck_assert_int_eq(got[0].status, -1);

    h = conn(0);
    feed(h, 0, "get /index.html HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.\r\nHost: a\r\n\r\n");
    feed(h, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 2);
    ck_assert_str_eq(got[0].method, "get");
    ck_assert_int_eq(got[0].status, 200);
    ck_assert_str_eq(got[1].path, "/");
    ck_assert_int_eq(got[1].status, 200);

    h = conn(0);
    feed(h, 0, "CONNECT mail.test:25 / HTTP/1.0\r\n\r\n");
    feed(h, 1, "HTTP/1.0 200 OK\r\n\r\n220 mail ESMTP\r\n");
    done(h);
    ck_assert_int_eq(ngot, 1);
    ck_assert_str_eq(got[0].path, "mail.test:25 /");
    ck_assert_int_eq(got[0].status, 200);

    /* cruft after a request is no request, and its 400 is not an exchange */
    h = conn(0);
    feed(h, 0, "GET / HTTP/1.1\r\nHost: z\r\n\r\n");
    feed(h, 1, "HTTP/1.1 301 Moved\r\nContent-Length: 0\r\n\r\n");
    feed(h, 0, "T / HTTP\r\n\r\n");
    feed(h, 1, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 1);
    ck_assert_int_eq(got[0].status, 301);
    ck_assert_uint_eq(AR_GET(&ctr, responses_no_request), 1);

    /* without a version: a method of 3+ characters and a target (Zeek's rule) */
    h = conn(0);
    feed(h, 0, "CCM_POST /HTTP/1.1\r\nHost: g\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 1);
    ck_assert_str_eq(got[0].method, "CCM_POST");
    ck_assert_str_eq(got[0].path, "/HTTP/1.1");
    ck_assert_str_eq(got[0].host, "g");
    h = conn(0);
    feed(h, 0, "T /zeek.html\n");
    done(h);
    ck_assert_int_eq(ngot, 0);

    /* SOCKS bytes glued before the request line of a midstream connection */
    h = conn(-1);
    feed(h, 0, "\x05\x01\x03\x01\x7f\x02\x02\x01\x02\x50PGET / HTTP/1.1\r\nHost: g\r\n\r\n");
    feed(h, 1, "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 1);
    ck_assert_str_eq(got[0].method, "GET");
    ck_assert_int_eq(got[0].status, 302);
}
END_TEST

START_TEST(test_response_before_request)
{
    /* a reordered capture: the response to /a is seen before /a itself */
    struct ar_http *h = conn(0);
    feed(h, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    feed(h, 0, "GET /a HTTP/1.1\r\nHost: r\r\n\r\nGET /b HTTP/1.1\r\nHost: r\r\n\r\n");
    feed(h, 1, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    feed(h, 0, "GET /c HTTP/1.1\r\nHost: r\r\n\r\n");
    feed(h, 1, "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 3);
    ck_assert_str_eq(got[0].path, "/a");
    ck_assert_int_eq(got[0].status, 200);
    ck_assert_str_eq(got[1].path, "/b");
    ck_assert_int_eq(got[1].status, 404);
    ck_assert_str_eq(got[2].path, "/c");
    ck_assert_int_eq(got[2].status, 500);
}
END_TEST

START_TEST(test_unterminated_http09_at_end)
{
    struct ar_http *h = conn(0);
    feed(h, 0, "GET /");
    feed(h, 1, "<html>hi</html>");
    done(h);
    ck_assert_int_eq(ngot, 1);
    ck_assert_str_eq(got[0].method, "GET");
    ck_assert_str_eq(got[0].path, "/");
}
END_TEST

START_TEST(test_heads_cut_by_snaplen)
{
    /* only the first bytes of each segment were captured: the request line and
     * the status line survive, the rest of each head is a gap */
    struct ar_http *h = conn(0);
    feed(h, 0, "GET /api/v1/users/11 HTTP/1.1\r\nHost: api.exa");
    ar_http_gap(h, 0, 80);
    feed(h, 1, "HTTP/1.1 200 OK\r\nContent-Type: appl");
    ar_http_gap(h, 1, 300);
    feed(h, 0, "GET /api/v1/users/12 HTTP/1.1\r\nHost: api.exa");
    ar_http_gap(h, 0, 80);
    feed(h, 1, "HTTP/1.1 404 Not Found\r\nConten");
    ar_http_gap(h, 1, 300);
    done(h);
    ck_assert_int_eq(ngot, 2);
    ck_assert_str_eq(got[0].path, "/api/v1/users/11");
    ck_assert_int_eq(got[0].status, 200);
    ck_assert_str_eq(got[1].path, "/api/v1/users/12");
    ck_assert_int_eq(got[1].status, 404);
}
END_TEST

START_TEST(test_smuggling_patterns)
{
    /* the second request must be seen, as Zeek sees it */
    struct ar_http *h = conn(0);
    feed(h, 0, "POST / HTTP/1.1\r\nHost: target\r\nContent-Length: 18446744073709551615\r\n\r\n"
               "GET /smuggled-cl HTTP/1.1\r\nHost: target\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 2);
    ck_assert_str_eq(got[1].path, "/smuggled-cl");

    h = conn(0);
    feed(h, 0, "POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"
               "GET /smuggled-te HTTP/1.1\r\nHost: target\r\n\r\n");
    done(h);
    ck_assert_int_eq(ngot, 2);
    ck_assert_str_eq(got[0].method, "POST");
    ck_assert_str_eq(got[1].path, "/smuggled-te");
}
END_TEST

START_TEST(test_garbage_never_crashes)
{
    /* random bytes in both directions, in random-size pieces */
    unsigned seed = 12345;
    for (int round = 0; round < 200; round++) {
        struct ar_http *h = conn(round % 3 - 1);
        uint8_t buf[2048];
        for (size_t i = 0; i < sizeof(buf); i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = (uint8_t)(seed >> 16);
            if ((seed >> 8) % 17 == 0)
                buf[i] = '\n';
        }
        static const char *const seeds[] = { "GET / HTTP/1.1\r\n", "HTTP/1.1 200 OK\r\n",
                                             "Content-Length: 5\r\n\r\n" };
        memcpy(buf + 100, seeds[round % 3], strlen(seeds[round % 3]));
        size_t pos = 0;
        while (pos < sizeof(buf)) {
            seed = seed * 1103515245u + 12345u;
            size_t n = 1 + (seed >> 16) % 97;
            if (n > sizeof(buf) - pos)
                n = sizeof(buf) - pos;
            ar_http_data(h, (int)((seed >> 4) & 1), buf + pos, n, 1.0);
            if ((seed >> 20) % 13 == 0)
                ar_http_gap(h, (int)((seed >> 5) & 1), 100);
            pos += n;
        }
        ar_http_fin(h, 0);
        ar_http_fin(h, 1);
        done(h);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("http");
    tcase_add_test(tc, test_simple_get);
    tcase_add_test(tc, test_pipelining_and_head);
    tcase_add_test(tc, test_100_continue);
    tcase_add_test(tc, test_one_byte_segments);
    tcase_add_test(tc, test_close_delimited_and_http10);
    tcase_add_test(tc, test_unknown_method_and_bare_lf);
    tcase_add_test(tc, test_absolute_form);
    tcase_add_test(tc, test_connect_tunnel);
    tcase_add_test(tc, test_upgrade_refused_then_more);
    tcase_add_test(tc, test_upgrade_101);
    tcase_add_test(tc, test_midstream_resync);
    tcase_add_test(tc, test_gap_then_resync);
    tcase_add_test(tc, test_gap_inside_content_length_body);
    tcase_add_test(tc, test_one_sided);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_auth_words_and_privacy);
    tcase_add_test(tc, test_header_names_any_case);
    tcase_add_test(tc, test_path_params_and_bare_query_values);
    tcase_add_test(tc, test_h2c_preface);
    tcase_add_test(tc, test_loose_request_lines);
    tcase_add_test(tc, test_response_before_request);
    tcase_add_test(tc, test_unterminated_http09_at_end);
    tcase_add_test(tc, test_heads_cut_by_snaplen);
    tcase_add_test(tc, test_smuggling_patterns);
    tcase_add_test(tc, test_garbage_never_crashes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

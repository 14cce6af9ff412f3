/* log.h - one-line diagnostics on stderr. Never log a header value, cookie,
 * body or query value: callers pass names and counts only. */
#ifndef AR_LOG_H
#define AR_LOG_H

enum ar_log_level { AR_LOG_ERROR, AR_LOG_WARN, AR_LOG_INFO, AR_LOG_DEBUG };

void ar_log_set_level(enum ar_log_level lvl);
void ar_log(enum ar_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define ar_err(...)   ar_log(AR_LOG_ERROR, __VA_ARGS__)
#define ar_warn(...)  ar_log(AR_LOG_WARN, __VA_ARGS__)
#define ar_info(...)  ar_log(AR_LOG_INFO, __VA_ARGS__)
#define ar_debug(...) ar_log(AR_LOG_DEBUG, __VA_ARGS__)

#endif

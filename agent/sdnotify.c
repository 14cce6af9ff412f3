/* sdnotify.c - the systemd notification protocol, spoken directly.
 *
 * $NOTIFY_SOCKET names an AF_UNIX datagram socket (a path, or an abstract
 * socket when it starts with '@'); each message is one datagram of
 * newline-separated VAR=value assignments (READY=1, STATUS=..., WATCHDOG=1,
 * RELOADING=1, STOPPING=1). The socket is connected once, in ar_sd_init(),
 * before privileges are dropped, so later sends need no file access. Without
 * $NOTIFY_SOCKET every call is a no-op. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "../core/log.h"
#include "agent.h"

static int sd_fd = -1;

int ar_sd_init(void)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path)
        return 0;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    size_t n = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path)) {
        ar_warn("NOTIFY_SOCKET is not a socket path; systemd notifications are off");
        return -1;
    }
    memcpy(sa.sun_path, path, n);
    if (path[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract namespace: no trailing NUL in the length */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0) {
        ar_warn("NOTIFY_SOCKET %s: %s; systemd notifications are off", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    sd_fd = fd;
    /* a child must not talk to systemd in our name */
    unsetenv("NOTIFY_SOCKET");
    return 1;
}

int ar_sd_notify(const char *state)
{
    if (sd_fd < 0)
        return 0;
    ssize_t n = send(sd_fd, state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT);
    return n < 0 ? -1 : 1;
}

uint64_t ar_sd_watchdog_usec(void)
{
    const char *us = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
    if (!us || !*us)
        return 0;
    if (pid && *pid && strtol(pid, NULL, 10) != (long)getpid())
        return 0; /* meant for another process */
    char *end;
    unsigned long long v = strtoull(us, &end, 10);
    return *end ? 0 : (uint64_t)v;
}

void ar_sd_close(void)
{
    if (sd_fd >= 0)
        close(sd_fd);
    sd_fd = -1;
}

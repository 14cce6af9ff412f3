/* privs.c - give up root once the capture handle is open.
 *
 * As root: look up the user ([capture] user; "nobody" with a warning when it
 * does not exist), clear the capability bounding set, drop supplementary
 * groups, setgid, setuid (the kernel then clears the permitted and effective
 * sets). As any user (e.g. systemd's DynamicUser with ambient capabilities):
 * clear the ambient set and every capability we still hold. Always:
 * PR_SET_NO_NEW_PRIVS. The open capture socket keeps working: the kernel
 * checks CAP_NET_RAW when it is opened, not when it is read. */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>
#include "../core/log.h"
#include "agent.h"

static int clear_caps(char *err, size_t errsz)
{
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
        snprintf(err, errsz, "cannot clear ambient capabilities: %s", strerror(errno));
        return -1;
    }
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capset, &hdr, data) < 0) {
        snprintf(err, errsz, "cannot clear capabilities: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int ar_drop_privileges(const char *user, struct ar_privs *out, char *err, size_t errsz)
{
    memset(out, 0, sizeof(*out));
    out->uid = getuid();
    out->gid = getgid();
    if (geteuid() == 0) {
        struct passwd *pw = user && *user ? getpwnam(user) : NULL;
        if (!pw) {
            ar_warn("user '%s' does not exist; running as 'nobody' (create a system user "
                    "'%s' or set [capture] user)", user ? user : "", user ? user : "");
            pw = getpwnam("nobody");
        }
        if (!pw) {
            snprintf(err, errsz, "neither user '%s' nor 'nobody' exists", user ? user : "");
            return -1;
        }
        if (pw->pw_uid == 0) {
            snprintf(err, errsz, "[capture] user '%s' is root; name an unprivileged user",
                     pw->pw_name);
            return -1;
        }
        /* the bounding set can only be cleared while we still hold CAP_SETPCAP */
        for (int cap = 0; cap <= 63; cap++)
            if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
                snprintf(err, errsz, "cannot clear the capability bounding set: %s",
                         strerror(errno));
                return -1;
            }
        if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
            snprintf(err, errsz, "cannot become user '%s': %s", pw->pw_name, strerror(errno));
            return -1;
        }
        if (setuid(0) == 0) { /* paranoia: the drop must not be reversible */
            snprintf(err, errsz, "still able to regain root after setuid");
            return -1;
        }
        out->uid = pw->pw_uid;
        out->gid = pw->pw_gid;
        snprintf(out->user, sizeof(out->user), "%s", pw->pw_name);
        out->dropped = 1;
    } else {
        struct passwd *pw = getpwuid(geteuid());
        snprintf(out->user, sizeof(out->user), "%s", pw ? pw->pw_name : "?");
    }
    if (clear_caps(err, errsz) < 0)
        return -1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        snprintf(err, errsz, "cannot set no-new-privileges: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/*
 * ready_text.c — what ccwrap says it is waiting for (§5.3), every 5 s and when readiness
 * times out: "Nothing listening on 0.0.0.0:8080 yet", who holds the port, the last answer.
 */
#include <stddef.h>
#include <sys/types.h>

#include "util.h"
#include "tree.h"
#include "ready.h"
#include "ready_text.h"
#include "ready_int.h"

#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* strerror's capital would read oddly in the middle of a line. */
static const char *lower_error(int e, char *buf, size_t len)
{
    snprintf(buf, len, "%s", strerror(e));
    if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
        buf[0] = (char)(buf[0] - 'A' + 'a');
    return buf;
}

/* Why the last exchange was not good enough, for tcp health paths and http. */
static const char *answer_text(const struct probe *p, char *buf, size_t len)
{
    char e[128];

    if (p->gai_error)
        snprintf(buf, len, "cannot resolve: %s",
                 p->gai_error == EAI_SYSTEM ? lower_error(p->last_errno, e, sizeof e)
                                            : gai_strerror(p->gai_error));
    else if (!p->port_open)
        snprintf(buf, len, "%s", p->last_errno ? lower_error(p->last_errno, e, sizeof e) : "");
    else if (p->last_answer > 0)
        snprintf(buf, len, "answered %d", p->last_answer);
    else if (p->last_answer == ANS_TIMEOUT)
        snprintf(buf, len, "no answer within 1 s");
    else if (p->last_answer == ANS_CLOSED)
        snprintf(buf, len, "closed without an answer");
    else if (p->last_answer == ANS_GARBLED)
        snprintf(buf, len, "not an HTTP answer");
    else
        buf[0] = '\0';
    return buf;
}

/* "uid 65534 (nobody)", in BUF. */
static const char *uid_text(uid_t uid, char *buf, size_t len)
{
    struct passwd *pw = getpwuid(uid);

    if (pw)
        snprintf(buf, len, "uid %u (%s)", (unsigned)uid, pw->pw_name);
    else
        snprintf(buf, len, "uid %u", (unsigned)uid);
    return buf;
}

const char *ready_waiting(const struct ready *r)
{
    struct probe *p = r->state;
    char why[256], *secs;
    const char *path;

    if (!p)
        return "";
    switch (r->kind) {
    case READY_TCP:
        if (p->owned && p->own == OWN_LOOPBACK) {
            snprintf(p->msg, sizeof p->msg,
                     "The application listens on %s only, which nothing outside this machine "
                     "reaches; make it listen on 0.0.0.0:%d (all interfaces)",
                     p->own_where, r->port);
            break;
        }
        if (p->owned && p->own == OWN_OTHER) {
            pid_t h = probe_holder(p);
            char name[64];

            if (h > 0)
                snprintf(p->msg, sizeof p->msg,
                         "Port %d is held by pid %d (%s), not by the application", r->port, (int)h,
                         pid_name(h, name, sizeof name));
            else if (p->by_uid && probe_held_before(p, p->foreign_inode))
                snprintf(p->msg, sizeof p->msg,
                         "Port %d is held by a socket of %s opened before the application "
                         "started, not by the application",
                         r->port, uid_text(p->foreign_uid, name, sizeof name));
            else if (p->by_uid)
                snprintf(p->msg, sizeof p->msg,
                         "Port %d is held by a socket of %s, a user no process of the "
                         "application runs as",
                         r->port, uid_text(p->foreign_uid, name, sizeof name));
            else
                snprintf(p->msg, sizeof p->msg,
                         "Port %d is held by another process, not by the application", r->port);
            break;
        }
        if (!p->port_open || p->health_i >= r->n_health) {
            if (p->gai_error)
                snprintf(p->msg, sizeof p->msg, "Nothing listening on %s yet (%s: %s)", p->where,
                         r->host, answer_text(p, why, sizeof why));
            else
                snprintf(p->msg, sizeof p->msg, "Nothing listening on %s yet", p->where);
            break;
        }
        path = r->health_paths[p->health_i];
        if (p->last_answer > 0)
            snprintf(p->msg, sizeof p->msg, "%s answered %d, not 200 yet", path, p->last_answer);
        else if (p->last_answer < 0)
            snprintf(p->msg, sizeof p->msg, "%s has not answered 200 yet (%s)", path,
                     answer_text(p, why, sizeof why));
        else
            snprintf(p->msg, sizeof p->msg, "%s has not answered 200 yet", path);
        break;
    case READY_HTTP:
        answer_text(p, why, sizeof why);
        snprintf(p->msg, sizeof p->msg, "%s: no 2xx/3xx answer yet%s%s%s", r->spec,
                 *why ? " (" : "", why, *why ? ")" : "");
        break;
    case READY_NOTIFY:
        snprintf(p->msg, sizeof p->msg, "No READY=1 on NOTIFY_SOCKET yet");
        break;
    case READY_FILE:
        snprintf(p->msg, sizeof p->msg, "%s does not exist yet", r->path);
        break;
    case READY_DELAY:
        secs = seconds_text(r->delay_ms);
        snprintf(p->msg, sizeof p->msg, "Waiting %s", secs);
        free(secs);
        break;
    case READY_EXIT:
        snprintf(p->msg, sizeof p->msg, "Waiting for the application to exit");
        break;
    case READY_NONE:
        snprintf(p->msg, sizeof p->msg, "Nothing to wait for");
        break;
    }
    return p->msg;
}

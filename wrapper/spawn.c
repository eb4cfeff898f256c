/*
 * spawn.c — starting a child: posix_spawn with its environment, working directory, process
 * group, descriptors and signal mask set up; the hook shell's "SHELL -c LINE from the root";
 * and what a failed start means (125, 126, 127). Watching it is children.c's (§3).
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ccwrap.h"
#include "util.h"
#include "msg.h"
#include "children.h"
#include "signals.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Does ENTRY ("NAME=value") set NAME (given as "NAME=…" or "NAME")? */
static bool same_name(const char *entry, const char *name)
{
    size_t n = strcspn(name, "=");

    return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

char **spawn_env(const struct spawn_req *r)
{
    size_t n = 0, k = 0;
    char **v;

    for (char **e = environ; *e; e++)
        n++;
    for (char *const *s = r->env_set; s && *s; s++)
        n++;
    v = xcalloc(n + 1, sizeof *v);
    for (char **e = environ; *e; e++) {
        bool drop = false;

        for (char *const *s = r->env_set; !drop && s && *s; s++)
            drop = same_name(*e, *s);
        if (!drop)
            v[k++] = *e;
    }
    for (char *const *s = r->env_set; s && *s; s++)
        v[k++] = *s;
    v[k] = NULL;
    return v;
}

/*
 * posix_spawn: glibc clones with CLONE_VM|CLONE_VFORK, so starting a hook costs no copy of
 * ccwrap's page tables, and an exec failure comes back as the return value.
 */
int spawn(const struct spawn_req *r, struct proc *p, int *err)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    char **envp = spawn_env(r);
    short flags = 0;
    int64_t started;
    pid_t pid;
    int e;

    memset(p, 0, sizeof *p);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    signals_spawn_attr(&attr, &flags);
    if (r->own_group) {
        flags |= POSIX_SPAWN_SETPGROUP;
        posix_spawnattr_setpgroup(&attr, 0);
    }
    if (r->null_stdin)
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (r->dir)
        posix_spawn_file_actions_addchdir_np(&fa, r->dir);
    if (r->fd3 > 0)
        posix_spawn_file_actions_adddup2(&fa, r->fd3, 3);
    if (r->out_fd > 0)
        posix_spawn_file_actions_adddup2(&fa, r->out_fd, STDOUT_FILENO);
    if (r->err_fd > 0)
        posix_spawn_file_actions_adddup2(&fa, r->err_fd, STDERR_FILENO);
    posix_spawnattr_setflags(&attr, flags);
    /* Before the spawn: the child may run a while before posix_spawn returns here, and its
     * times (readiness after N s, a hook's timeout) count from when ccwrap started it. */
    started = now_ms();
    if (r->exec_path)
        e = posix_spawn(&pid, r->exec_path, &fa, &attr, r->argv, envp);
    else
        e = posix_spawnp(&pid, r->argv[0], &fa, &attr, r->argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    free(envp);
    if (e != 0) {
        *err = e;
        return -1;
    }
    p->pid = pid;
    p->own_group = r->own_group;
    p->lead = r->lead;
    p->worker = r->worker;
    p->running = true;
    p->started = started;
    p->deadline = -1;
    p->kill_at = -1;
    if (r->hook_shell && r->exec_path) {
        struct stat st;

        /* The shell's file, to tell later whether the shell is still there or exec'd. */
        if (stat(r->exec_path, &st) == 0) {
            p->hook_shell = true;
            p->shell_dev = st.st_dev;
            p->shell_ino = st.st_ino;
        }
    }
    register_proc(p, r->argv[0]);
    return 0;
}

/* When ERR says no process could be made (EAGAIN, ENOMEM: not the program's): why, and the fix. */
static char *no_process(int err)
{
    if (err == EAGAIN)
        return xasprintf("%s; the process limit (ulimit -u, a cgroup's pids.max) is reached, or "
                         "memory is short",
                         strerror(err));
    if (err == ENOMEM)
        return xasprintf("%s; memory is short", strerror(err));
    return NULL;
}

void spawn_shell(struct spawn_req *r, char *argv[4], char *shell, char *line, const char *root)
{
    argv[0] = shell;
    argv[1] = "-c";
    argv[2] = line;
    argv[3] = NULL;
    *r = (struct spawn_req){.argv = argv, .exec_path = shell, .hook_shell = true, .dir = root};
}

int spawn_failed(const char *who, const char *program, int err)
{
    char *why = no_process(err);

    if (why) {
        log_error("%s: cannot start a process: %s", who ? who : program, why);
        free(why);
        return EXIT_CCWRAP;
    }
    if (who)
        log_error("%s: cannot run %s: %s", who, program, strerror(err));
    else if (err == ENOENT)
        log_error("%s: command not found", program);
    else
        log_error("%s: %s", program, strerror(err));
    return err == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
}

/*
 * bench.c — the measuring half of `make bench`: interleaved wall-clock medians of whole
 * commands, readiness and signal latency probes, peak RSS. tests/bench/run drives it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static int64_t median(int64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp64);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Runs argv with stdout and stderr on /dev/null; returns the wall time in ns, or -1. */
static int64_t run_once(char **argv, struct rusage *ru)
{
    int64_t t0 = now_ns(CLOCK_MONOTONIC), t1;
    int st;
    pid_t pid = fork();

    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);

        dup2(fd, 1);
        dup2(fd, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    if (wait4(pid, &st, 0, ru) < 0)
        return -1;
    t1 = now_ns(CLOCK_MONOTONIC);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench: %s failed (status %d)\n", argv[0], st);
        return -1;
    }
    return t1 - t0;
}

/* bench time N CMD... [:: CMD...]: interleaved medians, one line per command, in µs. */
static int cmd_time(int argc, char **argv)
{
    int n = atoi(argv[0]), ncmd = 0;
    char **cmds[16];
    int64_t *samples[16];

    cmds[ncmd++] = argv + 1;
    for (int i = 1; i < argc && ncmd < 16; i++) {
        if (strcmp(argv[i], "::") == 0) {
            argv[i] = NULL;
            cmds[ncmd++] = argv + i + 1;
        }
    }
    for (int c = 0; c < ncmd; c++)
        samples[c] = calloc((size_t)n, sizeof **samples);
    for (int r = 0; r < n; r++) {
        for (int k = 0; k < ncmd; k++) {
            int c = (r + k) % ncmd; /* rotate the order so no command always goes first */
            struct rusage ru;

            samples[c][r] = run_once(cmds[c], &ru);
            if (samples[c][r] < 0)
                return 1;
        }
    }
    for (int c = 0; c < ncmd; c++)
        printf("%.1f\n", (double)median(samples[c], n) / 1000.0);
    return 0;
}

/* bench rss CMD...: the peak RSS in KiB of CMD and what it waited for. */
static int cmd_rss(char **argv)
{
    struct rusage ru;

    if (run_once(argv, &ru) < 0)
        return 1;
    printf("%ld\n", ru.ru_maxrss);
    return 0;
}

/* bench listen PORT DELAY_MS STAMP: listens after the delay, writes the realtime ns it did. */
static int cmd_listen(char **argv)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    FILE *f;

    a.sin_port = htons((unsigned short)atoi(argv[0]));
    usleep((useconds_t)atoi(argv[1]) * 1000);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 64) < 0)
        return 1;
    f = fopen(argv[2], "w");
    fprintf(f, "%lld\n", (long long)now_ns(CLOCK_REALTIME));
    fclose(f);
    for (;;) {
        int c = accept(fd, NULL, NULL);

        if (c >= 0)
            close(c);
    }
}

/* As a run-succeeded drop-in (a symlink named *stamp): writes the realtime ns it started. */
static int cmd_stamp(void)
{
    int64_t t = now_ns(CLOCK_REALTIME);
    const char *path = getenv("BENCH_STAMP");
    FILE *f = path ? fopen(path, "w") : NULL;

    if (!f)
        return 1;
    fprintf(f, "%lld\n", (long long)t);
    fclose(f);
    return 0;
}

static int sig_pipe = -1;

static void on_usr1(int sig)
{
    int64_t t = now_ns(CLOCK_REALTIME);

    (void)sig;
    if (write(sig_pipe, &t, sizeof t) < 0)
        _exit(1);
}

/* bench sigapp FD: the application; writes the realtime ns of each SIGUSR1 to FD. */
static int cmd_sigapp(char **argv)
{
    struct sigaction sa = {.sa_handler = on_usr1};

    sig_pipe = atoi(argv[0]);
    sigaction(SIGUSR1, &sa, NULL);
    if (write(sig_pipe, "R", 1) < 0)
        return 1;
    for (;;)
        pause();
}

/*
 * bench siglat N CMD...: starts CMD (which must end in `bench sigapp 3`), sends it SIGUSR1 N
 * times 5 ms apart and prints the median delivery latency in µs (kill → handler).
 */
static int cmd_siglat(int argc, char **argv)
{
    int n = atoi(argv[0]), fds[2];
    int64_t *lat = calloc((size_t)n, sizeof *lat);
    char ready;
    pid_t pid;

    (void)argc;
    if (pipe(fds) < 0)
        return 1;
    pid = fork();
    if (pid == 0) {
        /* The write end becomes fd 3, whatever numbers pipe() gave. */
        if (fds[0] != 3)
            close(fds[0]);
        dup2(fds[1], 3);
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    close(fds[1]);
    if (read(fds[0], &ready, 1) != 1)
        return 1;
    usleep(20000);
    for (int i = 0; i < n; i++) {
        int64_t t0 = now_ns(CLOCK_REALTIME), t1;

        kill(pid, SIGUSR1);
        if (read(fds[0], &t1, sizeof t1) != sizeof t1)
            return 1;
        lat[i] = t1 - t0;
        usleep(5000);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    printf("%.1f\n", (double)median(lat, n) / 1000.0);
    return 0;
}

/* bench exec CMD...: only execvp, the limit of any wrapper that gets out of the way. */
static int cmd_exec(char **argv)
{
    execvp(argv[0], argv);
    return 127;
}

int main(int argc, char **argv)
{
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

    if (strstr(base, "stamp"))
        return cmd_stamp();
    if (argc >= 4 && strcmp(argv[1], "time") == 0)
        return cmd_time(argc - 2, argv + 2);
    if (argc >= 3 && strcmp(argv[1], "rss") == 0)
        return cmd_rss(argv + 2);
    if (argc == 5 && strcmp(argv[1], "listen") == 0)
        return cmd_listen(argv + 2);
    if (argc == 3 && strcmp(argv[1], "sigapp") == 0)
        return cmd_sigapp(argv + 2);
    if (argc >= 4 && strcmp(argv[1], "siglat") == 0)
        return cmd_siglat(argc - 2, argv + 2);
    if (argc >= 3 && strcmp(argv[1], "exec") == 0)
        return cmd_exec(argv + 2);
    fprintf(stderr, "usage: bench time N CMD [:: CMD]... | rss CMD | listen PORT MS FILE | "
                    "sigapp FD | siglat N CMD | exec CMD\n");
    return 2;
}

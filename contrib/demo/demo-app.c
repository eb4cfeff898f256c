/*
 * demo-app.c — the application `make demo` builds and runs under ccwrap: an HTTP server on
 * $PORT (8080 by default) that greets with $DEMO_GREETING and stops cleanly on SIGTERM.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
    (void)sig;
    stopping = 1;
}

/* Reads from C until the blank line that ends an HTTP request head (or LEN bytes, or EOF). */
static int read_request(int c, char *buf, size_t len)
{
    size_t got = 0;

    while (got < len - 1) {
        ssize_t n = read(c, buf + got, len - 1 - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
        buf[got] = '\0';
        if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
            break;
    }
    return 0;
}

int main(void)
{
    const char *port_text = getenv("PORT"), *greeting = getenv("DEMO_GREETING");
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
    struct sigaction sa = {.sa_handler = on_term};
    long port = port_text ? strtol(port_text, NULL, 10) : 8080;
    int one = 1, fd;

    if (port < 1 || port > 65535) {
        fprintf(stderr, "demo-app: PORT must be 1-65535\n");
        return 2;
    }
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    addr.sin_port = htons((unsigned short)port);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 16) < 0) {
        fprintf(stderr, "demo-app: cannot listen on port %ld: %s\n", port, strerror(errno));
        return 1;
    }
    printf("demo-app: listening on 0.0.0.0:%ld\n", port);
    fflush(stdout);
    while (!stopping) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char req[1024], resp[512];
        int c, n;

        if (poll(&p, 1, -1) <= 0)
            continue;
        c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        /*
         * The whole request before the answer: a close with unread bytes would be a reset,
         * which can take the answer with it.
         */
        if (read_request(c, req, sizeof req) < 0) {
            close(c);
            continue;
        }
        n = snprintf(resp, sizeof resp, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n%s\n",
                     greeting ? greeting : "hello from the ccwrap demo");
        if (write(c, resp, (size_t)n) < 0)
            perror("demo-app: write");
        shutdown(c, SHUT_WR);
        close(c);
    }
    printf("demo-app: SIGTERM received, stopping cleanly\n");
    return 0;
}

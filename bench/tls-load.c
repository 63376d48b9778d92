/*
 * tls-load: the STARTTLS mail load of scripts/bench.sh tls (issue 13), and the NOOP round-trip
 * latency of its datapath section. smtp-source cannot do STARTTLS; this does what a sending MTA
 * does for each message, in one session per message (as smtp-source without -d):
 *
 *   connect, 220, EHLO, STARTTLS, 220, TLS handshake, EHLO, MAIL, RCPT, DATA, 354,
 *   the message, ".", 250, QUIT, 221, close
 *
 * with SESSIONS threads, each running one session at a time, until MESSAGES messages were sent
 * (or SECONDS passed). OpenSSL (TLS 1.2 or 1.3, whatever both offer; no certificate check, as the
 * lab's certificate is self-signed; no session resumption: every session does a full handshake,
 * as a sender meeting a server for the first time). Written in C with blocking sockets and one
 * thread per session so that the client is not the bottleneck: it prints its own CPU time, and
 * the benchmark reports it.
 *
 *   tls-load mail [-s SESSIONS] [-m MESSAGES] [-l LENGTH] [-t SECONDS] [-P] HOST PORT
 *     -s  parallel sessions (default 20)       -m  messages in all (default 1000)
 *     -l  message length in bytes, headers included, before the final "." (default 10240)
 *     -t  stop starting sessions after SECONDS (default: none)
 *     -P  plaintext: no STARTTLS (to compare with smtp-source)
 *   tls-load noop [-n COUNT] HOST PORT
 *     one plaintext session: EHLO, then COUNT NOOPs one at a time, each timed from its send to
 *     the end of its reply (CLOCK_MONOTONIC), then QUIT.
 *
 * Prints one line (words followed by their numbers, for the benchmark to read):
 *   mail: "tls-load: messages M ok K failed F sessions S seconds W user U sys Y bytes B"
 *   noop: "tls-load: noops N failed F p50_us A p90_us B p99_us C max_us D mean_us E seconds W"
 * and, before it on stderr, the TLS version and cipher of the first session and the first few
 * failures with the session step that failed. Exit status 0 when
 * every message was accepted (every NOOP answered), 1 otherwise, 2 on bad usage.
 * Build: bench/build.sh OUTDIR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

enum { IO_TIMEOUT_S = 30, MAX_REPORTED_FAILURES = 5, RECORD = 16384 };

static struct sockaddr_in server;
static SSL_CTX *tls;
static bool plaintext;
static long length = 10240, total = 1000;
static double deadline;                     /* 0: none */
static atomic_long next_message, ok_messages, failed_messages, sessions_done;
static atomic_int failures_reported;
static atomic_flag protocol_said = ATOMIC_FLAG_INIT;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One session's connection: the socket, TLS once started, and a read buffer for replies. */
struct conn {
    int fd;
    SSL *ssl;
    char buf[4096];
    size_t off, len;
    const char *step;                       /* what the session was doing, for the failure line */
};

static void failure(struct conn *c, const char *fmt, ...)
{
    if (atomic_fetch_add(&failures_reported, 1) >= MAX_REPORTED_FAILURES)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "tls-load: failure at %s: %s\n", c->step, msg);
}

static bool conn_write(struct conn *c, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w;
        if (c->ssl) {
            int r = SSL_write(c->ssl, p, n > RECORD ? RECORD : (int)n);
            if (r <= 0) {
                failure(c, "SSL_write: %s", ERR_reason_error_string(ERR_get_error()));
                return false;
            }
            w = r;
        } else {
            w = send(c->fd, p, n, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                failure(c, "send: %s", strerror(errno));
                return false;
            }
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static bool conn_fill(struct conn *c)
{
    if (c->off > 0) {
        memmove(c->buf, c->buf + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    if (c->len == sizeof c->buf) {
        failure(c, "reply line longer than %zu bytes", sizeof c->buf);
        return false;
    }
    for (;;) {
        ssize_t r;
        if (c->ssl) {
            int n = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof c->buf - c->len));
            if (n <= 0) {
                failure(c, "SSL_read: %s (SSL error %d)", ERR_reason_error_string(ERR_get_error()),
                        SSL_get_error(c->ssl, n));
                return false;
            }
            r = n;
        } else {
            r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                failure(c, "recv: %s", r == 0 ? "connection closed" : strerror(errno));
                return false;
            }
        }
        c->len += (size_t)r;
        return true;
    }
}

/* Reads one reply (all lines of a multi-line one); true when its code is `want`. */
static bool expect(struct conn *c, int want)
{
    for (;;) {
        char *start = c->buf + c->off, *eol;
        while ((eol = memmem(start, c->len - c->off, "\r\n", 2)) == NULL)
            if (!conn_fill(c))
                return false;
            else
                start = c->buf + c->off;
        size_t n = (size_t)(eol - start);
        c->off += n + 2;
        if (n < 3 || (n > 3 && start[3] != ' ' && start[3] != '-')) {
            failure(c, "malformed reply line '%.*s'", (int)n, start);
            return false;
        }
        if (n > 3 && start[3] == '-')
            continue;
        int code = (start[0] - '0') * 100 + (start[1] - '0') * 10 + (start[2] - '0');
        if (code != want) {
            failure(c, "expected %d, got '%.*s'", want, (int)n, start);
            return false;
        }
        return true;
    }
}

/* A command and its reply. */
static bool exchange(struct conn *c, const char *step, const char *command, int want)
{
    c->step = step;
    return conn_write(c, command, strlen(command)) && expect(c, want);
}

static int connect_server(struct conn *c)
{
    c->step = "connect";
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        failure(c, "socket: %s", strerror(errno));
        return -1;
    }
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&server, sizeof server) < 0) {
        failure(c, "connect: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* The message: a few headers and 78-character lines (none starting with '.'), `length` bytes
 * in all, then the end-of-data line. */
static char *build_message(size_t *size)
{
    static const char head[] = "From: <a@client.lab.test>\r\nTo: <b@mail.lab.test>\r\nSubject: tls-load\r\n\r\n";
    size_t n = (size_t)length < sizeof head + 1 ? sizeof head + 1 : (size_t)length;  /* a body line at least */
    char *m = malloc(n + 5);
    if (m == NULL)
        return NULL;
    memcpy(m, head, sizeof head - 1);
    size_t body = sizeof head - 1;
    for (size_t i = body; i < n; i++)
        m[i] = (char)('a' + (i - body) % 26);
    for (size_t i = body + 78; i + 1 < n; i += 80) {
        m[i] = '\r';
        m[i + 1] = '\n';
    }
    /* the last line ends with CRLF whatever the length, and no CR stands alone */
    if (n - body >= 2) {
        if (n - body >= 3 && m[n - 3] == '\r')
            m[n - 3] = 'z';
        m[n - 2] = '\r';
        m[n - 1] = '\n';
    }
    memcpy(m + n, ".\r\n", 3);
    *size = n + 3;
    return m;
}

static bool one_message(const char *message, size_t size)
{
    struct conn c = {.fd = -1};
    bool ok = false;
    c.fd = connect_server(&c);
    if (c.fd < 0)
        return false;
    c.step = "greeting";
    if (!expect(&c, 220) || !exchange(&c, "EHLO", "EHLO client.lab.test\r\n", 250))
        goto out;
    if (!plaintext) {
        if (!exchange(&c, "STARTTLS", "STARTTLS\r\n", 220))
            goto out;
        if (c.off != c.len) {
            failure(&c, "bytes after the 220 to STARTTLS");
            goto out;
        }
        c.step = "TLS handshake";
        SSL *ssl = SSL_new(tls);
        if (ssl == NULL || !SSL_set_fd(ssl, c.fd) || !SSL_set_tlsext_host_name(ssl, "mail.lab.test")) {
            failure(&c, "SSL_new: %s", ERR_reason_error_string(ERR_get_error()));
            SSL_free(ssl);
            goto out;
        }
        c.ssl = ssl;
        int r = SSL_connect(ssl);
        if (r != 1) {
            failure(&c, "SSL_connect: %s (SSL error %d)", ERR_reason_error_string(ERR_get_error()),
                    SSL_get_error(ssl, r));
            goto out;
        }
        if (!atomic_flag_test_and_set(&protocol_said))
            fprintf(stderr, "tls-load: protocol %s cipher %s\n", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
        if (!exchange(&c, "EHLO after TLS", "EHLO client.lab.test\r\n", 250))
            goto out;
    }
    if (!exchange(&c, "MAIL", "MAIL FROM:<a@client.lab.test>\r\n", 250) ||
        !exchange(&c, "RCPT", "RCPT TO:<b@mail.lab.test>\r\n", 250) ||
        !exchange(&c, "DATA", "DATA\r\n", 354))
        goto out;
    c.step = "message";
    if (!conn_write(&c, message, size) || !expect(&c, 250))
        goto out;
    ok = true;  /* the server took the message; a failing QUIT does not change that */
    if (exchange(&c, "QUIT", "QUIT\r\n", 221) && c.ssl)
        SSL_shutdown(c.ssl);    /* our close_notify; the server closes without waiting for more */
out:
    if (c.ssl)
        SSL_free(c.ssl);
    close(c.fd);
    return ok;
}

static void *mail_thread(void *arg)
{
    (void)arg;
    size_t size;
    char *message = build_message(&size);
    if (message == NULL) {
        fprintf(stderr, "tls-load: out of memory\n");
        exit(1);
    }
    for (;;) {
        if (deadline > 0 && now() >= deadline)
            break;
        if (atomic_fetch_add(&next_message, 1) >= total)
            break;
        if (one_message(message, size))
            atomic_fetch_add(&ok_messages, 1);
        else
            atomic_fetch_add(&failed_messages, 1);
        atomic_fetch_add(&sessions_done, 1);
    }
    free(message);
    return NULL;
}

static void cpu_times(double *user, double *sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    *sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int run_mail(int sessions)
{
    tls = SSL_CTX_new(TLS_client_method());
    if (tls == NULL) {
        fprintf(stderr, "tls-load: SSL_CTX_new failed\n");
        return 1;
    }
    SSL_CTX_set_min_proto_version(tls, TLS1_2_VERSION);
    SSL_CTX_set_verify(tls, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(tls, SSL_SESS_CACHE_OFF);
    pthread_t threads[sessions];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    double t0 = now();
    if (deadline > 0)
        deadline += t0;
    int started = 0;
    for (; started < sessions; started++)
        if (pthread_create(&threads[started], &attr, mail_thread, NULL) != 0) {
            fprintf(stderr, "tls-load: pthread_create failed\n");
            break;
        }
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    double seconds = now() - t0, user, sys;
    cpu_times(&user, &sys);
    long ok = atomic_load(&ok_messages), failed = atomic_load(&failed_messages);
    printf("tls-load: messages %ld ok %ld failed %ld sessions %ld seconds %.3f user %.3f sys %.3f bytes %ld\n",
           ok + failed, ok, failed, atomic_load(&sessions_done), seconds, user, sys, ok * length);
    return failed == 0 && started == sessions && (deadline > 0 || ok == total) ? 0 : 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int run_noop(long count)
{
    struct conn c = {.fd = -1};
    double *rtt = calloc((size_t)count, sizeof *rtt), sum = 0, t0 = now();
    long done = 0;
    if (rtt == NULL)
        return 1;
    c.fd = connect_server(&c);
    if (c.fd < 0)
        goto out;
    c.step = "greeting";
    if (!expect(&c, 220) || !exchange(&c, "EHLO", "EHLO client.lab.test\r\n", 250))
        goto out;
    for (; done < count; done++) {
        double t = now();
        if (!exchange(&c, "NOOP", "NOOP\r\n", 250))
            break;
        rtt[done] = (now() - t) * 1e6;
        sum += rtt[done];
    }
    if (done == count)
        exchange(&c, "QUIT", "QUIT\r\n", 221);
out:
    if (c.fd >= 0)
        close(c.fd);
    double seconds = now() - t0;
    qsort(rtt, (size_t)done, sizeof *rtt, cmp_double);
#define PCT(p) (done ? rtt[(size_t)((double)(done - 1) * (p) + 0.5)] : 0.0)
    printf("tls-load: noops %ld failed %ld p50_us %.1f p90_us %.1f p99_us %.1f max_us %.1f mean_us %.1f seconds %.3f\n",
           done, count - done, PCT(0.50), PCT(0.90), PCT(0.99), done ? rtt[done - 1] : 0.0, done ? sum / (double)done : 0.0,
           seconds);
    free(rtt);
    return done == count ? 0 : 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: tls-load mail [-s SESSIONS] [-m MESSAGES] [-l LENGTH] [-t SECONDS] [-P] HOST PORT\n"
                    "       tls-load noop [-n COUNT] HOST PORT\n");
    exit(2);
}

static long number(const char *opt, const char *s, long min)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min) {
        fprintf(stderr, "tls-load: %s wants a whole number ≥ %ld, not '%s'\n", opt, min, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    bool noop = strcmp(argv[1], "noop") == 0;
    if (!noop && strcmp(argv[1], "mail") != 0)
        usage();
    int sessions = 20, opt;
    long count = 2000;
    optind = 2;
    while ((opt = getopt(argc, argv, noop ? "n:" : "s:m:l:t:P")) != -1) {
        switch (opt) {
        case 's': sessions = (int)number("-s", optarg, 1); break;
        case 'm': total = number("-m", optarg, 1); break;
        case 'l': length = number("-l", optarg, 0); break;
        case 't': deadline = (double)number("-t", optarg, 1); break;
        case 'P': plaintext = true; break;
        case 'n': count = number("-n", optarg, 1); break;
        default: usage();
        }
    }
    if (argc - optind != 2)
        usage();
    server.sin_family = AF_INET;
    server.sin_port = htons((uint16_t)number("PORT", argv[optind + 1], 1));
    if (inet_pton(AF_INET, argv[optind], &server.sin_addr) != 1) {
        fprintf(stderr, "tls-load: HOST must be an IPv4 address, not '%s'\n", argv[optind]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    return noop ? run_noop(count) : run_mail(sessions);
}

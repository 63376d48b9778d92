/*
 * tls-sink: the server of scripts/bench.sh tls (issue 13): smtp-sink with STARTTLS. smtp-sink
 * cannot do TLS, and Postfix would queue and deliver every message to disk, which would put the
 * disk into a figure that is meant to be about the path between client and server. This answers
 * like a mail server and throws every message away once it has read it to its end:
 *
 *   220 greeting; EHLO (PIPELINING, SIZE, 8BITMIME and, before TLS, STARTTLS); STARTTLS → 220 and
 *   the TLS handshake (OpenSSL, the given certificate, no session tickets); MAIL, RCPT, RSET,
 *   NOOP → 250; DATA → 354, the message read up to CRLF.CRLF, 250; QUIT → 221 and close;
 *   anything else → 502.
 *
 * One thread per connection. Replies to pipelined commands go out together, once no further
 * complete command line is buffered.
 *
 *   tls-sink -c CERT.pem -k KEY.pem [-b BACKLOG] ADDR PORT
 *
 * Prints "tls-sink: listening" once it listens. On SIGUSR1 and on SIGTERM/SIGINT (then it exits
 * 0) it prints its counters since it started, words followed by their numbers:
 *   "tls-sink: sessions S tls T messages M bytes B errors E user U sys Y"
 * (bytes: message bytes before the final "."; errors: sessions that ended other than with QUIT).
 * Build: bench/build.sh OUTDIR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

enum { IO_TIMEOUT_S = 60, LINE_MAX_BYTES = 2048 };

static SSL_CTX *tls;
static atomic_long sessions, tls_sessions, messages, message_bytes, errors;

struct conn {
    int fd;
    SSL *ssl;
    char in[65536];
    size_t off, len;
    char out[1024];
    size_t outlen;
};

static bool conn_flush(struct conn *c)
{
    size_t done = 0;
    while (done < c->outlen) {
        ssize_t w;
        if (c->ssl) {
            int r = SSL_write(c->ssl, c->out + done, (int)(c->outlen - done));
            if (r <= 0)
                return false;
            w = r;
        } else {
            w = send(c->fd, c->out + done, c->outlen - done, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return false;
        }
        done += (size_t)w;
    }
    c->outlen = 0;
    return true;
}

static bool reply(struct conn *c, const char *text)
{
    size_t n = strlen(text);
    if (c->outlen + n > sizeof c->out && !conn_flush(c))
        return false;
    memcpy(c->out + c->outlen, text, n);
    c->outlen += n;
    return true;
}

/* More bytes into the buffer (replies owed go out first: the client may wait for them). */
static bool conn_fill(struct conn *c)
{
    if (c->outlen > 0 && !conn_flush(c))
        return false;
    if (c->off == c->len)
        c->off = c->len = 0;
    else if (c->len == sizeof c->in) {
        memmove(c->in, c->in + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    for (;;) {
        ssize_t r;
        if (c->ssl) {
            int n = SSL_read(c->ssl, c->in + c->len, (int)(sizeof c->in - c->len));
            if (n <= 0)
                return false;
            r = n;
        } else {
            r = recv(c->fd, c->in + c->len, sizeof c->in - c->len, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return false;
        }
        c->len += (size_t)r;
        return true;
    }
}

/* The next command line (without CRLF), NUL-terminated in place; NULL when the peer is gone. */
static char *next_line(struct conn *c)
{
    for (;;) {
        char *start = c->in + c->off, *eol = memmem(start, c->len - c->off, "\r\n", 2);
        if (eol != NULL) {
            *eol = '\0';
            c->off += (size_t)(eol - start) + 2;
            return start;
        }
        if (c->len - c->off > LINE_MAX_BYTES)
            return NULL;
        if (!conn_fill(c))
            return NULL;
    }
}

/* Message data up to CRLF.CRLF (the DATA line's CRLF counts as the first). */
static bool read_message(struct conn *c)
{
    int state = 2;          /* matched so far of "\r\n.\r\n" */
    long bytes = 0;
    for (;;) {
        if (c->off == c->len && !conn_fill(c))
            return false;
        char *p = c->in + c->off, *end = c->in + c->len;
        for (; p < end; p++) {
            char ch = *p;
            if (ch == '\r')
                state = state == 3 ? 4 : 1;
            else if (ch == '\n' && (state == 1 || state == 4)) {
                if (state == 4) {
                    p++;
                    bytes += p - (c->in + c->off);
                    c->off = (size_t)(p - c->in);
                    atomic_fetch_add(&messages, 1);
                    atomic_fetch_add(&message_bytes, bytes - 3);
                    return true;
                }
                state = 2;
            } else if (ch == '.' && state == 2)
                state = 3;
            else
                state = 0;
        }
        bytes += end - (c->in + c->off);
        c->off = c->len;
    }
}

static bool is(const char *line, const char *verb)
{
    size_t n = strlen(verb);
    return strncasecmp(line, verb, n) == 0 && (line[n] == '\0' || line[n] == ' ');
}

static void session(int fd)
{
    struct conn *c = calloc(1, sizeof *c);
    bool quit = false;
    if (c == NULL) {
        close(fd);
        return;
    }
    c->fd = fd;
    atomic_fetch_add(&sessions, 1);
    reply(c, "220 mail.lab.test ESMTP tls-sink\r\n");
    for (char *line; !quit && (line = next_line(c)) != NULL;) {
        bool ok;
        if (is(line, "EHLO"))
            ok = reply(c, c->ssl ? "250-mail.lab.test\r\n250-PIPELINING\r\n250-SIZE 104857600\r\n250 8BITMIME\r\n"
                                 : "250-mail.lab.test\r\n250-PIPELINING\r\n250-SIZE 104857600\r\n250-8BITMIME\r\n"
                                   "250 STARTTLS\r\n");
        else if (is(line, "HELO"))
            ok = reply(c, "250 mail.lab.test\r\n");
        else if (is(line, "STARTTLS") && c->ssl == NULL && c->off != c->len)
            ok = reply(c, "501 5.5.4 Syntax error: bytes after STARTTLS\r\n");   /* RFC 3207 */
        else if (is(line, "STARTTLS") && c->ssl == NULL) {
            ok = reply(c, "220 2.0.0 Ready to start TLS\r\n") && conn_flush(c);
            if (ok) {
                c->ssl = SSL_new(tls);
                ok = c->ssl != NULL && SSL_set_fd(c->ssl, fd) && SSL_accept(c->ssl) == 1;
                if (ok)
                    atomic_fetch_add(&tls_sessions, 1);
            }
        } else if (is(line, "MAIL") || is(line, "RCPT") || is(line, "RSET") || is(line, "NOOP"))
            ok = reply(c, "250 2.0.0 Ok\r\n");
        else if (is(line, "DATA"))
            ok = reply(c, "354 End data with <CR><LF>.<CR><LF>\r\n") && read_message(c) &&
                 reply(c, "250 2.0.0 Ok: queued\r\n");
        else if (is(line, "QUIT")) {
            ok = reply(c, "221 2.0.0 Bye\r\n") && conn_flush(c);
            quit = true;
        } else
            ok = reply(c, "502 5.5.2 Error: command not recognized\r\n");
        if (!ok)
            break;
    }
    if (!quit)
        atomic_fetch_add(&errors, 1);
    if (c->ssl) {
        if (quit)
            SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    close(fd);
    free(c);
}

static void *session_thread(void *arg)
{
    session((int)(intptr_t)arg);
    ERR_clear_error();
    return NULL;
}

static void report(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("tls-sink: sessions %ld tls %ld messages %ld bytes %ld errors %ld user %.3f sys %.3f\n",
           atomic_load(&sessions), atomic_load(&tls_sessions), atomic_load(&messages), atomic_load(&message_bytes),
           atomic_load(&errors), (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
}

static void *accept_thread(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EINTR && errno != ECONNABORTED)
                perror("tls-sink: accept");
            continue;
        }
        struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t t;
        if (pthread_create(&t, &attr, session_thread, (void *)(intptr_t)fd) != 0) {
            close(fd);
            atomic_fetch_add(&errors, 1);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL;
    int backlog = 1024, opt;
    while ((opt = getopt(argc, argv, "c:k:b:")) != -1) {
        switch (opt) {
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'b': backlog = atoi(optarg); break;
        default: goto usage;
        }
    }
    if (cert == NULL || key == NULL || argc - optind != 2 || backlog < 1)
        goto usage;

    tls = SSL_CTX_new(TLS_server_method());
    if (tls == NULL || SSL_CTX_use_certificate_chain_file(tls, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(tls, key, SSL_FILETYPE_PEM) != 1) {
        fprintf(stderr, "tls-sink: cannot use certificate %s and key %s: %s\n", cert, key,
                ERR_reason_error_string(ERR_get_error()));
        return 1;
    }
    SSL_CTX_set_min_proto_version(tls, TLS1_2_VERSION);
    SSL_CTX_set_options(tls, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(tls, 0);
    SSL_CTX_set_session_cache_mode(tls, SSL_SESS_CACHE_OFF);

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[optind + 1]))};
    if (inet_pton(AF_INET, argv[optind], &addr.sin_addr) != 1) {
        fprintf(stderr, "tls-sink: ADDR must be an IPv4 address, not '%s'\n", argv[optind]);
        return 2;
    }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, backlog) < 0) {
        fprintf(stderr, "tls-sink: cannot listen on %s:%s: %s\n", argv[optind], argv[optind + 1], strerror(errno));
        return 1;
    }

    /* Signals go to this thread only (sigwait), the sessions' threads never see them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t acceptor;
    if (pthread_create(&acceptor, NULL, accept_thread, (void *)(intptr_t)lfd) != 0) {
        fprintf(stderr, "tls-sink: pthread_create failed\n");
        return 1;
    }
    printf("tls-sink: listening\n");
    for (;;) {
        int sig;
        if (sigwait(&set, &sig) != 0)
            continue;
        report();
        if (sig != SIGUSR1)
            return 0;
    }
usage:
    fprintf(stderr, "usage: tls-sink -c CERT.pem -k KEY.pem [-b BACKLOG] ADDR PORT\n");
    return 2;
}

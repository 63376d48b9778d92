// Built into the same LD_PRELOAD library as malloc-count.c by scripts/bench.sh, so that a
// daemon's allocations can be read from outside while it runs (the daemon itself never calls
// smtp_bench_malloc_count()).
//
// When SMTP_BENCH_MALLOC_SAMPLES names a file, a thread started by the library's constructor
// appends one line to it every SMTP_BENCH_MALLOC_INTERVAL_MS milliseconds (default 100):
//
//     <CLOCK_REALTIME ns> <allocations so far> <packets queued so far>
//
// where the packets are column 8 (id_sequence: packets the kernel has queued) of queue
// SMTP_BENCH_MALLOC_QUEUE's line (default 0) in /proc/net/netfilter/nfnetlink_queue, read in
// the process's own network namespace; -1 while the queue is not bound. Both numbers are read
// in the same instant, so allocations per packet over a window need no other clock.
//
// The thread allocates nothing once it runs (raw syscalls, fixed buffers, its own number
// formatting) and blocks every signal, so it neither disturbs the count nor steals the
// daemon's SIGTERM. Without the variable the library only counts, as before.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

unsigned long long smtp_bench_malloc_count(void);

static int sample_fd = -1;
static long interval_ms = 100;
static long queue_number = 0;

// The number in column `col` (1-based) of the line of /proc/net/netfilter/nfnetlink_queue whose
// first column is `queue`; -1 when there is none.
static long long queue_column(long queue, int col) {
    static char buf[16384];
    int fd = open("/proc/net/netfilter/nfnetlink_queue", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0) break;
        len += (size_t)n;
        if (len == sizeof buf - 1) break;
    }
    close(fd);
    buf[len] = 0;
    for (char *line = buf; *line; ) {
        char *end = strchr(line, '\n');
        if (end) *end = 0;
        long long values[10];
        int n = 0;
        for (char *p = line; *p && n < 10; ) {
            while (*p == ' ') p++;
            if (!*p) break;
            long long v = 0;
            while (*p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
            values[n++] = v;
            while (*p && *p != ' ') p++;
        }
        if (n >= col && values[0] == queue) return values[col - 1];
        if (!end) break;
        line = end + 1;
    }
    return -1;
}

static char *put_number(char *p, long long v) {
    char tmp[24];
    int n = 0;
    if (v < 0) { *p++ = '-'; v = -v; }
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

static void *sampler(void *arg) {
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    struct timespec pause = { interval_ms / 1000, (interval_ms % 1000) * 1000000L };
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        unsigned long long allocations = smtp_bench_malloc_count();
        long long packets = queue_column(queue_number, 8);
        char line[96], *p = line;
        p = put_number(p, (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
        *p++ = ' ';
        p = put_number(p, (long long)allocations);
        *p++ = ' ';
        p = put_number(p, packets);
        *p++ = '\n';
        if (write(sample_fd, line, (size_t)(p - line)) < 0) return NULL;
        nanosleep(&pause, NULL);
    }
    return NULL;
}

__attribute__((constructor)) static void start_sampler(void) {
    const char *path = getenv("SMTP_BENCH_MALLOC_SAMPLES");
    if (!path || !*path) return;
    const char *s = getenv("SMTP_BENCH_MALLOC_INTERVAL_MS");
    if (s && atol(s) > 0) interval_ms = atol(s);
    s = getenv("SMTP_BENCH_MALLOC_QUEUE");
    if (s) queue_number = atol(s);
    sample_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (sample_fd < 0) return;
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_create(&thread, &attr, sampler, NULL);
    pthread_attr_destroy(&attr);
}

/*
 * nfq-accept: the smallest useful NFQUEUE consumer. It accepts every packet unchanged and is the
 * ceiling of the NFQUEUE path on a machine: whatever smtp-inspect does per packet comes on top
 * of this. Written against libmnl and libnetfilter_queue's mnl API, like upstream's
 * examples/nf-queue.c (docs/nfqueue.md §1), with the batching smtp-inspect uses:
 * verdicts are appended to one buffer while more packets are waiting and sent with one sendto
 * when the socket would block or the buffer is full (§2).
 *
 *   nfq-accept [-g] [-f] [-m MAXLEN] [-r RCVBUF_MB] [-b BATCH] [-v] QUEUE
 *     -g  set NFQA_CFG_F_GSO (the kernel queues GSO super-packets instead of segmenting them)
 *     -f  set NFQA_CFG_F_FAIL_OPEN (accept instead of drop when the queue is full)
 *     -m  queue length (default 8192)   -r  receive buffer in MiB (default 64, SO_RCVBUFFORCE)
 *     -b  at most this many verdicts per sendto (default 256)   -v  print each packet
 *
 * Prints "nfq-accept: queue N bound" when ready and, on SIGTERM or SIGINT, flushes the verdicts
 * it owes and prints "nfq-accept: queue N packets P bytes B sends S errors E" before exiting 0.
 * Build: bench/build.sh OUTDIR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>          /* kernel uapi first: same include guards as */
#include <linux/netfilter/nfnetlink_queue.h>    /* the copies bundled with libnetfilter_queue */
#include <libnetfilter_queue/libnetfilter_queue.h>

/* One verdict message: nlmsghdr 16 + nfgenmsg 4 + NFQA_VERDICT_HDR attribute 4 + 8 = 32 bytes. */
#define VERDICT_MSG_MAX 64

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) { (void)sig; stop_requested = 1; }

struct state {
    struct mnl_socket *nl;
    unsigned int portid;
    uint32_t queue;
    bool verbose;
    char *sendbuf;          /* concatenated verdicts */
    size_t sendlen;
    unsigned pending;
    unsigned batch;
    uint64_t packets, bytes, sends, errors, enobufs;
};

static void flush_verdicts(struct state *st)
{
    if (st->sendlen == 0)
        return;
    for (;;) {
        ssize_t n = mnl_socket_sendto(st->nl, st->sendbuf, st->sendlen);
        if (n >= 0)
            break;
        if (errno == EINTR)
            continue;
        /* ENOBUFS on send: the kernel could not take the message now; try again. */
        if (errno == ENOBUFS || errno == EAGAIN) {
            usleep(100);
            continue;
        }
        perror("nfq-accept: sendto");
        st->errors++;
        break;
    }
    st->sends++;
    st->sendlen = 0;
    st->pending = 0;
}

static int queue_cb(const struct nlmsghdr *nlh, void *data)
{
    struct state *st = data;
    struct nlattr *attr[NFQA_MAX + 1] = {0};

    if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL) {
        st->errors++;
        return MNL_CB_OK;
    }
    struct nfqnl_msg_packet_hdr ph;
    memcpy(&ph, mnl_attr_get_payload(attr[NFQA_PACKET_HDR]), sizeof ph);   /* packed, unaligned */
    uint32_t id = ntohl(ph.packet_id);
    uint32_t plen = attr[NFQA_PAYLOAD] ? mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]) : 0;

    st->packets++;
    st->bytes += plen;
    if (st->verbose)
        fprintf(stderr, "nfq-accept: id %u len %u hook %u\n", id, plen, ph.hook);

    if (st->sendlen + VERDICT_MSG_MAX > (size_t)st->batch * VERDICT_MSG_MAX)
        flush_verdicts(st);
    struct nlmsghdr *v = nfq_nlmsg_put(st->sendbuf + st->sendlen, NFQNL_MSG_VERDICT, st->queue);
    nfq_nlmsg_verdict_put(v, (int)id, NF_ACCEPT);     /* takes the host-order id */
    st->sendlen += v->nlmsg_len;
    st->pending++;
    return MNL_CB_OK;
}

/* Send one configuration message with NLM_F_ACK and wait for the kernel's answer. */
static int config_request(struct state *st, struct nlmsghdr *nlh, char *buf, size_t buflen, const char *what)
{
    nlh->nlmsg_flags |= NLM_F_ACK;
    uint32_t seq = nlh->nlmsg_seq = (uint32_t)time(NULL) ^ (uint32_t)rand();
    if (mnl_socket_sendto(st->nl, nlh, nlh->nlmsg_len) < 0) {
        fprintf(stderr, "nfq-accept: %s: sendto: %s\n", what, strerror(errno));
        return -1;
    }
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(st->nl, buf, buflen);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "nfq-accept: %s: recv: %s\n", what, strerror(errno));
            return -1;
        }
        /* A packet may arrive before the answer (the queue is live once bound): queue_cb
         * owes it a verdict like any other. The ack ends the run with MNL_CB_STOP. */
        int r = mnl_cb_run(buf, (size_t)n, seq, st->portid, queue_cb, st);
        if (r < 0) {
            fprintf(stderr, "nfq-accept: %s: %s\n", what, strerror(errno));
            return -1;
        }
        if (r == MNL_CB_STOP)
            return 0;
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: nfq-accept [-g] [-f] [-m MAXLEN] [-r RCVBUF_MB] [-b BATCH] [-v] QUEUE\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct state st = {0};
    bool gso = false, fail_open = false;
    uint32_t maxlen = 8192;
    int rcvbuf_mb = 64;
    st.batch = 256;

    int opt;
    while ((opt = getopt(argc, argv, "gfm:r:b:vh")) != -1) {
        switch (opt) {
        case 'g': gso = true; break;
        case 'f': fail_open = true; break;
        case 'm': maxlen = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'r': rcvbuf_mb = atoi(optarg); break;
        case 'b': st.batch = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'v': st.verbose = true; break;
        default: usage();
        }
    }
    if (optind != argc - 1 || st.batch == 0 || maxlen == 0 || rcvbuf_mb <= 0)
        usage();
    st.queue = (uint32_t)strtoul(argv[optind], NULL, 10);

    /* No SA_RESTART: a blocked recv returns EINTR so the loop sees the request to stop. */
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Largest packet copy (0xffff) plus netlink overhead, as upstream's example. */
    size_t recvlen = 0xffff + (MNL_SOCKET_BUFFER_SIZE / 2);
    char *recvbuf = malloc(recvlen);
    st.sendbuf = malloc((size_t)st.batch * VERDICT_MSG_MAX + MNL_SOCKET_BUFFER_SIZE);
    if (!recvbuf || !st.sendbuf) {
        perror("nfq-accept: malloc");
        return 1;
    }

    st.nl = mnl_socket_open(NETLINK_NETFILTER);
    if (!st.nl) {
        perror("nfq-accept: mnl_socket_open");
        return 1;
    }
    if (mnl_socket_bind(st.nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        perror("nfq-accept: mnl_socket_bind");
        return 1;
    }
    st.portid = mnl_socket_get_portid(st.nl);

    int fd = mnl_socket_get_fd(st.nl);
    int rcvbuf = rcvbuf_mb * 1024 * 1024;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
        perror("nfq-accept: SO_RCVBUFFORCE (continuing with the default)");
    int one = 1;
    /* Kernel-side drops are counted in /proc/net/netfilter/nfnetlink_queue; do not fail recv. */
    mnl_socket_setsockopt(st.nl, NETLINK_NO_ENOBUFS, &one, sizeof one);

    struct nlmsghdr *nlh = nfq_nlmsg_put(recvbuf, NFQNL_MSG_CONFIG, st.queue);
    nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
    if (config_request(&st, nlh, recvbuf, recvlen, "bind") < 0) {
        fprintf(stderr, "nfq-accept: queue %u: cannot bind (another program owns it?)\n", st.queue);
        return 1;
    }

    nlh = nfq_nlmsg_put(recvbuf, NFQNL_MSG_CONFIG, st.queue);
    nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
    nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
    uint32_t flags = (gso ? NFQA_CFG_F_GSO : 0) | (fail_open ? NFQA_CFG_F_FAIL_OPEN : 0);
    mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
    mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
    if (config_request(&st, nlh, recvbuf, recvlen, "params") < 0)
        return 1;

    printf("nfq-accept: queue %u bound (copy 0xffff, maxlen %u, rcvbuf %d MiB, batch %u%s%s)\n",
           st.queue, maxlen, rcvbuf_mb, st.batch, gso ? ", gso" : "", fail_open ? ", fail-open" : "");
    fflush(stdout);

    while (!stop_requested) {
        /* While verdicts are owed, do not block: when nothing more is waiting, send them. */
        ssize_t n = recv(fd, recvbuf, recvlen, st.pending ? MSG_DONTWAIT : 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                flush_verdicts(&st);
                continue;
            }
            if (errno == EINTR)
                continue;
            if (errno == ENOBUFS) {     /* only without NETLINK_NO_ENOBUFS; the kernel dropped */
                st.enobufs++;
                continue;
            }
            perror("nfq-accept: recv");
            st.errors++;
            break;
        }
        if (mnl_cb_run(recvbuf, (size_t)n, 0, st.portid, queue_cb, &st) < 0) {
            /* An NLMSG_ERROR for an earlier verdict (e.g. ENOENT); count it and go on. */
            st.errors++;
            if (st.verbose)
                fprintf(stderr, "nfq-accept: netlink error: %s\n", strerror(errno));
        }
    }
    flush_verdicts(&st);

    nlh = nfq_nlmsg_put(recvbuf, NFQNL_MSG_CONFIG, st.queue);
    nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_UNBIND);
    mnl_socket_sendto(st.nl, nlh, nlh->nlmsg_len);
    mnl_socket_close(st.nl);

    printf("nfq-accept: queue %u packets %llu bytes %llu sends %llu errors %llu enobufs %llu\n",
           st.queue, (unsigned long long)st.packets, (unsigned long long)st.bytes,
           (unsigned long long)st.sends, (unsigned long long)st.errors,
           (unsigned long long)st.enobufs);
    fflush(stdout);
    free(recvbuf);
    free(st.sendbuf);
    return 0;
}

// CNetfilterQueue: the system headers of libnetfilter_queue 1.0.5 (its libmnl API), libmnl 1.0.4
// and libpcap 1.10, plus the few `cnfq_` helpers for what Swift cannot import: function-like and
// sizeof macros, attribute arrays, unaligned big-endian reads. Everything else (socket calls,
// nfq_nlmsg_* builders, pcap_*) Swift calls directly. Only the NFQueue module imports this.
//
// Header order matters (docs/nfqueue.md §5):
// - kernel uapi netfilter headers BEFORE libnetfilter_queue's: both sets share the include guards
//   _NFNETLINK_H / _NFNETLINK_QUEUE_H, and the uapi copy is the newer one (NFQA_MAX 21 with
//   NFQA_VLAN/L2HDR/PRIORITY; libnetfilter_queue 1.0.5 bundles one that stops at NFQA_SECCTX 17);
// - <stdbool.h> before pktbuff.h: 1.0.5's pktbuff.h uses bool without including it (fixed
//   upstream in 2024-01; the include can go once Debian ships a release after 1.0.5).
#pragma once
#ifdef __linux__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/eventfd.h>                      // not in Swift's Glibc module map
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>                   // NF_ACCEPT, NF_DROP, NF_REPEAT, NF_QUEUE
#include <linux/netfilter/nfnetlink.h>         // uapi first: see above
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <libnetfilter_queue/pktbuff.h>
#include <libnetfilter_queue/libnetfilter_queue_ipv4.h>
#include <libnetfilter_queue/libnetfilter_queue_ipv6.h>
#include <libnetfilter_queue/libnetfilter_queue_tcp.h>
#include <pcap/pcap.h>

// ---------------------------------------------------------------------------------------------
// Constants behind macros Swift does not import.

/// MNL_SOCKET_BUFFER_SIZE: a sysconf() expression (min(page size, 8192); 4096 here).
size_t cnfq_mnl_socket_buffer_size(void);

/// NFQA_MAX of the kernel uapi header (a macro over an enum constant: not imported).
int cnfq_nfqa_max(void);

/// NF_QUEUE_NR(queue) with NF_VERDICT_FLAG_QUEUE_BYPASS when `bypass`: the verdict that hands a
/// packet to another queue (a function-like macro).
uint32_t cnfq_verdict_queue(uint16_t queue, bool bypass);

/// The exact size of a verdict message as libnfq builds it (nfq_nlmsg_put +
/// nfq_nlmsg_verdict_put [+ _put_mark] [+ _put_pkt]), from MNL_NLMSG_HDRLEN, MNL_ALIGN and
/// MNL_ATTR_HDRLEN (sizeof/function-like macros). The Swift side checks its send buffer against
/// it before building: mnl_attr_put does no bounds check (docs/nfqueue.md §6).
size_t cnfq_verdict_message_size(uint32_t payload_len, bool has_mark);

/// The size of the bind-and-configure message cnfq_put_config builds.
size_t cnfq_config_message_size(void);

// ---------------------------------------------------------------------------------------------
// Configuration.

/// Adds NFQA_CFG_FLAGS and NFQA_CFG_MASK (both big-endian u32) to a config message.
/// libnetfilter_queue has no nfq_nlmsg_cfg_put_flags, not even upstream HEAD (docs/nfqueue.md §1);
/// this helper only keeps the byte order in one place. It can go if upstream adds one.
void cnfq_cfg_put_flags(struct nlmsghdr *nlh, uint32_t flags, uint32_t mask);

// ---------------------------------------------------------------------------------------------
// Received messages.

#define CNFQ_MSG_OTHER      0   // a netlink message we do not handle (counted, ignored)
#define CNFQ_MSG_PACKET     1   // an NFQNL_MSG_PACKET: `packet` is filled
#define CNFQ_MSG_ERROR      2   // an NLMSG_ERROR: `error` is the positive errno, 0 for an ack
#define CNFQ_MSG_MALFORMED  (-1) // too short, attributes that do not parse, no packet header

/// One received netlink message, flattened. Pointers alias the receive buffer: they are valid
/// until the next receive into it. All integers are in host order.
typedef struct cnfq_message {
    int kind;                   // CNFQ_MSG_*
    uint32_t seq;               // nlmsg_seq (matches acks to requests)
    int error;                  // CNFQ_MSG_ERROR: positive errno, 0 = ack

    uint32_t packet_id;
    uint16_t hw_protocol;       // EtherType (0x0800, 0x86dd), 0 when the hook has none
    uint8_t hook;               // NF_INET_PRE_ROUTING ... NF_INET_POST_ROUTING
    uint16_t queue_num;         // nfgenmsg.res_id
    uint8_t *payload;           // NFQA_PAYLOAD data (the network header on), or NULL
    uint32_t payload_len;       // bytes at `payload` (the captured length)
    uint32_t packet_len;        // NFQA_CAP_LEN when present (truncated copy), else payload_len
    uint32_t skb_info;          // NFQA_SKB_INFO flags (NFQA_SKB_GSO, NFQA_SKB_CSUMNOTREADY, ...)
    uint32_t mark;
    uint32_t indev, outdev;     // ifindex, 0 = absent
    bool has_mark;
    bool has_timestamp;
    int64_t ts_sec, ts_usec;    // NFQA_TIMESTAMP (be64 pair read with memcpy: only 4-aligned)
} cnfq_message;

/// Classifies and flattens one message of a receive buffer.
///
/// Why C: nfq_nlmsg_parse fills a `struct nlattr *attr[NFQA_MAX + 1]` array (a tuple in Swift),
/// the packed nfqnl_msg_packet_hdr and be64 timestamps need unaligned reads, and the netlink
/// header macros (NLMSG_ERROR payload, NFNL_SUBSYS_ID) are function-like. Iterating the buffer
/// stays in Swift (mnl_nlmsg_ok/next are functions), so no C callback and no mnl_cb_run: that
/// one stops at the first NLMSG_ERROR of a buffer, and its callbacks need context pointers.
/// This helper stays as long as Swift cannot import C arrays of pointers as such.
void cnfq_parse_message(const struct nlmsghdr *nlh, cnfq_message *out);

#endif // __linux__

// The cnfq_ helpers declared in include/CNetfilterQueue.h. Each exists because Swift cannot
// import the macro, array or unaligned access it wraps; see the header for when each can go.
#ifdef __linux__
#include "CNetfilterQueue.h"

#include <endian.h>
#include <string.h>
#include <unistd.h>

size_t cnfq_mnl_socket_buffer_size(void) { return MNL_SOCKET_BUFFER_SIZE; }

int cnfq_nfqa_max(void) { return NFQA_MAX; }

uint32_t cnfq_verdict_queue(uint16_t queue, bool bypass)
{
    return (uint32_t)NF_QUEUE_NR((uint32_t)queue) | (bypass ? NF_VERDICT_FLAG_QUEUE_BYPASS : 0);
}

size_t cnfq_verdict_message_size(uint32_t payload_len, bool has_mark)
{
    size_t n = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg))
             + MNL_ATTR_HDRLEN + MNL_ALIGN(sizeof(struct nfqnl_msg_verdict_hdr));
    if (has_mark)
        n += MNL_ATTR_HDRLEN + MNL_ALIGN(sizeof(uint32_t));
    if (payload_len > 0)
        n += MNL_ATTR_HDRLEN + MNL_ALIGN(payload_len);
    return n;
}

size_t cnfq_config_message_size(void)
{
    return MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg))
         + MNL_ATTR_HDRLEN + MNL_ALIGN(sizeof(struct nfqnl_msg_config_cmd))
         + MNL_ATTR_HDRLEN + MNL_ALIGN(sizeof(struct nfqnl_msg_config_params))
         + 3 * (MNL_ATTR_HDRLEN + MNL_ALIGN(sizeof(uint32_t)));     // maxlen, flags, mask
}

void cnfq_cfg_put_flags(struct nlmsghdr *nlh, uint32_t flags, uint32_t mask)
{
    mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
    mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
}

// Attribute payloads are only 4-byte aligned: read through memcpy (docs/nfqueue.md §6).
static uint32_t be32_attr(const struct nlattr *a)
{
    uint32_t v;
    memcpy(&v, mnl_attr_get_payload(a), sizeof v);
    return ntohl(v);
}

static int64_t be64_at(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return (int64_t)be64toh(v);
}

void cnfq_parse_message(const struct nlmsghdr *nlh, cnfq_message *out)
{
    memset(out, 0, sizeof *out);
    out->seq = nlh->nlmsg_seq;

    if (nlh->nlmsg_type == NLMSG_ERROR) {
        if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(int)) {
            out->kind = CNFQ_MSG_MALFORMED;
            return;
        }
        int err;
        memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof err);
        out->kind = CNFQ_MSG_ERROR;
        out->error = -err;
        return;
    }
    if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_QUEUE
        || NFNL_MSG_TYPE(nlh->nlmsg_type) != NFQNL_MSG_PACKET) {
        out->kind = CNFQ_MSG_OTHER;
        return;
    }
    if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct nfgenmsg)) {
        out->kind = CNFQ_MSG_MALFORMED;
        return;
    }
    const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
    out->queue_num = ntohs(nfg->res_id);

    // Sized with the uapi NFQA_MAX (21): the 1.0.5 parser stops at its own (17) and never writes
    // past it, but a later library might (docs/nfqueue.md §5).
    struct nlattr *attr[NFQA_MAX + 1] = {0};
    if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL
        || mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(struct nfqnl_msg_packet_hdr)) {
        out->kind = CNFQ_MSG_MALFORMED;
        return;
    }
    struct nfqnl_msg_packet_hdr ph;     // packed (7 bytes), unaligned in the buffer
    memcpy(&ph, mnl_attr_get_payload(attr[NFQA_PACKET_HDR]), sizeof ph);
    out->kind = CNFQ_MSG_PACKET;
    out->packet_id = ntohl(ph.packet_id);
    out->hw_protocol = ntohs(ph.hw_protocol);
    out->hook = ph.hook;

    if (attr[NFQA_PAYLOAD]) {
        // The attribute lives in our own receive buffer: casting away const is what lets the
        // caller edit the packet in place (docs/nfqueue.md §3, "mangle in place").
        out->payload = (uint8_t *)mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
        out->payload_len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
    }
    out->packet_len = attr[NFQA_CAP_LEN] ? be32_attr(attr[NFQA_CAP_LEN]) : out->payload_len;
    if (attr[NFQA_SKB_INFO])
        out->skb_info = be32_attr(attr[NFQA_SKB_INFO]);
    if (attr[NFQA_MARK]) {
        out->mark = be32_attr(attr[NFQA_MARK]);
        out->has_mark = true;
    }
    if (attr[NFQA_IFINDEX_INDEV])
        out->indev = be32_attr(attr[NFQA_IFINDEX_INDEV]);
    if (attr[NFQA_IFINDEX_OUTDEV])
        out->outdev = be32_attr(attr[NFQA_IFINDEX_OUTDEV]);
    if (attr[NFQA_TIMESTAMP]
        && mnl_attr_get_payload_len(attr[NFQA_TIMESTAMP]) >= sizeof(struct nfqnl_msg_packet_timestamp)) {
        const uint8_t *p = mnl_attr_get_payload(attr[NFQA_TIMESTAMP]);
        out->ts_sec = be64_at(p);
        out->ts_usec = be64_at(p + 8);
        out->has_timestamp = true;
    }
}

#endif // __linux__

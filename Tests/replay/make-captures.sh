#!/usr/bin/env bash
# Makes the capture fixtures of Tests/replay/fixtures from real sessions with Postfix, in the
# lab's namespaces (scripts/lib/lab.sh), with NO inspector between client and server: the
# captures hold what clients send and what Postfix answers, and replay shows what smtp-inspect
# makes of them. Run as root; it writes fixtures/*.pcap (review the diff, then commit).
#
#   Tests/replay/make-captures.sh                 # every fixture
#   Tests/replay/make-captures.sh ipv6-fragment   # only these
#
# IPv4 sessions come from scenario.py (the client's own TCP stack); the IPv6 ones with extension
# headers from ipv6-scenario.py (raw packets: Tests/e2e/attacks/tcpraw.py, which needs
# python3-scapy; the client kernel's RSTs for its ports are dropped, as in attacks.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
source scripts/lib/lab.sh
IPV4=(pipelined-expn typed-by-hand smuggling-bare-lf overlap-retransmission)
IPV6=(ipv6-extension-headers ipv6-fragment)
wanted=("$@")
((${#wanted[@]})) || wanted=("${IPV4[@]}" "${IPV6[@]}")
POSTFIX_IPV6=1  # read by postfix_up: Postfix listens on IPv6 too
export POSTFIX_IPV6
lab_up
postfix_up
lab_exec client ip6tables -A OUTPUT -p tcp --sport 20000:29999 --tcp-flags RST RST -j DROP
router_mac=$(lab_exec router cat "/sys/class/net/$LAB_EXT_IF/address")

capture() {  # capture NAME FILTER COMMAND...
    local name=$1 filter=$2 pid; shift 2
    lab_capture_start "$LAB_NS_ROUTER" "$LAB_EXT_IF" "$LAB_DIR/$name.pcap" "$filter"
    pid=$LAB_LAST_PID
    sleep 0.5
    lab_exec "$LAB_NS_CLIENT" "$@"
    sleep 0.5
    lab_capture_stop "$pid"
    cp "$LAB_DIR/$name.pcap" "$here/fixtures/$name.pcap"
    echo "captured $name: $(tcpdump -r "$here/fixtures/$name.pcap" 2>/dev/null | wc -l) packets"
}

for name in "${wanted[@]}"; do
    if [[ " ${IPV6[*]} " == *" $name "* ]]; then
        # Not `tcp port 25`: BPF cannot walk IPv6 extension headers; neighbour discovery aside.
        capture "$name" "ip6 and not icmp6" /usr/bin/python3 "$here/ipv6-scenario.py" "$name" "$LAB_HOST_IF" "$router_mac" \
            "$LAB_CLIENT_IP6" "$LAB_SERVER_IP6"
    else
        capture "$name" "tcp port 25" python3 "$here/scenario.py" "$name" "$LAB_SERVER_IP"
        if [[ "$name" == overlap-retransmission ]]; then
            python3 "$here/make-overlap.py" "$here/fixtures/overlap-retransmission.pcap"
            echo "edited overlap-retransmission: a changed retransmission added"
        fi
    fi
done

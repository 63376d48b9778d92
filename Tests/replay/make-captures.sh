#!/usr/bin/env bash
# Makes the capture fixtures of Tests/replay/fixtures from real sessions with Postfix, in the
# lab's namespaces (scripts/lib/lab.sh), with NO inspector between client and server: the
# captures hold what clients send and what Postfix answers, and replay shows what smtp-inspect
# makes of them. Run as root; it writes fixtures/*.pcap (review the diff, then commit).
#
#   Tests/replay/make-captures.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
source scripts/lib/lab.sh
lab_up
postfix_up

capture() {  # capture NAME PYTHON-SCENARIO
    local name=$1 scenario=$2 pid
    lab_capture_start "$LAB_NS_ROUTER" "$LAB_EXT_IF" "$LAB_DIR/$name.pcap" "tcp port 25"
    pid=$LAB_LAST_PID
    sleep 0.5
    lab_exec "$LAB_NS_CLIENT" python3 "$here/scenario.py" "$scenario" "$LAB_SERVER_IP"
    sleep 0.5
    lab_capture_stop "$pid"
    cp "$LAB_DIR/$name.pcap" "$here/fixtures/$name.pcap"
    echo "captured $name: $(tcpdump -r "$here/fixtures/$name.pcap" 2>/dev/null | wc -l) packets"
}

for scenario in pipelined-expn typed-by-hand smuggling-bare-lf overlap-retransmission; do
    capture "$scenario" "$scenario"
done
python3 "$here/make-overlap.py" "$here/fixtures/overlap-retransmission.pcap"; echo "edited overlap-retransmission: a changed retransmission added"

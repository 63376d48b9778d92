#!/usr/bin/env bash
# shellcheck disable=SC2119  # lab functions with optional arguments called without any
# Tests/e2e/nfqueue-selftest.sh: proves the NFQueue module (and its C shim) in the lab, with the
# nfqueue-selftest executable bound to NFQUEUE 0 in the router's FORWARD chain. As root:
#
#   Tests/e2e/nfqueue-selftest.sh        # builds nfqueue-selftest unless NFQUEUE_SELFTEST=PATH
#
# a. accept-all: a swaks mail through Postfix is delivered byte-identical, and the packets the
#    selftest counted equal the kernel's id_sequence for the queue;
# b. in-place rewrite: every EXPN in client payloads becomes xxxx (same length, TCP checksum
#    recomputed): a recorder on the inside host receives xxxx, Postfix answers "xxxx root" as an
#    unknown command, over IPv4 and IPv6;
# c. shortened payload: a 1008-byte segment is cut to 64 bytes of payload (IP length and both
#    checksums fixed); the client's TCP retransmits the rest and everything arrives intact;
# d. deferred verdict: a segment is held 500 ms while later ones pass, then released from onIdle
#    with a replacement payload (HOLD -> HELD); the data arrives complete and in order;
# e. repeatWithMark: NF_REPEAT with mark 0x5e1f meets `-m mark --mark 0x5e1f -j REJECT
#    --reject-with tcp-reset` placed before the NFQUEUE rule: the client's connection is reset;
# f. every SIGTERM stops the selftest within 1 s, and the kernel then lists no peer for queue 0;
#    a second process binding queue 0 is told the queue is owned by another process;
# g. the pcap the selftest writes with PcapWriter (LINKTYPE_RAW) reads back with tshark, tcpdump
#    and PcapReader; tcpdump's Ethernet, Linux cooked (SLL) and SLL2 captures of the same traffic
#    go through PcapReader -> PcapWriter and tshark sees the same IP packets in both files.
# Ends with "N passed, 0 failed"; on the first failure prints why and exits 1 (after cleanup).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/lab.sh
source "$ROOT/scripts/lib/lab.sh"
# shellcheck source=Tests/e2e/lib/checks.sh
source "$ROOT/Tests/e2e/lib/checks.sh"
E2E_FAIL_FAST=1     # each step needs the ones before it
# On a failure, the end of the selftest's log explains it.
e2e_report() {
    if ((${#FAILED[@]})) && [[ -n "${SELFTEST_LOG:-}" && -f "${SELFTEST_LOG:-}" ]]; then
        tail -n 20 "$SELFTEST_LOG" | sed 's/^/  selftest | /'
    fi
}

e2e_require_root
e2e_require ip iptables ip6tables swaks postfix tshark tcpdump stdbuf "$PY"
e2e_binary nfqueue-selftest .build-nfqueue

MARK=0x5e1f
Q=0

# ---------------------------------------------------------------------------------------------
# Helpers

# The recorder (inside host, port 25, IPv4 and IPv6): sends a banner, echoes every byte back,
# and writes what it received to $REC/<client port>.bin when the client closes.
write_recorder() {
    cat >"$LAB_DIR/recorder.py" <<'EOF'
import os, socket, sys, threading
out = sys.argv[1]
def serve(c, peer):
    c.settimeout(15)
    got = bytearray()
    try:
        c.sendall(b"220 recorder ready\r\n")
        while True:
            b = c.recv(65536)
            if not b:
                break
            got += b
            c.sendall(b)
    except OSError:
        pass
    tmp = os.path.join(out, ".%d.tmp" % peer[1])
    with open(tmp, "wb") as f:
        f.write(got)
    os.rename(tmp, os.path.join(out, "%d.bin" % peer[1]))
    c.close()
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 25))
s.listen(16)
while True:
    c, peer = s.accept()
    threading.Thread(target=serve, args=(c, peer), daemon=True).start()
EOF
}

# The client: client.py MODE HOST -> prints "port=<local port> ..." and exits 0, or explains
# and exits 1.
write_client() {
    cat >"$LAB_DIR/client.py" <<'EOF'
import socket, sys, time
mode, host = sys.argv[1], sys.argv[2]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.settimeout(10)
s.connect((host, 25))
port = s.getsockname()[1]
def read_exactly(n):
    b = bytearray()
    while len(b) < n:
        x = s.recv(n - len(b))
        if not x:
            raise SystemExit("port=%d EOF after %d of %d bytes: %r" % (port, len(b), n, bytes(b)))
        b += x
    return bytes(b)
banner = b"220 recorder ready\r\n"
if read_exactly(len(banner)) != banner:
    raise SystemExit("bad banner")
def finish(sent, expect, t0, note=""):
    got = read_exactly(len(expect))
    if got != expect:
        raise SystemExit("port=%d echo differs:\n sent %r\n want %r\n got  %r" % (port, sent, expect, got))
    s.shutdown(socket.SHUT_WR)
    if s.recv(1) != b"":
        raise SystemExit("port=%d extra bytes" % port)
    print("port=%d bytes=%d ms=%d %s" % (port, len(sent), (time.time() - t0) * 1000, note))
if mode == "expn":
    sent = b"EHLO client\r\nEXPN root\r\nVRFY EXPN EXPN\r\nNOOP\r\n"
    t0 = time.time(); s.sendall(sent)
    finish(sent, sent.replace(b"EXPN", b"xxxx"), t0)
elif mode == "short":
    body = bytes((ord("a") + i % 26) for i in range(1000))
    sent = b"SHORT:" + body + b"\r\n"
    t0 = time.time(); s.sendall(sent)
    finish(sent, sent, t0)
elif mode == "hold":
    parts = [b"HOLD-1 first line\r\n", b"AFTER-2 second line\r\n", b"AFTER-3 third line\r\n"]
    t0 = time.time()
    for p in parts:
        s.sendall(p); time.sleep(0.05)
    sent = b"".join(parts)
    expect = sent.replace(b"HOLD", b"HELD")
    first = read_exactly(1)
    first_ms = (time.time() - t0) * 1000
    got = first + read_exactly(len(expect) - 1)
    if got != expect:
        raise SystemExit("port=%d echo differs: want %r got %r" % (port, expect, got))
    s.shutdown(socket.SHUT_WR)
    print("port=%d bytes=%d first-echo-ms=%d total-ms=%d" % (port, len(sent), first_ms, (time.time() - t0) * 1000))
elif mode == "bulk":
    import threading
    n = int(sys.argv[3])
    sent = bytes((ord("a") + (i * 7) % 26) for i in range(n))
    got = bytearray()
    def reader():
        while len(got) < n:
            x = s.recv(65536)
            if not x:
                break
            got.extend(x)
    t = threading.Thread(target=reader); t.start()
    t0 = time.time(); s.sendall(sent); t.join(30)
    if bytes(got) != sent:
        raise SystemExit("port=%d bulk echo: %d of %d bytes, equal prefix %s" % (port, len(got), n, bytes(got) == sent[:len(got)]))
    s.shutdown(socket.SHUT_WR)
    print("port=%d bytes=%d ms=%d" % (port, n, (time.time() - t0) * 1000))
elif mode == "reset":
    t0 = time.time()
    s.sendall(b"RESET-ME please\r\n")
    try:
        b = s.recv(100)
    except ConnectionResetError:
        print("port=%d reset-after-ms=%d" % (port, (time.time() - t0) * 1000)); sys.exit(0)
    raise SystemExit("port=%d no reset: got %r" % (port, b))
else:
    raise SystemExit("unknown mode " + mode)
EOF
}

rules_on() {
    lab_exec router iptables -A FORWARD -p tcp -m mark --mark "$MARK" -j REJECT --reject-with tcp-reset || return 1
    lab_exec router ip6tables -A FORWARD -p tcp -m mark --mark "$MARK" -j REJECT --reject-with tcp-reset || return 1
    lab_nfqueue_smtp "$Q" || return 1
    lab_exec router ip6tables -A FORWARD -p tcp --dport 25 -j NFQUEUE --queue-num "$Q" &&
        lab_exec router ip6tables -A FORWARD -p tcp --sport 25 -j NFQUEUE --queue-num "$Q"
}
rules_off() { lab_iptables_flush; }

# start_selftest NAME ARGS...: spawn the selftest in the router, wait until it has bound queue Q.
start_selftest() {
    local name=$1; shift
    SELFTEST_LOG=$LAB_DIR/selftest-$name.log
    lab_spawn router "$SELFTEST_LOG" stdbuf -oL "$BIN" queue --queue "$Q" "$@"
    SELFTEST_PID=$LAB_LAST_PID
    lab_wait_until 10 grep -q " bound " "$SELFTEST_LOG" || fail "selftest ($name) did not bind queue $Q"
    lab_nfq_wait_bound "$Q" 5 || fail "queue $Q not listed as bound in the router"
}

kernel_field() {     # N: column N of the queue's /proc line (8 = id_sequence)
    lab_nfq_stats "$Q" | awk -v n="$1" '{ print $n }'
}

# stop_selftest: SIGTERM, require exit 0 within 1 s, and no peer for the queue afterwards.
stop_selftest() {
    local t0 t1 ms rc=0 watchdog
    t0=$(date +%s%N)
    kill -TERM "$SELFTEST_PID"
    ( sleep 5; kill -KILL "$SELFTEST_PID" 2>/dev/null ) &
    watchdog=$!
    wait "$SELFTEST_PID" || rc=$?
    t1=$(date +%s%N)
    kill "$watchdog" 2>/dev/null || true
    wait "$watchdog" 2>/dev/null || true
    ms=$(((t1 - t0) / 1000000))
    ((rc == 0)) || fail "selftest exited with status $rc after SIGTERM"
    ((ms < 1000)) || fail "selftest took $ms ms to exit after SIGTERM"
    [[ -z "$(lab_nfq_stats "$Q")" ]] || fail "queue $Q still has a peer after the selftest exited: $(lab_nfq_stats "$Q")"
    grep -q "stopped by SIGTERM" "$SELFTEST_LOG" || fail "selftest did not report SIGTERM"
    grep -q "unbound: " "$SELFTEST_LOG" || fail "selftest did not check its unbind"
    STOP_MS=$ms
}

# counter NAME: a number from the selftest's "counters"/"marked" lines.
counter() { sed -n "s/.* $1 \([0-9]*\).*/\1/p" "$SELFTEST_LOG" | tail -n 1; }

client() {     # MODE HOST [BYTES] -> output in $CLIENT_OUT
    CLIENT_OUT=$(lab_exec client "$PY" "$LAB_DIR/client.py" "$@" 2>&1) ||
        fail "client $1 to $2: $CLIENT_OUT"
}
recorded() {   # PORT: what the recorder received from that client port (waits for it)
    local f=$LAB_DIR/rec/$1.bin
    lab_wait_until 10 test -f "$f" || fail "recorder has no file for client port $1"
    cat "$f"
}
client_port() { sed -n 's/^port=\([0-9]*\).*/\1/p' <<<"$CLIENT_OUT"; }

# ---------------------------------------------------------------------------------------------
step "lab"
lab_gc_stale
lab_up || fail "lab_up"
postfix_up || fail "postfix_up"
mkdir -p "$LAB_DIR/rec"
write_recorder
write_client
lab_spawn inside "$LAB_DIR/recorder.log" "$PY" "$LAB_DIR/recorder.py" "$LAB_DIR/rec"
lab_wait_listen inside "::" 25 10 || { cat "$LAB_DIR/recorder.log" >&2; fail "recorder does not listen"; }
pass "lab, Postfix on $LAB_SERVER_IP:25, echo recorder on $LAB_INSIDE_IP:25 and [$LAB_INSIDE_IP6]:25"

# ---------------------------------------------------------------------------------------------
step "a. accept-all"
start_selftest accept --mode accept
rules_on || fail "iptables rules"
body=$LAB_DIR/body.txt
{
    echo "nfqueue selftest $LAB_PREFIX $(date +%s%N)"
    echo ".a line that starts with a dot"
    printf 'tab\there  trailing blanks  \n'
    head -c 3000 /dev/urandom | base64 -w 76
    echo 'last line'
} >"$body"
# swaks appends CRLF.CRLF to --data: without the file's last newline the body arrives as $body.
msg=$LAB_DIR/msg.eml
{ printf 'From: b@example.org\nTo: a@example.test\nSubject: nfqueue selftest\n\n'; head -c -1 "$body"; } >"$msg"
t0=$(lab_now)
lab_exec client swaks -n --server "$LAB_SERVER_IP" --to a@example.test --from b@example.org \
    --data "@$msg" >"$LAB_DIR/swaks.out" 2>&1 || { cat "$LAB_DIR/swaks.out" >&2; fail "swaks"; }
mailbox_wait 1 20 || fail "mail not delivered"
f=$(mailbox_files | tail -n 1)
mail_body "$f" | cmp -s - "$body" || fail "delivered body differs from what swaks sent"
swaks_s=$(lab_since "$t0")
rules_off
sleep 0.2
idseq=$(kernel_field 8)
qdrop=$(kernel_field 6)
udrop=$(kernel_field 7)
stop_selftest
packets=$(counter packets)
[[ -n "$packets" && -n "$idseq" ]] || fail "no packet count (selftest $packets, kernel $idseq)"
((packets == idseq)) || fail "selftest counted $packets packets, the kernel's id_sequence is $idseq"
((packets > 10)) || fail "only $packets packets went through the queue"
((qdrop == 0 && udrop == 0)) || fail "the kernel dropped packets (queue full $qdrop, socket $udrop)"
sends=$(counter sends)
((sends <= packets)) || fail "more sendto calls ($sends) than packets"
pass "a. swaks mail delivered byte-identical in $swaks_s s; $packets packets = kernel id_sequence $idseq; $(counter verdicts) verdicts in $sends sendto calls; no drops"
pass "f. SIGTERM -> exit 0 in $STOP_MS ms; no peer for queue $Q in /proc/net/netfilter/nfnetlink_queue"

# ---------------------------------------------------------------------------------------------
step "b-e. marked (rewrite, shorten, defer, reset) with captures"
# Forget the client's MAC address so that the Ethernet capture holds ARP frames (non-IP).
lab_exec router ip neigh flush dev "$LAB_EXT_IF"
lab_exec client ip neigh flush dev "$LAB_HOST_IF"
lab_capture_start router "$LAB_EXT_IF" "$LAB_DIR/ext0.pcap" || fail "capture on ext0"
cap_ether=$LAB_LAST_PID
lab_capture_start router any "$LAB_DIR/any-sll2.pcap" -y LINUX_SLL2 tcp port 25 || fail "capture on any (SLL2)"
cap_sll2=$LAB_LAST_PID
lab_capture_start router any "$LAB_DIR/any-sll.pcap" -y LINUX_SLL tcp port 25 || fail "capture on any (SLL)"
cap_sll=$LAB_LAST_PID
start_selftest marked --mode marked --mark "$MARK" --shorten-to 64 --hold-ms 500 --write "$LAB_DIR/queue.pcap" \
    --bogus-verdicts 2
rules_on || fail "iptables rules"

# second binder (f)
if out=$(lab_exec router "$BIN" queue --queue "$Q" 2>&1); then
    fail "a second process bound queue $Q: $out"
fi
grep -q "owned by another process" <<<"$out" || fail "second binder: unexpected message: $out"
pass "f. a second process is refused: ${out#nfqueue-selftest: ERROR: }"

client expn "$LAB_INSIDE_IP"
port=$(client_port)
rec=$(recorded "$port")
[[ "$rec" == *"xxxx root"* && "$rec" != *EXPN* ]] || fail "recorder got: $rec"
pass "b. IPv4: the recorder received '$(grep -o 'xxxx root' <<<"$rec")' and 'VRFY xxxx xxxx', no EXPN ($CLIENT_OUT)"
client expn "$LAB_INSIDE_IP6"
port=$(client_port)
rec=$(recorded "$port")
[[ "$rec" == *"xxxx root"* && "$rec" != *EXPN* ]] || fail "recorder (IPv6) got: $rec"
pass "b. IPv6: the recorder received xxxx, no EXPN ($CLIENT_OUT)"
answers=$(lab_exec client "${SMTPC[@]}" chat --host "$LAB_SERVER_IP" --line "EHLO client.test" --line "EXPN root" \
    --line QUIT 2>&1) || fail "SMTP session with Postfix: $answers"
grep -q "^EXPN root => 500 5.5.2 Error: command not recognized" <<<"$answers" || fail "Postfix answered: $answers"
grep -q "^QUIT => 221" <<<"$answers" || fail "Postfix session did not end normally: $answers"
pass "b. Postfix received the masked command: 'EXPN root => 500 5.5.2 Error: command not recognized'"

client short "$LAB_INSIDE_IP"
port=$(client_port)
recorded "$port" >/dev/null
expected="SHORT:$($PY -c 'import sys; sys.stdout.write("".join(chr(97 + i % 26) for i in range(1000)))')"
cmp -s <(printf '%s\r\n' "$expected") "$LAB_DIR/rec/$port.bin" ||
    fail "the recorder got $(wc -c <"$LAB_DIR/rec/$port.bin") bytes that differ from the 1008 sent"
grep -q "shorten id=.* payload 1008 -> 64" "$SELFTEST_LOG" || fail "selftest did not shorten the segment"
pass "b/c. shortened 1008 -> 64 payload bytes; TCP retransmitted the rest; 1008 bytes intact ($CLIENT_OUT)"

client hold "$LAB_INSIDE_IP"
port=$(client_port)
first_ms=$(sed -n 's/.*first-echo-ms=\([0-9]*\).*/\1/p' <<<"$CLIENT_OUT")
((first_ms >= 450)) || fail "the held segment came back after $first_ms ms, not after the 500 ms hold"
recorded "$port" >/dev/null
cmp -s <(printf 'HELD-1 first line\r\nAFTER-2 second line\r\nAFTER-3 third line\r\n') "$LAB_DIR/rec/$port.bin" ||
    fail "recorder got: $(cat "$LAB_DIR/rec/$port.bin")"
holds=$(grep -c "hold id=" "$SELFTEST_LOG")
pass "d. held $holds copies of the segment 500 ms (released from onIdle, HOLD -> HELD); data complete and in order ($CLIENT_OUT)"

client reset "$LAB_INSIDE_IP"
grep -q "reset id=" "$SELFTEST_LOG" || fail "selftest did not answer with repeatWithMark"
rejected=$(lab_exec router iptables -L FORWARD -v -n -x | awk '/REJECT/ { print $1; exit }')
((rejected >= 1)) || fail "the REJECT rule matched no packet"
pass "e. repeatWithMark($MARK) -> REJECT --reject-with tcp-reset ($rejected packet): client reset ($CLIENT_OUT)"

rules_off
sleep 0.2
idseq=$(kernel_field 8)
stop_selftest
packets=$(counter packets)
((packets == idseq)) || fail "marked run: selftest counted $packets packets, the kernel's id_sequence is $idseq"
errs=$(counter error-acks)
((errs == 2)) || fail "the kernel answered $errs verdicts with an error, expected 2 (the bogus ids)"
grep -q "error answers errno 2 2: No such file" "$SELFTEST_LOG" || fail "the 2 error answers are not both ENOENT"
logged=$(grep -c "error answer from the kernel.*No such file" "$SELFTEST_LOG" || true)
((logged == 1)) || fail "ENOENT was logged $logged times, expected once"
pass "f. 2 verdicts for an id never issued: 2 ENOENT answers in the receive stream, counted, logged once, loop went on"
bad=$(counter bad-checksums-seen)
((bad == 0)) || fail "$bad client packets arrived with a bad TCP checksum"
pass "f. SIGTERM -> exit 0 in $STOP_MS ms; $packets packets = id_sequence; $(counter payload-verdicts) payload verdicts"
lab_capture_stop "$cap_ether"
lab_capture_stop "$cap_sll2"
lab_capture_stop "$cap_sll"

# ---------------------------------------------------------------------------------------------
step "g. pcap"
qp=$LAB_DIR/queue.pcap
written=$(sed -n 's/.*pcap .* packets \([0-9]*\).*/\1/p' "$SELFTEST_LOG")
td=$(tcpdump -r "$qp" -n 2>/dev/null | wc -l)
((written > 0 && td == written)) || fail "tcpdump reads $td packets from $qp, the selftest wrote $written"
ts=$(tshark -r "$qp" 2>/dev/null | wc -l)
((ts == written)) || fail "tshark reads $ts packets, the selftest wrote $written"
bad=$(tshark -r "$qp" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
    -Y 'ip.checksum.status == 0 || tcp.checksum.status == 0' 2>/dev/null | wc -l)
((bad == 0)) || fail "$bad packets in $qp have a bad IP or TCP checksum"
masked=$(tshark -r "$qp" -Y 'tcp.dstport == 25 && tcp.payload contains "xxxx"' 2>/dev/null | wc -l)
leaked=$(tshark -r "$qp" -Y 'tcp.dstport == 25 && tcp.payload contains "EXPN"' 2>/dev/null | wc -l)
((masked >= 3 && leaked == 0)) || fail "$qp: $masked client packets with xxxx, $leaked with EXPN"
pr=$("$BIN" pcap-read "$qp") || fail "PcapReader on $qp: $pr"
read_back=$(sed -n 's/.*pcap-read link-type RAW frames \([0-9]*\) packets \([0-9]*\) skipped 0$/\2/p' <<<"$pr")
[[ "$read_back" == "$written" ]] || fail "PcapReader: $(tail -n 1 <<<"$pr") (written $written)"
pass "g. PcapWriter: $written packets (LINKTYPE_RAW); tcpdump and tshark read $td, checksums valid, $masked masked client packets, no EXPN; PcapReader reads $read_back back"

fields=(-T fields -e frame.time_epoch -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst -e ip.id -e tcp.seq_raw -e tcp.len -e tcp.checksum)
for cap in ext0 any-sll any-sll2; do
    in=$LAB_DIR/$cap.pcap out=$LAB_DIR/$cap.raw.pcap
    cp_out=$("$BIN" pcap-copy "$in" "$out") || fail "pcap-copy $cap: $cp_out"
    tshark -r "$in" -Y 'ip or ipv6' "${fields[@]}" >"$in.txt" 2>/dev/null
    tshark -r "$out" "${fields[@]}" >"$out.txt" 2>/dev/null
    n=$(wc -l <"$in.txt")
    ((n > 0)) || fail "$cap capture holds no IP packet"
    cmp -s "$in.txt" "$out.txt" || { diff "$in.txt" "$out.txt" | head >&2; fail "$cap: tshark sees different packets after PcapReader -> PcapWriter"; }
    nonip=$(tshark -r "$in" -Y 'not ip and not ipv6' 2>/dev/null | wc -l)
    skipped=$(sed -n 's/.* skipped \([0-9]*\).*/\1/p' <<<"$cp_out")
    ((skipped == nonip)) || fail "$cap: PcapReader skipped $skipped frames, tshark sees $nonip non-IP frames"
    [[ $cap != ext0 ]] || ((skipped > 0)) || fail "the Ethernet capture holds no ARP frame to skip"
    pass "g. $(sed -n 's/.*link-type \([A-Z0-9_]*\).*/\1/p' <<<"$cp_out") capture ($cap): $n IP packets identical for tshark after PcapReader -> PcapWriter; $skipped non-IP frames skipped"
done

# ---------------------------------------------------------------------------------------------
step "GSO: super-packets with unfinished checksums"
start_selftest gso --mode marked --gso
rules_on || fail "iptables rules"
client expn "$LAB_INSIDE_IP"
rec=$(recorded "$(client_port)")
[[ "$rec" == *"xxxx root"* && "$rec" != *EXPN* ]] || fail "GSO: recorder got: $rec"
expn_out=$CLIENT_OUT
client bulk "$LAB_INSIDE_IP" 1000000
rules_off
sleep 0.2
idseq=$(kernel_field 8)
stop_selftest
packets=$(counter packets) gso=$(counter gso) notready=$(counter csum-not-ready) largest=$(counter largest)
((packets == idseq)) || fail "GSO run: selftest counted $packets packets, the kernel's id_sequence is $idseq"
((notready > 0)) || fail "GSO run: no packet with NFQA_SKB_CSUMNOTREADY"
((gso > 0)) || fail "GSO run: no packet flagged NFQA_SKB_GSO"
gap=$(counter longest-idle-gap-ms)
((gap < 300)) || fail "GSO run: onIdle was not called for $gap ms (idle interval 100 ms)"
pass "GSO: EXPN masked in a CSUMNOTREADY packet (full checksum recompute) ($expn_out); 1 MB echoed intact ($CLIENT_OUT)"
pass "GSO: $packets packets, $gso GSO super-packets (largest $largest bytes), $notready with CSUMNOTREADY, $(counter truncated) truncated; onIdle at most $gap ms apart"

# ---------------------------------------------------------------------------------------------
step "ENOBUFS: a receive buffer too small for the burst"
# 16 KiB (the kernel doubles it) holds a few dozen queued packets: a 300 KB burst overflows it
# most of the time without stalling TCP for long; up to 3 bursts until one does.
start_selftest enobufs --mode accept --rcvbuf 16384
rules_on || fail "iptables rules"
for _ in 1 2 3; do
    client bulk "$LAB_INSIDE_IP" 300000
    udrop=$(kernel_field 7)
    ((udrop > 0)) && break
done
rules_off
sleep 0.2
udrop=$(kernel_field 7)
stop_selftest
enobufs=$(counter enobufs)
((udrop > 0)) || fail "the burst did not overflow the receive buffer (user_dropped 0)"
((enobufs > 0)) || fail "the kernel dropped $udrop packets but recv never reported ENOBUFS"
pass "ENOBUFS: rcvbuf $(sed -n 's/.*rcvbuf \([0-9]*\).*/\1/p' "$SELFTEST_LOG") bytes; kernel user_dropped $udrop; $enobufs ENOBUFS counted, loop went on; 300 KB echoed intact ($CLIENT_OUT)"

finish

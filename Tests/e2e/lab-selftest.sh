#!/usr/bin/env bash
# shellcheck disable=SC2119  # functions with optional arguments called without any
# Tests/e2e/lab-selftest.sh: proves the lab (scripts/lib/lab.sh) works before anything of
# smtp-inspect is put into it. As root:
#
#   Tests/e2e/lab-selftest.sh            # about 10 s
#
# 1. the seed's network comes up and every host reaches what it should (IPv4 and IPv6);
# 2. the private Postfix listens on 10.10.10.2:25 and delivers a swaks mail from the outside
#    client with its body byte-identical; the inside host reaches the server too;
# 3. with the router's FORWARD chain sending TCP/25 both ways to NFQUEUE 0 and bench/nfq-accept
#    consuming it, the same mail still arrives intact and every packet went through the queue;
# 4. smtp-source sends 100 messages from the client through the queue, and all 100 arrive;
# 5. cleanup leaves no namespace, process, temp dir or /etc/postfix change behind.
# Ends with "N passed, N failed"; exits non-zero on the first failure, after cleaning up.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/lab.sh
source "$ROOT/scripts/lib/lab.sh"
# shellcheck source=Tests/e2e/lib/checks.sh
source "$ROOT/Tests/e2e/lib/checks.sh"
E2E_FAIL_FAST=1     # each step needs the ones before it

e2e_require_root
e2e_require ip iptables ss ping swaks postfix gcc pkg-config
SMTP_SOURCE=$(smtp_source) || { echo "lab-selftest: smtp-source missing: run scripts/deps.sh" >&2; exit 1; }

# /etc/postfix/main.cf before the run, to check the cleanup restores it (after removing what
# runs killed earlier left behind, which lab_up would do anyway).
lab_gc_stale
main_cf_before=absent
[[ -f /etc/postfix/main.cf ]] && main_cf_before=$(sha256sum </etc/postfix/main.cf)

# ---------------------------------------------------------------------------------------------
step "network"
t0=$(lab_now)
lab_up || fail "lab_up"
pass "lab up in $(lab_since "$t0") s (prefix $LAB_PREFIX)"

ping_ok() {     # NS ADDR
    local fam=-4
    [[ "$2" == *:* ]] && fam=-6
    lab_exec "$1" ping "$fam" -n -q -c 1 -W 2 "$2" >/dev/null 2>&1
}
for pair in "client $LAB_ROUTER_EXT_IP" "client $LAB_SERVER_IP" "client $LAB_INSIDE_IP" \
            "inside $LAB_SERVER_IP" "server $LAB_CLIENT_IP" "router $LAB_SERVER_IP" \
            "client $LAB_SERVER_IP6" "inside $LAB_SERVER_IP6"; do
    # shellcheck disable=SC2086
    ping_ok $pair || fail "ping from $pair"
done
pass "routed and bridged reachability (client, router, server, inside; IPv4 and IPv6)"

# Nothing may leave the lab: the router has no default route, the hosts' defaults point at it.
if lab_exec router ip route get 192.0.2.1 >/dev/null 2>&1; then
    fail "the router has a route out of the lab"
fi
pass "no route out of the lab"

# ---------------------------------------------------------------------------------------------
step "postfix"
t0=$(lab_now)
postfix_up || fail "postfix_up"
pass "postfix listening on $LAB_SERVER_IP:25 after $(lab_since "$t0") s"

# A body that exercises dot-stuffing, tabs, trailing blanks, an empty line and a long line.
body=$LAB_DIR/body.txt
{
    echo "lab selftest $LAB_PREFIX $(date +%s%N)"
    echo ".a line that starts with a dot"
    echo "..two dots"
    echo "."
    printf 'tab\there  trailing blanks  \n'
    echo
    head -c 900 /dev/zero | tr '\0' 'x'; echo
    echo "last line"
} >"$body"
# swaks sends --data as given and then CRLF.CRLF: without a final newline in the file, the
# delivered body equals $body exactly.
send_and_check() {     # NS LABEL
    local ns=$1 label=$2 before msg f
    before=$(mailbox_count)
    msg=$LAB_DIR/msg-$label.eml
    {
        printf 'From: b@example.org\nTo: a@example.test\nSubject: lab selftest %s\n\n' "$label"
        sed "1s/\$/ $label/" "$body" | head -c -1
    } >"$msg"
    if ! lab_exec "$ns" swaks -n --server "${LAB_TARGET:-$LAB_SERVER_IP}" --to a@example.test --from b@example.org \
        --data "@$msg" >"$LAB_DIR/swaks-$label.out" 2>&1; then
        cat "$LAB_DIR/swaks-$label.out" >&2
        fail "swaks from $ns ($label)"
    fi
    mailbox_wait $((before + 1)) 20 || fail "mail from $ns ($label) not delivered"
    f=$(mailbox_files | tail -n 1)
    if ! mail_body "$f" | cmp -s - <(sed "1s/\$/ $label/" "$body"); then
        diff <(mail_body "$f") <(sed "1s/\$/ $label/" "$body") >&2 || true
        fail "body of the mail from $ns ($label) differs from what was sent"
    fi
    pass "swaks from $ns ($label): delivered, body byte-identical"
}
send_and_check client direct
send_and_check inside inside

# ---------------------------------------------------------------------------------------------
step "static NAT"
lab_static_nat || fail "lab_static_nat"
ping_ok client "$LAB_INSIDE_NAT_IP" || fail "ping from client to $LAB_INSIDE_NAT_IP (static NAT of $LAB_INSIDE_IP)"
LAB_TARGET=$LAB_SERVER_NAT_IP send_and_check client nat
qid=$(sed -n 's/.*queued as \([0-9A-F]*\).*/\1/p' "$LAB_DIR/swaks-nat.out")
[[ -n "$qid" ]] || fail "no queue id in swaks's output"
grep -q "$qid: client=unknown\[$LAB_CLIENT_IP\]" "$POSTFIX_MAILLOG" ||
    fail "Postfix did not see the NATed session ($qid) as coming from $LAB_CLIENT_IP"
pass "static NAT: $LAB_SERVER_NAT_IP -> $LAB_SERVER_IP and $LAB_INSIDE_NAT_IP -> $LAB_INSIDE_IP"

# ---------------------------------------------------------------------------------------------
step "nfqueue"
bin=$LAB_DIR/bin
"$ROOT/bench/build.sh" "$bin" >/dev/null || fail "bench/build.sh"
nfqlog=$LAB_DIR/nfq-accept.log
lab_spawn router "$nfqlog" stdbuf -oL "$bin/nfq-accept" 0
nfq_pid=$LAB_LAST_PID
lab_wait_until 10 grep -q "bound" "$nfqlog" || { cat "$nfqlog" >&2; fail "nfq-accept did not bind queue 0"; }
lab_nfq_wait_bound 0 5 || fail "queue 0 not bound in the router namespace"
lab_nfqueue_smtp 0 || fail "iptables NFQUEUE rules"
pass "nfq-accept bound queue 0; FORWARD sends TCP/25 both ways to it"

send_and_check client queued
read -r _ _ _ _ _ qdrop udrop idseq _ <<<"$(lab_nfq_stats 0)"
((idseq > 0)) || fail "no packet went through queue 0"
pass "the queued session's packets went through NFQUEUE ($idseq so far)"

before=$(mailbox_count)
t0=$(lab_now)
if ! lab_exec client "$SMTP_SOURCE" -s 10 -m 100 -l 4096 -f b@example.org -t a@example.test \
    "$LAB_SERVER_IP:25" >"$LAB_DIR/smtp-source.out" 2>&1; then
    cat "$LAB_DIR/smtp-source.out" >&2
    fail "smtp-source"
fi
mailbox_wait $((before + 100)) 60 || fail "smtp-source's 100 messages did not all arrive"
got=$(($(mailbox_count) - before))
((got == 100)) || fail "expected 100 new messages, got $got"
pass "smtp-source: 100 messages through the queue, all delivered in $(lab_since "$t0") s"

# Take the rules out first, so that the kernel's count is final when it is compared.
lab_iptables_flush || fail "iptables -F"
sleep 0.2
read -r _ _ _ _ _ qdrop udrop idseq _ <<<"$(lab_nfq_stats 0)"
((qdrop == 0 && udrop == 0)) || fail "queue 0 dropped packets (full: $qdrop, socket: $udrop)"
lab_kill "$nfq_pid" 5 || fail "nfq-accept exited with an error"
handled=$(sed -n 's/.* packets \([0-9]*\) .*/\1/p' "$nfqlog")
[[ -n "$handled" ]] || { cat "$nfqlog" >&2; fail "nfq-accept printed no count at exit"; }
((handled == idseq)) || fail "nfq-accept handled $handled packets, the kernel queued $idseq"
pass "nfq-accept stopped cleanly: $handled packets, none dropped"

if postfix_log | grep -E "(fatal|panic|error):" >&2; then
    fail "Postfix logged errors"
fi
pass "Postfix log has no errors"

# ---------------------------------------------------------------------------------------------
step "cleanup"
dir=$LAB_DIR
spool=$POSTFIX_DIR/etc
lab_cleanup
leftover=$(lab_ns_list | grep -F "$LAB_PREFIX" || true)
[[ -z "$leftover" ]] || fail "namespaces left: $leftover"
[[ ! -e "$dir" ]] || fail "$dir left"
pgrep -f -- "$spool" >/dev/null && fail "Postfix processes of $spool left"
kill -0 "$nfq_pid" 2>/dev/null && fail "nfq-accept left"
main_cf_after=absent
[[ -f /etc/postfix/main.cf ]] && main_cf_after=$(sha256sum </etc/postfix/main.cf)
others=""
if [[ -f /etc/postfix/main.cf ]]; then
    listed=$(postconf -c /etc/postfix -h alternate_config_directories 2>/dev/null || true)
    [[ "$listed" != *"$spool"* ]] || fail "$spool still listed in /etc/postfix/main.cf"
    others=$listed
fi
# Only another lab run still registered there may explain a difference.
if [[ "$main_cf_before" != "$main_cf_after" && -z "$others" ]]; then
    fail "/etc/postfix/main.cf not restored (before: $main_cf_before, after: $main_cf_after)"
fi
pass "nothing left behind"

finish

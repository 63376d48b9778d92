# shellcheck shell=bash disable=SC2034  # (variables are for the callers)
# scripts/lib/lab.sh: the seed's network (Cisco technote) in network namespaces, with a private
# Postfix instance, for the end-to-end tests, the demo and the benchmark. Source it from bash, as root:
#
#   source scripts/lib/lab.sh
#   lab_up                  # namespaces, links, addresses, routes; installs the cleanup trap
#   postfix_up              # private Postfix on 10.10.10.2:25 in the server namespace
#   lab_exec client swaks --server "$LAB_SERVER_IP" --to a@example.test --from b@example.org
#   mailbox_wait 1 20
#   # ... on exit (normal, error or signal) everything is removed by lab_cleanup
#
#            outside 172.22.1.0/24                        inside 10.10.10.0/24 (one L2 segment)
#   client ──────────────── router ─────────── switch (bridge br0) ──┬── server 10.10.10.2 (Postfix)
#   172.22.1.50 eth0   ext0 172.22.1.16   int0 10.10.10.1            └── inside 10.10.10.5
#   (Ethernet2/0 = ext0, Ethernet2/1 = int0; static NAT .110 -> .2 and .111 -> .5 on request)
#
# Every name carries a per-run prefix (LAB_PREFIX, default "si<pid>-") so two runs never collide.
# Nothing here sends traffic anywhere but to the namespaces it creates: the router has no default
# route, and the namespaces have no link to the host.
#
# Functions return non-zero with a message on stderr on failure; they work under `set -euo pipefail`.
# See Tests/e2e/README.md for a tour.

# ---------------------------------------------------------------------------------------------
# Names. LAB_PREFIX may be set before lab_up (default si<pid of the script>-); only names of the
# form si<pid>- are garbage-collected by later runs once that PID is gone.
: "${LAB_PREFIX:=si$$-}"
_lab_names() {
    LAB_NS_CLIENT="${LAB_PREFIX}client"
    LAB_NS_ROUTER="${LAB_PREFIX}router"
    LAB_NS_SERVER="${LAB_PREFIX}server"
    LAB_NS_INSIDE="${LAB_PREFIX}inside"
    LAB_NS_SWITCH="${LAB_PREFIX}switch"
    LAB_NAMESPACES=("$LAB_NS_CLIENT" "$LAB_NS_ROUTER" "$LAB_NS_SERVER" "$LAB_NS_INSIDE" "$LAB_NS_SWITCH")
}
_lab_names

# The seed's address plan (constants: the IOS configuration in iptables/ uses them).

LAB_EXT_NET=172.22.1.0/24           # outside segment (router Ethernet2/0)
LAB_INT_NET=10.10.10.0/24           # inside segment (router Ethernet2/1)
LAB_CLIENT_IP=172.22.1.50           # outside client
LAB_ROUTER_EXT_IP=172.22.1.16       # Ethernet2/0
LAB_ROUTER_INT_IP=10.10.10.1        # Ethernet2/1
LAB_SERVER_IP=10.10.10.2            # mail server
LAB_INSIDE_IP=10.10.10.5            # inside host
LAB_SERVER_NAT_IP=172.22.1.110      # ip nat inside source static 10.10.10.2 172.22.1.110
LAB_INSIDE_NAT_IP=172.22.1.111      # ip nat inside source static 10.10.10.5 172.22.1.111
LAB_EXT_IF=ext0                     # router interface names, for --interface Ethernet2/0=ext0 ...
LAB_INT_IF=int0
LAB_HOST_IF=eth0                    # the interface of client, server and inside

# IPv6 (documentation prefixes) on the same links, for tests of the IPv6 path. Postfix listens
# on IPv6 too when POSTFIX_IPV6=1.
: "${LAB_IPV6:=1}"
LAB_EXT_NET6=2001:db8:22:1::/64
LAB_INT_NET6=2001:db8:10:10::/64
LAB_CLIENT_IP6=2001:db8:22:1::50
LAB_ROUTER_EXT_IP6=2001:db8:22:1::16
LAB_ROUTER_INT_IP6=2001:db8:10:10::1
LAB_SERVER_IP6=2001:db8:10:10::2
LAB_INSIDE_IP6=2001:db8:10:10::5

: "${LAB_VERBOSE:=1}"               # 0: only errors
: "${POSTFIX_IPV6:=0}"

# State (read-only for callers)
LAB_DIR=""                          # per-run temp dir (0755), removed by lab_cleanup
LAB_IS_UP=0
LAB_PIDS=()                         # processes started by lab_spawn, killed by lab_cleanup
LAB_LAST_PID=""                     # PID of the last lab_spawn
LAB_CLEANUP_HOOKS=()                # commands run (last first) by lab_cleanup
POSTFIX_DIR=""                      # $LAB_DIR/postfix: etc/ spool/ data/ mailbox/ maillog
POSTFIX_MAILDIR=""                  # $POSTFIX_DIR/mailbox/mbox: Maildir all mail is delivered to
POSTFIX_MAILLOG=""                  # $POSTFIX_DIR/maillog
POSTFIX_IS_UP=0
SMTP_SINK_PID=""
SMTP_SINK_LOG=""

_LAB_POSTFIX_LOCK=/run/lock/smtp-inspect-lab-postfix.lock
_LAB_POSTFIX_MARK=/etc/postfix/.smtp-inspect-lab    # what the lab changed in /etc/postfix/main.cf

# ---------------------------------------------------------------------------------------------
# Small helpers

lab_log()  { ((LAB_VERBOSE)) && printf 'lab: %s\n' "$*" >&2; return 0; }
lab_err()  { printf 'lab: ERROR: %s\n' "$*" >&2; return 1; }
lab_now()  { date +%s.%N; }
lab_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }

# lab_ns NAME: the full namespace name of client|router|server|inside|switch (or a full name).
lab_ns() {
    case "$1" in
        client) echo "$LAB_NS_CLIENT" ;;
        router) echo "$LAB_NS_ROUTER" ;;
        server) echo "$LAB_NS_SERVER" ;;
        inside) echo "$LAB_NS_INSIDE" ;;
        switch) echo "$LAB_NS_SWITCH" ;;
        *) echo "$1" ;;
    esac
}

# lab_exec NS CMD...: run CMD in namespace NS (client|router|server|inside|switch).
lab_exec() {
    local ns; ns=$(lab_ns "$1"); shift
    ip netns exec "$ns" "$@"
}

# lab_spawn NS LOGFILE CMD...: start CMD in the background in NS, stdout+stderr to LOGFILE
# (/dev/null if empty). Sets LAB_LAST_PID and remembers it for lab_cleanup. Do not call it inside
# $(...): the PID would be lost with the subshell.
lab_spawn() {
    local ns log; ns=$(lab_ns "$1"); log=${2:-/dev/null}; shift 2
    ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
    LAB_LAST_PID=$!
    LAB_PIDS+=("$LAB_LAST_PID")
}

# lab_kill PID [TIMEOUT=5] [SIGNAL=TERM]: signal PID, wait for it, SIGKILL after TIMEOUT seconds.
# Returns the process's exit status when it was our child, else 0.
lab_kill() {
    local pid=$1 timeout=${2:-5} sig=${3:-TERM} i rc=0
    [[ -n "$pid" ]] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || rc=$?; return $rc; }
    kill -"$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        lab_log "PID $pid ignored SIG$sig for ${timeout}s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || rc=$?
    return $rc
}

# lab_on_cleanup CMD...: run CMD (as one eval'd string) in lab_cleanup, before the lab goes down.
lab_on_cleanup() { LAB_CLEANUP_HOOKS+=("$*"); }

# lab_wait_listen NS ADDR PORT [TIMEOUT=10]: wait until a TCP socket listens on ADDR:PORT in NS.
lab_wait_listen() {
    local ns=$1 addr=$2 port=$3 timeout=${4:-10} deadline
    deadline=$(($(date +%s) + timeout))
    [[ "$addr" == *:* ]] && addr="[$addr]"
    while :; do
        if lab_exec "$ns" ss -ltnH "sport = :$port" 2>/dev/null | awk '{print $4}' |
            grep -qxF -e "$addr:$port" -e "0.0.0.0:$port" -e "*:$port" -e "[::]:$port"; then
            return 0
        fi
        (($(date +%s) < deadline)) || return 1
        sleep 0.1
    done
}

# lab_wait_until TIMEOUT CMD...: poll CMD every 0.1 s until it succeeds; 1 on timeout.
lab_wait_until() {
    local timeout=$1 deadline; shift
    deadline=$(($(date +%s) + timeout))
    until "$@"; do
        (($(date +%s) < deadline)) || return 1
        sleep 0.1
    done
}

# lab_ns_exists NS / lab_ns_list: named namespaces, read from /run/netns. (`ip netns list` asks
# the kernel about each namespace and prints "Peer netns reference is invalid" when another run
# deletes one at the same moment.)
lab_ns_exists() { [[ -e "/run/netns/$(lab_ns "$1")" ]]; }
lab_ns_list() {
    local f
    for f in /run/netns/*; do [[ -e "$f" ]] && echo "${f##*/}"; done
    return 0
}

_lab_require() {
    local missing=() c
    for c in "$@"; do command -v "$c" >/dev/null || missing+=("$c"); done
    ((${#missing[@]} == 0)) || lab_err "missing commands: ${missing[*]} (run scripts/deps.sh)"
}

# ---------------------------------------------------------------------------------------------
# The network

# lab_gc_stale: delete namespaces (and the processes in them) of earlier runs whose owning
# process is gone (names si<pid>-*, e.g. after a SIGKILL that skipped the cleanup trap).
lab_gc_stale() {
    local ns pid p
    for ns in $(lab_ns_list); do
        [[ "$ns" =~ ^si([0-9]+)-(client|router|server|inside|switch)$ ]] || continue
        pid=${BASH_REMATCH[1]}
        [[ -d /proc/$pid ]] && continue
        lab_log "removing stale namespace $ns (run $pid is gone)"
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
    local d
    for d in /tmp/si[0-9]*-lab.*; do
        [[ -d "$d" && "$d" =~ ^/tmp/si([0-9]+)-lab\.[A-Za-z0-9]+$ ]] || continue
        [[ -d /proc/${BASH_REMATCH[1]} ]] && continue
        lab_log "removing stale lab directory $d"
        rm -rf "$d"
    done
    _lab_postfix_gc_alternates
}

# lab_up: build the network. Installs `trap lab_cleanup EXIT` (and exit on INT/TERM) unless
# LAB_NO_TRAP=1; add your own cleanup with lab_on_cleanup rather than replacing the trap.
lab_up() {
    local t0 ns
    t0=$(lab_now)
    ((EUID == 0)) || { lab_err "lab_up needs root"; return 1; }
    _lab_require ip iptables ss sysctl awk flock || return 1
    ((LAB_IS_UP == 0)) || { lab_err "lab already up ($LAB_PREFIX)"; return 1; }
    _lab_names
    if [[ "${LAB_NO_TRAP:-0}" != 1 ]]; then
        trap 'lab_cleanup' EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
    fi
    lab_gc_stale
    for ns in "${LAB_NAMESPACES[@]}"; do
        if lab_ns_exists "$ns"; then
            lab_err "namespace $ns already exists"; return 1
        fi
    done
    LAB_IS_UP=1     # from here on lab_down has something to remove
    LAB_DIR=$(mktemp -d "/tmp/${LAB_PREFIX}lab.XXXXXX") || return 1
    chmod 0755 "$LAB_DIR"     # Postfix (user postfix) and its delivery (nobody) must traverse it

    for ns in "${LAB_NAMESPACES[@]}"; do
        ip netns add "$ns" || { lab_err "ip netns add $ns failed"; return 1; }
        ip -n "$ns" link set lo up
    done
    _lab_links || { lab_err "building links failed"; return 1; }
    lab_log "up in $(lab_since "$t0") s: namespaces ${LAB_PREFIX}{client,router,server,inside,switch}"
}

# In a subshell, every step checked by x (set -e would not work here: it is ignored in the
# `_lab_links || ...` context it is called from).
_lab_links() (
    x() { "$@" || { echo "lab: failed: $*" >&2; exit 1; }; }
    local c=$LAB_NS_CLIENT r=$LAB_NS_ROUTER s=$LAB_NS_SERVER i=$LAB_NS_INSIDE w=$LAB_NS_SWITCH
    local nodad=nodad

    # No IPv6 duplicate address detection (addresses, link-local ones too, usable at once; with
    # DAD the first neighbour solicitation waited ~1 s) and no router advertisements. Before any
    # link exists, so that "default" applies to every interface.
    for ns in "$c" "$r" "$s" "$i" "$w"; do
        x ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
            net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 >/dev/null
    done

    # Outside: client eth0 <-> router ext0.
    x ip -n "$r" link add "$LAB_EXT_IF" type veth peer name "$LAB_HOST_IF" netns "$c"
    # Inside: a bridge in the switch namespace, one port each for router, server and inside host.
    x ip -n "$w" link add br0 type bridge stp_state 0 forward_delay 0
    x ip -n "$r" link add "$LAB_INT_IF" type veth peer name p-router netns "$w"
    x ip -n "$s" link add "$LAB_HOST_IF" type veth peer name p-server netns "$w"
    x ip -n "$i" link add "$LAB_HOST_IF" type veth peer name p-inside netns "$w"
    local p
    for p in p-router p-server p-inside; do
        x ip -n "$w" link set "$p" master br0
        x ip -n "$w" link set "$p" up
    done
    x ip -n "$w" link set br0 up

    x ip -n "$c" addr add "$LAB_CLIENT_IP/24" dev "$LAB_HOST_IF"
    x ip -n "$r" addr add "$LAB_ROUTER_EXT_IP/24" dev "$LAB_EXT_IF"
    x ip -n "$r" addr add "$LAB_ROUTER_INT_IP/24" dev "$LAB_INT_IF"
    x ip -n "$s" addr add "$LAB_SERVER_IP/24" dev "$LAB_HOST_IF"
    x ip -n "$i" addr add "$LAB_INSIDE_IP/24" dev "$LAB_HOST_IF"
    if ((LAB_IPV6)); then
        x ip -n "$c" addr add "$LAB_CLIENT_IP6/64" dev "$LAB_HOST_IF" $nodad
        x ip -n "$r" addr add "$LAB_ROUTER_EXT_IP6/64" dev "$LAB_EXT_IF" $nodad
        x ip -n "$r" addr add "$LAB_ROUTER_INT_IP6/64" dev "$LAB_INT_IF" $nodad
        x ip -n "$s" addr add "$LAB_SERVER_IP6/64" dev "$LAB_HOST_IF" $nodad
        x ip -n "$i" addr add "$LAB_INSIDE_IP6/64" dev "$LAB_HOST_IF" $nodad
    fi
    for ns in "$c" "$s" "$i"; do x ip -n "$ns" link set "$LAB_HOST_IF" up; done
    x ip -n "$r" link set "$LAB_EXT_IF" up
    x ip -n "$r" link set "$LAB_INT_IF" up

    x ip -n "$c" route add default via "$LAB_ROUTER_EXT_IP"
    x ip -n "$s" route add default via "$LAB_ROUTER_INT_IP"
    x ip -n "$i" route add default via "$LAB_ROUTER_INT_IP"
    if ((LAB_IPV6)); then
        x ip -n "$c" -6 route add default via "$LAB_ROUTER_EXT_IP6"
        x ip -n "$s" -6 route add default via "$LAB_ROUTER_INT_IP6"
        x ip -n "$i" -6 route add default via "$LAB_ROUTER_INT_IP6"
    fi
    # The router forwards; it has no default route (the seed's 172.22.1.1 does not exist here),
    # so nothing can leave the lab.
    x ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null

    # IPv6 ignores neighbour solicitations on an interface until addrconf has given it its
    # link-local address (~0.3 s after link up, DAD or not); the first solicitation was lost and
    # the first IPv6 packet waited a whole second for the retry. Wait for it here instead.
    if ((LAB_IPV6)); then
        local pair deadline=$(($(date +%s) + 5))
        for pair in "$c:$LAB_HOST_IF" "$r:$LAB_EXT_IF" "$r:$LAB_INT_IF" "$s:$LAB_HOST_IF" "$i:$LAB_HOST_IF"; do
            until ip -n "${pair%%:*}" -6 addr show dev "${pair#*:}" scope link 2>/dev/null |
                grep inet6 | grep -qv tentative; do
                (($(date +%s) < deadline)) || { echo "lab: no IPv6 link-local address on $pair" >&2; exit 1; }
                sleep 0.02
            done
        done
    fi
)

# lab_add_outside_addr ADDR...: answer ARP for ADDR on the router's outside interface (a /32
# alias on ext0), as IOS does for static NAT global addresses. Needed before DNAT rules for
# 172.22.1.110/.111 can receive anything.
lab_add_outside_addr() {
    local a
    for a in "$@"; do
        ip -n "$LAB_NS_ROUTER" addr add "$a/32" dev "$LAB_EXT_IF" || return 1
    done
}

# lab_static_nat [GLOBAL=LOCAL ...]: the seed's static NAT, default
# 172.22.1.110=10.10.10.2 172.22.1.111=10.10.10.5: the outside aliases plus iptables DNAT
# (outside -> global) and SNAT (local -> outside) rules in the router's nat table. Use only
# lab_add_outside_addr when the rules come from `smtp-inspect rules` instead.
lab_static_nat() {
    local pairs=("$@") p g l
    ((${#pairs[@]})) || pairs=("$LAB_SERVER_NAT_IP=$LAB_SERVER_IP" "$LAB_INSIDE_NAT_IP=$LAB_INSIDE_IP")
    for p in "${pairs[@]}"; do
        g=${p%%=*} l=${p#*=}
        lab_add_outside_addr "$g" || return 1
        lab_exec router iptables -t nat -A PREROUTING -i "$LAB_EXT_IF" -d "$g" -j DNAT --to-destination "$l" || return 1
        lab_exec router iptables -t nat -A POSTROUTING -o "$LAB_EXT_IF" -s "$l" -j SNAT --to-source "$g" || return 1
    done
}

# lab_nfqueue_smtp [QUEUE=0] [IPTABLES-NFQUEUE-OPTIONS...]: send forwarded TCP/25 in both
# directions through NFQUEUE QUEUE in the router's FORWARD chain, e.g.
#   lab_nfqueue_smtp 0 --queue-bypass      or      lab_nfqueue_smtp 0-1   (a range balances)
lab_nfqueue_smtp() {
    local q=${1:-0} qopt; shift || true
    if [[ "$q" == *-* ]]; then qopt=(--queue-balance "${q/-/:}"); else qopt=(--queue-num "$q"); fi
    lab_exec router iptables -A FORWARD -p tcp --dport 25 -j NFQUEUE "${qopt[@]}" "$@" &&
        lab_exec router iptables -A FORWARD -p tcp --sport 25 -j NFQUEUE "${qopt[@]}" "$@"
}

# lab_iptables_flush: empty the router's filter, nat and mangle tables (IPv4 and IPv6).
lab_iptables_flush() {
    local t
    for t in filter nat mangle; do
        lab_exec router iptables -t "$t" -F || return 1
        lab_exec router ip6tables -t "$t" -F 2>/dev/null || true
    done
}

# lab_nfq_stats [QUEUE]: the router's /proc/net/netfilter/nfnetlink_queue (one queue's line).
# Columns: queue portid waiting copy_mode copy_range queue_dropped user_dropped id_sequence 1
lab_nfq_stats() {
    if [[ -n "${1:-}" ]]; then
        lab_exec router cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null | awk -v q="$1" '$1 == q'
    else
        lab_exec router cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null
    fi
}

# lab_nfq_wait_bound QUEUE [TIMEOUT=10]: wait until a program has bound QUEUE in the router.
lab_nfq_wait_bound() {
    lab_wait_until "${2:-10}" _lab_nfq_bound "$1"
}
_lab_nfq_bound() { [[ -n "$(lab_nfq_stats "$1")" ]]; }

# lab_down: delete the namespaces (killing whatever still runs in them) and LAB_DIR.
lab_down() {
    local t0 ns p
    ((LAB_IS_UP)) || return 0
    t0=$(lab_now)
    for ns in "${LAB_NAMESPACES[@]}"; do
        lab_ns_exists "$ns" || continue
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || lab_err "could not delete namespace $ns" || true
    done
    if [[ -n "$LAB_DIR" && -d "$LAB_DIR" ]]; then rm -rf "$LAB_DIR"; fi
    LAB_DIR=""
    LAB_IS_UP=0
    lab_log "down in $(lab_since "$t0") s"
}

# lab_cleanup: everything, idempotent: hooks (last registered first), processes from lab_spawn,
# smtp-sink, Postfix (and the alternate_config_directories entry), namespaces, LAB_DIR.
# Keeps the caller's exit status.
lab_cleanup() {
    local rc=$? i pid
    set +e
    trap '' INT TERM    # a second Ctrl-C must not leave half a lab behind
    for ((i = ${#LAB_CLEANUP_HOOKS[@]} - 1; i >= 0; i--)); do
        eval "${LAB_CLEANUP_HOOKS[i]}"
    done
    LAB_CLEANUP_HOOKS=()
    for pid in "${LAB_PIDS[@]}"; do lab_kill "$pid" 3 >/dev/null 2>&1; done
    LAB_PIDS=()
    smtp_sink_stop
    postfix_down
    lab_down
    trap - INT TERM
    return $rc
}

# ---------------------------------------------------------------------------------------------
# Private Postfix in the server namespace (Tests/e2e/README.md "Postfix")

_lab_postfix_list_alternates() {
    postconf -c /etc/postfix -h alternate_config_directories 2>/dev/null | tr -s ', \t' '\n' | sed '/^$/d'
}

# Under the lock: set alternate_config_directories to the given list (or remove the parameter,
# or the whole main.cf when the lab created it, once the list is empty).
_lab_postfix_set_alternates() {
    if (($#)); then
        local IFS=' '
        postconf -c /etc/postfix -e "alternate_config_directories = $*"
        _lab_postfix_age /etc/postfix/main.cf
    elif [[ -f "$_LAB_POSTFIX_MARK" ]]; then
        case "$(cat "$_LAB_POSTFIX_MARK")" in
            created-main.cf) rm -f /etc/postfix/main.cf ;;
            added-parameter) postconf -c /etc/postfix -X alternate_config_directories ;;
        esac
        rm -f "$_LAB_POSTFIX_MARK"
    else
        postconf -c /etc/postfix -e "alternate_config_directories ="
        _lab_postfix_age /etc/postfix/main.cf
    fi
}

# Postfix does not trust a configuration file changed within the last second: it re-reads it
# until it is older (postconf and every daemon start waited 1.5-2 s per file). Backdate ours.
_lab_postfix_age() {
    local f
    for f in "$@"; do [[ -f "$f" ]] && touch -d '-2 seconds' "$f"; done
    return 0
}

# Register DIR in the default main.cf (creating a minimal one if there is none).
_lab_postfix_register() {
    local dir=$1
    (
        flock -w 30 9 || { echo "lab: cannot lock $_LAB_POSTFIX_LOCK" >&2; exit 1; }
        if [[ ! -f /etc/postfix/main.cf ]]; then
            cat >/etc/postfix/main.cf <<EOF
# Written by smtp-inspect's scripts/lib/lab.sh because there was no main.cf (Debian's postfix
# with "No configuration"). It only lists the lab's private instances; it is removed again when
# the last lab run stops. The system's own Postfix is not configured by it.
compatibility_level = 3.6
inet_interfaces = loopback-only
mydestination =
alternate_config_directories =
EOF
            echo created-main.cf >"$_LAB_POSTFIX_MARK"
        elif [[ ! -f "$_LAB_POSTFIX_MARK" ]] &&
            ! grep -qE '^[[:space:]]*alternate_config_directories[[:space:]]*=' /etc/postfix/main.cf; then
            echo added-parameter >"$_LAB_POSTFIX_MARK"
        fi
        _lab_postfix_age /etc/postfix/main.cf
        mapfile -t cur < <(_lab_postfix_list_alternates)
        _lab_postfix_set_alternates "${cur[@]}" "$dir"
    ) 9>"$_LAB_POSTFIX_LOCK"
}

# Remove DIR (and the entries of lab runs whose directory is gone) from the default main.cf.
_lab_postfix_unregister() {
    local dir=${1:-}
    [[ -f /etc/postfix/main.cf ]] || return 0
    (
        flock -w 30 9 || exit 1
        mapfile -t cur < <(_lab_postfix_list_alternates)
        keep=()
        for d in "${cur[@]}"; do
            [[ "$d" == "$dir" ]] && continue
            # a lab run's directory that no longer exists: a run that died without cleanup
            [[ "$d" =~ ^/tmp/si[0-9]+-lab\.[A-Za-z0-9]+/postfix/etc$ && ! -d "$d" ]] && continue
            keep+=("$d")
        done
        ((${#keep[@]} == ${#cur[@]})) && [[ -z "$dir" ]] && exit 0
        _lab_postfix_set_alternates "${keep[@]}"
    ) 9>"$_LAB_POSTFIX_LOCK"
}
_lab_postfix_gc_alternates() { _lab_postfix_unregister ""; }

# postfix_up [PARAM=VALUE ...]: start a private Postfix in the server namespace, listening on
# $LAB_SERVER_IP:25, accepting mail for any domain into the Maildir $POSTFIX_MAILDIR. Extra
# main.cf settings can be given as arguments (they override the defaults below).
postfix_up() {
    local t0 d etc
    t0=$(lab_now)
    ((LAB_IS_UP)) || { lab_err "postfix_up: lab is not up"; return 1; }
    ((POSTFIX_IS_UP == 0)) || { lab_err "postfix_up: already up"; return 1; }
    _lab_require postfix postconf || return 1
    d=$LAB_DIR/postfix etc=$LAB_DIR/postfix/etc
    POSTFIX_DIR=$d POSTFIX_MAILDIR=$d/mailbox/mbox POSTFIX_MAILLOG=$d/maillog
    mkdir -p "$etc" "$d/spool" "$d/data" "$d/mailbox"
    chmod 0755 "$d"
    chown postfix:postfix "$d/data"
    chown nobody:nogroup "$d/mailbox"
    touch "$POSTFIX_MAILLOG"     # kept across a postfix_down/postfix_up
    cp /etc/postfix/master.cf "$etc/master.cf"
    # postlogd writes maillog_file; no chroot: the spool holds no copies of /etc files here.
    sed -i -E 's/^#(postlog[[:space:]])/\1/' "$etc/master.cf"
    local listen=$LAB_SERVER_IP proto=ipv4
    if ((POSTFIX_IPV6)); then listen="$LAB_SERVER_IP, [$LAB_SERVER_IP6]" proto=all; fi
    cat >"$etc/main.cf" <<EOF
# Private Postfix instance of smtp-inspect's lab (scripts/lib/lab.sh), run $LAB_PREFIX
compatibility_level = 3.6
queue_directory = $d/spool
data_directory = $d/data
inet_interfaces = $listen
inet_protocols = $proto
myhostname = mail.lab.test
mydomain = lab.test
myorigin = \$myhostname
mydestination =
mynetworks = 0.0.0.0/0, [::]/0
relay_domains =
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_banner = \$myhostname ESMTP Postfix
biff = no
append_dot_mydomain = no
readme_directory = no
alias_maps =
alias_database =
local_recipient_maps =

# Any domain, any recipient: one Maildir owned by nobody.
virtual_mailbox_domains = static:all
virtual_mailbox_base = $d/mailbox
virtual_mailbox_maps = static:mbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_mailbox_limit = 0
message_size_limit = 104857600

# Logging to a file through postlogd.
maillog_file = $POSTFIX_MAILLOG
maillog_file_prefixes = /var, /dev/stdout, $d

# No DNS: nothing may leave the lab, and nothing is there to answer.
smtpd_peername_lookup = no
disable_dns_lookups = yes
smtp_dns_support_level = disabled
smtp_host_lookup = native

# Load tests: no rate or concurrency limits, no tarpitting, no sleeping on errors.
default_process_limit = 200
smtpd_client_connection_rate_limit = 0
smtpd_client_connection_count_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_recipient_rate_limit = 0
smtpd_client_new_tls_session_rate_limit = 0
smtpd_client_auth_rate_limit = 0
in_flow_delay = 0s
smtpd_error_sleep_time = 0s
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 100
smtpd_junk_command_limit = 1000
smtpd_timeout = 60s
virtual_destination_concurrency_limit = 50
EOF
    if (($#)); then postconf -c "$etc" -e "$@" || { lab_err "postfix_up: bad parameter in: $*"; return 1; }; fi
    postconf -c "$etc" -eF '*/*/chroot = n' || return 1
    _lab_postfix_age "$etc/main.cf" "$etc/master.cf"

    _lab_postfix_register "$etc" || { lab_err "postfix_up: could not register $etc in /etc/postfix/main.cf"; return 1; }
    POSTFIX_IS_UP=1     # from here on postfix_down must undo things

    # Postfix prints startup errors only to a terminal (or to a maillog that postlogd, not yet
    # running, would write): give it one with script(1) so that a failure can be shown.
    local out=$d/postfix-start.out
    if ! lab_exec server script -qec "postfix -c '$etc' start" /dev/null >"$out" 2>&1 </dev/null; then
        lab_err "postfix start failed:"
        sed 's/^/  | /' "$out" >&2
        postfix_log 40 | sed 's/^/  maillog | /' >&2
        return 1
    fi
    if ! lab_wait_listen server "$LAB_SERVER_IP" 25 20; then
        lab_err "Postfix does not listen on $LAB_SERVER_IP:25 after 20 s"
        sed 's/^/  | /' "$out" >&2
        postfix_log 40 | sed 's/^/  maillog | /' >&2
        return 1
    fi
    lab_log "postfix up in $(lab_since "$t0") s: $LAB_SERVER_IP:25, maildir $POSTFIX_MAILDIR, log $POSTFIX_MAILLOG"
}

# postfix_down: stop the instance (stop, then abort, then kill what is left) and unregister it.
postfix_down() {
    ((POSTFIX_IS_UP)) || return 0
    local t0; t0=$(lab_now)
    local etc=$POSTFIX_DIR/etc pidf=$POSTFIX_DIR/spool/pid/master.pid mpid=""
    [[ -f "$pidf" ]] && mpid=$(tr -d ' \n' <"$pidf")
    if lab_ns_exists "$LAB_NS_SERVER"; then
        lab_exec server postfix -c "$etc" stop >/dev/null 2>&1 || true
        if [[ -n "$mpid" ]] && ! lab_wait_until 10 _lab_gone "$mpid"; then
            lab_exec server postfix -c "$etc" abort >/dev/null 2>&1 || true
            lab_wait_until 5 _lab_gone "$mpid" || kill -KILL "$mpid" 2>/dev/null || true
        fi
    elif [[ -n "$mpid" ]]; then
        kill -KILL "$mpid" 2>/dev/null || true
    fi
    # Postfix children that outlived master (none normally): by PID, in our namespace only.
    local p
    for p in $(ip netns pids "$LAB_NS_SERVER" 2>/dev/null); do
        [[ "$(readlink "/proc/$p/exe" 2>/dev/null)" == /usr/lib/postfix/* ]] && kill -KILL "$p" 2>/dev/null
    done
    _lab_postfix_unregister "$etc"
    POSTFIX_IS_UP=0
    lab_log "postfix down in $(lab_since "$t0") s"
}
_lab_gone() { ! kill -0 "$1" 2>/dev/null; }

# postfix_log [N]: the instance's maillog (the last N lines).
postfix_log() {
    [[ -n "$POSTFIX_MAILLOG" && -f "$POSTFIX_MAILLOG" ]] || return 0
    if [[ -n "${1:-}" ]]; then tail -n "$1" "$POSTFIX_MAILLOG"; else cat "$POSTFIX_MAILLOG"; fi
}

# maillog_mark: a mark in the maillog (its size); maillog_since MARK: what was logged after it.
maillog_mark() { stat -c %s "$POSTFIX_MAILLOG"; }
maillog_since() { tail -c +$(($1 + 1)) "$POSTFIX_MAILLOG"; }

# postfix_commands_since MARK ADDR: the SMTP commands Postfix received from ADDR after MARK, one a
# line, as it read them (it logs them for the addresses of postfix_up's "debug_peer_list = ADDR").
postfix_commands_since() { maillog_since "$1" | sed -n "s/.*: < unknown\[$2\]: //p"; }

# postfix_queue: what Postfix still has queued (postqueue -p).
postfix_queue() { lab_exec server postqueue -c "$POSTFIX_DIR/etc" -p; }

# mailbox_files: delivered messages, oldest first (full paths).
mailbox_files() {
    [[ -n "$POSTFIX_MAILDIR" ]] || return 0
    [[ -d "$POSTFIX_MAILDIR" ]] || return 0
    find "$POSTFIX_MAILDIR/new" "$POSTFIX_MAILDIR/cur" -type f -printf '%T@ %p\n' 2>/dev/null |
        sort -n | cut -d' ' -f2-
}

# mailbox_count: the number of delivered messages.
mailbox_count() {
    local n=0 f
    [[ -n "$POSTFIX_MAILDIR" ]] || { echo 0; return 0; }
    for f in "$POSTFIX_MAILDIR"/new/* "$POSTFIX_MAILDIR"/cur/*; do [[ -f "$f" ]] && n=$((n + 1)); done
    echo "$n"
}

# mailbox_wait N [TIMEOUT=30]: wait until at least N messages are delivered. On timeout prints
# the count, the queue and the end of the maillog, and returns 1.
mailbox_wait() {
    local want=$1 timeout=${2:-30} deadline n
    deadline=$(($(date +%s) + timeout))
    while :; do
        n=$(mailbox_count)
        ((n >= want)) && return 0
        if (($(date +%s) >= deadline)); then
            lab_err "mailbox_wait: $n of $want messages after ${timeout}s"
            postfix_queue 2>&1 | tail -n 5 | sed 's/^/  queue | /' >&2
            postfix_log 20 | sed 's/^/  maillog | /' >&2
            return 1
        fi
        sleep 0.1
    done
}

# mailbox_clear: delete delivered messages.
mailbox_clear() {
    [[ -n "$POSTFIX_MAILDIR" ]] || return 0
    rm -f "$POSTFIX_MAILDIR"/new/* "$POSTFIX_MAILDIR"/cur/*
}

# mail_body FILE: the body of a delivered message (everything after the first empty line).
mail_body() { awk 'body { print; next } /^$/ { body = 1 }' "$1"; }

# ---------------------------------------------------------------------------------------------
# Packet captures

# lab_capture_start NS IFACE FILE [FILTER...]: tcpdump -U --immediate-mode -w FILE on IFACE in NS (full
# packets), returning once it captures. Sets LAB_LAST_PID; stop it with lab_capture_stop PID
# (or let lab_cleanup do it). E.g. lab_capture_start router ext0 "$LAB_DIR/ext.pcap" tcp port 25
lab_capture_start() {
    local ns=$1 ifc=$2 file=$3 log; shift 3
    log=$file.tcpdump.log
    lab_spawn "$ns" "$log" tcpdump -n -U --immediate-mode -s 0 -i "$ifc" -w "$file" "$@"
    if ! lab_wait_until 10 grep -q "listening on" "$log"; then
        lab_err "tcpdump on $ns/$ifc did not start"; sed 's/^/  | /' "$log" >&2; return 1
    fi
}

# lab_capture_stop PID: stop a capture and let it write its last packets.
lab_capture_stop() { lab_kill "$1" 5 INT || true; }

# ---------------------------------------------------------------------------------------------
# smtp-sink (Postfix's fast test server) for the benchmark

# smtp_sink_start [ADDR:PORT=$LAB_SERVER_IP:25] [BACKLOG=256] [SMTP-SINK-OPTIONS...]: start
# smtp-sink in the server namespace (as nobody), log in $LAB_DIR/smtp-sink.log.
# Stop Postfix first when both would use port 25.
smtp_sink_start() {
    local where=${1:-$LAB_SERVER_IP:25} backlog=${2:-256} sink
    shift 2 2>/dev/null || shift $#
    ((LAB_IS_UP)) || { lab_err "smtp_sink_start: lab is not up"; return 1; }
    [[ -z "$SMTP_SINK_PID" ]] || { lab_err "smtp_sink_start: already running"; return 1; }
    sink=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
    SMTP_SINK_LOG=$LAB_DIR/smtp-sink.log
    lab_spawn server "$SMTP_SINK_LOG" "$sink" -u nobody "$@" "$where" "$backlog"
    SMTP_SINK_PID=$LAB_LAST_PID
    if ! lab_wait_listen server "${where%:*}" "${where##*:}" 10; then
        lab_err "smtp-sink does not listen on $where"
        sed 's/^/  | /' "$SMTP_SINK_LOG" >&2
        return 1
    fi
}

smtp_sink_stop() {
    [[ -n "$SMTP_SINK_PID" ]] || return 0
    lab_kill "$SMTP_SINK_PID" 3 >/dev/null 2>&1 || true
    SMTP_SINK_PID=""
}

# smtp_source: path of Postfix's smtp-source.
smtp_source() {
    command -v smtp-source 2>/dev/null || { [[ -x /usr/sbin/smtp-source ]] && echo /usr/sbin/smtp-source; } ||
        { [[ -x /usr/lib/postfix/smtp-source ]] && echo /usr/lib/postfix/smtp-source; }
}

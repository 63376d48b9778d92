#!/usr/bin/env bash
# scripts/setup-iptables.sh: load the iptables and ip6tables rule sets `smtp-inspect rules` makes
# from an IOS configuration, as one, and take them out again, leaving every other rule alone. As
# root, on the router (or inside a network namespace with `ip netns exec NS scripts/setup-iptables.sh …`):
#
#   scripts/setup-iptables.sh apply  --config FILE --interface IOSNAME=LINUXNAME ... \
#                                    [--queue N | --queues A-B] [--queue-bypass] [--binary PATH]
#   scripts/setup-iptables.sh status [--config FILE --interface ... (to compare with)]
#   scripts/setup-iptables.sh remove
#
# apply   runs `smtp-inspect rules --family ipv4` and `--family ipv6` with the options given,
#         performs their `# SETUP` lines (sysctl, modprobe, `ip addr add` of the static NAT global
#         addresses that are not there yet, `nfct add timeout` of the conntrack timeout policies
#         the rules name) and loads the rules with `iptables-restore --noflush`, then
#         `ip6tables-restore --noflush`. Applying again replaces the earlier set in the same
#         restore transaction per table (no moment without rules), so apply twice leaves exactly
#         the same rules. One transaction from the operator's point of view: both families are
#         tested first (`--test`), and if loading the IPv6 half fails, the IPv4 tables are put
#         back as they were before (iptables-save -c taken at the start) and what apply changed
#         besides is undone. On a kernel without IPv6 (no /proc/net/if_inet6) only IPv4 is loaded.
# remove  deletes the jumps commented "smtp-inspect" from the built-in chains, every SI-* chain,
#         of both families, the addresses and timeout policies apply added, puts back the sysctls
#         it changed and deletes the tables it created, so that iptables-save and ip6tables-save
#         show what they showed before apply (counters aside).
# status  shows what is installed, what apply changed besides, and whether smtp-inspect is bound
#         to the queue; with --config (and the same options as apply) whether it is up to date.
#
# What apply changed (for both families) is kept in the kernel with the rules, as the comments of
# an SI-STATE chain in the IPv4 filter table that nothing jumps to, so that it lives and dies with
# the network namespace.
#
# The binary: --binary PATH, else $SMTP_INSPECT_BIN, else smtp-inspect on PATH, else this
# checkout's .build/release or .build/debug.
#
# Exit status: 0 done; 1 failed (the message says what, where and how to fix it); 2 smtp-inspect
# refused the configuration or options; 3 status: not installed; 4 status: installed, but not what
# --config and the options would load now; 64 usage.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG=setup-iptables
STATE_CHAIN=SI-STATE
STATE_NOTE="what setup-iptables.sh apply changed besides these rules; remove undoes it (never jumped to)"
LOCK=/run/lock/smtp-inspect-setup-iptables.lock
# The two families: v4 (iptables, the SI-STATE record) and v6 (ip6tables: IOS NAT is IPv4 only).
declare -A SAVE=([v4]=iptables-save [v6]=ip6tables-save)
declare -A RESTORE=([v4]=iptables-restore [v6]=ip6tables-restore)
declare -A TABLES_OF=([v4]="raw mangle nat filter" [v6]="raw mangle filter")
declare -A FAMILY_NAME=([v4]=IPv4 [v6]=IPv6)
declare -A RULES_FAMILY=([v4]=ipv4 [v6]=ipv6)

usage() {
    cat <<EOF
usage: $0 apply  --config FILE --interface IOSNAME=LINUXNAME|auto ... [--queue N | --queues A-B]
                          [--queue-bypass] [--binary PATH]
       $0 status [--config FILE --interface ... [--binary PATH]]
       $0 remove
EOF
}

# die MESSAGE [HINT...]: the error, indented hints, exit $EXIT_STATUS (default 1).
die() {
    printf '%s: error: %s\n' "$PROG" "$1" >&2
    shift
    local hint
    for hint in "$@"; do printf '    %s\n' "$hint" >&2; done
    exit "${EXIT_STATUS:-1}"
}
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
say()  { printf '%s: %s\n' "$PROG" "$*"; }
usage_error() { printf '%s: %s\n' "$PROG" "$1" >&2; usage >&2; exit 64; }

# ---------------------------------------------------------------------------------------------
# Arguments

ACTION=${1:-}
case "$ACTION" in
    apply|remove|status) shift ;;
    -h|--help) sed -n '2,38p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    "") usage_error "no action given: apply, remove or status" ;;
    *) usage_error "unknown action '$ACTION': expected apply, remove or status" ;;
esac

CONFIG=""
BINARY=""
RULE_ARGS=()            # passed to `smtp-inspect rules` as given
while (($#)); do
    case "$1" in
        --config|--interface|--queue|--queues|--binary)
            (($# >= 2)) || usage_error "$1 needs a value"
            case "$1" in
                --config) CONFIG=$2 ;;
                --binary) BINARY=$2 ;;
                *) RULE_ARGS+=("$1" "$2") ;;
            esac
            shift 2 ;;
        --config=*) CONFIG=${1#*=}; shift ;;
        --binary=*) BINARY=${1#*=}; shift ;;
        --interface=*|--queue=*|--queues=*) RULE_ARGS+=("$1"); shift ;;
        --queue-bypass) RULE_ARGS+=("$1"); shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
if [[ "$ACTION" == apply && -z "$CONFIG" ]]; then
    usage_error "apply needs --config FILE (the router's show running-config)"
fi
if [[ "$ACTION" == remove && (-n "$CONFIG" || ${#RULE_ARGS[@]} -gt 0) ]]; then
    warn "remove takes no --config or rule options: it removes what apply recorded (ignoring them)"
fi

((EUID == 0)) || die "$ACTION needs root (to read and change iptables, addresses and sysctls)" \
    "run it with sudo, or as root inside the namespace: ip netns exec NS $0 $ACTION ..."
for tool in iptables-save iptables-restore ip sysctl flock sha256sum awk; do
    command -v "$tool" >/dev/null ||
        die "$tool not found" "install it (Debian: apt-get install iptables iproute2 procps util-linux coreutils gawk)"
done
# IPv6: wherever the kernel has it, its SMTP must not pass around the inspector, so ip6tables is
# required then; a kernel without IPv6 (booted with ipv6.disable=1) has nothing to protect.
FAMILIES=(v4)
if [[ -e /proc/net/if_inet6 ]]; then
    for tool in ip6tables-save ip6tables-restore; do
        command -v "$tool" >/dev/null || die "$tool not found, and this kernel has IPv6" \
            "without ip6tables, IPv6 SMTP would reach the server uninspected; install it (Debian: apt-get install iptables)"
    done
    FAMILIES+=(v6)
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/setup-iptables.XXXXXX")
APPLIED=1               # 0 while apply has changed things it must undo if it stops half-way
UNDO=()                 # what this run did, undone (last first) when apply fails
on_exit() {
    local rc=$? i
    if ((APPLIED == 0 && ${#UNDO[@]})); then
        warn "apply did not complete: undoing what this run changed"
        for ((i = ${#UNDO[@]} - 1; i >= 0; i--)); do eval "${UNDO[i]}" || true; done
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One run at a time (per host: the lock is not per namespace, and runs are short).
[[ -d "${LOCK%/*}" && -w "${LOCK%/*}" ]] || LOCK=${TMPDIR:-/tmp}/smtp-inspect-setup-iptables.lock
exec 9>"$LOCK"
flock -w 60 9 || die "another setup-iptables.sh has held $LOCK for 60 s" "wait for it to finish, then try again"

# ---------------------------------------------------------------------------------------------
# The binary and the rules

find_binary() {
    local candidate
    if [[ -n "$BINARY" ]]; then
        [[ -x "$BINARY" && ! -d "$BINARY" ]] || die "--binary $BINARY is not an executable file"
        return
    fi
    if [[ -n "${SMTP_INSPECT_BIN:-}" ]]; then
        [[ -x "$SMTP_INSPECT_BIN" ]] || die "SMTP_INSPECT_BIN=$SMTP_INSPECT_BIN is not executable"
        BINARY=$SMTP_INSPECT_BIN
        return
    fi
    if candidate=$(command -v smtp-inspect); then BINARY=$candidate; return; fi
    for candidate in "$ROOT/.build/release/smtp-inspect" "$ROOT/.build/debug/smtp-inspect"; do
        if [[ -x "$candidate" ]]; then BINARY=$candidate; return; fi
    done
    die "smtp-inspect not found (not on PATH, no --binary, no SMTP_INSPECT_BIN, not built in $ROOT/.build)" \
        "build it: (cd $ROOT && swift build -c release --product smtp-inspect), or give --binary PATH"
}

# generate_rules: `smtp-inspect rules --family …` with our options into $TMP/rules.v4 and
# $TMP/rules.v6 (RULES[f]); its messages go to stderr. Nothing is changed before both exist.
declare -A RULES=()
generate_rules() {
    local rc f
    find_binary
    [[ -r "$CONFIG" ]] || die "cannot read --config $CONFIG" "give the path of the router's saved show running-config"
    for f in "${FAMILIES[@]}"; do
        RULES[$f]=$TMP/rules.$f
        rc=0
        # The warnings are the same for both families: the first run's are shown.
        "$BINARY" rules --config "$CONFIG" "${RULE_ARGS[@]}" --family "${RULES_FAMILY[$f]}" >"${RULES[$f]}" \
            2>"$TMP/rules.$f.err" || rc=$?
        if [[ "$f" == v4 ]] || ((rc != 0)); then cat "$TMP/rules.$f.err" >&2; fi
        if ((rc != 0)); then
            EXIT_STATUS=2
            ((rc == 64)) && EXIT_STATUS=64
            die "smtp-inspect rules --family ${RULES_FAMILY[$f]} refused the configuration or the options (messages above); nothing was changed"
        fi
    done
}

# ---------------------------------------------------------------------------------------------
# What is installed now: iptables-save and ip6tables-save read into a few lists, keyed by
# "FAMILY:TABLE" (v4:raw, v6:mangle, ...).

TABLES_NOW=()           # FAMILY:TABLE that the save lists
declare -A SI_CHAINS=() # FAMILY:TABLE -> SI- chains (space-separated)
declare -A JUMPS=()     # FAMILY:TABLE -> our jumps as the save prints them (newline-separated)
declare -A EMPTY=()     # FAMILY:TABLE -> 1 when it holds nothing but empty built-in chains with ACCEPT
FOREIGN=""              # rules outside SI- chains, not commented smtp-inspect, that go to SI- chains
STATE=()                # SI-STATE entries: "address DEV ADDR/32", "sysctl NAME=OLD", "table NAME", "table6 NAME", ...
declare -A SNAPSHOT=()  # FAMILY -> the save file (with counters: what a rollback restores)

read_installed() {
    local kind table rest f
    TABLES_NOW=() SI_CHAINS=() JUMPS=() EMPTY=() FOREIGN="" STATE=()
    for f in "${FAMILIES[@]}"; do
        SNAPSHOT[$f]=$TMP/save.$f
        "${SAVE[$f]}" -c >"${SNAPSHOT[$f]}" 2>"$TMP/save.err" ||
            die "${SAVE[$f]} failed: $(cat "$TMP/save.err")" "is iptables installed and is this kernel's netfilter usable?"
        while IFS=$'\t' read -r kind table rest; do
            case "$kind" in
                table)   TABLES_NOW+=("$f:$table"); EMPTY[$f:$table]=1 ;;
                chain)   SI_CHAINS[$f:$table]+="${SI_CHAINS[$f:$table]:+ }$rest" ;;
                jump)    JUMPS[$f:$table]+="$rest"$'\n' ;;
                foreign) FOREIGN+="  ${FAMILY_NAME[$f]} $table: $rest"$'\n' ;;
                state)   if [[ "$f" == v4 ]]; then STATE+=("$rest"); fi ;;
                busy)    EMPTY[$f:$table]=0 ;;
            esac
        done < <(awk -v state="$STATE_CHAIN" '
            /^\*/ { table = substr($0, 2); print "table\t" table; next }
            /^:/ {
                name = substr($1, 2)
                if (name ~ /^SI-/) print "chain\t" table "\t" name
                else if ($2 != "ACCEPT") print "busy\t" table      # a user chain or a DROP policy
                next
            }
            /^\[[0-9]+:[0-9]+\] -A / { sub(/^\[[0-9]+:[0-9]+\] /, "") }
            /^-A / {
                chain = $2
                if (chain ~ /^SI-/) {
                    if (table == "filter" && chain == state && match($0, /--comment ("[^"]*"|[^ ]+)/)) {
                        text = substr($0, RSTART + 10, RLENGTH - 10)
                        gsub(/^"|"$/, "", text)
                        print "state\t" table "\t" text
                    }
                    next
                }
                print "busy\t" table
                if ($0 ~ / -[jg] SI-[^ ]+( |$)/) {
                    if ($0 ~ / --comment "?smtp-inspect"?( |$)/) print "jump\t" table "\t" $0
                    else print "foreign\t" table "\t" $0
                }
            }' "${SNAPSHOT[$f]}")
    done
}

installed() { local t; for t in "${!SI_CHAINS[@]}" "${!JUMPS[@]}"; do return 0; done; return 1; }

has_table() { local t; for t in "${TABLES_NOW[@]}"; do [[ "$t" == "$1" ]] && return 0; done; return 1; }

# state_get PREFIX: the state entries starting with PREFIX.
state_get() { local e; for e in "${STATE[@]}"; do [[ "$e" == "$1"* ]] && printf '%s\n' "$e"; done; return 0; }

# The state entry of a table apply created: "table raw" (IPv4, as before IPv6 was added), "table6 raw".
table_entry() { if [[ "$1" == v4 ]]; then echo "table $2"; else echo "table6 $2"; fi; }

refuse_foreign() {
    [[ -z "$FOREIGN" ]] && return 0
    die "rules that are not smtp-inspect's jump into its SI- chains:"$'\n'"${FOREIGN%$'\n'}" \
        "setup-iptables.sh only removes the jumps it adds (commented \"smtp-inspect\"); delete these" \
        "rules first (iptables|ip6tables -t TABLE -D ...), then run $ACTION again. Nothing was changed."
}

# ---------------------------------------------------------------------------------------------
# SETUP lines: sysctl, module, address, timeout (IPv4 policies), timeout6 (IPv6 policies)

SYSCTLS=()              # NAME=VALUE
MODULES=()
ADDRESSES=()            # DEV ADDR/32
TIMEOUTS=()             # NAME L3 POLICY... (nfct add timeout NAME L3 POLICY...; L3 inet or inet6)
read_setup() {
    local word a b
    while read -r _ _ word a b; do
        case "$word" in
            sysctl)   SYSCTLS+=("$a") ;;
            module)   [[ " ${MODULES[*]} " == *" $a "* ]] || MODULES+=("$a") ;;
            address)  ADDRESSES+=("$a $b") ;;
            timeout)  TIMEOUTS+=("$a inet $b") ;;
            timeout6) TIMEOUTS+=("$a inet6 $b") ;;
            *) die "smtp-inspect rules printed a SETUP line this script does not know: SETUP $word $a $b" \
                   "use the setup-iptables.sh of the same checkout as the binary ($BINARY)" ;;
        esac
    done < <(grep -E '^# SETUP [a-z0-9]+ ' "$1")    # not the header's "# SETUP lines, …"
}

# address_present DEV ADDR: ADDR (any prefix length) is on DEV.
address_present() {
    # No `grep -q` at the end of a pipe: under pipefail, its early exit can fail the writer.
    ip -4 -o addr show dev "$1" 2>/dev/null |
        awk -v a="$2" '{ split($4, p, "/"); if (p[1] == a) found = 1 } END { exit !found }'
}

# timeout_present NAME: conntrack has a timeout policy of that name (nfct; none without it).
timeout_present() {
    command -v nfct >/dev/null || return 1
    nfct list timeout 2>/dev/null | awk -v n=".$1" '$1 == n { found = 1 } END { exit !found }'
}

load_module() {
    local name=$1 out
    [[ -d "/sys/module/$name" ]] && return 0          # loaded, or built in with parameters
    [[ -e /proc/modules ]] || return 0                # no loadable modules: everything is built in
    if ! out=$(modprobe "$name" 2>&1); then
        warn "could not load kernel module $name (${out:-modprobe failed}); unless it is built into the" \
            "kernel, the ftp inspection it serves will not work (Debian: it ships with the kernel image)"
    fi
}

# ---------------------------------------------------------------------------------------------
# apply

# The state after this apply: entries kept from an earlier apply plus what this one changes.
NEW_STATE=()
TO_ADD=()               # DEV ADDR/32 to add now
TO_SET=()               # NAME=VALUE to set now
TO_TIME=()              # NAME L3 POLICY... timeout policies to create now
STALE=()                # state entries of an earlier apply that this one no longer needs (undo after)
plan_setup() {
    local entry name value current dev addr old t f l3 policy
    for entry in "${SYSCTLS[@]}"; do
        name=${entry%%=*} value=${entry#*=}
        current=$(sysctl -n "$name" 2>/dev/null) || die "sysctl $name does not exist here" \
            "smtp-inspect rules asked for $name=$value; is this a router kernel with that family?"
        old=$(state_get "sysctl $name=")
        if [[ -n "$old" ]]; then NEW_STATE+=("$old")
        elif [[ "$current" != "$value" ]]; then NEW_STATE+=("sysctl $name=$current")
        fi
        [[ "$current" == "$value" ]] || TO_SET+=("$entry")
    done
    for entry in "${ADDRESSES[@]}"; do
        read -r dev addr <<<"$entry"
        ip link show dev "$dev" >/dev/null 2>&1 ||
            die "interface $dev does not exist here (needed for the static NAT address $addr)" \
                "check --interface ...=$dev against \`ip link\` (in this network namespace)"
        if [[ -n "$(state_get "address $dev $addr")" ]]; then
            NEW_STATE+=("address $dev $addr")
            address_present "$dev" "${addr%/*}" || TO_ADD+=("$dev $addr")
        elif ! address_present "$dev" "${addr%/*}"; then
            NEW_STATE+=("address $dev $addr")
            TO_ADD+=("$dev $addr")
        fi
    done
    if ((${#TIMEOUTS[@]})); then
        command -v nfct >/dev/null || die "nfct not found: the rules name conntrack timeout policies (an inspected protocol's \`timeout\`)" \
            "install it (Debian: apt-get install nfct)"
    fi
    for entry in "${TIMEOUTS[@]}"; do
        read -r name l3 policy <<<"$entry"
        if [[ -n "$(state_get "timeout $name")" ]]; then
            NEW_STATE+=("timeout $name")
            timeout_present "$name" || TO_TIME+=("$entry")
        elif ! timeout_present "$name"; then
            NEW_STATE+=("timeout $name")
            TO_TIME+=("$entry")
        fi
    done
    for f in "${FAMILIES[@]}"; do
        for t in ${TABLES_OF[$f]}; do
            if [[ -n "$(state_get "$(table_entry "$f" "$t")")" ]] || ! has_table "$f:$t"; then
                NEW_STATE+=("$(table_entry "$f" "$t")")
            fi
        done
    done
    local kept
    for entry in "${STATE[@]}"; do
        case "$entry" in
            "sysctl "*|"address "*|"timeout "*)
                kept=0
                for t in "${NEW_STATE[@]}"; do [[ "$t" == "$entry" ]] && kept=1; done
                ((kept)) || STALE+=("$entry") ;;
        esac
    done
    NEW_STATE+=("rules sha256 $(sha256sum <"${RULES[v4]}" | cut -d' ' -f1)")
    if [[ -n "${RULES[v6]:-}" ]]; then NEW_STATE+=("rules6 sha256 $(sha256sum <"${RULES[v6]}" | cut -d' ' -f1)"); fi
    NEW_STATE+=("config ${CONFIG:0:240}")
}

# build_restore FAMILY OUT: the family's generated rules with, per table, what replaces an
# earlier set in the same transaction: its jumps deleted, its chains that are not declared again
# flushed and deleted (chains declared again are flushed by the restore), and, for IPv4, SI-STATE
# in filter.
build_restore() {
    local f=$1 out=$2 rules=${RULES[$1]} t chain line declared
    for t in ${TABLES_OF[$f]}; do
        declared=" $(awk -v t="$t" '/^\*/ { in_t = ($0 == "*" t) } in_t && /^:SI-/ { print substr($1, 2) }' "$rules" | tr '\n' ' ')"
        {
            while IFS= read -r line; do
                [[ -n "$line" ]] && printf -- '-D%s\n' "${line#-A}"
            done <<<"${JUMPS[$f:$t]:-}"
            for chain in ${SI_CHAINS[$f:$t]:-}; do
                [[ "$declared" == *" $chain "* || ("$f:$t" == v4:filter && "$chain" == "$STATE_CHAIN") ]] || echo "-F $chain"
            done
            for chain in ${SI_CHAINS[$f:$t]:-}; do
                [[ "$declared" == *" $chain "* || ("$f:$t" == v4:filter && "$chain" == "$STATE_CHAIN") ]] || echo "-X $chain"
            done
            if [[ "$f:$t" == v4:filter ]]; then
                printf -- '-A %s -m comment --comment "%s" -j RETURN\n' "$STATE_CHAIN" "$STATE_NOTE"
                for line in "${NEW_STATE[@]}"; do
                    line=${line//\"/\'}
                    printf -- '-A %s -m comment --comment "%s" -j RETURN\n' "$STATE_CHAIN" "${line//\\/\'}"
                done
            fi
        } >"$TMP/prelude.$f.$t"
    done
    # Declarations stay first; the prelude goes before the table's first rule (or its COMMIT).
    awk -v dir="$TMP" -v state="$STATE_CHAIN" -v fam="$f" -v tables="${TABLES_OF[$f]}" '
        function prelude(   line, file) {
            file = dir "/prelude." fam "." table
            while ((getline line < file) > 0) print line
            close(file)
            pending = 0
        }
        /^\*/ {
            table = substr($0, 2); print; pending = 1; seen[table] = 1
            if (table == "filter" && fam == "v4") print ":" state " - [0:0]"
            next
        }
        pending && (/^-/ || /^COMMIT/) { prelude() }
        { print }
        END {
            n = split(tables, all, " ")
            for (i = 1; i <= n; i++) {
                table = all[i]
                if (seen[table]) continue
                print "*" table
                if (table == "filter" && fam == "v4") print ":" state " - [0:0]"
                prelude()
                print "COMMIT"
            }
        }' "$rules" >"$TMP/ordered.$f"
    # filter first: for IPv4 it holds SI-STATE, so that if a later table fails to commit (legacy
    # iptables commits table by table) the record of what this apply created is there for remove.
    awk -v dir="$TMP" -v fam="$f" '/^\*/ { file = dir "/section." fam "." substr($0, 2) } file { print > file }' "$TMP/ordered.$f"
    for t in filter ${TABLES_OF[$f]/filter/}; do cat "$TMP/section.$f.$t"; done >"$out"
}

# rollback FAMILY: the family's tables as the snapshot of the start of this run had them, rules
# and counters (restore without --noflush replaces each table it names); a table the snapshot
# lacks is deleted (an empty section). Used when a later step of apply fails.
rollback() {
    local f=$1 t out
    for t in ${TABLES_OF[$f]}; do
        if has_table "$f:$t"; then
            awk -v t="$t" '/^\*/ { in_t = ($0 == "*" t) } in_t { print } in_t && /^COMMIT/ { in_t = 0 }' "${SNAPSHOT[$f]}"
        else
            printf '*%s\nCOMMIT\n' "$t"
        fi
    done >"$TMP/rollback.$f"
    if out=$("${RESTORE[$f]}" -c <"$TMP/rollback.$f" 2>&1); then
        warn "${FAMILY_NAME[$f]} tables put back as they were before this apply"
    else
        warn "could not put the ${FAMILY_NAME[$f]} tables back ($out); see \`$0 status\`, then apply again or remove"
    fi
}

do_apply() {
    local entry dev addr name value out f loaded=() l3 policy
    generate_rules
    read_installed
    refuse_foreign
    for f in "${FAMILIES[@]}"; do read_setup "${RULES[$f]}"; done
    # Modules first (never unloaded: harmless): a module's sysctls exist only once it is loaded.
    for name in "${MODULES[@]}"; do load_module "$name"; done
    plan_setup
    for f in "${FAMILIES[@]}"; do
        build_restore "$f" "$TMP/apply.$f"
        if ! out=$("${RESTORE[$f]}" --test --noflush <"$TMP/apply.$f" 2>&1); then
            cp "$TMP/apply.$f" "${TMPDIR:-/tmp}/setup-iptables-failed.rules"
            die "${RESTORE[$f]} --test refused the ${FAMILY_NAME[$f]} rule set; nothing was changed:"$'\n'"$out" \
                "the file it read is ${TMPDIR:-/tmp}/setup-iptables-failed.rules (line numbers refer to it)" \
                "a missing match or target usually means a kernel without that netfilter feature"
        fi
    done

    APPLIED=0
    for entry in "${TO_SET[@]}"; do
        name=${entry%%=*} value=${entry#*=}
        UNDO+=("sysctl -qw '$name=$(sysctl -n "$name")'")
        sysctl -qw "$entry" >/dev/null || die "sysctl -w $entry failed" "is /proc/sys writable here?"
    done
    for entry in "${TO_ADD[@]}"; do
        read -r dev addr <<<"$entry"
        ip addr add "$addr" dev "$dev" || die "ip addr add $addr dev $dev failed"
        UNDO+=("ip addr del '$addr' dev '$dev'")
    done
    for entry in "${TO_TIME[@]}"; do
        read -r name l3 policy <<<"$entry"
        # shellcheck disable=SC2086  # the policy's words: PROTOCOL STATE SECONDS ...
        out=$(nfct add timeout "$name" "$l3" $policy 2>&1) ||
            die "nfct add timeout $name $l3 $policy failed: $out" "is nfnetlink_cttimeout in this kernel (CONFIG_NF_CT_NETLINK_TIMEOUT)?"
        UNDO+=("nfct delete timeout '$name'")
    done
    # IPv4 first (it holds the record), then IPv6; if either fails, every family loaded by this
    # run is put back (after the UNDO list: the rules name the timeout policies it deletes).
    for f in "${FAMILIES[@]}"; do
        if ! out=$("${RESTORE[$f]}" --noflush <"$TMP/apply.$f" 2>&1); then
            cp "$TMP/apply.$f" "${TMPDIR:-/tmp}/setup-iptables-failed.rules"
            for entry in "$f" "${loaded[@]}"; do rollback "$entry"; done
            die "${RESTORE[$f]} failed on the ${FAMILY_NAME[$f]} rule set:"$'\n'"$out" \
                "apply is one transaction: the tables of both families were put back as they were, and what it changed besides is undone." \
                "The file it read is ${TMPDIR:-/tmp}/setup-iptables-failed.rules."
        fi
        loaded+=("$f")
    done
    APPLIED=1

    # What an earlier apply changed and this one no longer needs.
    for entry in "${STALE[@]}"; do undo_entry "$entry"; done

    read_installed
    summary applied
}

# ---------------------------------------------------------------------------------------------
# remove

# undo_entry ENTRY: put back one thing apply changed.
undo_entry() {
    local kind a b
    read -r kind a b <<<"$1"
    case "$kind" in
        address)
            if ip link show dev "$a" >/dev/null 2>&1 && address_present "$a" "${b%/*}"; then
                ip addr del "$b" dev "$a" || warn "could not delete address $b from $a"
                say "deleted address $b from $a"
            fi ;;
        sysctl)
            sysctl -qw "$a" >/dev/null || warn "could not put back sysctl $a"
            say "sysctl ${a%%=*} back to ${a#*=}" ;;
        timeout)
            if timeout_present "$a"; then
                nfct delete timeout "$a" 2>/dev/null || warn "could not delete the conntrack timeout policy $a (still in use?)"
                say "deleted conntrack timeout policy $a"
            fi ;;
    esac
}

do_remove() {
    local f t chain line entry out
    read_installed
    refuse_foreign
    if ! installed; then
        say "nothing to remove: no SI- chains and no smtp-inspect jumps in $(printf '%s ' "${TABLES_NOW[@]}" | sed 's/v4:/IPv4 /g; s/v6:/IPv6 /g; s/ $//')"
        return 0
    fi
    [[ ${#STATE[@]} -gt 0 ]] || warn "no SI-STATE record (the rules were not loaded by this script):" \
        "removing the chains and jumps only; addresses and sysctls are left as they are"
    for f in "${FAMILIES[@]}"; do
        for t in ${TABLES_OF[$f]}; do
            [[ -n "${SI_CHAINS[$f:$t]:-}${JUMPS[$f:$t]:-}" ]] || continue
            echo "*$t"
            while IFS= read -r line; do
                [[ -n "$line" ]] && printf -- '-D%s\n' "${line#-A}"
            done <<<"${JUMPS[$f:$t]:-}"
            for chain in ${SI_CHAINS[$f:$t]:-}; do echo "-F $chain"; done
            for chain in ${SI_CHAINS[$f:$t]:-}; do echo "-X $chain"; done
            echo COMMIT
        done >"$TMP/remove.$f"
        [[ -s "$TMP/remove.$f" ]] || continue
        if ! out=$("${RESTORE[$f]}" --noflush <"$TMP/remove.$f" 2>&1); then
            die "${RESTORE[$f]} failed while removing:"$'\n'"$out" "see \`$0 status\`; run remove again"
        fi
    done
    for entry in "${STATE[@]}"; do undo_entry "$entry"; done
    # Tables apply created that hold nothing now: delete them (a restore without --noflush and
    # an empty section deletes an nft table; with iptables-legacy it only flushes an empty one).
    local recorded=("${STATE[@]}")
    read_installed
    for entry in "${recorded[@]}"; do
        case "$entry" in
            "table "*)  f=v4 t=${entry#table } ;;
            "table6 "*) f=v6 t=${entry#table6 } ;;
            *) continue ;;
        esac
        [[ " ${FAMILIES[*]} " == *" $f "* ]] || continue
        if has_table "$f:$t" && [[ "${EMPTY[$f:$t]:-0}" == 1 ]]; then
            printf '*%s\nCOMMIT\n' "$t" | "${RESTORE[$f]}" || warn "could not delete the empty ${FAMILY_NAME[$f]} table $t"
        fi
    done
    local besides=""
    ((${#recorded[@]} == 0)) || besides=", and what apply changed besides"
    say "removed: every SI- chain and the smtp-inspect jumps of ${FAMILIES[*]}$besides" | sed 's/v4/IPv4/; s/ v6/ and IPv6/' 
}

# ---------------------------------------------------------------------------------------------
# status and the summary

# summary WORD: what is installed (from read_installed's snapshots) and what apply changed.
summary() {
    local f t chains rules nfq bound jumps list entry
    for f in "${FAMILIES[@]}"; do
        chains=0 jumps=""
        rules=$(($(grep -cE "^(\[[0-9]+:[0-9]+\] )?-A SI-" "${SNAPSHOT[$f]}" || true) - $(grep -cE "^(\[[0-9]+:[0-9]+\] )?-A $STATE_CHAIN " "${SNAPSHOT[$f]}" || true)))
        for t in ${TABLES_OF[$f]}; do
            for list in ${SI_CHAINS[$f:$t]:-}; do [[ "$list" == "$STATE_CHAIN" ]] || chains=$((chains + 1)); done
            [[ -n "${JUMPS[$f:$t]:-}" ]] &&
                jumps+=" $t:$(printf '%s' "${JUMPS[$f:$t]}" | awk '{ printf "%s%s", sep, $2; sep = "," }')"
        done
        say "$1: ${FAMILY_NAME[$f]}: $rules rules in $chains SI- chains; jumps from${jumps:- nowhere}"
    done
    [[ " ${FAMILIES[*]} " == *" v6 "* ]] || say "  this kernel has no IPv6 (no /proc/net/if_inet6): IPv4 only"
    for entry in "${STATE[@]}"; do
        case "$entry" in
            "address "*) say "  address ${entry#address } added by apply (remove deletes it)" ;;
            "timeout "*) say "  conntrack timeout policy ${entry#timeout } added by apply (remove deletes it)" ;;
            "sysctl "*)  say "  sysctl ${entry#sysctl } before apply (remove puts it back)" ;;
            "table "*)   say "  IPv4 table ${entry#table } created by apply (remove deletes it when empty)" ;;
            "table6 "*)  say "  IPv6 table ${entry#table6 } created by apply (remove deletes it when empty)" ;;
            "config "*)  say "  from --config ${entry#config }" ;;
        esac
    done
    nfq=$(cat "${SNAPSHOT[@]}" | sed -nE 's/^(\[[0-9]+:[0-9]+\] )?-A SI-.* -j NFQUEUE (.*)$/\2/p' | sort -u | awk 'NR == 1')
    if [[ -n "$nfq" ]]; then
        bound=$( (awk '{ print $1 }' /proc/net/netfilter/nfnetlink_queue 2>/dev/null || true) | tr '\n' ' ')
        if [[ "$nfq" == *--queue-bypass* ]]; then
            say "  NFQUEUE $nfq: with bypass, smtp/esmtp sessions pass uninspected while no smtp-inspect is bound"
        else
            say "  NFQUEUE $nfq: without bypass, smtp/esmtp sessions stop while no smtp-inspect is bound (fail closed)"
        fi
        say "  queues bound by a program here: ${bound:-none}"
    fi
}

do_status() {
    local f rc=0 want have key
    read_installed
    if ! installed; then
        say "not installed: no SI- chains and no smtp-inspect jumps (tables: $(printf '%s ' "${TABLES_NOW[@]}" | sed 's/v4:/IPv4 /g; s/v6:/IPv6 /g; s/ $//'))"
        return 3
    fi
    summary installed
    [[ -n "$FOREIGN" ]] && warn "other rules jump into SI- chains (remove will refuse):"$'\n'"${FOREIGN%$'\n'}"
    [[ ${#STATE[@]} -gt 0 ]] || warn "no SI-STATE record: loaded by hand, not by setup-iptables.sh apply"
    if [[ -n "$CONFIG" ]]; then
        generate_rules
        for f in "${FAMILIES[@]}"; do
            key="rules sha256 "
            [[ "$f" == v6 ]] && key="rules6 sha256 "
            want=$(sha256sum <"${RULES[$f]}" | cut -d' ' -f1)
            have=$(state_get "$key" | awk '{ print $3 }')
            if [[ "$want" == "$have" ]]; then
                say "  ${FAMILY_NAME[$f]} up to date: these are the rules --config $CONFIG and the options give"
            else
                say "  ${FAMILY_NAME[$f]} NOT up to date: --config $CONFIG with these options gives other rules; run apply"
                rc=4
            fi
        done
        if ((rc == 0)); then say "  up to date"; fi
    fi
    for f in "${FAMILIES[@]}"; do
        echo
        echo "# The installed ${FAMILY_NAME[$f]} rules with their counters [packets:bytes] (${SAVE[$f]} -c):"
        awk -v state="$STATE_CHAIN" '
            /^\*/ { table = $0; shown = 0; next }
            /^(:SI-|\[[0-9]+:[0-9]+\] -A (SI-|.*--comment "?smtp-inspect"?( |$)))/ {
                if (!shown) { print table; shown = 1 }
                print
            }' "${SNAPSHOT[$f]}"
    done
    return $rc
}

case "$ACTION" in
    apply)  do_apply ;;
    remove) do_remove ;;
    status) rc=0; do_status || rc=$?; exit "$rc" ;;
esac

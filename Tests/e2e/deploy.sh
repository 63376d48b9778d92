#!/usr/bin/env bash
# shellcheck disable=SC2119  # lab functions with optional arguments called without any
# Tests/e2e/deploy.sh: the deployment: scripts/install.sh, deploy/smtp-inspect.service and
# deploy/smtp-inspect-iptables.service, checked as far as this machine allows. As root:
#
#   Tests/e2e/deploy.sh        # builds smtp-inspect (swift build, debug) unless SMTP_INSPECT_BIN=PATH
#
#  1. install.sh: --dry-run changes nothing; an install into a staging root holding a copy of
#     this system's user database (--destdir) puts every file in place with its mode and owner
#     and creates the smtp-inspect system user; a second run changes nothing; the
#     administrator's files are kept; --prefix rewrites the units; --uninstall keeps the
#     configuration and the user, --purge removes them too.
#  2. systemd-analyze verify passes on both units (copies whose programs point at the installed
#     binary: verify needs them to exist) and fails on a broken copy; systemd-analyze security
#     rates the daemon's unit (exposure at most 2.0).
#  3. Without systemd: the daemon as user nobody with only CAP_NET_ADMIN and CAP_NET_RAW (ambient)
#     and no-new-privs (setpriv) binds the queue, masks EXPN and resets a session over max-data;
#     without CAP_NET_RAW it cannot send the resets, without CAP_NET_ADMIN it cannot bind.
#  4. With systemd: this machine's systemd boots as PID 1 of a container (pid, mount and cgroup
#     namespaces; an overlay of / thrown away at the end) inside the lab's router namespace, with
#     the units installed by install.sh and enabled. Checked: both units start; the daemon runs as
#     smtp-inspect with only NET_ADMIN and NET_RAW, NoNewPrivs, seccomp, umask 0077, its own
#     mount/UTS/IPC namespaces, / read-only but /run/smtp-inspect, a private /tmp and /dev, a
#     hidepid /proc; mail passes the seed's rules and EXPN is masked; the control socket answers;
#     300 messages pass under the syscall filter; `systemctl reload` applies a new max-data and
#     the over-long message is reset (raw sockets work in the sandbox); a probe unit with the same
#     hardening lines shows each one in force; SIGKILL is followed by a restart; `systemctl stop
#     smtp-inspect` keeps the rules (fail closed); --queue-bypass in /etc/default/smtp-inspect lets
#     mail through uninspected; stopping the rules unit rolls back; the container's poweroff leaves
#     no rule behind. Where the container cannot be built (no cgroup2 or overlayfs), step 4 SKIPs.
# Every check prints PASS, FAIL or SKIP; exit status 1 if any failed. Everything is removed on
# exit (lab_cleanup; the container by its PID; its cgroup; the temp directory).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/lab.sh
source "$ROOT/scripts/lib/lab.sh"
# shellcheck source=Tests/e2e/lib/checks.sh
source "$ROOT/Tests/e2e/lib/checks.sh"
INSTALL=$ROOT/scripts/install.sh

e2e_require_root
e2e_require ip iptables swaks postfix setpriv nsenter unshare useradd "$PY"
if ! command -v systemd-analyze >/dev/null || [[ ! -x /lib/systemd/systemd ]]; then
    echo "== installing systemd (systemd-analyze, and the manager the container boots)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends systemd >/dev/null ||
        { echo "deploy: apt-get install systemd failed" >&2; exit 2; }
fi
SMTP_SOURCE=$(smtp_source) || { echo "deploy: smtp-source missing: run scripts/deps.sh" >&2; exit 2; }
e2e_binary

# A run killed with SIGKILL leaves its container's cgroup and its cgroup2 mount behind (lab_up
# removes its namespaces and directory, not these): kill what is left in that cgroup, by PID, and
# remove both, once that run's PID is gone.
while read -r mp; do
    [[ "$mp" =~ ^/tmp/si([0-9]+)-lab\.[A-Za-z0-9]+/deploy/cgroup2$ && ! -d /proc/${BASH_REMATCH[1]} ]] || continue
    for cg in "$mp"/si-deploy-*; do
        [[ -d "$cg" ]] || continue
        find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r p; do kill -KILL "$p" 2>/dev/null; done
        sleep 0.5
        find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
    umount "$mp" 2>/dev/null && echo "deploy: removed the cgroup2 mount of a killed run: $mp"
done < <(findmnt -rn -t cgroup2 -o TARGET 2>/dev/null)

lab_up || abort setup "lab_up"
T=$LAB_DIR/deploy          # removed with LAB_DIR by lab_cleanup
mkdir -p "$T/bin"
# A copy every user can run (setpriv runs it as nobody).
cp "$BIN" "$T/bin/smtp-inspect" && chmod 0755 "$T/bin/smtp-inspect"
SI=$T/bin/smtp-inspect

# A small SMTP client for the checks (run in the client namespace).
cat >"$T/smtp.py" <<'PY'
import socket, sys
mode, host, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
def main():
    try:
        s = socket.create_connection((host, 25), timeout=timeout)
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return "error %s" % e.strerror
    f = s.makefile("rb")
    def reply():
        while True:
            line = f.readline().decode("latin-1")
            if not line:
                raise ConnectionError("closed")
            if line[3:4] != "-":
                return line.strip()
    try:
        reply()
        if mode == "connect":
            return "connected"
        s.sendall(b"HELO probe.example\r\n"); reply()
        if mode == "illegal":
            # Postfix answers 500 to EXPN either way, but 502 to an unmasked STARTTLS (no TLS here).
            out = []
            for c in ("EXPN root", "STARTTLS"):
                s.sendall(c.encode() + b"\r\n"); out.append("%s %s" % (c.split()[0], reply()[:3]))
            return " ".join(out)
        s.sendall(b"MAIL FROM:<big@probe.example>\r\n"); reply()
        for c in ("RCPT TO:<big@example.test>", "DATA"):
            s.sendall(c.encode() + b"\r\n"); r = reply()
        s.sendall((("x" * 70 + "\r\n") * 100).encode() + b".\r\n")
        return "reply " + reply()
    except socket.timeout:
        return "timeout"
    except ConnectionResetError:
        return "reset"
    except (ConnectionError, OSError) as e:
        return "closed (%s)" % e
print(main())
PY
smtp() { lab_exec client "$PY" "$T/smtp.py" "$@" 2>&1; }

# =============================================================================================
step "1. scripts/install.sh"

# --dry-run on this very system: nothing may change.
paths=(/usr/local/sbin/smtp-inspect /usr/local/sbin/smtp-inspect-iptables /etc/systemd/system/smtp-inspect.service
    /etc/systemd/system/smtp-inspect-iptables.service /etc/default/smtp-inspect /etc/smtp-inspect /usr/local/share/doc/smtp-inspect)
state() { for p in "${paths[@]}"; do stat -c '%n %a %s %Y' "$p" 2>/dev/null || echo "$p absent"; done; getent passwd smtp-inspect || echo "no user"; }
before=$(state)
rc=0
out=$("$INSTALL" --dry-run --binary "$SI" 2>&1) || rc=$?
verdict install-dry-run "$( ((rc == 0)) && [[ "$(state)" == "$before" ]] && grep -q '^  would install' <<<"$out" && echo 1)" \
    "exit 0, $(grep -c '^  would' <<<"$out") actions listed, nothing on this system changed" \
    "exit $rc; state changed: $(diff <(echo "$before") <(state) | tr '\n' ' '); $(tail -n 3 <<<"$out" | tr '\n' '|')"

# A staging root with a copy of this system's user database: install.sh creates the user there.
R1=$T/root1
mkdir -p "$R1/etc"
cp -a /etc/passwd /etc/group /etc/shadow /etc/gshadow "$R1/etc/"
[[ -f /etc/login.defs ]] && cp -a /etc/login.defs "$R1/etc/"
rc=0
"$INSTALL" --destdir "$R1" --binary "$SI" >"$T/install1.out" 2>&1 || rc=$?
indent <"$T/install1.out" | head -n 16
gid=$(awk -F: '$1 == "smtp-inspect" { print $3 }' "$R1/etc/group")
uline=$(grep '^smtp-inspect:' "$R1/etc/passwd")
modes_ok=1 modes=""
# expect PATH MODE OWNER:GROUP [SAME-AS]
expect() {
    local got; got=$(stat -c '%a %u:%g' "$R1$1" 2>/dev/null || echo missing)
    modes+="$1 $got; "
    [[ "$got" == "$2 $3" ]] || { modes_ok=0; note "$1: $got, expected $2 $3"; }
    if [[ -n "${4:-}" ]] && ! cmp -s "$R1$1" "$4"; then modes_ok=0; note "$1 differs from $4"; fi
}
expect /usr/local/sbin/smtp-inspect 755 0:0 "$SI"
expect /usr/local/sbin/smtp-inspect-iptables 755 0:0 "$ROOT/scripts/setup-iptables.sh"
expect /etc/systemd/system/smtp-inspect.service 644 0:0 "$ROOT/deploy/smtp-inspect.service"
expect /etc/systemd/system/smtp-inspect-iptables.service 644 0:0 "$ROOT/deploy/smtp-inspect-iptables.service"
expect /etc/default/smtp-inspect 644 0:0 "$ROOT/deploy/default"
expect /etc/smtp-inspect 750 "0:$gid"
expect /etc/smtp-inspect/running-config 640 "0:$gid"
expect /usr/local/share/doc/smtp-inspect/running-config.example 644 0:0 "$R1/etc/smtp-inspect/running-config"
verdict install-files "$( ((rc == 0 && modes_ok)) && [[ -n "$gid" ]] && echo 1)" \
    "binary and script 0755, units and default 0644 as in deploy/, /etc/smtp-inspect 0750 and running-config 0640 root:smtp-inspect" \
    "exit $rc; $modes"
IFS=: read -r _ _ uid _ _ home shell <<<"$uline"
verdict install-user "$([[ -n "$uline" && "$uid" -lt 1000 && "$shell" == /usr/sbin/nologin && "$home" == /nonexistent ]] && echo 1)" \
    "system user created: $uline" "user line: ${uline:-none}"
cfg_out=$("$SI" check --config "$R1/etc/smtp-inspect/running-config" 2>&1) && crc=0 || crc=$?
# Its one warning is issue 11's: OUT-IN inspects SMTP over IPv4 only, so IPv6 SMTP is inspected with it too.
verdict install-config "$( ((crc == 0)) && ! grep -q $'\xe2\x88\x92' "$R1/etc/smtp-inspect/running-config" && grep -q ', 1 warnings' <<<"$cfg_out" &&
        grep -q " warning  .*IPv6 SMTP entering through it is inspected with OUT-IN's smtp too" <<<"$cfg_out" && echo 1)" \
    "the seed's configuration with '-' for U+2212: smtp-inspect check accepts it with one warning, that its IPv6 SMTP is inspected with OUT-IN" \
    "check exit $crc: $(grep -i -m3 -e warning -e error <<<"$cfg_out" | tr '\n' '|')"

touch -d '-1 minute' "$T/marker"
find "$R1" -exec touch -h -d '-2 minutes' {} +
rc=0
out=$("$INSTALL" --destdir "$R1" --binary "$SI" 2>&1) || rc=$?
changed=$(grep -E '^  (installed|updated|created|mode fixed)' <<<"$out" || true)
newer=$(find "$R1" -newer "$T/marker" | tr '\n' ' ')
verdict install-idempotent "$( ((rc == 0)) && [[ -z "$changed" && -z "$newer" ]] && echo 1)" \
    "second run: $(grep -c '^  unchanged' <<<"$out") lines 'unchanged', no file touched" \
    "exit $rc; changed: $(tr '\n' '|' <<<"$changed"); newer files: $newer"

echo '# the administrator was here' >>"$R1/etc/default/smtp-inspect"
echo '! the administrator was here' >>"$R1/etc/smtp-inspect/running-config"
out=$("$INSTALL" --destdir "$R1" --binary "$SI" 2>&1)
verdict install-keeps-admin-files "$(grep -q 'administrator' "$R1/etc/default/smtp-inspect" && grep -q 'administrator' "$R1/etc/smtp-inspect/running-config" &&
    grep -q 'kept .*/etc/default/smtp-inspect (yours' <<<"$out" && echo 1)" \
    "an edited /etc/default/smtp-inspect and running-config are kept ('kept ... (yours: left as it is)')" "$(grep -E 'default|running-config' <<<"$out" | tr '\n' '|')"

R2=$T/root2
"$INSTALL" --destdir "$R2" --prefix /opt/smtp-inspect --binary "$SI" >"$T/install2.out" 2>&1 && rc=0 || rc=$?
exec_line=$(grep '^ExecStart=' "$R2/etc/systemd/system/smtp-inspect.service" 2>/dev/null)
ipt_line=$(grep '^ExecStart=' "$R2/etc/systemd/system/smtp-inspect-iptables.service" 2>/dev/null)
verdict install-prefix "$( ((rc == 0)) && [[ -x "$R2/opt/smtp-inspect/sbin/smtp-inspect" && "$exec_line" == "ExecStart=/opt/smtp-inspect/sbin/smtp-inspect run "* &&
    "$ipt_line" == "ExecStart=/opt/smtp-inspect/sbin/smtp-inspect-iptables apply "*"--binary /opt/smtp-inspect/sbin/smtp-inspect" ]] &&
    ! grep -q /usr/local "$R2"/etc/systemd/system/*.service && echo 1)" \
    "--prefix /opt/smtp-inspect: programs in /opt/smtp-inspect/sbin, both units point there" \
    "exit $rc; $exec_line; $ipt_line"

rc=0
out=$("$INSTALL" --uninstall --destdir "$R1" 2>&1) || rc=$?
left=$(cd "$R1" && for f in usr/local/sbin/smtp-inspect* etc/systemd/system/smtp-inspect* usr/local/share/doc/smtp-inspect; do [[ -e "$f" ]] && printf "%s " "$f"; done)
verdict uninstall "$( ((rc == 0)) && [[ -z "$left" && -f "$R1/etc/smtp-inspect/running-config" && -f "$R1/etc/default/smtp-inspect" ]] &&
    grep -q '^smtp-inspect:' "$R1/etc/passwd" && echo 1)" \
    "programs, units and examples removed; /etc/smtp-inspect, /etc/default/smtp-inspect and the user kept" "exit $rc; left: $left; $(tr '\n' '|' <<<"$out")"
out=$("$INSTALL" --uninstall --destdir "$R1" 2>&1)
verdict uninstall-again "$(grep -q 'nothing to do' <<<"$out" && echo 1)" "a second --uninstall: nothing to do" "$(tr '\n' '|' <<<"$out")"
rc=0
out=$("$INSTALL" --uninstall --purge --destdir "$R1" 2>&1) || rc=$?
verdict uninstall-purge "$( ((rc == 0)) && [[ ! -e "$R1/etc/smtp-inspect" && ! -e "$R1/etc/default/smtp-inspect" ]] &&
    ! grep -q '^smtp-inspect:' "$R1/etc/passwd" && ! grep -q '^smtp-inspect:' "$R1/etc/group" && echo 1)" \
    "--purge: configuration, default file and user gone" "exit $rc; $(tr '\n' '|' <<<"$out")"

# =============================================================================================
step "2. systemd-analyze"
R3=$T/root3
"$INSTALL" --destdir "$R3" --binary "$SI" >/dev/null 2>&1 || fail install-for-verify "install.sh --destdir $R3 failed"
mkdir -p "$T/units"
for u in smtp-inspect smtp-inspect-iptables; do
    sed "s#/usr/local/sbin/#$R3/usr/local/sbin/#g" "$R3/etc/systemd/system/$u.service" >"$T/units/$u.service"
done
rc=0
out=$(systemd-analyze verify "$T/units/smtp-inspect.service" "$T/units/smtp-inspect-iptables.service" 2>&1) || rc=$?
verdict systemd-analyze-verify "$( ((rc == 0)) && [[ -z "$out" ]] && echo 1)" \
    "both units verify cleanly (systemd $(systemctl --version | awk 'NR == 1 { print $2 }'); programs at $R3/usr/local/sbin)" "exit $rc: $(tr '\n' '|' <<<"$out")"
sed "s#^ExecStart=[^ ]*#ExecStart=$T/no-such-program#" "$T/units/smtp-inspect.service" >"$T/units/broken.service"
rc=0
out=$(systemd-analyze verify "$T/units/broken.service" 2>&1) || rc=$?
verdict systemd-analyze-verify-catches "$( ((rc != 0)) && grep -q 'not executable' <<<"$out" && echo 1)" \
    "a copy with a missing program fails verify ($(head -n 1 <<<"$out" | cut -c1-80))" "exit $rc: $out"
out=$(systemd-analyze security --offline=true "$T/units/smtp-inspect.service" 2>&1)
level=$(sed -n 's/.*Overall exposure level for smtp-inspect.service: \([0-9.]*\).*/\1/p' <<<"$out")
verdict systemd-analyze-security "$(awk -v l="${level:-99}" 'BEGIN { exit !(l <= 2.0) }' && echo 1)" \
    "exposure $level (at most 2.0); what it still holds: $(grep '✗' <<<"$out" | awk '{ print $2 }' | tr '\n' ' ')" \
    "exposure ${level:-unknown}: $(tail -n 3 <<<"$out" | tr '\n' '|')"
out=$(systemd-analyze security --offline=true "$T/units/smtp-inspect-iptables.service" 2>&1)
note "smtp-inspect-iptables.service (root, changes the firewall): $(grep -o 'Overall exposure level.*' <<<"$out")"

# =============================================================================================
step "3. capabilities without systemd: setpriv as nobody"
postfix_up || abort setup "postfix_up"
lab_nfqueue_smtp 0 || abort setup "NFQUEUE rules"
SP_PID="" SP_LOG=""
# sp_start NAME CAPS: the daemon as nobody:nogroup, no-new-privs, with CAPS (e.g. +net_admin,+net_raw)
# as its inheritable, ambient and bounding sets; max-data 1000 so that a message gets it reset.
sp_start() {
    SP_LOG=$T/setpriv-$1.log
    lab_spawn router "$SP_LOG" setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps="-all$2" \
        --ambient-caps="-all$2" --bounding-set="-all$2" --no-new-privs -- \
        "$SI" run --policy smtp --max-data 1000 --no-control --stats-interval 0.3
    SP_PID=$LAB_LAST_PID
    lab_wait_until 10 grep -q -e "inspecting queue" -e "cannot bind" "$SP_LOG" || true
}
counters_now() { sleep 0.5; grep '^packets' "$SP_LOG" | tail -n 1; }
resets_sent() { sed -nE 's/.*resets sent ([0-9]+).*/\1/p' <<<"$1"; }

sp_start both ",+net_admin,+net_raw"
st=$(grep -E '^(Uid|CapEff|CapBnd|CapAmb|NoNewPrivs):' "/proc/$SP_PID/status" 2>/dev/null | tr -s '\t' ' ' | tr '\n' ';')
verdict setpriv-credentials "$([[ "$st" == *"Uid: 65534 "*"CapEff: 0000000000003000"*"CapBnd: 0000000000003000"*"CapAmb: 0000000000003000"*"NoNewPrivs: 1"* ]] && echo 1)" \
    "$st" "${st:-no such process}: $(tail -n 3 "$SP_LOG" | tr '\n' '|')"
r=$(smtp illegal "$LAB_SERVER_IP" 5)
# Alerts are written by the daemon's alert-log thread, a moment after the packet's verdict.
verdict setpriv-binds-and-masks "$([[ "$r" == "EXPN 500 STARTTLS 500" ]] && grep -q 'inspecting queue 0' "$SP_LOG" &&
    lab_wait_until 3 grep -q 'SMTP_INVALID_COMMAND: Invalid SMTP command (STARTTLS)' "$SP_LOG" && echo 1)" \
    "bound queue 0 as nobody; $r (an unmasked STARTTLS gets 502 from Postfix); alerts logged" "client: $r; daemon: $(tail -n 3 "$SP_LOG" | tr '\n' '|')"
r=$(smtp big "$LAB_SERVER_IP" 5)
c=$(counters_now)
verdict setpriv-net-raw-resets "$([[ "$r" == reset* ]] && (($(resets_sent "$c") > 0)) && lab_wait_until 3 grep -q SMTP_MAX_DATA "$SP_LOG" && echo 1)" \
    "7 kB over max-data 1000: client saw '$r', resets sent $(resets_sent "$c") (raw sockets, CAP_NET_RAW)" \
    "client: $r; counters: $c; $(grep -m1 MAX_DATA "$SP_LOG")"
lab_kill "$SP_PID" 5 >/dev/null 2>&1

sp_start no-raw ",+net_admin"
r=$(smtp big "$LAB_SERVER_IP" 3)
c=$(counters_now)
verdict setpriv-without-net-raw "$([[ "$r" != reset* ]] && [[ "$(resets_sent "$c")" == 0 ]] && lab_wait_until 3 grep -q SMTP_MAX_DATA "$SP_LOG" && echo 1)" \
    "without CAP_NET_RAW the session is cut but no reset can be sent (client: '$r', resets sent 0): the capability is needed" \
    "client: $r; counters: $c"
lab_kill "$SP_PID" 5 >/dev/null 2>&1

sp_start no-admin ",+net_raw"
rc=0
lab_kill "$SP_PID" 5 >/dev/null 2>&1 || rc=$?
verdict setpriv-without-net-admin "$( ((rc == 1)) && grep -q 'cannot bind NFQUEUE queue 0' "$SP_LOG" && echo 1)" \
    "without CAP_NET_ADMIN: exit 1, '$(grep -o 'cannot bind NFQUEUE.*' "$SP_LOG" | cut -c1-60)...'" "exit $rc: $(tail -n 2 "$SP_LOG" | tr '\n' '|')"
lab_iptables_flush

# =============================================================================================
step "4. the units under systemd: systemd as PID 1 of a container in the router namespace"
CT=$T/ct CG_MNT=$T/cgroup2 CG="" CT_PID="" SD=""
mkdir -p "$CT" "$CG_MNT"
# ct_down: stop the container (poweroff, then SIGKILL of its PID 1, which ends its namespace),
# then remove its cgroup tree and our cgroup2 mount. Idempotent; also a cleanup hook.
ct_down() {
    if [[ -n "$SD" ]] && kill -0 "$SD" 2>/dev/null; then
        kill -KILL "$SD" 2>/dev/null || true
    fi
    [[ -n "$CT_PID" ]] && { lab_kill "$CT_PID" 5 >/dev/null 2>&1 || true; }
    SD="" CT_PID=""
    if [[ -n "$CG" && -d "$CG" ]]; then
        local i
        for ((i = 0; i < 50; i++)); do
            find "$CG" -depth -type d -exec rmdir {} \; 2>/dev/null
            [[ -d "$CG" ]] || break
            sleep 0.1
        done
        [[ -d "$CG" ]] && echo "deploy: could not remove the cgroup $CG" >&2
    fi
    mountpoint -q "$CG_MNT" && umount "$CG_MNT"
    return 0
}
lab_on_cleanup ct_down

ct_skip=""
grep -qw cgroup2 /proc/filesystems || ct_skip="no cgroup2 in this kernel"
grep -qw overlay /proc/filesystems || ct_skip="no overlayfs in this kernel"
[[ -x /lib/systemd/systemd ]] || ct_skip="no /lib/systemd/systemd"
if [[ -z "$ct_skip" ]] && ! mount -t cgroup2 cgroup2 "$CG_MNT" 2>"$T/cg.err"; then ct_skip="cannot mount cgroup2: $(cat "$T/cg.err")"; fi

# The container's PID 1 script: mounts the container's root (an overlay of /, writes to a tmpfs),
# its /proc, /sys (read-only, the router's), /proc/sys (read-only but net), cgroup2, a small /dev
# with /dev/console a file, /run and /tmp; installs the units (hook), then execs systemd in it.
cat >"$T/ct-init.sh" <<'EOF'
set -euo pipefail
CT=$1 HOOK=$2
mount --make-rprivate /
mount -t tmpfs -o mode=0755 si-ct "$CT"
mkdir -p "$CT/upper" "$CT/work" "$CT/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$CT/upper,workdir=$CT/work" "$CT/root"
R=$CT/root
mount -t proc proc "$R/proc"
mount --bind "$R/proc/sys" "$R/proc/sys" && mount -o remount,bind,ro "$R/proc/sys"
mount --bind "$R/proc/sys/net" "$R/proc/sys/net" && mount -o remount,bind,rw "$R/proc/sys/net"
mount --rbind /sys "$R/sys" && mount -o remount,bind,ro "$R/sys"
mount -t cgroup2 cgroup2 "$R/sys/fs/cgroup"
mount -t tmpfs -o mode=0755 dev "$R/dev"
for d in null zero full random urandom tty; do touch "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o mode=1777 shm "$R/dev/shm"
touch "$R/dev/console" "$CT/console" && mount --bind "$CT/console" "$R/dev/console"
mount -t tmpfs -o mode=0755 run "$R/run"
mount -t tmpfs -o mode=1777 tmp "$R/tmp"
bash "$HOOK" "$R"
exec chroot "$R" /usr/bin/env -i container=smtp-inspect-test \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /lib/systemd/systemd --system --unit=smtp-inspect-test.target --log-target=console --log-level=info
EOF

# The hook, run in the container's mount namespace before systemd: install.sh into the overlay,
# the lab's interface map, the units enabled, a target that starts them, and the probe unit.
cat >"$T/ct-hook.sh" <<EOF
set -euo pipefail
R=\$1
"$INSTALL" --destdir "\$R" --binary "$SI" >"$T/ct-install.out" 2>&1
cat >"\$R/etc/default/smtp-inspect" <<'EOD'
SMTP_INSPECT_INTERFACES="--interface Ethernet2/0=$LAB_EXT_IF --interface Ethernet2/1=$LAB_INT_IF"
SMTP_INSPECT_QUEUES="--queues 0-1"
SMTP_INSPECT_RULE_OPTIONS=""
SMTP_INSPECT_OPTIONS="--stats-interval 1"
EOD
systemctl --root="\$R" enable smtp-inspect-iptables.service smtp-inspect.service >"$T/ct-enable.out" 2>&1
cat >"\$R/etc/systemd/system/smtp-inspect-test.target" <<'EOD'
[Unit]
Description=Tests/e2e/deploy.sh: what multi-user.target would start of ours, and nothing of the host's
Wants=smtp-inspect-iptables.service smtp-inspect.service
EOD
# Units of the host that have nothing to do in this container (sysinit.target pulls them in).
for u in systemd-timesyncd.service systemd-pstore.service systemd-udevd.service systemd-udev-trigger.service \\
    systemd-modules-load.service systemd-sysctl.service systemd-binfmt.service systemd-random-seed.service \\
    systemd-journal-flush.service systemd-update-utmp.service systemd-tmpfiles-setup.service \\
    systemd-tmpfiles-setup-dev.service systemd-remount-fs.service systemd-firstboot.service ldconfig.service \\
    systemd-machine-id-commit.service systemd-hwdb-update.service systemd-sysusers.service \\
    systemd-journal-catalog-update.service systemd-update-done.service proc-sys-fs-binfmt_misc.automount \\
    sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount sys-fs-fuse-connections.mount \\
    dev-hugepages.mount dev-mqueue.mount systemd-ask-password-console.path systemd-ask-password-wall.path; do
    ln -sf /dev/null "\$R/etc/systemd/system/\$u"
done
# The probe: the daemon's unit with its hardening lines as they are, a python probe as ExecStart.
sed -e 's/^Type=exec/Type=oneshot/' -e '/^ExecReload=/d' -e '/^Restart/d' \\
    -e 's|^ExecStart=.*|ExecStart=/usr/bin/python3 /usr/local/lib/smtp-inspect-probe.py|' \\
    -e 's|^RuntimeDirectory=smtp-inspect\$|RuntimeDirectory=smtp-inspect-probe|' \\
    -e 's|^ReadWritePaths=/run/smtp-inspect\$|ReadWritePaths=/run/smtp-inspect-probe|' \\
    -e 's|^Description=.*|Description=hardening probe: the lines of smtp-inspect.service around a python probe|' \\
    "\$R/etc/systemd/system/smtp-inspect.service" >"\$R/etc/systemd/system/smtp-inspect-probe.service"
cp "$T/probe.py" "\$R/usr/local/lib/smtp-inspect-probe.py"
touch "\$R/tmp/si-deploy-marker"
EOF

# The hardening probe (run by smtp-inspect-probe.service inside the container).
cat >"$T/probe.py" <<'PY'
"""The hardening probe of Tests/e2e/deploy.sh.

Run by smtp-inspect-probe.service: a copy of deploy/smtp-inspect.service whose [Service]
hardening lines are kept word for word and whose ExecStart is this script (Type=oneshot,
RuntimeDirectory smtp-inspect-probe). Each check tries what a line forbids, in a way that would
succeed without the line (as the unprivileged smtp-inspect user with CAP_NET_ADMIN and
CAP_NET_RAW), and prints "PASS line: what happened" or "FAIL line: ...". The daemon itself is
checked by the test (it runs, and /proc shows its credentials and mounts); this shows the lines
are in force.
"""
import ctypes
import errno
import mmap
import os
import pwd
import signal
import socket
import subprocess
import sys

RUNDIR = "/run/smtp-inspect-probe"
libc = ctypes.CDLL(None, use_errno=True)


def check(line, ok, detail):
    print("%s %s: %s" % ("PASS" if ok else "FAIL", line, detail), flush=True)


def errno_of(action):
    """None when action() succeeds, else the errno name it failed with."""
    try:
        action()
        return None
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def write_file(path):
    with open(path, "w") as f:
        f.write("probe\n")


def status():
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def child(code):
    """Runs python code in a child; returns how it ended ('exit N' or 'signal NAME')."""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True)
    if p.returncode < 0:
        return "signal " + signal.Signals(-p.returncode).name
    return "exit %d" % p.returncode


def libc_call(name, *args):
    ctypes.set_errno(0)
    result = getattr(libc, name)(*args)
    return result, errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))


st = status()
user = pwd.getpwuid(os.getuid()).pw_name
check("User=smtp-inspect", user == "smtp-inspect" and os.getuid() != 0, "uid %d (%s), gid %d" % (os.getuid(), user, os.getgid()))
caps = {k: st.get(k) for k in ("CapEff", "CapPrm", "CapBnd", "CapAmb")}
check("AmbientCapabilities/CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW",
      all(v == "0000000000003000" for v in caps.values()), " ".join("%s %s" % kv for kv in caps.items()))
check("NoNewPrivileges=yes", st.get("NoNewPrivs") == "1", "NoNewPrivs %s" % st.get("NoNewPrivs"))
check("UMask=0077", st.get("Umask") == "0077", "Umask %s" % st.get("Umask"))

# File system.
for path in ("/usr/local/sbin/probe", "/etc/probe", "/var/lib/probe", "/run/probe", "/run/lock/probe"):
    e = errno_of(lambda: write_file(path))
    check("ProtectSystem=strict" + (", ReadOnlyPaths=/run" if path.startswith("/run") else ""), e == "EROFS", "writing %s: %s" % (path, e or "succeeded"))
e = errno_of(lambda: write_file(RUNDIR + "/file"))
mode = oct(os.stat(RUNDIR).st_mode & 0o7777) if os.path.isdir(RUNDIR) else "missing"
check("RuntimeDirectory=/ReadWritePaths= (mode 0700)", e is None and mode == "0o700" and os.stat(RUNDIR).st_uid == os.getuid(),
      "%s mode %s owned by uid %s; writing in it: %s" % (RUNDIR, mode, os.stat(RUNDIR).st_uid if mode != "missing" else "-", e or "ok"))
if e is None:
    m = os.stat(RUNDIR + "/file").st_mode & 0o777
    check("UMask=0077", m == 0o600, "a new file is %s" % oct(m))
    e = errno_of(lambda: os.chmod(RUNDIR + "/file", 0o4755))
    check("RestrictSUIDSGID=yes", e == "EPERM", "chmod u+s on its own file: %s" % (e or "succeeded"))
e = errno_of(lambda: write_file("/tmp/probe"))
check("PrivateTmp=yes", e is None and not os.path.exists("/tmp/si-deploy-marker"),
      "/tmp writable (%s) and without the marker file the test put in the system's /tmp" % (e or "ok"))
for path in ("/home", "/root", "/run/user"):
    if os.path.exists(path):
        m = os.stat(path).st_mode & 0o777
        check("ProtectHome=yes", m == 0 and errno_of(lambda: os.listdir(path)) is not None, "%s has mode %s, listing it fails" % (path, oct(m)))
check("PrivateDevices=yes", os.path.exists("/dev/null") and not os.path.exists("/dev/console") and not os.path.exists("/dev/vda"),
      "/dev holds %s" % " ".join(sorted(os.listdir("/dev"))))
e = errno_of(lambda: write_file("/proc/sys/net/ipv4/ip_forward"))
check("ProtectKernelTunables=yes (/proc/sys)", e in ("EROFS", "ENOENT"), "writing /proc/sys/net/ipv4/ip_forward: %s (ENOENT: ProcSubset=pid hides /proc/sys)" % (e or "succeeded"))
e = errno_of(lambda: write_file("/sys/class/net/lo/tx_queue_len"))
check("ProtectKernelTunables=yes (/sys)", e == "EROFS", "writing /sys/class/net/lo/tx_queue_len: %s" % (e or "succeeded"))
e = errno_of(lambda: write_file("/sys/fs/cgroup/probe"))
check("ProtectControlGroups=yes", e == "EROFS", "writing in /sys/fs/cgroup: %s" % (e or "succeeded"))
e = errno_of(lambda: open("/proc/kmsg", "rb").close())
check("ProtectKernelLogs=yes", e is not None, "opening /proc/kmsg: %s" % (e or "succeeded"))
if os.path.exists("/usr/lib/modules") or os.path.exists("/lib/modules"):
    e = errno_of(lambda: os.listdir("/usr/lib/modules" if os.path.exists("/usr/lib/modules") else "/lib/modules"))
    check("ProtectKernelModules=yes", e is not None, "listing the modules directory: %s" % (e or "succeeded"))
pids = sorted(int(d) for d in os.listdir("/proc") if d.isdigit())
owners = sorted({os.stat("/proc/%d" % p).st_uid for p in pids})
check("ProtectProc=invisible", 1 not in pids and owners == [os.getuid()],
      "/proc shows only processes of uid %s (pids %s; PID 1 and root's hidden)" % (owners, pids))
check("ProcSubset=pid", not os.path.exists("/proc/cpuinfo") and not os.path.exists("/proc/kmsg"), "/proc/cpuinfo hidden")

# Network.
opened = []
for name, family, kind, proto in (("AF_NETLINK", socket.AF_NETLINK, socket.SOCK_RAW, 12),
                                  ("AF_UNIX", socket.AF_UNIX, socket.SOCK_STREAM, 0),
                                  ("AF_INET raw", socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW),
                                  ("AF_INET6 raw", socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)):
    e = errno_of(lambda: socket.socket(family, kind, proto).close())
    opened.append("%s %s" % (name, e or "ok"))
check("RestrictAddressFamilies=AF_NETLINK AF_UNIX AF_INET AF_INET6 (allowed)", all(o.endswith(" ok") for o in opened), ", ".join(opened))
e = errno_of(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0).close())
check("RestrictAddressFamilies= (AF_PACKET refused)", e == "EAFNOSUPPORT", "socket(AF_PACKET) with CAP_NET_RAW: %s" % (e or "succeeded"))

# Seccomp.
check("SystemCallFilter= (seccomp on)", st.get("Seccomp") == "2", "Seccomp %s, %s filters" % (st.get("Seccomp"), st.get("Seccomp_filters")))
r, e = libc_call("unshare", 0x10000000)  # CLONE_NEWUSER: allowed to any user without the line
check("RestrictNamespaces=yes", r == -1 and e == "EPERM", "unshare(CLONE_NEWUSER): %s" % ("refused " + e if r == -1 else "succeeded"))
e = errno_of(lambda: mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC).close())
check("MemoryDenyWriteExecute=yes", e == "EPERM", "mmap(PROT_WRITE|PROT_EXEC): %s" % (e or "succeeded"))
r, e = libc_call("personality", 0x0008)  # PER_LINUX32
check("LockPersonality=yes", r == -1 and e == "EPERM", "personality(PER_LINUX32): %s" % ("refused " + e if r == -1 else "succeeded"))
how = child("import os; os.nice(1)")
check("SystemCallFilter=~@resources", how == "signal SIGSYS", "setpriority (nice +1, allowed to anyone) in a child: %s" % how)
how = child("import ctypes; ctypes.CDLL(None).ptrace(0, 0, 0, 0)")
check("SystemCallFilter=@system-service", how == "signal SIGSYS", "ptrace(PTRACE_TRACEME) (@debug) in a child: %s" % how)
how = child("import os, ctypes; p = os.sched_param(1); os.sched_setscheduler(0, os.SCHED_FIFO, p)")
check("RestrictRealtime=yes / ~@resources", how in ("signal SIGSYS", "exit 1"), "sched_setscheduler(SCHED_FIFO) in a child: %s" % how)
print("probe done", flush=True)
PY

IN() { nsenter -t "$SD" -m -p -n -r -w -- "$@"; }
CTL_SI=/usr/local/sbin/smtp-inspect
ctl() { IN "$CTL_SI" "$@" --control /run/smtp-inspect/control.sock; }
journal() { IN journalctl --no-pager -o cat "$@" 2>/dev/null; }
main_pid() { IN systemctl show -p MainPID --value smtp-inspect.service 2>/dev/null; }
# ct_status PID: lines of the container process PID's /proc status we look at.
ct_status() { IN cat "/proc/$1/status" 2>/dev/null | grep -E '^(Uid|Gid|CapEff|CapPrm|CapBnd|CapAmb|NoNewPrivs|Seccomp|Umask):' | tr -s '\t' ' '; }
counters_line() { journal -u smtp-inspect.service | grep '^packets' | tail -n 1; }
dump_ct() {     # what to look at when the container misbehaves
    note "container console (systemd):"; IN tail -n 15 /dev/console 2>/dev/null | indent
    note "journal:"; journal -n 25 | indent
}

if [[ -n "$ct_skip" ]]; then
    skip systemd-container "$ct_skip: the units could not be started by systemd here (steps 1-3 still ran)"
else
    CG=$CG_MNT/si-deploy-$$
    mkdir "$CG"
    t0=$(lab_now)
    # Enter the cgroup first, then the router's network namespace, then new mount, pid and cgroup
    # namespaces: PID 1 there runs ct-init.sh, which ends as systemd.
    # shellcheck disable=SC2016  # for the inner sh
    lab_spawn router "$T/ct.log" sh -c 'echo $$ >"$0/cgroup.procs" && exec unshare --mount --pid --fork --cgroup \
        --propagation private bash "$1" "$2" "$3"' "$CG" "$T/ct-init.sh" "$CT" "$T/ct-hook.sh"
    CT_PID=$LAB_LAST_PID
    # lab_spawn runs `ip netns exec ... sh`, which execs unshare: its child is the container's PID 1.
    lab_wait_until 15 sh -c "cat /proc/$CT_PID/task/*/children 2>/dev/null | grep -q ." || true
    SD=$(cat /proc/"$CT_PID"/task/*/children 2>/dev/null | tr -d ' \n')
    booted=0
    # (Before the chroot and exec, nsenter finds no systemd there: systemctl fails until then.)
    if [[ -n "$SD" ]] && lab_wait_until 30 sh -c "nsenter -t $SD -m -p -n -r -w -- systemctl is-active --quiet smtp-inspect.service 2>/dev/null"; then
        booted=1
    fi
    enabled=$(IN sh -c 'ls /etc/systemd/system/multi-user.target.wants/ 2>/dev/null' | grep smtp-inspect | tr '\n' ' ')
    verdict systemd-boots-units "$( ((booted)) && [[ "$(IN systemctl is-active smtp-inspect-iptables.service smtp-inspect.service | tr '\n' ' ')" == "active active " ]] && echo 1)" \
        "systemd $(IN systemctl --version | awk 'NR == 1 { print $2 }') is PID 1 (host pid $SD); both units active $(lab_since "$t0") s after the start; enabled: $enabled" \
        "booted=$booted SD=${SD:-none}; $(tail -n 5 "$T/ct.log" | tr '\n' '|'); install: $(tail -n 3 "$T/ct-install.out" 2>/dev/null | tr '\n' '|')"
    if ((booted == 0)); then
        dump_ct
    else
        note "journal, smtp-inspect-iptables: $(journal -u smtp-inspect-iptables.service | head -n 1)"
        note "journal, smtp-inspect: $(journal -u smtp-inspect.service | grep -m1 'inspecting queue')"

        # ----- the daemon's credentials and sandbox, from the outside
        PID=$(main_pid)
        uid=$(IN id -u smtp-inspect)
        st=$(ct_status "$PID" | tr '\n' ';')
        verdict unit-credentials "$([[ "$st" == *"Uid: $uid $uid $uid $uid"* && "$st" == *"CapEff: 0000000000003000"* && "$st" == *"CapPrm: 0000000000003000"* &&
            "$st" == *"CapBnd: 0000000000003000"* && "$st" == *"CapAmb: 0000000000003000"* && "$st" == *"NoNewPrivs: 1"* &&
            "$st" == *"Seccomp: 2"* && "$st" == *"Umask: 0077"* ]] && echo 1)" \
            "User=smtp-inspect (uid $uid), Ambient/CapabilityBoundingSet=NET_ADMIN NET_RAW, NoNewPrivileges, seccomp, UMask: $st" "pid ${PID:-?}: $st"
        ns_diff="" ns_same=""
        for n in mnt uts ipc net; do
            a=$(IN readlink "/proc/$PID/ns/$n") b=$(IN readlink "/proc/1/ns/$n")
            if [[ "$a" != "$b" ]]; then ns_diff+="$n "; else ns_same+="$n "; fi
        done
        verdict unit-namespaces "$([[ "$ns_diff" == "mnt uts ipc " && "$ns_same" == "net " ]] && echo 1)" \
            "own mount (ProtectSystem...), UTS (ProtectHostname), IPC (PrivateIPC) namespaces; the router's network namespace" \
            "differ: $ns_diff; same: $ns_same"
        # The daemon's mount table: what ProtectSystem/Home, PrivateTmp/Devices, ProtectKernel*,
        # ProtectControlGroups, ProtectProc/ProcSubset and RuntimeDirectory made of it.
        IN cat "/proc/$PID/mountinfo" >"$T/daemon-mountinfo"; cp "$T/daemon-mountinfo" /tmp/si-explore/daemon-mountinfo
        "$PY" - "$T/daemon-mountinfo" >"$T/mounts.out" <<'PY'
import sys
mounts = {}
for line in open(sys.argv[1]):
    left, _, right = line.partition(" - ")
    f = left.split()
    fstype, source, superopts = (right.split() + ["", "", ""])[:3]
    mounts[f[4]] = (f[5].split(","), fstype, f[3], superopts)   # the last mount on a path wins
def ro(p): return p in mounts and "ro" in mounts[p][0]
def rw(p): return p in mounts and "rw" in mounts[p][0]
checks = [
    ("ProtectSystem=strict: / read-only", ro("/")),
    ("ReadOnlyPaths=/run: /run read-only (and /run/lock)", ro("/run") and ("/run/lock" not in mounts or ro("/run/lock"))),
    ("ReadWritePaths=/RuntimeDirectory=: /run/smtp-inspect writable", rw("/run/smtp-inspect")),
    ("PrivateTmp=yes: /tmp and /var/tmp private", rw("/tmp") and "systemd-private" in mounts.get("/tmp", ("", "", "", ""))[2] and rw("/var/tmp")),
    ("PrivateDevices=yes: /dev a private tmpfs", mounts.get("/dev", ("", ""))[1] == "tmpfs" and "noexec" in mounts["/dev"][0]),
    ("ProtectHome=yes: /home and /root inaccessible", "/home" in mounts and "/root" in mounts),
    ("ProtectKernelTunables=yes: /sys read-only, /proc/sys read-only or hidden (ProcSubset=pid)", ro("/sys") and (ro("/proc/sys") or "/proc/sys" not in mounts)),
    ("ProtectControlGroups=yes: /sys/fs/cgroup read-only", ro("/sys/fs/cgroup")),
    ("ProtectProc=invisible, ProcSubset=pid", "/proc" in mounts and "hidepid=invisible" in mounts["/proc"][3] and "subset=pid" in mounts["/proc"][3]),
]
for name, ok in checks:
    print(("PASS " if ok else "FAIL ") + name)
print("INFO " + "; ".join("%s %s %s" % (p, mounts[p][1], ",".join(mounts[p][0][:2])) for p in ("/", "/run", "/run/smtp-inspect", "/tmp", "/dev", "/home", "/sys", "/proc") if p in mounts))
PY
        bad=$(grep '^FAIL' "$T/mounts.out" | cut -c6- | tr '\n' ';')
        verdict unit-mounts "$([[ -z "$bad" ]] && (($(grep -c '^PASS' "$T/mounts.out") == 9)) && echo 1)" \
            "$(grep -c '^PASS' "$T/mounts.out") sandbox mounts as the unit says ($(grep '^INFO' "$T/mounts.out" | cut -c6-))" "wrong: $bad"
        rdir=$(IN stat -c '%a %U' /run/smtp-inspect) sock=$(IN stat -c '%a %U %F' /run/smtp-inspect/control.sock)
        verdict unit-runtime-directory "$([[ "$rdir" == "700 smtp-inspect" && "$sock" == "600 smtp-inspect socket" ]] && echo 1)" \
            "/run/smtp-inspect $rdir, control.sock $sock" "/run/smtp-inspect: $rdir; socket: $sock"

        # ----- traffic through the seed's rules, the control socket, load
        rc=0
        lab_exec client swaks -n --server "$LAB_SERVER_NAT_IP" --from a@client.example --to unit@example.test \
            --body "through smtp-inspect.service" >"$T/unit-swaks.out" 2>&1 || rc=$?
        r=$(smtp illegal "$LAB_SERVER_NAT_IP" 5)
        sleep 1.2
        lab_wait_until 5 sh -c "nsenter -t $SD -m -p -n -r -w -- journalctl -o cat -u smtp-inspect.service | grep -c SMTP_INVALID_COMMAND | grep -qv '^[012]$'" || true
        alerts=$(journal -u smtp-inspect.service | grep -c 'SMTP_INVALID_COMMAND' || true)
        verdict unit-inspects "$( ((rc == 0)) && mailbox_wait 1 10 2>/dev/null && [[ "$r" == "EXPN 500 STARTTLS 500" ]] && ((alerts >= 3)) && echo 1)" \
            "swaks to 172.22.1.110 delivered (EHLO masked); $r; $alerts alerts in the journal" \
            "swaks exit $rc ($(tail -n 2 "$T/unit-swaks.out" | tr '\n' '|')); client: $r; alerts $alerts"
        stats=$(ctl show ip inspect statistics 2>&1)
        ctl debug ip inspect smtp >/dev/null 2>&1
        smtp illegal "$LAB_SERVER_NAT_IP" 5 >/dev/null
        ctl undebug all >/dev/null 2>&1
        sleep 1.2
        traced=$(journal -u smtp-inspect.service | grep -c 'CBAC SMTP' || true)
        verdict unit-control-socket "$(grep -q 'Session creations since subsystem startup or last reset [1-9]' <<<"$stats" && ((traced > 5)) && echo 1)" \
            "over /run/smtp-inspect/control.sock: show ip inspect statistics ($(grep -m1 'SMTP commands' <<<"$stats")); debug ip inspect smtp put $traced trace lines in the journal" \
            "statistics: $(tr '\n' '|' <<<"$stats"); trace lines: $traced"
        n0=$(mailbox_count)
        lab_exec client "$SMTP_SOURCE" -4 -M client.example -s 4 -m 300 -l 2048 -f load@client.example -t load@example.test \
            "$LAB_SERVER_NAT_IP:25" >"$T/unit-load.out" 2>&1 && rc=0 || rc=$?
        mailbox_wait $((n0 + 300)) 30 2>/dev/null
        restarts=$(IN systemctl show -p NRestarts --value smtp-inspect.service)
        verdict unit-load "$( ((rc == 0 && $(mailbox_count) - n0 == 300)) && [[ "$(main_pid)" == "$PID" && "$restarts" == 0 ]] && echo 1)" \
            "300 messages under the syscall filter and MemoryDenyWriteExecute: all delivered, same PID, 0 restarts" \
            "smtp-source exit $rc ($(tail -n 3 "$T/unit-load.out" | tr '\n' '|')), $(($(mailbox_count) - n0)) delivered, MainPID $(main_pid) (was $PID), NRestarts $restarts; counters: $(journal -u smtp-inspect.service | grep '^packets' | tail -n 1)"

        # ----- reload (SIGHUP) with a smaller max-data; the over-long message gets reset (raw sockets)
        IN sed -i 's/^ip inspect name OUT-IN smtp$/ip inspect name OUT-IN smtp max-data 1000/' /etc/smtp-inspect/running-config
        IN systemctl reload smtp-inspect.service
        lab_wait_until 5 sh -c "nsenter -t $SD -m -p -n -r -w -- journalctl -o cat -u smtp-inspect.service | grep -q 'reloaded.*max-data 1000'"
        r=$(smtp big "$LAB_SERVER_NAT_IP" 5)
        sleep 1.2
        c=$(counters_line)
        verdict unit-reload-and-resets "$([[ "$r" == reset* && "$(main_pid)" == "$PID" ]] && (($(resets_sent "$c") > 0)) &&
            lab_wait_until 5 sh -c "nsenter -t $SD -m -p -n -r -w -- journalctl -o cat -u smtp-inspect.service | grep -q SMTP_MAX_DATA" && echo 1)" \
            "systemctl reload: '$(journal -u smtp-inspect.service | grep -m1 -o 'reloaded.*')'; a 7 kB message: client '$r', resets sent $(resets_sent "$c")" \
            "client: $r; counters: $c; MainPID $(main_pid) (was $PID); $(journal -u smtp-inspect.service | grep -i -m2 -e reload -e max_data | tr '\n' '|')"

        # ----- the probe: each hardening line in force
        IN systemctl start smtp-inspect-probe.service >/dev/null 2>&1
        journal -u smtp-inspect-probe.service | grep -E '^(PASS|FAIL) ' >"$T/probe.out"
        nprobe=$(grep -c '^PASS' "$T/probe.out") bad=$(grep '^FAIL' "$T/probe.out" | cut -c6- | tr '\n' ';')
        verdict unit-hardening-probe "$([[ -z "$bad" ]] && ((nprobe >= 30)) && echo 1)" \
            "$nprobe checks by a probe under the same [Service] lines, none failed" "failed: $bad ($nprobe passed)"
        sed 's/^/  /' "$T/probe.out" | indent

        # ----- Restart=on-failure after SIGKILL
        IN systemctl kill -s KILL smtp-inspect.service
        lab_wait_until 10 sh -c "p=\$(nsenter -t $SD -m -p -n -r -w -- systemctl show -p MainPID --value smtp-inspect.service); [ -n \"\$p\" ] && [ \"\$p\" != 0 ] && [ \"\$p\" != $PID ]"
        lab_nfq_wait_bound 0 10
        sleep 0.5
        r=$(smtp illegal "$LAB_SERVER_NAT_IP" 5)
        verdict unit-restart-on-failure "$([[ "$(IN systemctl show -p NRestarts --value smtp-inspect.service)" == 1 && "$(main_pid)" != "$PID" && "$r" == *"STARTTLS 500" ]] && echo 1)" \
            "SIGKILL: restarted after RestartSec=1s (NRestarts 1, pid $PID -> $(main_pid)), inspecting again ($r)" \
            "NRestarts $(IN systemctl show -p NRestarts --value smtp-inspect.service), pid $(main_pid); client: $r"

        # ----- stop the daemon: the rules stay and SMTP stops (fail closed)
        IN systemctl stop smtp-inspect.service
        state="$(IN systemctl show -p ActiveState --value smtp-inspect.service) $(IN systemctl show -p Result --value smtp-inspect.service) "
        rules_rc=0
        lab_exec router "$ROOT/scripts/setup-iptables.sh" status >/dev/null 2>&1 || rules_rc=$?
        r=$(smtp connect "$LAB_SERVER_NAT_IP" 2)
        verdict unit-stop-fail-closed "$([[ "$state" == "inactive success " && "$r" == timeout ]] && ((rules_rc == 0)) && echo 1)" \
            "systemctl stop smtp-inspect: $state(clean SIGTERM exit); the rules stay (status exit 0); a connection to 172.22.1.110:25 times out" \
            "state: $state; rules status exit $rules_rc; connect: $r"

        # ----- fail open: --queue-bypass in /etc/default/smtp-inspect, applied by reload
        IN sed -i 's/^SMTP_INSPECT_RULE_OPTIONS=""/SMTP_INSPECT_RULE_OPTIONS="--queue-bypass"/' /etc/default/smtp-inspect
        IN systemctl reload smtp-inspect-iptables.service
        r=$(smtp illegal "$LAB_SERVER_NAT_IP" 3)
        verdict unit-fail-open "$([[ "$r" == "EXPN 500 STARTTLS 502" ]] && lab_exec router iptables -t mangle -S SI-POSTROUTING | grep -q -- '--queue-bypass' && echo 1)" \
            "SMTP_INSPECT_RULE_OPTIONS=--queue-bypass + systemctl reload smtp-inspect-iptables: with the daemon stopped SMTP passes uninspected ($r: Postfix saw STARTTLS)" \
            "client: $r; $(lab_exec router iptables -t mangle -S SI-POSTROUTING | grep NFQUEUE)"
        IN systemctl start smtp-inspect.service
        lab_nfq_wait_bound 0 10
        sleep 0.5
        r=$(smtp illegal "$LAB_SERVER_NAT_IP" 5)
        verdict unit-start-again "$([[ "$r" == "EXPN 500 STARTTLS 500" ]] && echo 1)" "systemctl start smtp-inspect: inspected again ($r)" "client: $r"

        # ----- roll back: stop the rules unit
        IN systemctl stop smtp-inspect-iptables.service
        rules_rc=0
        lab_exec router "$ROOT/scripts/setup-iptables.sh" status >/dev/null 2>&1 || rules_rc=$?
        addr=$(lab_exec router ip -4 -o addr show dev "$LAB_EXT_IF" | grep -c "$LAB_SERVER_NAT_IP/32" || true)
        verdict unit-rollback "$( ((rules_rc == 3 && addr == 0)) && echo 1)" \
            "systemctl stop smtp-inspect-iptables: every SI- rule gone (status: not installed), 172.22.1.110 off ext0" \
            "status exit $rules_rc; address present $addr times"
        IN systemctl start smtp-inspect-iptables.service

        # ----- poweroff: systemd stops the units (the rules unit removes its rules) and exits
        IN systemctl poweroff >/dev/null 2>&1 || true
        lab_wait_until 20 sh -c "! kill -0 $SD 2>/dev/null"
        gone=$( ! kill -0 "$SD" 2>/dev/null && echo 1)
        left=$(lab_exec router iptables-save | grep -c '^:SI-' || true)
        verdict unit-poweroff "$([[ "$gone" == 1 ]] && ((left == 0)) && echo 1)" \
            "systemctl poweroff: the container's systemd stopped both units and exited; no SI- chain left in the router" \
            "systemd still running: $([[ "$gone" == 1 ]] && echo no || echo yes); SI- chains left: $left"
    fi
    ct_down
    verdict container-cleanup "$([[ ! -d "$CG" ]] && ! mountpoint -q "$CG_MNT" && echo 1)" \
        "container gone, its cgroup removed, cgroup2 unmounted" "cgroup $CG $( [[ -d "$CG" ]] && echo still there)"
fi

finish

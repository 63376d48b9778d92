#!/usr/bin/env bash
# Install what smtp-inspect's build, tests, demo and benchmark need on Debian 12.
#
#   scripts/deps.sh              # as root; safe to run again (a no-op when all is present)
#   scripts/deps.sh --no-swift   # packages only: do not fail when no Swift toolchain is found
#
# Debian's packages only. apt is skipped entirely when every package is already installed, so
# tests and the demo can call this on every run. Postfix and tshark are installed without their
# interactive questions: Postfix with "No configuration" (no /etc/postfix/main.cf is written; the
# lab runs its own private instance, see scripts/lib/lab.sh), tshark without the setuid dumpcap.
set -euo pipefail

want_swift=1
for arg in "$@"; do
    case "$arg" in
        --no-swift) want_swift=0 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "deps.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

PACKAGES=(
    # build: the C libraries the CNetfilterQueue target links, and bench/nfq-accept.c
    libnetfilter-queue-dev libmnl-dev libnfnetlink-dev libpcap-dev pkg-config gcc libc6-dev
    # lab: namespaces, routing, firewall, a mail server and clients, captures
    iproute2 iptables nfct postfix swaks tcpdump tshark conntrack kmod procps psmisc python3
    iputils-ping util-linux
    # Tests/e2e/starttls.sh: a certificate for Postfix, and swaks --tls (its TLS needs Net::SSLeay)
    openssl libnet-ssleay-perl libio-socket-ssl-perl
    # Tests/e2e/attacks.sh: raw packets (for Debian's /usr/bin/python3, which the tests use: a
    # python3 earlier on PATH, e.g. pyenv's, does not see Debian's dist-packages)
    python3-scapy
    # bench: memory and CPU figures; the TLS load's client and server (bench/tls-*.c) and their
    # certificate
    valgrind time libssl-dev openssl
)

missing=()
for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
    echo "deps.sh: all ${#PACKAGES[@]} packages present"
else
    if ((EUID != 0)); then
        echo "deps.sh: missing packages: ${missing[*]}" >&2
        echo "deps.sh: run me as root to install them" >&2
        exit 1
    fi
    echo "deps.sh: installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    debconf-set-selections <<'EOF'
postfix postfix/main_mailer_type select No configuration
postfix postfix/mailname string lab.invalid
wireshark-common wireshark-common/install-setuid boolean false
EOF
    apt-get update -q
    apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
    still=()
    for p in "${missing[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        [[ "$status" == "install ok installed" ]] || still+=("$p")
    done
    if ((${#still[@]})); then
        echo "deps.sh: still missing after apt-get install: ${still[*]}" >&2
        exit 1
    fi
fi

# Postfix's own load tools, which the tests and the benchmark use.
for tool in smtp-source smtp-sink; do
    if ! command -v "$tool" >/dev/null && [[ ! -x /usr/sbin/$tool ]]; then
        echo "deps.sh: $tool not found although postfix is installed" >&2
        exit 1
    fi
done

if ((want_swift)); then
    if command -v swift >/dev/null; then
        echo "deps.sh: swift: $(command -v swift)"
    elif [[ -x /opt/swift/usr/bin/swift ]]; then
        echo "deps.sh: swift found at /opt/swift/usr/bin but not on PATH; before building run:"
        echo "    export PATH=/opt/swift/usr/bin:\$PATH"
    else
        cat >&2 <<'EOF'
deps.sh: no Swift toolchain found (neither `swift` on PATH nor /opt/swift/usr/bin/swift).
  Swift is not a Debian package. Install Swift 6.x for Debian 12 (the swift.org release tarball
  unpacked so that /opt/swift/usr/bin/swift exists), then `export PATH=/opt/swift/usr/bin:$PATH`
  and run this script again. The lab and its self-test need no Swift: use --no-swift for those.
EOF
        exit 1
    fi
fi

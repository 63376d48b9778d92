#!/usr/bin/env bash
# Build the benchmark's C helpers into OUTDIR (binaries are never committed).
#   bench/build.sh OUTDIR        -> OUTDIR/nfq-accept, OUTDIR/tls-load, OUTDIR/tls-sink
# (prints the path of nfq-accept last: scripts/bench.sh reads it)
set -euo pipefail
out=${1:?usage: bench/build.sh OUTDIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$out"
# libnetfilter_queue.pc does not pull in libmnl although we call mnl_* directly: name both.
flags=$(pkg-config --cflags --libs libnetfilter_queue libmnl) || {
    echo "bench/build.sh: pkg-config cannot find libnetfilter_queue/libmnl (run scripts/deps.sh)" >&2
    exit 1
}
tls=$(pkg-config --cflags --libs openssl) || {
    echo "bench/build.sh: pkg-config cannot find openssl (libssl-dev; run scripts/deps.sh)" >&2
    exit 1
}
# shellcheck disable=SC2086
${CC:-gcc} -O2 -g -Wall -Wextra -Werror -std=gnu11 -o "$out/nfq-accept" "$here/nfq-accept.c" $flags
# The STARTTLS load client and server of `scripts/bench.sh tls` (and the NOOP latency client).
for p in tls-load tls-sink; do
    # shellcheck disable=SC2086
    ${CC:-gcc} -O2 -g -Wall -Wextra -Werror -std=gnu11 -pthread -o "$out/$p" "$here/$p.c" $tls
done
echo "$out/nfq-accept"

#!/usr/bin/env bash
# Build the benchmark's C helpers into OUTDIR (binaries are never committed).
#   bench/build.sh OUTDIR        -> OUTDIR/nfq-accept
set -euo pipefail
out=${1:?usage: bench/build.sh OUTDIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$out"
# libnetfilter_queue.pc does not pull in libmnl although we call mnl_* directly: name both.
flags=$(pkg-config --cflags --libs libnetfilter_queue libmnl) || {
    echo "bench/build.sh: pkg-config cannot find libnetfilter_queue/libmnl (run scripts/deps.sh)" >&2
    exit 1
}
# shellcheck disable=SC2086
${CC:-gcc} -O2 -g -Wall -Wextra -Werror -std=gnu11 -o "$out/nfq-accept" "$here/nfq-accept.c" $flags
echo "$out/nfq-accept"

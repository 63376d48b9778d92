#!/usr/bin/env python3
"""Open many idle SMTP sessions and hold them, for the memory benchmark (scripts/bench.sh).

    idle-sessions.py --server 10.10.10.2 [--port 25] [--count 10000] [--source ADDR ...]
                     [--parallel 1] [--retries 1000] [--timeout 180]

Opens COUNT TCP connections (non-blocking, one epoll loop), reads each one's greeting (a 220
reply, multi-line or not) and then sends nothing. When all COUNT sessions are greeted it prints
"ready: N sessions greeted, F failed attempts" and holds them until SIGTERM or SIGINT; then it
closes them all (FIN), prints "closed: N" and exits 0. Exits 1 if COUNT sessions could not be greeted within TIMEOUT seconds.

At most PARALLEL connections are in the handshake at once (default 1: the next SYN leaves only
when the previous connect completed). smtp-inspect protects the server like IOS Firewall does:
once more than 500 sessions have started within a minute (`ip inspect one-minute high`) it turns
aggressive and every new session deletes the oldest half-open one, and more than 50 half-open
sessions to one host (`max-incomplete host`) delete the oldest too. Opening 10,000 sessions with
many handshakes in flight would measure that protection, not memory; one at a time it never
finds another half-open session to delete. A refused or reset attempt is retried (at most
RETRIES times in all) and counted.

Several --source addresses spread the connections over them (each must exist on the client);
one address is enough for 10,000 connections to one server port when the ephemeral port range
is wide (scripts/bench.sh sets net.ipv4.ip_local_port_range in its client namespace).
"""
import argparse
import errno
import os
import resource
import selectors
import signal
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--source", action="append", default=[])
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--retries", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=180)
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.count + 64
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard) if hard != resource.RLIM_INFINITY else want, hard))
        except (ValueError, OSError) as e:
            print(f"idle-sessions: cannot raise RLIMIT_NOFILE: {e}", file=sys.stderr)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        print(f"idle-sessions: RLIMIT_NOFILE {soft} < {want}: not enough descriptors", file=sys.stderr)
        return 1

    stop = False

    def on_signal(signum, frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    sel = selectors.DefaultSelector()
    sources = args.source or [None]
    greeted = []            # sockets holding an idle session
    pending = {}            # socket -> [state, buffer]; state "connect" or "greeting"
    failures = 0
    started = 0
    deadline = time.monotonic() + args.timeout

    def start_one():
        nonlocal started
        s = socket.socket(socket.AF_INET6 if ":" in args.server else socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        src = sources[started % len(sources)]
        if src:
            s.bind((src, 0))
        started += 1
        rc = s.connect_ex((args.server, args.port))
        if rc not in (0, errno.EINPROGRESS):
            raise OSError(rc, os.strerror(rc))
        pending[s] = ["connect", b""]
        sel.register(s, selectors.EVENT_WRITE)

    def fail(s):
        nonlocal failures
        failures += 1
        sel.unregister(s)
        del pending[s]
        s.close()

    def connecting():
        return sum(1 for v in pending.values() if v[0] == "connect")

    while len(greeted) < args.count and not stop:
        if failures > args.retries:
            print(f"idle-sessions: {failures} failed attempts, giving up with {len(greeted)} sessions", file=sys.stderr)
            return 1
        if time.monotonic() > deadline:
            print(f"idle-sessions: timeout with {len(greeted)} of {args.count} sessions greeted", file=sys.stderr)
            return 1
        while len(greeted) + len(pending) < args.count and connecting() < args.parallel:
            try:
                start_one()
            except OSError as e:
                failures += 1
                print(f"idle-sessions: connect: {e}", file=sys.stderr)
                time.sleep(0.01)
                break
        for key, events in sel.select(timeout=0.5):
            s = key.fileobj
            state = pending[s]
            if state[0] == "connect":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    fail(s)
                    continue
                state[0] = "greeting"
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(4096)
            except OSError:
                fail(s)
                continue
            if not data:
                fail(s)
                continue
            state[1] += data
            lines = state[1].split(b"\r\n")
            if any(l[:4] == b"220 " for l in lines[:-1]):
                sel.unregister(s)
                del pending[s]
                greeted.append(s)
            elif any(l[:1] != b"2" for l in lines[:-1] if l):
                fail(s)         # 421 and the like: a refusal

    if stop:
        print(f"idle-sessions: stopped with {len(greeted)} sessions greeted", file=sys.stderr)
    else:
        print(f"ready: {len(greeted)} sessions greeted, {failures} failed attempts", flush=True)
        while not stop:
            time.sleep(0.1)
    for s in greeted:
        s.close()
    for s in list(pending):
        s.close()
    print(f"closed: {len(greeted)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

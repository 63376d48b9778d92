#!/usr/bin/env python3
"""Malformed and hostile requests on smtp-inspect's control socket (Tests/e2e/control-socket.sh).

  ctlraw.py SOCKET CASE     one case; prints "ANSWER <repr of the answer>" and "MS <ms>"
  ctlraw.py SOCKET list     the cases' names

Each case opens one connection (or several, for `crowd`), sends what its name says, and reads
the answer until the daemon closes the connection (10 s at most).
"""
import select
import socket
import sys
import threading
import time

CASES = {
    "overlong": b"show ip inspect " + b"A" * 600 + b"\n",       # one line over the 512-byte limit
    "megabyte": b"x" * (1 << 20),                                # 1 MiB, no newline at all
    "binary": bytes(b for b in range(256) if b != 10) + b"\n",   # not UTF-8
    "nul": b"show\x00ip inspect all\n",
    "unknown-verb": b"frobnicate the router\n",
    "unknown-topic": b"show ip inspect bogus\n",
    "incomplete": b"show ip\n",
    "extra-words": b"debug ip inspect smtp now please\n",
    "reload-args": b"reload /etc/shadow\n",
    "format": b"show %s%s%s%n %x\n",
    "non-ascii": "show ip inspect \u015dtatistics \u2212 \U0001F4A3\n".encode(),
    "empty": b"\n",
    "no-newline": b"show ip inspect",                           # then half-close
    "silent": None,                                              # connect, say nothing
    "hangup": b"",                                               # connect, close at once
    "no-read": b"show ip inspect all\n",                         # a good request, gone before the answer
    "crowd": None,                                               # 100 connections at once
    "drip": None,               # a good request, one byte every 0.2 s: the whole line is not in within 1 s
    "slow-crowd": None,         # 20 silent connections held open, and a good request beside them
}


def one(path, data, half_close=True, read=True):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    if data is None:
        pass
    elif data == b"":
        s.close()
        return b""
    else:
        try:
            s.sendall(data)
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the daemon stopped reading (and answered): what it said is still there
    answer = read_answer(s, b"<reset>") if read else b""
    s.close()
    return answer


def read_answer(s, on_reset):
    """What the daemon says until it closes; `on_reset` appended if it resets instead."""
    answer = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return answer
            answer += chunk
    except ConnectionResetError:
        return answer + on_reset
    except socket.timeout:
        return answer + b"<timeout>"


def crowd(path, n=100):
    answers = [None] * n

    def worker(k):
        try:
            answers[k] = one(path, b"\xff\xfe garbage %d\n" % k)
        except OSError as e:
            answers[k] = ("<%s>" % e).encode()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = sum(1 for a in answers if a.startswith(b"%"))
    other = [a for a in answers if not a.startswith(b"%")]
    return b"%d of %d answered with an error%s" % (refused, n, (b"; others: " + repr(other[:3]).encode()) if other else b"")


def drip(path, data=b"show ip inspect statistics\n", pause=0.2):
    """Sends `data` a byte at a time, `pause` apart, until the daemon answers; the answer."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    for k in range(len(data)):
        try:
            s.send(data[k:k + 1])
        except (BrokenPipeError, ConnectionResetError):
            break
        readable, _, _ = select.select([s], [], [], pause)
        if readable:
            break
    answer = read_answer(s, b"")    # a reset: the daemon closed with our late bytes unread, after its answer
    s.close()
    return answer


def slow_crowd(path, n=20):
    """n silent clients, then a good request on one more connection; its answer, and how many
    silent ones were refused."""
    silent = []
    try:
        for _ in range(n):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.settimeout(15)
            c.connect(path)
            silent.append(c)
        answer = one(path, b"show ip inspect statistics\n")
    except OSError as e:
        answer = ("<%s after %d silent connections>" % (e, len(silent))).encode()
    refused = 0
    for c in silent:
        try:
            if c.recv(65536).startswith(b"%"):
                refused += 1
        except OSError:
            pass
        c.close()
    print("SILENT %d of %d refused" % (refused, n))
    return answer


def main():
    path, case = sys.argv[1], sys.argv[2]
    if case == "list":
        print(" ".join(CASES))
        return 0
    t0 = time.monotonic()
    if case == "crowd":
        answer = crowd(path)
    elif case == "drip":
        answer = drip(path)
    elif case == "slow-crowd":
        answer = slow_crowd(path)
    elif case == "no-read":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.sendall(CASES[case])
        s.close()
        answer = b""
    else:
        answer = one(path, CASES[case])
    print("ANSWER %r" % answer)
    print("MS %d" % int((time.monotonic() - t0) * 1000))
    return 0


if __name__ == "__main__":
    sys.exit(main())

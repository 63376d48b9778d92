#!/usr/bin/python3
"""The soak of Tests/e2e/attacks.sh: many messages with hostile-looking bodies through the
inspector to Postfix, every one delivered byte-identical.

    soak.py send  --target ADDR --messages N --sessions S --manifest FILE
    soak.py check --manifest FILE --maildir DIR

`send` runs S parallel SMTP sessions (the client's own TCP stack) that together send N messages
(MAIL FROM ... BODY=8BITMIME, RCPT, DATA, the body dot-stuffed, end of data; a new session every
200 messages) and writes, per message, its X-Soak-Id and the sha256 of its body as the mailbox
must hold it (LF line ends, dots unstuffed) to FILE. Bodies are made from the message number
(reproducible): command look-alikes at line starts (EXPN root, RCPT TO:, MAIL FROM:, DATA,
QUIT, reply look-alikes), lone dots, '..' and '.EXPN' lines, lines of 990-998 octets, 8-bit
and control bytes (no NUL, no bare CR or LF: RFC 6152's 8BITMIME allows neither, and the
inspector resets a session that sends a bare-LF dot line, by design), empty lines.

`check` reads every delivered message in the Maildir, and prints how many of the manifest's
messages arrived exactly once with the right sha256; exit 1 on any missing, changed or
duplicated message (the first few are listed).
"""
import argparse
import hashlib
import json
import os
import random
import socket
import sys
import threading
import time

LOOKALIKES = [b"EXPN root", b"VRFY root", b"RCPT TO:<victim@example.test>", b"MAIL FROM:<>", b"DATA",
              b"QUIT", b"RSET", b"AUTH PLAIN AGFiYwBkZWY=", b"STARTTLS", b"BDAT 100 LAST", b"354 go ahead",
              b"250 2.0.0 Ok", b"HELO evil", b"EHLO evil", b"TURN", b"ETRN #x", b"\tEXPN root",
              b" RCPT TO:<x@y>", b"expn ROOT", b"X-Header: EXPN root"]
DOTS = [b".", b"..", b"...", b". ", b".EXPN root", b"..EXPN root", b".\t", b". .", b".."]


def body_lines(n):
    """The message's lines (without line ends), as the mailbox must hold them."""
    r = random.Random(n)
    lines = [b"Soak message %d" % n]
    for _ in range(r.randint(6, 30)):
        kind = r.random()
        if kind < 0.35:
            lines.append(r.choice(LOOKALIKES))
        elif kind < 0.55:
            lines.append(r.choice(DOTS))
        elif kind < 0.65:
            size = r.randint(990, 998)
            start = r.choice([b".", b"E", b"x", b" "])
            lines.append((start + bytes(r.choice(b"abcdefXYZ.:<> 0123456789") for _ in range(size)))[:size])
        elif kind < 0.80:
            lines.append(bytes(r.randint(0x80, 0xFF) for _ in range(r.randint(1, 80))))
        elif kind < 0.88:
            lines.append(b"ctl" + bytes(r.choice([1, 7, 9, 11, 12, 27, 127]) for _ in range(r.randint(1, 6))) + b"end")
        elif kind < 0.94:
            lines.append(b"")
        else:
            lines.append(b"plain text line %d with a . in it" % r.randint(0, 10 ** 6))
    return lines


def message(n):
    """(bytes to send after DATA including the end of data, sha256 of the stored body)"""
    lines = body_lines(n)
    head = b"Subject: soak %d\r\nX-Soak-Id: %d\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n" \
           b"Content-Transfer-Encoding: 8bit\r\n\r\n" % (n, n)
    wire = head + b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines) + b".\r\n"
    stored = b"".join(l + b"\n" for l in lines)
    return wire, hashlib.sha256(stored).hexdigest()


class Session:
    def __init__(self, target):
        self.sock = socket.create_connection((target, 25), timeout=30)
        self.buf = b""
        self.expect(b"220")
        self.chat(b"EHLO soak.client.test", b"250")

    def reply(self):
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                if len(line) < 4 or line[3:4] != b"-":
                    return line.rstrip(b"\r")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk

    def expect(self, code):
        r = self.reply()
        if not r.startswith(code):
            raise RuntimeError("expected %s, got %r" % (code.decode(), r))

    def chat(self, line, code):
        self.sock.sendall(line + b"\r\n")
        self.expect(code)

    def close(self):
        try:
            self.chat(b"QUIT", b"221")
        finally:
            self.sock.close()


def send(args):
    numbers = list(range(1, args.messages + 1))
    lock = threading.Lock()
    errors = []
    sent = [0]
    manifest = open(args.manifest, "w")

    def worker(mine):
        s = None
        try:
            for k, n in enumerate(mine):
                if s is None or k % 200 == 0:
                    if s is not None:
                        s.close()
                    s = Session(args.target)
                wire, digest = message(n)
                s.chat(b"MAIL FROM:<soak@client.test> BODY=8BITMIME", b"250")
                s.chat(b"RCPT TO:<soak@example.test>", b"250")
                s.chat(b"DATA", b"354")
                s.sock.sendall(wire)
                s.expect(b"250")
                with lock:
                    manifest.write(json.dumps({"id": n, "sha256": digest}) + "\n")
                    sent[0] += 1
            if s is not None:
                s.close()
        except Exception as e:  # reported below, the run fails
            with lock:
                errors.append("%s: %s" % (type(e).__name__, e))

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(numbers[i::args.sessions],)) for i in range(args.sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    manifest.close()
    for e in errors[:5]:
        print("error: " + e)
    print("sent %d of %d messages in %d sessions in %.1f s" % (sent[0], args.messages, args.sessions,
                                                                time.monotonic() - t0))
    return 0 if sent[0] == args.messages and not errors else 1


def check(args):
    want = {}
    for line in open(args.manifest):
        e = json.loads(line)
        want[e["id"]] = e["sha256"]
    seen = {}
    problems = []
    for sub in ("new", "cur"):
        d = os.path.join(args.maildir, sub)
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            data = open(os.path.join(d, name), "rb").read()
            head, _, body = data.partition(b"\n\n")
            ident = None
            for h in head.split(b"\n"):
                if h.lower().startswith(b"x-soak-id:"):
                    ident = int(h.split(b":", 1)[1])
            if ident is None:
                continue
            seen[ident] = seen.get(ident, 0) + 1
            if want.get(ident) != hashlib.sha256(body).hexdigest():
                problems.append("message %d (%s): body differs" % (ident, name))
    missing = [n for n in want if n not in seen]
    dups = [n for n, k in seen.items() if k > 1]
    problems += ["message %d: not delivered" % n for n in missing[:5]]
    problems += ["message %d: delivered %d times" % (n, seen[n]) for n in dups[:5]]
    good = sum(1 for n in want if seen.get(n) == 1) - sum(1 for p in problems if "differs" in p)
    for p in problems[:10]:
        print(p)
    print("%d of %d messages delivered byte-identical (sha256)" % (good, len(want)))
    return 0 if not problems and good == len(want) else 1


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("send")
    s.add_argument("--target", required=True)
    s.add_argument("--messages", type=int, default=10000)
    s.add_argument("--sessions", type=int, default=8)
    s.add_argument("--manifest", required=True)
    c = sub.add_parser("check")
    c.add_argument("--manifest", required=True)
    c.add_argument("--maildir", required=True)
    args = ap.parse_args()
    sys.exit(send(args) if args.what == "send" else check(args))


if __name__ == "__main__":
    main()

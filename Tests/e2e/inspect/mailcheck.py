#!/usr/bin/env python3
"""Delivered-mail checks for Tests/e2e/inspect-e2e.sh (Postfix virtual Maildir, LF line ends).

  make-body OUT                 the phase-1 test body (deterministic; ends with a newline)
  body FILE                     a delivered message's body (bytes after the first empty line)
  count MAILDIR TO              messages whose Delivered-To is TO
  wait MAILDIR TO N SECONDS     wait until `count` reaches N; prints the count; 1 on timeout
  list MAILDIR TO               their paths, oldest first
  same-body MAILDIR TO N REF    all N messages for TO have the body of REF (a file or a
                                delivered message); prints count, distinct bodies, sizes
"""
import hashlib
import os
import sys
import time


def split(data):
    i = data.find(b"\n\n")
    return (data, b"") if i < 0 else (data[:i + 1], data[i + 2:])


def delivered_to(head):
    for line in head.split(b"\n"):
        if line.lower().startswith(b"delivered-to:"):
            return line.split(b":", 1)[1].strip().decode("latin-1").lower()
    return None


def messages(maildir, to):
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        try:
            names = os.listdir(d)
        except FileNotFoundError:
            continue
        for n in names:
            p = os.path.join(d, n)
            try:
                with open(p, "rb") as f:
                    head, _ = split(f.read(65536))
                st = os.stat(p)
            except FileNotFoundError:
                continue
            if delivered_to(head) == to.lower():
                out.append((st.st_mtime, n, p))
    return [p for _, _, p in sorted(out)]


def make_body(path):
    long_line = "".join(chr(ord("a") + i % 26) for i in range(998))
    longer = "".join(chr(ord("A") + i % 26) for i in range(2000))
    eight = bytes(range(0x80, 0x100))
    controls = bytes(c for c in range(1, 32) if c not in (9, 10, 13)) + b"\x7f"
    smtpish = ["EXPN root", "VRFY postmaster", "MAIL FROM:<evil@x>", "RCPT TO:<x@y>", "DATA", "QUIT",
               "xxxx root", "BDAT 10 LAST", "STARTTLS", "AUTH PLAIN AGFiYwBk", "TURN", "ETRN example.test"]
    lines = [b"smtp-inspect e2e body: dots, long lines, 8-bit bytes, command look-alikes"]
    for i in range(1, 381):
        k = i % 19
        if k == 0:
            lines.append(b".")
        elif k == 1:
            lines.append(b".leading dot on line %d" % i)
        elif k == 2:
            lines.append(b"..two dots on line %d" % i)
        elif k == 3:
            lines.append(long_line.encode())
        elif k == 4:
            lines.append(b"8-bit: " + eight)
        elif k == 5:
            lines.append("UTF-8: Grüße, naïve café, 日本語, Ελληνικά, 📬 line {}".format(i).encode())
        elif k == 6:
            lines.append(smtpish[(i // 19) % len(smtpish)].encode())
        elif k == 7:
            lines.append(b"")
        elif k == 8:
            lines.append(b"From the start of a line %d" % i)
        elif k == 9:
            lines.append(b"trailing blanks \t  ")
        elif k == 10:
            lines.append(b"controls: " + controls)
        elif k == 11:
            lines.append(b"..")
        elif k == 12 and i == 12:
            lines.append(longer.encode())
        elif k == 13:
            lines.append(b"latin-1: \xe9t\xe9 \xe0 la pla\xe7a, \xfcber \xdf")
        else:
            lines.append(b"plain line %d: the quick brown fox jumps over the lazy dog" % i)
    lines.append(b"last line")
    data = b"\n".join(lines) + b"\n"
    for bad in (b"\r", b"\x00", b"\\n", b"%"):
        assert bad not in data, bad
    with open(path, "wb") as f:
        f.write(data)
    print("%d lines, %d bytes, sha256 %s" % (len(lines), len(data), hashlib.sha256(data).hexdigest()[:16]))


def body_of(path):
    with open(path, "rb") as f:
        return split(f.read())[1]


def main(argv):
    cmd = argv[1]
    if cmd == "make-body":
        make_body(argv[2])
    elif cmd == "body":
        sys.stdout.buffer.write(body_of(argv[2]))
    elif cmd == "count":
        print(len(messages(argv[2], argv[3])))
    elif cmd == "list":
        print("\n".join(messages(argv[2], argv[3])))
    elif cmd == "wait":
        want, deadline = int(argv[4]), time.monotonic() + float(argv[5])
        while True:
            n = len(messages(argv[2], argv[3]))
            if n >= want or time.monotonic() > deadline:
                print(n)
                return 0 if n >= want else 1
            time.sleep(0.1)
    elif cmd == "same-body":
        files = messages(argv[2], argv[3])
        want = int(argv[4])
        ref = argv[5]
        with open(ref, "rb") as f:
            data = f.read()
        ref_body = split(data)[1] if b"\nDelivered-To:" in data or data.startswith(b"Return-Path:") else data
        ref_hash = hashlib.sha256(ref_body).hexdigest()
        hashes = {}
        sizes = set()
        for p in files:
            b = body_of(p)
            h = hashlib.sha256(b).hexdigest()
            hashes[h] = hashes.get(h, 0) + 1
            sizes.add(len(b))
        bad = len(files) - hashes.get(ref_hash, 0)
        print("messages %d (want %d), distinct bodies %d, body sizes %s, reference %d bytes sha256 %s, differing %d"
              % (len(files), want, len(hashes), sorted(sizes), len(ref_body), ref_hash[:16], bad))
        return 0 if len(files) == want and bad == 0 else 1
    else:
        print("unknown command " + cmd, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Scripted SMTP clients for the end-to-end tests (run in the lab's client namespace).

    smtpc.py MODE --host ADDR [options]

Every mode prints what it sent and got (C:/S: lines), checks the replies it expects, and ends
with one line "RESULT ok ..." (exit 0) or "RESULT fail: why" (exit 1). Modes that record
rather than judge (two, held, probe, chat) exit 0 unless the session could not be set up. The
session counts the payload bytes it sent and received, as the inspector's per-session counters
see them.

  expn       greeting, EHLO (where the rule is `smtp`, EHLO is masked and the 500 makes the
             client fall back to HELO), EXPN root (expects 500), MAIL, RCPT, DATA, a message of
             400 bytes, QUIT
  expn-mail  EHLO, EXPN root (expects 500 5.5.2, Postfix's), MAIL, RCPT, DATA, a message whose
             body --body-out receives, QUIT
  pipeline   EHLO, then MAIL RCPT VRFY EXPN RCPT DATA in one send; 250 250 252 500 250 354
  typed      a legal session typed one byte per segment (TCP_NODELAY), message included
  typed-bad  EHLO, then each --line typed one byte per segment (each expects 500), QUIT
  chat       greeting, then each --line in turn, printing "LINE => last reply line"
  hold       greeting, HELO/EHLO, MAIL, RCPT; prints "HOLD port=P sent=N received=M", waits for
             the file --go; then QUIT, 221, reads to the server's close; prints "DONE ..."
  held       EHLO, prints READY, waits for --go, then MAIL: prints "OUTCOME reply|reset|eof|..."
  two        MAIL, RCPT, DATA, a first message (--size1 bytes), prints "FIRST ..." and waits for
             --go; then a second message of --size2 bytes: prints "OUTCOME reset|eof|reply CODE|
             timeout" (what became of it)
  flood      --sessions N sessions, each greeting and HELO; then each sends --lines M illegal
             lines `X` and QUIT in one write, all N within moments; reads the answers until the
             server closes; prints "FLOOD sessions=N lines=TOTAL"
  abort      EHLO, QUIT and at once a RST (SO_LINGER 0), before the server's 221 arrives
  probe      a TCP connect with --connect-timeout: connected (and the banner) or timed out
"""
import argparse
import os
import socket
import struct
import sys
import time

T0 = time.monotonic()
UNKNOWN = "5.5.2"      # Postfix: 500 5.5.2 Error: command not recognized


def ms():
    return int((time.monotonic() - T0) * 1000)


def say(text):
    print(text, flush=True)


class Fail(Exception):
    pass


class ServerClosed(Fail):
    pass


class Session:
    def __init__(self, a, nodelay=False):
        t = time.monotonic()
        source = (a.source, 0) if a.source else None
        self.sock = socket.create_connection((a.host, a.port), timeout=a.connect_timeout, source_address=source)
        self.connect_ms = int((time.monotonic() - t) * 1000)
        self.sock.settimeout(a.timeout)
        if nodelay:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.port = self.sock.getsockname()[1]
        self.buf = b""
        self.sends = 0
        self.sent = 0
        self.received = 0
        say("connected port=%d after %d ms" % (self.port, self.connect_ms))

    def send(self, data):
        self.sock.sendall(data)
        self.sends += 1
        self.sent += len(data)

    def type(self, data, delay):
        """One byte per send(); with TCP_NODELAY and a pause each byte is its own segment."""
        for i in range(len(data)):
            self.send(data[i:i + 1])
            time.sleep(delay)

    def recv(self):
        chunk = self.sock.recv(65536)
        self.received += len(chunk)
        return chunk

    def drain(self):
        """Reads until the server closes; returns how many reply lines came."""
        lines = 0
        while True:
            chunk = self.recv()
            if not chunk:
                return lines
            lines += chunk.count(b"\r\n")

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.recv()
            if not chunk:
                raise ServerClosed("EOF from server (buffer %r)" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_reply(self):
        """One (possibly multi-line) reply: (code, [lines]), printed by the caller."""
        lines = []
        while True:
            line = self._line()
            lines.append(line.decode("latin-1"))
            if len(line) < 3 or not line[:3].isdigit():
                raise Fail("malformed reply line %r" % line)
            if line[3:4] != b"-":
                return int(line[:3]), lines

    def reply(self, label="reply", code=None, text=None):
        """One reply, printed; with `code`, anything else (or a last line without `text`) fails."""
        got, lines = self.read_reply()
        say("S: %s" % " | ".join(lines))
        if code is not None and (got != code or (text is not None and text not in lines[-1])):
            raise Fail("%s: expected %d%s, got %r" % (label, code, " " + text if text else "", lines))
        return got, lines

    def cmd(self, line, code=None, text=None):
        say("C: %s" % line)
        self.send(line.encode("latin-1") + b"\r\n")
        return self.reply(line.split(" ")[0], code, text)

    def typed_cmd(self, line, code, delay, text=None):
        say("C (typed): %s" % line)
        self.type(line.encode("latin-1") + b"\r\n", delay)
        return self.reply(line.split(" ")[0], code, text)

    def greet(self, helo):
        """The greeting, then EHLO; HELO when EHLO is refused (masked by an `smtp` rule)."""
        self.reply("greeting", 220)
        if self.cmd("EHLO " + helo)[0] != 250:
            self.cmd("HELO " + helo, 250)

    def counts(self):
        return "port=%d sent=%d received=%d" % (self.port, self.sent, self.received)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def message(a, to, lines):
    """DATA on the wire: headers, the lines dot-stuffed, CRLF.CRLF. With --body-out, writes the
    body Postfix should deliver (LF line ends) to that file."""
    if a.body_out:
        with open(a.body_out, "wb") as f:
            f.write(b"".join(l.encode() + b"\n" for l in lines))
    head = "From: <e2e@client.test>\r\nTo: <%s>\r\nSubject: %s\r\n\r\n" % (to, a.subject)
    body = b"".join((b"." if l.startswith(".") else b"") + l.encode() + b"\r\n" for l in lines)
    return head.encode() + body + b".\r\n"


def sized_message(subject, to, size):
    """A message of about `size` bytes on the wire (headers, 76-byte lines, CRLF.CRLF)."""
    head = ("From: <e2e@client.test>\r\nTo: <%s>\r\nSubject: %s\r\n\r\n" % (to, subject)).encode()
    body = b""
    n = 0
    while len(head) + len(body) + 3 < size:
        body += ("line %06d " % n).encode() + b"y" * 63 + b"\r\n"
        n += 1
    return head + body + b".\r\n"


def wait_for(path, limit):
    deadline = time.monotonic() + limit
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise Fail("no --go file after %d s" % limit)
        time.sleep(0.05)


def envelope(s, to, sender="e2e@client.test"):
    s.cmd("MAIL FROM:<%s>" % sender, 250)
    s.cmd("RCPT TO:<%s>" % to, 250)


def mode_expn(a):
    s = Session(a)
    s.greet("client.test")
    _, lines = s.cmd("EXPN root", 500)
    envelope(s, a.to)
    s.cmd("DATA", 354)
    s.send(sized_message(a.subject, a.to, 400))
    s.reply("end of data", 250)
    s.cmd("QUIT", 221)
    s.close()
    return "EXPN 500 (%s); %s" % (lines[-1], s.counts())


def mode_expn_mail(a):
    s = Session(a)
    s.reply("banner", 220)
    s.cmd("EHLO client.test", 250)
    _, lines = s.cmd("EXPN root", 500, UNKNOWN)
    say("EXPN reply: %s" % lines[-1])
    envelope(s, a.to)
    s.cmd("DATA", 354)
    say("C: <message, subject %s>" % a.subject)
    s.send(message(a, a.to, ["expn-mail " + a.subject, "EXPN root in the body stays as it is", ".leading dot"]))
    _, queued = s.reply("end of data", 250)
    s.cmd("QUIT", 221)
    s.close()
    return "connect_ms=%d %s" % (s.connect_ms, queued[-1])


PIPELINE = [
    ("MAIL FROM:<a@x>", 250, None),
    ("RCPT TO:<b@example.test>", 250, None),
    ("VRFY ok", 252, None),
    ("EXPN staff", 500, UNKNOWN),
    ("RCPT TO:<c@example.test>", 250, None),
    ("DATA", 354, None),
]


def mode_pipeline(a):
    s = Session(a)
    s.reply("banner", 220)
    _, ehlo = s.cmd("EHLO client.test", 250)
    if not any(l[4:].upper().startswith("PIPELINING") for l in ehlo):
        raise Fail("PIPELINING not advertised: %r" % ehlo)
    batch = "".join(c + "\r\n" for c, _, _ in PIPELINE).encode()
    say("C (one send, %d bytes): %r" % (len(batch), batch))
    s.send(batch)
    codes = []
    for line, code, text in PIPELINE:
        got, lines = s.read_reply()
        say("S: %s   <- %s" % (" | ".join(lines), line))
        codes.append(got)
        if got != code or (text and text not in lines[-1]):
            raise Fail("pipelined replies %r so far, %s answered %r (expected %d)" % (codes, line, lines, code))
    s.send(message(a, "b@example.test, c@example.test", ["pipelined envelope " + a.subject]))
    _, queued = s.reply("end of data", 250)
    s.cmd("QUIT", 221)
    s.close()
    return "replies=%s %s" % (",".join(map(str, codes)), queued[-1])


def mode_typed(a):
    s = Session(a, nodelay=True)
    s.reply("banner", 220)
    s.typed_cmd("EHLO client.test", 250, a.delay)
    s.typed_cmd("MAIL FROM:<e2e@client.test>", 250, a.delay)
    s.typed_cmd("RCPT TO:<%s>" % a.to, 250, a.delay)
    s.typed_cmd("DATA", 354, a.delay)
    say("C (typed): <message, subject %s>" % a.subject)
    s.type(message(a, a.to, ["typed one byte per segment", ".leading dot", "EXPN root (body)"]), a.delay)
    _, queued = s.reply("end of data", 250)
    s.typed_cmd("QUIT", 221, a.delay)
    s.close()
    return "sends=%d %s" % (s.sends, queued[-1])


def mode_typed_bad(a):
    s = Session(a, nodelay=True)
    s.reply("banner", 220)
    s.typed_cmd("EHLO client.test", 250, a.delay)
    replies = []
    for line in a.line:
        _, lines = s.typed_cmd(line, 500, a.delay, UNKNOWN)
        replies.append("%s => %s" % (line, lines[-1]))
    s.typed_cmd("QUIT", 221, a.delay)
    s.close()
    return "sends=%d %s" % (s.sends, "; ".join(replies))


def mode_chat(a):
    s = Session(a)
    s.reply("banner", 220)
    for line in a.line:
        _, lines = s.cmd(line)
        say("%s => %s" % (line, lines[-1]))
    s.close()
    return "%d lines answered" % len(a.line)


def mode_hold(a):
    s = Session(a)
    s.greet("client.test")
    envelope(s, a.to)
    say("HOLD %s" % s.counts())
    wait_for(a.go, a.wait)
    s.cmd("QUIT", 221)
    s.drain()       # to the server's FIN, so that its every byte is counted
    s.close()
    say("DONE %s" % s.counts())
    return s.counts()


def outcome_of(action):
    """What became of a send: the reply, or how the connection ended."""
    try:
        return action()
    except ConnectionResetError as e:
        return "reset (%s)" % e
    except BrokenPipeError as e:
        return "reset (broken pipe: %s)" % e
    except ServerClosed as e:
        return "eof (%s)" % e
    except socket.timeout:
        return "timeout"
    except Fail as e:
        return "error %s" % e
    except OSError as e:
        return "error %s" % e


def mode_held(a):
    s = Session(a)
    s.reply("banner", 220)
    s.cmd("EHLO client.test", 250)
    say("READY")
    wait_for(a.go, a.wait)
    t = time.monotonic()
    say("C: MAIL FROM:<held@client.test>")

    def mail():
        s.send(b"MAIL FROM:<held@client.test>\r\n")
        return "reply %s" % " | ".join(s.read_reply()[1])
    outcome = outcome_of(mail)
    say("OUTCOME %s after %d ms" % (outcome, (time.monotonic() - t) * 1000))
    s.close()
    return "outcome=%s" % outcome.split(" ")[0]


def mode_two(a):
    s = Session(a)
    s.greet("client.test")
    envelope(s, a.to)
    s.cmd("DATA", 354)
    first = sized_message(a.subject + " first", a.to, a.size1)
    s.send(first)
    s.reply("first message", 250)
    say("FIRST delivered %d bytes; %s" % (len(first), s.counts()))
    wait_for(a.go, a.wait)

    def second():
        envelope(s, a.to)
        s.cmd("DATA", 354)
        data = sized_message(a.subject + " second", a.to, a.size2)
        say("C: <second message, %d bytes>" % len(data))
        s.send(data)
        got, lines = s.reply()
        return "reply %d %s" % (got, lines[-1])
    outcome = outcome_of(second)
    say("OUTCOME %s" % outcome)
    s.close()
    return outcome


def mode_flood(a):
    sessions = []
    for _ in range(a.sessions):
        s = Session(a)
        s.reply("greeting", 220)
        s.cmd("HELO client.test", 250)
        sessions.append(s)
    flood = b"X\r\n" * a.lines + b"QUIT\r\n"
    for s in sessions:
        s.send(flood)
    say("C: %d x (%d lines of X, QUIT)" % (a.sessions, a.lines))
    answered = 0
    for s in sessions:
        try:
            answered += s.drain()
        except OSError:
            pass  # the server may reset a session it closed with our lines unread
        s.close()
    total = a.sessions * a.lines
    say("FLOOD sessions=%d lines=%d" % (a.sessions, total))
    return "%d illegal lines in %d sessions; %d reply lines" % (total, a.sessions, answered)


def mode_abort(a):
    """EHLO, then QUIT and an immediate abortive close (SO_LINGER 0: a RST follows the QUIT at
    once), so the server's 221 and FIN are still on their way when the RST has passed."""
    s = Session(a, nodelay=True)
    s.reply("banner", 220)
    s.cmd("EHLO client.test", 250)
    s.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    say("C: QUIT, then close with RST")
    s.send(b"QUIT\r\n")
    s.close()
    return "port=%d aborted" % s.port


def mode_probe(a):
    try:
        s = Session(a)
    except socket.timeout:
        return "timeout after %d ms" % ms()
    except OSError as e:
        return "error %s after %d ms" % (e, ms())
    try:
        banner = s.read_reply()[1][-1]
    except (OSError, Fail) as e:
        banner = "no banner (%s)" % e
    s.close()
    return "connected after %d ms, %s" % (s.connect_ms, banner)


MODES = {
    "expn": mode_expn, "expn-mail": mode_expn_mail, "pipeline": mode_pipeline, "typed": mode_typed,
    "typed-bad": mode_typed_bad, "chat": mode_chat, "hold": mode_hold, "held": mode_held,
    "two": mode_two, "flood": mode_flood, "abort": mode_abort, "probe": mode_probe,
}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=sorted(MODES))
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=25)
    p.add_argument("--source", help="local address to connect from")
    p.add_argument("--timeout", type=float, default=15, help="per reply")
    p.add_argument("--connect-timeout", type=float, default=10)
    p.add_argument("--to", default="e2e@example.test")
    p.add_argument("--subject", default="e2e")
    p.add_argument("--body-out", help="write the body the server should deliver to this file")
    p.add_argument("--line", action="append", default=[], help="typed-bad, chat: a command line")
    p.add_argument("--delay", type=float, default=0.004, help="typed: seconds between bytes")
    p.add_argument("--go", default="", help="hold, held, two: go on when this file exists")
    p.add_argument("--wait", type=float, default=60, help="hold, held, two: longest wait for --go")
    p.add_argument("--size1", type=int, default=300)
    p.add_argument("--size2", type=int, default=5000)
    p.add_argument("--sessions", type=int, default=30)
    p.add_argument("--lines", type=int, default=700)
    a = p.parse_args()
    try:
        result = MODES[a.mode](a)
    except Fail as e:
        say("RESULT fail: %s (at %d ms)" % (e, ms()))
        return 1
    except OSError as e:
        say("RESULT fail: %s: %s (at %d ms)" % (type(e).__name__, e, ms()))
        return 1
    say("RESULT ok %s (%d ms)" % (result, ms()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

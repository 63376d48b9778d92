#!/usr/bin/python3
"""A recording SMTP server for Tests/e2e/attacks.sh: it records exactly what its application read.

    recserver.py LOG ADDRESS... [--port 25]

Listens on each ADDRESS (IPv4 or IPv6) and speaks just enough SMTP to move an inspector through
its states: 220 banner; EHLO 250 (PIPELINING, SIZE, 8BITMIME, DSN, ENHANCEDSTATUSCODES); HELO,
MAIL, RSET, NOOP 250; RCPT 250 after MAIL (else 503); VRFY 252; DATA 354 after RCPT (else 503);
250 after the end of data; QUIT 221 and close; anything else 500.

Reads go through the real Linux stack with the socket's defaults (SO_OOBINLINE off: an urgent
byte is taken out of the stream, as on a real server). A line ends at LF (a CR before it is
dropped), as Postfix reads it: the most lenient reading, so anything a real server could take as
a command is recorded as one. Every event is one JSON line in LOG, flushed at once:

    {"conn": N, "peer": "ADDR:PORT", "ev": "open"}
    {"conn": N, "ev": "read", "hex": "..."}              every recv(), the bytes as read
    {"conn": N, "ev": "cmd", "line": "..."}             a line read in command mode
    {"conn": N, "ev": "reply", "line": "..."}           what it answered
    {"conn": N, "ev": "message", "sha256": "...", "bytes": N}   end of data (body un-stuffed)
    {"conn": N, "ev": "close", "why": "..."}

Replies leave 5 ms after the command was read (REPLY_DELAY). Listeners get TCP_FASTOPEN (the lab's server namespace also enables server-side TFO by sysctl),
so data on a SYN reaches the application as a TFO server would deliver it.
"""
import hashlib
import json
import socket
import sys
import threading
import time

HOST = "rec.lab.test"
EHLO = [HOST, "PIPELINING", "SIZE 10240000", "8BITMIME", "DSN", "ENHANCEDSTATUSCODES"]

log_lock = threading.Lock()
conn_counter = 0
# Each reply waits this long, as a real server's take a few milliseconds: without it, a reply
# forged from the outside right behind the command lost the race to the real one now and then.
REPLY_DELAY = 0.005


def log(log_file, **event):
    with log_lock:
        log_file.write(json.dumps(event) + "\n")
        log_file.flush()


class Session:
    def __init__(self, sock, peer, n, log_file):
        self.sock, self.peer, self.n, self.log_file = sock, peer, n, log_file
        self.mail = self.rcpt = False
        self.data = None      # bytearray while reading message data

    def ev(self, **kw):
        log(self.log_file, conn=self.n, **kw)

    def reply(self, *lines):
        time.sleep(REPLY_DELAY)
        out = b""
        for k, line in enumerate(lines):
            sep = " " if k == len(lines) - 1 else "-"
            text = line[:3] + sep + line[4:] if len(line) > 3 else line
            self.ev(ev="reply", line=text)
            out += text.encode() + b"\r\n"
        self.sock.sendall(out)

    def command(self, line):
        self.ev(ev="cmd", line=line.decode("latin-1"))
        verb = line.split(b" ", 1)[0].upper()
        if verb == b"EHLO":
            self.reply(*("250 " + e for e in EHLO))
        elif verb == b"HELO":
            self.reply("250 " + HOST)
        elif verb == b"MAIL":
            self.mail, self.rcpt = True, False
            self.reply("250 2.1.0 Ok")
        elif verb == b"RCPT":
            if self.mail:
                self.rcpt = True
                self.reply("250 2.1.5 Ok")
            else:
                self.reply("503 5.5.1 Error: need MAIL command")
        elif verb == b"DATA":
            if self.rcpt:
                self.data = bytearray()
                self.reply("354 End data with <CR><LF>.<CR><LF>")
            else:
                self.reply("503 5.5.1 Error: need RCPT command")
        elif verb in (b"RSET", b"NOOP"):
            if verb == b"RSET":
                self.mail = self.rcpt = False
            self.reply("250 2.0.0 Ok")
        elif verb == b"VRFY":
            self.reply("252 2.0.0 Cannot VRFY")
        elif verb == b"QUIT":
            self.reply("221 2.0.0 Bye")
            return False
        else:
            self.reply("500 5.5.2 Error: command not recognized")
        return True

    def data_line(self, line):
        if line == b".":
            body = bytes(self.data)
            self.ev(ev="message", sha256=hashlib.sha256(body).hexdigest(), bytes=len(body))
            self.data = None
            self.mail = self.rcpt = False
            self.reply("250 2.0.0 Ok: queued")
        else:
            self.data += (line[1:] if line.startswith(b".") else line) + b"\n"

    def run(self):
        self.ev(ev="open", peer=self.peer)
        why = "eof"
        try:
            self.reply("220 " + HOST + " ESMTP recorder")
            pending = b""
            going = True
            while going:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.ev(ev="read", hex=chunk.hex())
                pending += chunk
                while going and b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    if line.endswith(b"\r"):
                        line = line[:-1]
                    if self.data is not None:
                        self.data_line(line)
                    else:
                        going = self.command(line)
            if not going:
                why = "quit"
        except OSError as e:
            why = "error: %s" % e
        finally:
            self.ev(ev="close", why=why)
            self.sock.close()


def serve(listener, log_file):
    global conn_counter
    while True:
        sock, peer = listener.accept()
        with log_lock:
            conn_counter += 1
            n = conn_counter
        host = peer[0]
        peer_text = ("[%s]:%d" if ":" in host else "%s:%d") % (host, peer[1])
        threading.Thread(target=Session(sock, peer_text, n, log_file).run, daemon=True).start()


def main():
    args = sys.argv[1:]
    port = 25
    if "--port" in args:
        k = args.index("--port")
        port = int(args[k + 1])
        del args[k:k + 2]
    if len(args) < 2:
        sys.exit("usage: recserver.py LOG ADDRESS... [--port 25]")
    log_file = open(args[0], "a", buffering=1)
    threads = []
    for addr in args[1:]:
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 64)
        s.listen(128)
        t = threading.Thread(target=serve, args=(s, log_file), daemon=True)
        t.start()
        threads.append(t)
    print("listening on %s port %d" % (" ".join(args[1:]), port), flush=True)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()

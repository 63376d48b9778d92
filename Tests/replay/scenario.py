#!/usr/bin/env python3
"""SMTP client scenarios for the capture fixtures (Tests/replay/make-captures.sh)."""
import socket
import sys
import time


def connect(server):
    s = socket.create_connection((server, 25), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def expect(s, code, lines=1):
    """Reads until `lines` complete replies starting with their codes have arrived."""
    data = b""
    while data.count(b"\r\n") < lines or not last_line_complete(data):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def last_line_complete(data):
    parts = data.split(b"\r\n")
    return len(parts) >= 2 and len(parts[-2]) >= 4 and parts[-2][3:4] == b" "


def ehlo(s):
    expect(s, b"220")
    s.sendall(b"EHLO client.example.org\r\n")
    expect(s, b"250")


def pipelined_expn(server):
    s = connect(server)
    ehlo(s)
    s.sendall(b"MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.test>\r\n"
              b"EXPN staff\r\nRCPT TO:<carol@example.test>\r\nDATA\r\n")
    expect(s, b"354", 5)
    s.sendall(b"Subject: pipelined\r\n\r\nEXPN in the body is content.\r\n..stuffed\r\n.\r\n")
    expect(s, b"250")
    s.sendall(b"QUIT\r\n")
    expect(s, b"221")
    s.close()


def typed_by_hand(server):
    s = connect(server)
    expect(s, b"220")
    for line in [b"HELO cisco.com\r\n", b"MAIL FROM:<a@b.example>\r\n", b"VERB on\r\n", b"QUIT\r\n"]:
        for i in range(len(line)):
            s.send(line[i:i + 1] if line[i:i + 1] != b"\r" else line[i:i + 2])
            if line[i:i + 1] == b"\r":
                break
            time.sleep(0.02)
        expect(s, b"")
    s.close()


def data_with_body(server):
    s = connect(server)
    ehlo(s)
    s.sendall(b"MAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
              b"Subject: eager\r\n\r\nsent before the 354\r\n.\r\nQUIT\r\n")
    expect(s, b"221", 5)
    s.close()


def smuggling_bare_lf(server):
    s = connect(server)
    ehlo(s)
    s.sendall(b"MAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n")
    expect(s, b"354", 3)
    s.sendall(b"Subject: smuggle\r\n\r\ntext\n.\nMAIL FROM:<admin@example.test>\r\n"
              b"RCPT TO:<victim@example.test>\r\nDATA\r\nSubject: forged\r\n\r\n.\r\n")
    time.sleep(0.5)
    s.sendall(b"QUIT\r\n")
    try:
        expect(s, b"221", 2)
    except OSError:
        pass
    s.close()


def overlap_retransmission(server):
    """A raw-socket client would be needed to send a different retransmission; Linux TCP only
    retransmits what it sent. This scenario sends a session whose capture is edited by
    make-overlap.py into one carrying a changed retransmission."""
    s = connect(server)
    ehlo(s)
    s.sendall(b"NOOP\r\n")
    expect(s, b"250")
    s.sendall(b"QUIT\r\n")
    expect(s, b"221")
    s.close()


if __name__ == "__main__":
    {"pipelined-expn": pipelined_expn, "typed-by-hand": typed_by_hand, "data-with-body": data_with_body,
     "smuggling-bare-lf": smuggling_bare_lf, "overlap-retransmission": overlap_retransmission}[sys.argv[1]](sys.argv[2])

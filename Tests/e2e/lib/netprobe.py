#!/usr/bin/env python3
"""Listeners and probes for the end-to-end tests (run in the lab's namespaces).

  netprobe.py serve tcp|udp ADDR PORT     answer every connection / datagram with "peer A:P"
  netprobe.py probe tcp|udp ADDR PORT T   print the answer, or "timeout" (exit 1) / "refused" (2)
  netprobe.py send udp ADDR PORT          one datagram, no answer awaited (a conntrack entry)
"""
import socket
import sys


def serve(proto, addr, port):
    if proto == "tcp":
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(64)
        print("listening", flush=True)
        while True:
            c, peer = s.accept()
            try:
                c.sendall(("peer %s:%d\n" % peer).encode())
            finally:
                c.close()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    print("listening", flush=True)
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(("peer %s:%d\n" % peer).encode(), peer)


def probe(proto, addr, port, timeout):
    try:
        if proto == "tcp":
            c = socket.create_connection((addr, port), timeout=timeout)
            c.settimeout(timeout)
            print(c.recv(200).decode().strip() or "connected, no answer")
        else:
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c.settimeout(timeout)
            c.sendto(b"probe\n", (addr, port))
            print(c.recv(200).decode().strip())
    except socket.timeout:
        print("timeout")
        return 1
    except ConnectionRefusedError:
        print("refused")
        return 2
    except OSError as e:
        print("error: %s" % e)
        return 3
    return 0


def main():
    mode, proto, addr, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if mode == "serve":
        serve(proto, addr, port)
    elif mode == "probe":
        return probe(proto, addr, port, float(sys.argv[5]))
    else:
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.sendto(b"ping\n", (addr, port))
        print("sent")
    return 0


if __name__ == "__main__":
    sys.exit(main())

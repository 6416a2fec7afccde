#!/usr/bin/env python3
"""Measures the test bed's link rate with one bounded TCP transfer (used by scripts/nodes linkrate).

  nodes-linkrate.py recv PORT BYTES     accept one connection, read BYTES, print the rate as JSON
  nodes-linkrate.py send HOST PORT BYTES   connect (bounded retries) and send BYTES

The rate is timed from the moment the first 10% has arrived to the last byte, so the token
bucket's initial burst and TCP's slow start do not count. Every wait is bounded (30 s).
"""
import json
import socket
import sys
import time

CHUNK = 1 << 20


def recv(port, total):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(1)
        s.settimeout(30)
        conn, _ = s.accept()
        conn.settimeout(30)
        got, skip, t0 = 0, total // 10, None
        with conn:
            while got < total:
                data = conn.recv(min(CHUNK, total - got))
                if not data:
                    break
                got += len(data)
                if t0 is None and got >= skip:
                    t0, got0 = time.monotonic(), got
            t1 = time.monotonic()
    if got < total or t0 is None or t1 <= t0:
        print(json.dumps({"error": f"received {got} of {total} bytes"}))
        sys.exit(1)
    seconds = t1 - t0
    print(json.dumps({"bytes": got - got0, "seconds": round(seconds, 4),
                      "mbit_per_s": round((got - got0) * 8 / seconds / 1e6, 1)}))


def send(host, port, total):
    for _ in range(100):   # the receiver may still be starting: up to 10 s
        try:
            s = socket.create_connection((host, port), timeout=30)
            break
        except OSError:
            time.sleep(0.1)
    else:
        sys.exit(f"nodes-linkrate: cannot connect to {host}:{port}")
    block = b"\0" * CHUNK
    with s:
        sent = 0
        while sent < total:
            n = min(CHUNK, total - sent)
            s.sendall(block[:n])
            sent += n


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "recv":
        recv(int(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit("usage: nodes-linkrate.py recv PORT BYTES | send HOST PORT BYTES")

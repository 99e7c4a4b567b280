"""Slow-read clients for the flood bench (started by flood-load.ts; Debian's python3, no package).

Why Python: a slow reader advertises a tiny receive window (SO_RCVBUF set before connecting, as
slowhttptest's slow-read mode does) and an Ethernet segment size (TCP_MAXSEG), which Node cannot
set on a TCP socket. On loopback, a client that merely stops reading is absorbed by megabytes of
kernel buffers (sized from loopback's 64 KB segments) and the server never holds anything; like
this its answers back up in the server's own buffers, which is the attack the socket guards cut.

Each client binds its own address, sends `pipelined` requests, never reads, and writes a blank
line each second (ignored between requests, and unread by a server that has stopped reading):
once the server has closed the socket, that write fails (reset), so the cut is seen within about
a second. Prints one JSON line: [[opened_s | null, cut_s | null, status | null], ...]

  python3 slow-readers.py '<json: host, port, addresses, count, request, pipelined, watchS, rcvbuf>'
"""
import json
import socket
import sys
import time

spec = json.loads(sys.argv[1])
t0 = time.monotonic()
request = (spec["request"] * spec["pipelined"]).encode("latin-1")
records = []
live = []

for i in range(spec["count"]):
    if i > 0 and i % 250 == 0:
        time.sleep(0.05)  # batches: the listen backlog is not what is measured
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, spec["rcvbuf"])
    # Ethernet's segment size, not loopback's 64 KB: the server's kernel sizes its send buffer from it,
    # and with loopback segments it would swallow whole answers (megabytes) that a real link would not.
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1460)
    record = [None, None, None]
    records.append(record)
    try:
        s.bind((spec["addresses"][i % len(spec["addresses"])], 0))
        s.settimeout(5)
        s.connect((spec["host"], spec["port"]))
        s.sendall(request)
        s.setblocking(False)
    except OSError:
        s.close()
        continue
    record[0] = time.monotonic() - t0
    live.append((s, record))

while time.monotonic() - t0 < spec["watchS"] and live:
    time.sleep(1)
    still = []
    for s, record in live:
        try:
            if record[2] is None:
                try:
                    head = s.recv(12, socket.MSG_PEEK)  # peek: the window stays as small as it is
                    if head == b"":
                        raise ConnectionResetError("closed")
                    if head.startswith(b"HTTP/1.1 "):
                        record[2] = int(head[9:12])
                except BlockingIOError:
                    pass
            s.send(b"\r\n")
            still.append((s, record))
        except BlockingIOError:
            still.append((s, record))
        except OSError:
            record[1] = time.monotonic() - t0
            s.close()
    live = still

for s, _ in live:
    s.close()
print(json.dumps(records), flush=True)

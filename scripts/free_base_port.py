#!/usr/bin/env python3
"""Prints a base port B such that B..B+count-1 and B+offset..B+offset+count-1 are free on
loopback for each offset given (`cohort up --base-port B` serves clients on B+i, peers on
B+10000+i and the admin API on B+20000+i).

    scripts/free_base_port.py COUNT [OFFSET...]

Used by scripts/compat-test.sh and bench/lib.sh (free_base_port).
"""
import random
import socket
import sys

count, offsets = int(sys.argv[1]), [0] + [int(a) for a in sys.argv[2:]]
for _ in range(1000):
    base = random.randrange(20000, 30000)
    sockets = []
    try:
        for port in [base + offset + i for offset in offsets for i in range(count)]:
            s = socket.socket()
            sockets.append(s)
            s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        for s in sockets:
            s.close()
    print(base)
    sys.exit(0)
sys.exit("no free base port")

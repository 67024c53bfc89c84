#!/usr/bin/python3
# Binds an AF_UNIX datagram socket, as systemd's NOTIFY_SOCKET is, and records each sd_notify
# message as one line: "<CLOCK_MONOTONIC seconds> <fields joined by '|'>". Runs until killed.
# Usage: notify-recorder.py SOCKET-PATH OUTPUT-FILE
import os
import socket
import sys
import time

path, output = sys.argv[1], sys.argv[2]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
with open(output, "a", buffering=1) as out:
    out.write("%.6f LISTENING\n" % time.monotonic())
    while True:
        data = sock.recv(65536)
        fields = data.decode("utf-8", "replace").strip("\n").split("\n")
        out.write("%.6f %s\n" % (time.monotonic(), "|".join(fields)))

#!/usr/bin/env python3
"""Console socket receiver for the runtime-native tests: accepts one connection on a unix
socket, takes the pty master sent with SCM_RIGHTS, writes the name that came with it to
OUT.name, then copies everything the container prints to OUT until the pty closes."""
import array, os, socket, sys

path, out = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
print("ready", flush=True)
conn, _ = srv.accept()
fds = array.array("i")
msg, anc, _, _ = conn.recvmsg(1024, socket.CMSG_LEN(fds.itemsize))
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[: fds.itemsize])
with open(out + ".name", "w") as f:
    f.write(msg.decode())
master = fds[0]
with open(out, "wb") as f:
    while True:
        try:
            b = os.read(master, 4096)
        except OSError:
            break
        if not b:
            break
        f.write(b)
        f.flush()

"""One benchmark measurement with CPython 3's http.client, in a fresh process.

bench/run.ts runs this with the same JSON spec as bench/client.ts (see ClientSpec there)
and reads the same START / STOP / RESULT lines. Driven the way Python users drive it:
HTTPConnection (HTTPSConnection with a context for TLS), request -> getresponse -> read(),
read(65536) until b'', or readinto a reused 64 KiB bytearray; several connections run in
threads, one connection per thread. CPU time comes from resource.getrusage (all threads).
"""

import http.client
import json
import resource
import ssl
import sys
import threading
import time

PIECE = 65536


def main():
    spec = json.loads(sys.argv[1])
    host, port = spec["host"], spec["port"]
    upload = spec["upload"]
    method = "GET" if upload is None else "POST"
    mode = spec["mode"]
    upload_body = b"y" * upload["size"] if upload and upload["kind"] == "buffer" else None
    headers = {} if upload is None else {"Content-Length": str(upload["size"])}
    context = None
    if spec["ca"] is not None:
        context = ssl.create_default_context(cafile=spec["ca"])

    def connect():
        if context is None:
            return http.client.HTTPConnection(host, port)
        return http.client.HTTPSConnection(host, port, context=context)

    def get(conn, path, into):
        if upload is not None and upload["kind"] == "file":
            with open(upload["file"], "rb") as f:
                conn.request(method, path, body=f, headers=headers)
        else:
            conn.request(method, path, body=upload_body, headers=headers)
        res = conn.getresponse()
        if mode == "all":
            body = res.read()
            return len(body) if upload is None else int(body)
        n = 0
        if mode == "amt":
            while True:
                piece = res.read(PIECE)
                if not piece:
                    return n
                n += len(piece)
        view = memoryview(into)
        while True:
            k = res.readinto(view)
            if k == 0:
                return n
            n += k

    conns = [connect() for _ in range(spec["conns"])]

    def share(total, i):
        return total // len(conns) + (1 if i < total % len(conns) else 0)

    def loop(conn, count, path, out, done, i, deadline):
        # No new request starts once the deadline (perf_counter_ns) has passed.
        into = bytearray(PIECE)
        total = 0
        n = 0
        while n < count:
            total += get(conn, path, into)
            n += 1
            if time.perf_counter_ns() > deadline:
                break
        out[i] = total
        done[i] = n

    warm = max(spec["warmup"], len(conns))
    scratch = [0] * len(conns)
    warm_deadline = time.perf_counter_ns() + spec["warmBudgetMs"] * 1_000_000
    for i, conn in enumerate(conns):
        loop(conn, share(warm, i), spec["warmPath"], scratch, list(scratch), i, warm_deadline)

    out = [0] * len(conns)
    done = [0] * len(conns)
    sys.stdout.write("START\n")
    sys.stdout.flush()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter_ns()
    deadline = t0 + spec["budgetMs"] * 1_000_000
    if len(conns) == 1:
        loop(conns[0], spec["count"], spec["path"], out, done, 0, deadline)
    else:
        threads = [
            threading.Thread(
                target=loop,
                args=(c, share(spec["count"], i), spec["path"], out, done, i, deadline),
            )
            for i, c in enumerate(conns)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    t1 = time.perf_counter_ns()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    sys.stdout.write("STOP\n")
    sys.stdout.flush()
    result = {
        "elapsedNs": t1 - t0,
        "cpuUserUs": round((r1.ru_utime - r0.ru_utime) * 1e6),
        "cpuSystemUs": round((r1.ru_stime - r0.ru_stime) * 1e6),
        "requests": sum(done),
        "bytes": sum(out),
        "rssBaseline": 0,
        "rssPeak": 0,
        "maxRssKiB": r1.ru_maxrss,
        "minorFaults": r1.ru_minflt - r0.ru_minflt,
        "preempted": r1.ru_nivcsw - r0.ru_nivcsw,
    }
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()
    for conn in conns:
        conn.close()


if __name__ == "__main__":
    main()

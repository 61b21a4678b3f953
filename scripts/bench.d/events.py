"""The measurements behind scripts/bench-events (it says what they are). Run through it.

The receiver answers every push with one encrypted `success` made once with the community SDK's
crypto (dingdir does not check how fresh a reply's timestamp is), so the receiver's own cost is
an HTTP read and a clock read; the pushes are decrypted with the same SDK after the run, to tell
which write each was.
"""
import argparse
import http.client
import http.server
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from dingtalk.crypto import DingTalkCrypto

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LUA = os.path.join(ROOT, "scripts", "bench.d", "usercreate.lua")
ADMIN = "bench"
CORP = "ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4"
TOKEN = "benchtoken"
AES_KEY = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij"
WRITER = f"""apps:
  - key: dingbenchwriter
    name: Bench Writer
    type: internal
    secret: bench-secret
    corp: {CORP}
    scopes: [qyapi_get_member, qyapi_manage_addresslist]
"""


class Process:
    def __init__(self, argv, pattern, env=None):
        # BENCH_SERVER_LOG=FILE keeps the servers' logs (appended) for a run that went wrong.
        log = os.environ.get("BENCH_SERVER_LOG")
        stderr = open(log, "a") if log else subprocess.DEVNULL
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr,
                                     stdin=subprocess.DEVNULL, text=True, env=env)
        deadline = time.time() + 60
        self.base = None
        while time.time() < deadline and self.base is None:
            m = re.search(pattern, self.proc.stdout.readline())
            if m:
                self.base = m.group(1)
        if not self.base:
            self.stop()
            sys.exit(f"{argv[0]} did not start")
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def call(base, path, body=None, headers=None, method=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    if body is not None and not isinstance(body, bytes):
        req.add_header("content-type", "application/json")
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def admin(base, method, path, body=None):
    return call(base, path, body, {"authorization": f"Bearer {ADMIN}"}, method)


class Receiver:
    def __init__(self):
        self.crypto = DingTalkCrypto(TOKEN, AES_KEY, "dingbenchwriter")
        reply = json.dumps(self.crypto.encrypt_message("success")).encode()
        self.pushes = []
        me = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The handler writes the headers and the body in two sends; with Nagle on, the body
            # waits for the client's delayed ACK (about 40 ms a push), which measured the
            # receiver, not dingdir.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                me.pushes.append((time.monotonic(), self.path, body))
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cb"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def arrivals(self):
        """{userid: monotonic arrival} of every user_add_org pushed so far."""
        import urllib.parse
        out = {}
        for at, path, body in list(self.pushes):
            q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query))
            event = json.loads(self.crypto.decrypt_message(body, q["signature"], q["timestamp"], q["nonce"]))
            if event.get("EventType") == "user_add_org":
                out.setdefault(event["UserId"][0], at)
        return out


def wrk(url, args, seconds):
    script, rest = (args[:2], args[2:]) if args else ([], [])
    out = subprocess.run(["wrk", "-t2", "-c16", "--latency", "-d", f"{seconds}s", *script, url, *rest],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def member_count(base, token):
    return call(base, f"/topapi/user/count?access_token={token}", {"only_active": False})["result"]["count"]


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def run(args, backend, db):
    with tempfile.TemporaryDirectory() as tmp:
        seed = os.path.join(tmp, "writer.yaml")
        with open(seed, "w") as f:
            f.write(WRITER)
        server = Process([args.dingdir, "serve", "--db", db(tmp), "--listen", "127.0.0.1:0", "--admin-token", ADMIN,
                          "--log", "warn"], r"dingdir listening on (http://\S+)")
        baseline = Process([args.static_json], r"listening on (http://\S+)")
        try:
            base = server.base
            with open(os.path.join(ROOT, "examples", "demo.yaml"), "rb") as f:
                admin(base, "POST", "/_dingdir/seed", f.read())
            admin(base, "POST", "/_dingdir/seed", WRITER.encode())
            receiver = Receiver()
            admin(base, "PUT", "/_dingdir/callbacks/dingbenchwriter",
                  {"url": receiver.url, "token": TOKEN, "aes_key": AES_KEY, "events": ["user_add_org"]})
            token = call(base, "/gettoken?appkey=dingbenchwriter&appsecret=bench-secret")["access_token"]

            conn = http.client.HTTPConnection(base[len("http://"):], timeout=30)
            answered, round_trips = {}, []
            total = 100 * args.seconds
            start = time.monotonic()
            for i in range(total):
                due = start + i / 100
                now = time.monotonic()
                if due > now:
                    time.sleep(due - now)
                userid = f"lat{i:05d}"
                body = json.dumps({"userid": userid, "name": userid, "mobile": f"166{i:08d}", "dept_id_list": "1"})
                sent = time.monotonic()
                conn.request("POST", f"/topapi/v2/user/create?access_token={token}", body,
                             {"content-type": "application/json"})
                reply = json.loads(conn.getresponse().read())
                done = time.monotonic()
                if reply.get("errcode") != 0:
                    sys.exit(f"write failed: {reply}")
                answered[userid] = done
                round_trips.append((done - sent) * 1000)
            achieved = total / (time.monotonic() - start)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(receiver.arrivals().keys() & answered.keys()) < total:
                time.sleep(0.2)
            arrived = receiver.arrivals()
            latencies = [(arrived[u] - t) * 1000 for u, t in answered.items() if u in arrived]
            ratios, rates, statics = [], [], []
            for r in range(args.rounds):
                static = wrk(baseline.base, [], args.seconds)
                before = member_count(base, token)
                t0 = time.monotonic()
                wrk(base, ["-s", LUA, "--", token, str(r + 1)], args.seconds)
                elapsed = time.monotonic() - t0
                written = member_count(base, token) - before
                rate = written / elapsed
                rates.append(rate)
                statics.append(static)
                ratios.append(rate / static)

            # Whether the deliverer catches up with the bulk writes within two minutes.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                cb = admin(base, "GET", "/_dingdir/callbacks")["callbacks"][0]
                events = admin(base, "GET", f"/_dingdir/events?type=user_add_org&after={cb['delivered_seq']}&limit=1")
                if not events["events"]:
                    break
                time.sleep(0.5)
            backlog_drained = time.monotonic() < deadline

            return {
                "backend": backend,
                "writes_per_s": [round(x) for x in rates],
                "static_json_rps": [round(x) for x in statics],
                "writes_ratio_median": round(statistics.median(ratios), 4),
                "backlog_drained": backlog_drained,
                "paced_rate_per_s": round(achieved, 1),
                "events": len(latencies),
                "events_expected": total,
                "latency_p50_ms": round(percentile(latencies, 50), 2),
                "latency_p99_ms": round(percentile(latencies, 99), 2),
                "write_p50_ms": round(percentile(round_trips, 50), 2),
                "latency_p50_over_write_p50": round(percentile(latencies, 50) / percentile(round_trips, 50), 2),
            }
        finally:
            server.stop()
            baseline.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dingdir", required=True)
    p.add_argument("--static-json", required=True)
    p.add_argument("--postgres", required=True)
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()

    def postgres(_tmp):
        # A fresh database per run, on the throwaway cluster.
        name = f"bench_events_{os.getpid()}"
        admin_url = args.postgres
        subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True,
                       capture_output=True)
        subprocess.run(["psql", admin_url, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
        return admin_url.rsplit("/", 1)[0] + "/" + name

    results = [
        run(args, "sqlite", lambda tmp: "sqlite:" + os.path.join(tmp, "bench.sqlite")),
        run(args, "postgres", postgres),
    ]
    os.makedirs(os.path.join(ROOT, "target", "bench"), exist_ok=True)
    with open(os.path.join(ROOT, "target", "bench", "events.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

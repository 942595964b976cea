"""Console budgets: JS + CSS per page (gzipped) and server CPU per page render.

Every console page is the same shell loading /assets/app.js, which imports every module
statically, plus app.css and the icon: so "per page" is the shell + all assets, each
gzipped as a server would send it. CPU per render: the console binary under a Lambda
Runtime API emulator answers N page requests; its user+system CPU time (from
/proc/<pid>/stat) divided by N, including the runtime's event decoding and response
encoding. Prints JSON lines. Usage: console.py --bin target/release/console [--requests 2000]
"""

import argparse
import gzip
import http.server
import json
import os
import pathlib
import subprocess
import sys
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from coldstart import http_get_event as event  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
ASSETS = ROOT / "functions/console/assets"
PAGES = ["/", "/login", "/signup", "/invite/tok", "/orgs/acme/onboarding", "/orgs/acme/members",
         "/orgs/acme/webhooks", "/orgs/acme/repos", "/orgs/acme/repos/r1", "/orgs/acme/api-keys",
         "/orgs/acme/audit", "/orgs/acme/settings", "/admin/orgs"]


def sizes():
    files = sorted(p for p in ASSETS.iterdir() if p.suffix in (".js", ".css"))
    raw = sum(p.stat().st_size for p in files)
    gz = sum(len(gzip.compress(p.read_bytes(), 9)) for p in files)
    print(json.dumps({"kind": "console_assets", "files": len(files), "raw_bytes": raw, "gzip_bytes": gz}))


def cpu_per_render(binary, n):
    state = {"i": 0, "done": threading.Event()}

    class Runtime(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as two writes

        def log_message(self, *args):
            pass

        def do_GET(self):
            if state["i"] >= n:
                state["done"].set()
                time.sleep(5)
                return
            body = json.dumps(event(PAGES[state["i"] % len(PAGES)])).encode()
            state["i"] += 1
            self.send_response(200)
            self.send_header("Lambda-Runtime-Aws-Request-Id", f"req-{state['i']}")
            self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
            self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:1:function:bench")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Runtime)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}", RUST_LOG="warn",
               AWS_LAMBDA_FUNCTION_NAME="bench", AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
               AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128")
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ok = state["done"].wait(300)
    fields = open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    proc.kill()
    proc.wait()
    server.shutdown()
    if not ok:
        raise SystemExit("console: the binary did not answer every request")
    per_ms = ticks / os.sysconf("SC_CLK_TCK") * 1000 / n
    print(json.dumps({"kind": "console_render", "requests": n, "cpu_ms_per_page": round(per_ms, 4),
                      "binary_bytes": os.path.getsize(binary)}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--requests", type=int, default=2000)
    a = p.parse_args()
    sizes()
    cpu_per_render(a.bin, a.requests)
    return 0


if __name__ == "__main__":
    sys.exit(main())

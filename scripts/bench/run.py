#!/usr/bin/env python3
"""`make bench`: the gateway and its peers in one run, one report.

1. the gateway's release build: `cargo bench -p server` runs `sessions` (memory per idle
   attempt socket, answer latency, CPU per answer), `fanout` (live sockets receiving one
   publish) and `extract` (PDF pages per second);
2. Streamlit (PyPI, into .tools/streamlit, once) running `streamlit_exam.py`, driven over its
   WebSocket protocol by `streamlit_driver.py` with the same numbers of sessions;
3. pdfminer.six (PyPI, into .tools/pdfminer, once) on the same PDFs;
4. the first load of the student's exam page and of the Streamlit page in Chromium
   (`first_load.mjs`; our release site from `scripts/build-site.sh release`).

Writes target/bench/report.json, report.md and *.svg. Every figure comes from this run;
BENCH_ROUNDS (default 3) rounds of each measure, medians reported. Other knobs: BENCH_SESSIONS
(200), BENCH_IDLE_SESSIONS (200,1000), BENCH_FANOUT (1000,5000), BENCH_EXTRACT_REPEATS (3),
BENCH_SKIP (comma list of gateway,streamlit,extract,first_load to leave out; a skipped gateway's
numbers are taken from the last run's target/bench/*.json, a skipped peer's from the last
report.json), BENCH_STREAMLIT_ROUNDS (default
BENCH_ROUNDS: Streamlit's 1,000 sessions and 8,000 reruns take minutes a round),
BENCH_STREAMLIT_INTERACTIONS (20 questions per answering session)."""

import json
import os
import pathlib
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "target/bench"
TOOLS = ROOT / ".tools"
# The driver speaks Streamlit's protocol with `websockets`, installed beside it.
STREAMLIT_PIN = "streamlit==1.67.0 websockets==15.0.1"
PDFMINER_PIN = "pdfminer.six==20260107"
ROUNDS = max(1, int(os.environ.get("BENCH_ROUNDS", "3")))
STREAMLIT_ROUNDS = max(1, int(os.environ.get("BENCH_STREAMLIT_ROUNDS", str(ROUNDS))))
# Questions each answering Streamlit session goes through (choose + Next: two reruns each).
STREAMLIT_INTERACTIONS = os.environ.get("BENCH_STREAMLIT_INTERACTIONS", "20")
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "200"))
IDLE = os.environ.get("BENCH_IDLE_SESSIONS", "200,1000")
SKIP = set(filter(None, os.environ.get("BENCH_SKIP", "").split(",")))


def say(msg):
    print(f"\033[1m==> {msg}\033[0m", flush=True)


def machine():
    cpu = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = 0
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            mem = int(line.split()[1]) // 1024
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_mib": mem,
        "kernel": platform.release(),
        "load_average": " ".join(open("/proc/loadavg").read().split()[:3]),
        "python": platform.python_version(),
    }


def ensure(target, pin, probe):
    """pip-installs `pin` into .tools/<target> unless it is there (the pin recorded beside it)."""
    where = TOOLS / target
    stamp = where / ".pin"
    if stamp.exists() and stamp.read_text() == pin and (where / probe).exists():
        return where
    say(f"installing {pin} into .tools/{target} (once)")
    subprocess.run(["rm", "-rf", str(where)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", str(where), *pin.split()], check=True)
    stamp.write_text(pin)
    return where


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, seconds=60):
    until = time.time() + seconds
    while time.time() < until:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def median(xs):
    xs = [x for x in xs if x is not None]
    return round(statistics.median(xs), 2) if xs else None


class Streamlit:
    def __init__(self, st_path):
        self.port = free_port()
        env = dict(os.environ, PYTHONPATH=str(st_path), MALLOC_ARENA_MAX=os.environ.get("MALLOC_ARENA_MAX", ""))
        if not env["MALLOC_ARENA_MAX"]:
            del env["MALLOC_ARENA_MAX"]  # Streamlit as it is installed: glibc's defaults
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "scripts/bench/streamlit_exam.py"),
             "--global.developmentMode", "false", "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_http(f"http://127.0.0.1:{self.port}/_stcore/health")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def streamlit_rounds(st_path):
    rounds = []
    for r in range(STREAMLIT_ROUNDS):
        say(f"Streamlit round {r + 1}/{STREAMLIT_ROUNDS}: {IDLE} idle sessions, {SESSIONS} answering")
        st = Streamlit(st_path)
        try:
            out = subprocess.run(
                [sys.executable, str(ROOT / "scripts/bench/streamlit_driver.py"), "--url", f"ws://127.0.0.1:{st.port}/_stcore/stream",
                 "--pid", str(st.proc.pid), "--idle", IDLE, "--sessions", str(SESSIONS), "--interactions", STREAMLIT_INTERACTIONS],
                env=dict(os.environ, PYTHONPATH=str(st_path)), check=True, capture_output=True, text=True)
            rounds.append(json.loads(out.stdout))
        finally:
            st.stop()
    steps = [int(n) for n in IDLE.split(",") if n.strip()]
    return {
        "version": (st_path / ".pin").read_text(),
        "installed": next((p.name for p in st_path.glob("streamlit-*.dist-info")), ""),
        "rounds": STREAMLIT_ROUNDS,
        "median": {
            "per_session_kib": {str(s): median([r["idle_sessions"][k]["per_session_kib"] for r in rounds]) for k, s in enumerate(steps)},
            "per_session_kib_marginal": median([r["per_session_kib_marginal"] for r in rounds]),
            "cpu_ms_per_interaction": median([r["cpu_ms_per_interaction"] for r in rounds]),
            "answer_p50_ms": median([r["answer_roundtrip_ms"]["p50"] for r in rounds]),
            "answer_p99_ms": median([r["answer_roundtrip_ms"]["p99"] for r in rounds]),
            "interactions_per_second": median([r["interactions_per_second"] for r in rounds]),
        },
        "per_round": rounds,
    }


def http(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return resp.status, resp.headers, resp.read()


def gateway_exam_page():
    """A release gateway serving the release site, an exam published, one student joined:
    returns (process, the exam page's URL, the student's cookie, the teacher's cookie)."""
    site = ROOT / "target/site"
    binary = ROOT / "target/release/server"
    if not (site / "hash.txt").exists() or not binary.exists():
        return None
    port = free_port()
    data = OUT / "first-load-data"
    subprocess.run(["rm", "-rf", str(data)], check=True)
    data.mkdir(parents=True)
    (data / "admin-password").write_text("bench password 123")
    env = dict(os.environ, EXAM_DATA_DIR=str(data), LEPTOS_SITE_ADDR=f"127.0.0.1:{port}", LEPTOS_SITE_ROOT=str(site), RUST_LOG="warn",
               MALLOC_ARENA_MAX="2", EXAM_ADMIN_EMAIL="bench@school.test", EXAM_ADMIN_PASSWORD_FILE=str(data / "admin-password"))
    proc = subprocess.Popen([str(binary)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/healthz")
    _, h, _ = http("POST", f"{base}/api/v1/auth/login", json.dumps({"email": "bench@school.test", "password": "bench password 123"}).encode(),
                   {"content-type": "application/json"})
    teacher = h["set-cookie"].split(";")[0]
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in (("mcq", "10"), ("options", "4"), ("true_false", "10")):
        parts.append(f'--{boundary}\r\ncontent-disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    pdf = (ROOT / "generator/tests/fixtures/lecture.pdf").read_bytes()
    parts.append(f'--{boundary}\r\ncontent-disposition: form-data; name="file"; filename="lecture.pdf"\r\ncontent-type: application/pdf\r\n\r\n'.encode() + pdf + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    _, _, body = http("POST", f"{base}/api/v1/exams", b"".join(parts), {"cookie": teacher, "content-type": f"multipart/form-data; boundary={boundary}"})
    exam = json.loads(body)["id"]
    for _ in range(600):
        _, _, body = http("GET", f"{base}/api/v1/exams", headers={"cookie": teacher})
        if any(e["id"] == exam and e["status"] != "generating" for e in json.loads(body)):
            break
        time.sleep(0.1)
    http("POST", f"{base}/api/v1/exams/{exam}/publish", b"", {"cookie": teacher})
    _, _, body = http("GET", f"{base}/api/v1/exams/{exam}/questions", headers={"cookie": teacher})
    code = json.loads(body)["join_code"]
    _, h, _ = http("POST", f"{base}/api/v1/exams/{exam}/join", json.dumps({"code": code, "name": "First Load"}).encode(), {"content-type": "application/json"})
    student = next(c for c in h.get_all("set-cookie") if c.startswith("exam_session=")).split(";")[0]
    return proc, f"{base}/exams/{exam}", student, teacher


def first_load(st_path):
    say("first load in Chromium: the student's exam page and the Streamlit page")
    pages = []
    gateway = gateway_exam_page()
    st = Streamlit(st_path)
    try:
        if gateway:
            proc, url, cookie, teacher = gateway
            name, value = cookie.split("=", 1)
            pages.append({"name": "gateway", "url": url, "cookies": [{"name": name, "value": value, "url": url}], "ready": ".live-badge", "text": "Live$"})
            # What a teacher's first load costs (the full bundle): the dashboard.
            home = url.split("/exams/")[0] + "/teacher"
            name, value = teacher.split("=", 1)
            pages.append({"name": "gateway_teacher", "url": home, "cookies": [{"name": name, "value": value, "url": home}], "ready": ".live-badge", "text": "Live$"})
        pages.append({"name": "streamlit", "url": f"http://127.0.0.1:{st.port}/", "ready": "[data-testid=stRadio]"})
        out = subprocess.run(["node", str(ROOT / "scripts/bench/first_load.mjs"), json.dumps({"pages": pages})], check=True, capture_output=True, text=True)
        result = json.loads(out.stdout)
    finally:
        st.stop()
        if gateway:
            gateway[0].terminate()
            gateway[0].wait(10)
    if not gateway:
        result["gateway"] = None
        result["note"] = "no release site (target/site/hash.txt) or release server: run `make build-release` first"
    return result


# ---------------------------------------------------------------- report

def ratio(a, b, digits=1):
    if a is None or b is None or b == 0:
        return None
    return round(a / b, digits)


def fmt(x, unit=""):
    if x is None:
        return "—"
    if isinstance(x, float) and x >= 100:
        x = round(x)
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer()):
        s = f"{int(x):,}"
    else:
        s = f"{x:,}"
    return f"{s}{unit}"


def svg_bars(title, bars, unit, target=None, path=None):
    """A horizontal bar chart: bars = [(label, value)], an optional target line."""
    width, left, row = 720, 300, 34
    height = 60 + row * len(bars) + 30
    values = [v for _, v in bars if v is not None] + ([target] if target else [])
    top = max(values) * 1.15 if values else 1
    scale = (width - left - 80) / top
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="13">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="12" y="24" font-size="15" font-weight="bold">{title}</text>']
    for i, (label, v) in enumerate(bars):
        y = 50 + i * row
        out.append(f'<text x="{left - 8}" y="{y + 17}" text-anchor="end">{label}</text>')
        if v is None:
            out.append(f'<text x="{left + 4}" y="{y + 17}" fill="#888">not measured</text>')
            continue
        w = max(1, v * scale)
        out.append(f'<rect x="{left}" y="{y + 4}" width="{w:.1f}" height="{row - 12}" fill="#3b6ea5"/>')
        out.append(f'<text x="{left + w + 6:.1f}" y="{y + 17}">{fmt(v)}{unit}</text>')
    if target:
        x = left + target * scale
        out.append(f'<line x1="{x:.1f}" y1="42" x2="{x:.1f}" y2="{height - 24}" stroke="#c0392b" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{x:.1f}" y="{height - 8}" fill="#c0392b" text-anchor="middle">target {fmt(target)}{unit}</text>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


def write_report(report):
    (OUT / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    g = (report.get("gateway") or {}).get("sessions", {}).get("median", {})
    s = (report.get("streamlit") or {}).get("median", {})
    fl = report.get("first_load") or {}
    fo = (report.get("gateway") or {}).get("fanout", {}).get("steps", [])
    ex = report.get("extraction") or {}
    steps = [int(n) for n in IDLE.split(",") if n.strip()]
    rows = []
    ratios = []
    for n in steps:
        a, b = s.get("per_session_kib", {}).get(str(n)), g.get("per_socket_kib", {}).get(str(n))
        rows.append((f"RSS per open, idle exam session, {n:,} sessions (KiB)", a, b, ratio(a, b), "≤ 5 KiB (1/20 of Streamlit)"))
        ratios.append((f"RSS / idle session, {n:,}", ratio(a, b)))
    a, b = s.get("per_session_kib_marginal"), g.get("per_socket_kib_marginal")
    rows.append((f"… marginal, {steps[0]:,}→{steps[-1]:,} (KiB)", a, b, ratio(a, b), ""))
    a, b = s.get("cpu_ms_per_interaction"), g.get("server_cpu_ms_per_answer")
    rows.append(("server CPU per interaction: Streamlit one rerun, gateway one answer (ms)", a, b, ratio(a, b), "gateway ≤ 0.3 ms"))
    ratios.append(("CPU / interaction", ratio(a, b)))
    a, b = s.get("answer_p50_ms"), g.get("answer_p50_ms")
    rows.append((f"answer round trip p50, {SESSIONS} sessions answering at once (ms)", a, b, ratio(a, b), ""))
    fa = (fl.get("streamlit") or {}).get("bytes")
    fb = (fl.get("gateway") or {}).get("bytes")
    rows.append(("bytes on the wire, first load of the exam page (B)", fa, fb, ratio(fa, fb), "≤ 210 KB (1/10)"))
    ft = (fl.get("gateway_teacher") or {}).get("bytes")
    rows.append(("… the teacher's dashboard, first load (B; the full bundle)", fa, ft, ratio(fa, ft), ""))
    ratios.append(("first-load bytes", ratio(fa, fb)))
    for step in fo:
        rows.append((f"\"exam published\" to {step['sockets']:,} live sockets: delivery p50 / p99 (ms)", None,
                     f"{fmt(step['delivery_p50_ms'])} / {fmt(step['delivery_p99_ms'])}", None, "5,000, p99 ≤ 50 ms"))
    ours, theirs = (ex.get("ours") or {}), (ex.get("pdfminer") or {})
    rows.append(("PDF extraction, pages per second (wall clock; pdfminer.six in the Streamlit column)", theirs.get("pages_per_second"),
                 ours.get("pages_per_second"), ratio(theirs.get("pages_per_second"), ours.get("pages_per_second"), 3), ""))
    rows.append(("PDF extraction, pages per CPU second", theirs.get("pages_per_cpu_second"), ours.get("pages_per_cpu_second"),
                 ratio(theirs.get("pages_per_cpu_second"), ours.get("pages_per_cpu_second"), 3), ""))
    m = report["machine"]
    md = [
        "# Gateway beside its peers",
        "",
        f"One `make bench` run, {report['finished']}. Machine: {m['cpu']}, {m['cores']} cores, {m['memory_mib']:,} MiB, "
        f"kernel {m['kernel']}, load average {m['load_average']} at the start and {report['load_average_end']} at the end "
        "(client and servers share the machine). Medians of "
        f"{(report.get('gateway') or {}).get('sessions', {}).get('rounds', ROUNDS)} rounds for the gateway, "
        f"{(report.get('streamlit') or {}).get('rounds', STREAMLIT_ROUNDS)} for Streamlit; ratio = peer ÷ gateway (above 1: the gateway uses less, or is faster for pages per second below 1).",
        "",
        f"| measure | {s and 'Streamlit ' + report['streamlit']['installed'].removeprefix('streamlit-').removesuffix('.dist-info') or 'Streamlit'} | gateway | ratio | target |",
        "|---|---|---|---|---|",
    ]
    for label, a, b, r, t in rows:
        md.append(f"| {label} | {fmt(a)} | {b if isinstance(b, str) else fmt(b)} | {fmt(r, '×') if r is not None else '—'} | {t} |")
    if fo:
        md += ["", "## Fan-out: one publish to N live sockets", "",
               "| sockets | delivered | delivery p50 | p99 | max | publish request | server CPU | server RSS | per live socket |",
               "|---|---|---|---|---|---|---|---|---|"]
        for st in fo:
            md.append(f"| {st['sockets']:,} | {'all' if st['delivered_all'] else 'NOT all'} | {fmt(st['delivery_p50_ms'])} ms | {fmt(st['delivery_p99_ms'])} ms | "
                      f"{fmt(st['delivery_max_ms'])} ms | {fmt(st['publish_request_ms'])} ms | {fmt(st['server_cpu_ms'])} ms | "
                      f"{fmt(st['server_rss_kib'])} KiB | {fmt(st['per_live_socket_kib'])} KiB |")
    if ours.get("files"):
        md += ["", "## PDF extraction", "", f"{ours.get('extractor')} vs {theirs.get('extractor')}", "",
               "| file | pages | ours (ms) | pdfminer (ms) | pdfminer ÷ ours |", "|---|---|---|---|---|"]
        by_name = {f["file"]: f for f in theirs.get("files", [])}
        for f in ours["files"]:
            t = by_name.get(f["file"], {})
            md.append(f"| {f['file']} | {f['pages']} | {fmt(f['median_ms'])} | {fmt(t.get('median_ms'))} | {fmt(ratio(t.get('median_ms'), f['median_ms']), '×')} |")
    if fl:
        md += ["", "## First load (Chromium, empty cache)", ""]
        for name in ("gateway", "gateway_teacher", "streamlit"):
            d = fl.get(name)
            if d:
                md.append(f"- {name}: {d['bytes']:,} B ({d['http_bytes']:,} B in {d['responses']} HTTP responses, {d['websocket_bytes']:,} B of WebSocket frames), ready after {d['ready_ms']} ms")
        if fl.get("note"):
            md.append(f"- gateway: {fl['note']}")
    md += ["", "Charts: `ratios.svg`, `memory.svg`, `fanout.svg`, `extraction.svg`.", ""]
    (OUT / "report.md").write_text("\n".join(md))
    svg_bars("Streamlit ÷ gateway (higher: the gateway uses less)", ratios, "×", path=OUT / "ratios.svg")
    mem = []
    for n in steps:
        mem += [(f"Streamlit, {n:,} sessions", s.get("per_session_kib", {}).get(str(n))), (f"gateway, {n:,} sessions", g.get("per_socket_kib", {}).get(str(n)))]
    svg_bars("RSS per idle exam session (KiB)", mem, " KiB", target=5, path=OUT / "memory.svg")
    fan = []
    for st in fo:
        fan += [(f"{st['sockets']:,} sockets, p50", st["delivery_p50_ms"]), (f"{st['sockets']:,} sockets, p99", st["delivery_p99_ms"])]
    svg_bars("Delivery of one publish to N live sockets (ms)", fan, " ms", target=50, path=OUT / "fanout.svg")
    svg_bars("PDF extraction (pages per second)", [("gateway (pdf-extract + repair)", ours.get("pages_per_second")),
                                                    ("pdfminer.six extract_text", theirs.get("pages_per_second"))], " p/s", path=OUT / "extraction.svg")
    print("\n".join(md))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine(), "rounds": ROUNDS, "sessions": SESSIONS, "idle_sessions": IDLE}
    # A skipped peer's (or step's) numbers come from the last report, marked as such.
    previous = json.loads((OUT / "report.json").read_text()) if (OUT / "report.json").exists() else {}
    for part, key in (("streamlit", "streamlit"), ("extract", "extraction"), ("first_load", "first_load")):
        if part in SKIP and previous.get(key):
            report[key] = previous[key]
            report.setdefault("reused_from_previous_run", []).append(key)
    st_path = ensure("streamlit", STREAMLIT_PIN, "streamlit") if {"streamlit", "first_load"} - SKIP else None
    pm_path = ensure("pdfminer", PDFMINER_PIN, "pdfminer") if "extract" not in SKIP else None
    if "gateway" not in SKIP:
        say(f"the gateway: cargo bench -p server (sessions, fanout, extract; {ROUNDS} rounds)")
        env = dict(os.environ, CARGO_INCREMENTAL="0", BENCH_ROUNDS=str(ROUNDS))
        benches = ["--bench", "sessions", "--bench", "fanout"] + ([] if "extract" in SKIP else ["--bench", "extract"])
        subprocess.run(["cargo", "bench", "--locked", "-p", "server", *benches], cwd=ROOT, env=env, check=True)
    if "gateway" not in SKIP or all((OUT / f"{name}.json").exists() for name in ("sessions", "fanout")):
        report["gateway"] = {name: json.loads((OUT / f"{name}.json").read_text()) for name in ("sessions", "fanout")}
    if "streamlit" not in SKIP:
        report["streamlit"] = streamlit_rounds(st_path)
    if "extract" not in SKIP:
        say("pdfminer.six on the same PDFs")
        out = subprocess.run([sys.executable, str(ROOT / "scripts/bench/pdfminer_speed.py"), "--root", str(ROOT), "--repeats",
                              os.environ.get("BENCH_EXTRACT_REPEATS", "3")], env=dict(os.environ, PYTHONPATH=str(pm_path)),
                             check=True, capture_output=True, text=True)
        report["extraction"] = {"pdfminer": json.loads(out.stdout)}
        ours = OUT / "extract.json"
        if ours.exists():
            report["extraction"]["ours"] = json.loads(ours.read_text())
    if "first_load" not in SKIP:
        report["first_load"] = first_load(st_path)
    report["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    report["load_average_end"] = " ".join(open("/proc/loadavg").read().split()[:3])
    write_report(report)


if __name__ == "__main__":
    main()

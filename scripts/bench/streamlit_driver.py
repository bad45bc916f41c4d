"""Drives a running Streamlit app over its own protocol, as its browser page does: a WebSocket
to `/_stcore/stream` (subprotocol `streamlit`), protobuf `BackMsg` up (`rerun_script` with the
widget states) and `ForwardMsg` down, until `script_finished`. Uses the `streamlit.proto`
classes of the installed package, so the messages are the real ones.

    python3 streamlit_driver.py --url ws://127.0.0.1:PORT/_stcore/stream --pid PID \
        --idle 200,1000 --sessions 200 --interactions 20

Prints one JSON object: RSS per idle session at each step, server CPU per interaction
(choose an option = one rerun, Next = one rerun), round-trip percentiles."""

import argparse
import asyncio
import json
import os
import statistics
import time

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

TICK = os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_s(pid):
    """User + system CPU of the whole process (every thread), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Session:
    """One browser tab: the socket and the widgets of the page it was last sent."""

    def __init__(self, ws):
        self.ws = ws
        self.radio = None
        self.options = []
        self.button = None
        self.received = 0

    @classmethod
    async def open(cls, url):
        ws = await websockets.connect(url, subprotocols=["streamlit"], max_size=None, ping_interval=None, compression=None)
        s = cls(ws)
        await s.rerun([])
        return s

    async def rerun(self, widgets):
        """Sends `rerun_script` with these widget states and reads until the run finished."""
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_script_hash = ""
        for w in widgets:
            state = msg.rerun_script.widget_states.widgets.add()
            state.id = w["id"]
            if "string_value" in w:
                state.string_value = w["string_value"]
            if w.get("trigger_value"):
                state.trigger_value = True
        await self.ws.send(msg.SerializeToString())
        while True:
            data = await self.ws.recv()
            self.received += len(data)
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                el = fwd.delta.new_element
                which = el.WhichOneof("type")
                if which == "radio":
                    self.radio, self.options = el.radio.id, list(el.radio.options)
                elif which == "button":
                    self.button = el.button.id
            elif kind == "script_finished":
                # FINISHED_SUCCESSFULLY ends the run; FINISHED_EARLY_FOR_RERUN (st.rerun)
                # means another run follows on its own.
                if fwd.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                    return

    async def answer(self, k):
        """Chooses option k of the current question (the radio's on_change stores it)."""
        await self.rerun([{"id": self.radio, "string_value": self.options[k % len(self.options)]}])

    async def next(self, k):
        await self.rerun([
            {"id": self.radio, "string_value": self.options[k % len(self.options)]},
            {"id": self.button, "trigger_value": True},
        ])


def percentile(xs, p):
    if not xs:
        return 0.0
    xs = sorted(xs)
    return round(xs[round((len(xs) - 1) * p)] * 1000, 2)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--idle", default="200,1000")
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--interactions", type=int, default=20, help="questions answered per session (each: choose + Next)")
    ap.add_argument("--settle", type=float, default=1.5)
    args = ap.parse_args()
    steps = [int(n) for n in args.idle.split(",") if n.strip()]

    # Warm-up: one session runs the script once (imports, the script's compiled code), then closes.
    warm = await Session.open(args.url)
    first_load_ws_bytes = warm.received
    await warm.ws.close()
    await asyncio.sleep(args.settle)
    base = rss_kib(args.pid)
    sessions = []
    idle = []
    for step in steps:
        while len(sessions) < step:
            batch = min(50, step - len(sessions))
            sessions.extend(await asyncio.gather(*(Session.open(args.url) for _ in range(batch))))
        await asyncio.sleep(args.settle)
        rss = rss_kib(args.pid)
        idle.append({"sessions": step, "server_rss_kib": rss, "per_session_kib": round((rss - base) / step, 1)})
    marginal = None
    if len(idle) >= 2 and steps[-1] > steps[0]:
        marginal = round((idle[-1]["server_rss_kib"] - idle[0]["server_rss_kib"]) / (steps[-1] - steps[0]), 1)

    # Interactions: `sessions` of them answer every question as fast as they can, all at once.
    for s in sessions[args.sessions:]:
        await s.ws.close()
    sessions = sessions[: args.sessions]
    await asyncio.sleep(args.settle)
    answer_times, next_times = [], []

    async def student(s):
        for k in range(args.interactions):
            t = time.perf_counter()
            await s.answer(k)
            answer_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            await s.next(k)
            next_times.append(time.perf_counter() - t)

    cpu0, wall0 = cpu_s(args.pid), time.perf_counter()
    await asyncio.gather(*(student(s) for s in sessions))
    cpu1, wall = cpu_s(args.pid), time.perf_counter() - wall0
    interactions = len(answer_times) + len(next_times)
    for s in sessions:
        await s.ws.close()
    print(json.dumps({
        "rss_kib_after_warmup": base,
        "idle_sessions": idle,
        "per_session_kib_marginal": marginal,
        "sessions": len(sessions),
        "interactions": interactions,
        "cpu_ms_per_interaction": round((cpu1 - cpu0) * 1000 / interactions, 3),
        "interactions_per_second": round(interactions / wall),
        "answer_roundtrip_ms": {"p50": percentile(answer_times, 0.5), "p99": percentile(answer_times, 0.99)},
        "next_roundtrip_ms": {"p50": percentile(next_times, 0.5), "p99": percentile(next_times, 0.99)},
        "first_run_websocket_bytes": first_load_ws_bytes,
    }))


if __name__ == "__main__":
    asyncio.run(main())

#!/usr/bin/python3
"""The fleet peer for scripts/bench/fleet.ts: a FastAPI backend receiving device heartbeats over HTTP.

The pattern fleets use today: each device POSTs its heartbeat as JSON, the backend validates it with a
pydantic model and stores it in SQLite (WAL), one row per heartbeat with the time it was stored, and
answers with the updates waiting for the device (none here). One uvicorn process, as usually deployed
per core. Needs Debian's python3-fastapi and python3-uvicorn (run with /usr/bin/python3).

  /usr/bin/python3 fleet_fastapi_peer.py --port 8581 --db /tmp/peer.sqlite
"""
import argparse, json, sqlite3, threading, time
from typing import Any, Dict, List, Optional

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Extra

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, default=8581)
ap.add_argument("--db", required=True)
a = ap.parse_args()

db = sqlite3.connect(a.db, check_same_thread=False)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
db.execute("CREATE TABLE IF NOT EXISTS devices (device TEXT PRIMARY KEY, info TEXT NOT NULL, at REAL NOT NULL)")
db.execute(
    "CREATE TABLE IF NOT EXISTS heartbeats (device TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL,"
    " stored_ms REAL NOT NULL, body TEXT NOT NULL)"
)
db.commit()
# FastAPI runs plain `def` handlers in its thread pool: one writer at a time on the one connection.
lock = threading.Lock()


class Heartbeat(BaseModel, extra=Extra.allow):
    device: str
    at: str
    seq: int
    cpu_ratio: Optional[float] = None
    memory_ratio: Optional[float] = None
    disk_ratio: Optional[float] = None
    gpu_ratio: Optional[float] = None
    temperature_c: Optional[float] = None
    governor: Optional[str] = None
    models: Optional[Dict[str, Dict[str, Any]]] = None
    predictions: Optional[Dict[str, Any]] = None


app = FastAPI()


@app.post("/api/v1/edge-devices/register")
def register(info: Dict[str, Any]):
    with lock:
        row = (info.get("device"), json.dumps(info), time.time())
        db.execute("INSERT OR REPLACE INTO devices VALUES (?, ?, ?)", row)
        db.commit()
    return {"ok": True}


@app.post("/api/v1/edge-devices/{device_id}/heartbeat")
def heartbeat(device_id: str, beat: Heartbeat) -> Dict[str, List[Any]]:
    with lock:
        db.execute(
            "INSERT INTO heartbeats VALUES (?, ?, ?, ?, ?)",
            (device_id, beat.seq, beat.at, time.time() * 1000, beat.json()),
        )
        db.commit()
    return {"pending": [], "commands": []}


print("ready", flush=True)
uvicorn.run(app, host="127.0.0.1", port=a.port, log_level="warning", access_log=False)

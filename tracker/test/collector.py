#!/usr/bin/env python3
"""A stand-in for the Waymark server, for testing the tracker in a real browser.

  GET  /js/script.js, /js/script.full.js   the built tracker from tracker/dist
  GET  /js/script.<ext>.<ext>.js           the full build (legacy Plausible-style file names)
  POST /api/event                          appends the JSON body as one line to the events file,
                                           answers 202 with Access-Control-Allow-Origin: *
  GET  /__events                           the recorded events as a JSON array (for debugging)
  GET  anything else                       a file from the pages directory (dir -> index.html)

Requests for any host other than shop.example (e.g. other.example, the "outbound" site) get a
small page without the tracker. Only the standard library is used.

  python3 collector.py --port 8000 --pages test/pages --dist dist --events /tmp/events.jsonl
"""
import argparse
import json
import mimetypes
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
ARGS = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # one line per request on stderr, only with --verbose
        if ARGS.verbose:
            sys.stderr.write("collector: %s %s\n" % (self.headers.get("Host"), fmt % args))

    def reply(self, code, body=b"", ctype="text/plain; charset=utf-8"):
        self.send_response(code)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_OPTIONS(self):  # the tracker sends text/plain, so browsers should never preflight
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "POST")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        if self.path.split("?")[0] != "/api/event":
            return self.reply(404, b"not found")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype != "text/plain":  # what the tracker must send (no CORS preflight)
            return self.reply(415, b"expected text/plain")
        try:
            event = json.loads(body)
        except ValueError:
            return self.reply(400, b"bad json")
        with LOCK, open(ARGS.events, "a") as f:
            f.write(json.dumps(event, separators=(",", ":")) + "\n")
        self.reply(202, b"ok")

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?")[0].split("#")[0]
        host = (self.headers.get("Host") or "").split(":")[0]
        if path == "/__events":
            try:
                with LOCK, open(ARGS.events) as f:
                    events = [json.loads(line) for line in f if line.strip()]
            except FileNotFoundError:
                events = []
            return self.reply(200, json.dumps(events).encode(), "application/json")
        m = re.fullmatch(r"/js/script((?:\.[a-z-]+)*)\.js", path)
        if m:
            name = "script.js" if m.group(1) == "" else "script.full.js"
            return self.file(os.path.join(ARGS.dist, name), "application/javascript")
        if host not in ("shop.example", "127.0.0.1", "localhost"):
            return self.reply(200, b"<!doctype html><title>Elsewhere</title><h1>Another site</h1>",
                              "text/html; charset=utf-8")
        full = os.path.normpath(os.path.join(ARGS.pages, path.lstrip("/")))
        if not full.startswith(os.path.abspath(ARGS.pages)):
            return self.reply(403, b"forbidden")
        if os.path.isdir(full):
            full = os.path.join(full, "index.html")
        if not os.path.isfile(full) and os.path.isfile(full + ".html"):
            full += ".html"  # /pricing -> pricing.html (SPA routes reloaded by hand)
        self.file(full, mimetypes.guess_type(full)[0] or "application/octet-stream")

    def file(self, full, ctype):
        try:
            with open(full, "rb") as f:
                data = f.read()
        except OSError:
            return self.reply(404, b"not found")
        if ctype.startswith("text/") or ctype.endswith("javascript"):
            ctype += "; charset=utf-8"
        self.reply(200, data, ctype)


def main():
    global ARGS
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--pages", default=os.path.join(here, "pages"))
    p.add_argument("--dist", default=os.path.join(here, "..", "dist"))
    p.add_argument("--events", default="events.jsonl")
    p.add_argument("--verbose", action="store_true")
    ARGS = p.parse_args()
    ARGS.pages = os.path.abspath(ARGS.pages)
    ARGS.dist = os.path.abspath(ARGS.dist)
    open(ARGS.events, "a").close()
    server = ThreadingHTTPServer((ARGS.bind, ARGS.port), Handler)
    print("collector: http://%s:%d pages=%s events=%s" % (ARGS.bind, ARGS.port, ARGS.pages, ARGS.events),
          flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

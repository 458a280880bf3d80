"""Records real `curl -i` and `curl -v` output of scoring calls into this folder (generated, not copied from a thread).

curl is real; the server is a local stand-in whose answers (status, reason, header names) are the ones Azure ML
documents for a failing model container (azureml-facts.md: 424 with `ms-azureml-model-error-statuscode` /
`ms-azureml-model-error-reason`, `x-ms-request-id`, `azureml-model-deployment`; 502 from the v1 front end; 503
`Too many requests for service ... (overloaded)`). Run: `python tests/data/pasted/recorded/record_curl.py`.
"""

from __future__ import annotations

import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).parent
ANSWERS = {
    "/score-424": (424, "Failed Dependency", {"ms-azureml-model-error-statuscode": "500",
                                              "ms-azureml-model-error-reason": "model_error",
                                              "azureml-model-deployment": "blue",
                                              "x-ms-request-id": "3b6f6f4e-2a35-4d2c-9a51-1f0d1c2b9e11"},
                   b'{"message": "An unexpected error occurred in scoring script. Check the logs for more info."}'),
    "/score-502": (502, "Bad Gateway", {"x-ms-request-id": "b1f0c3a2-5d4e-4f1a-8c7b-2e9d0a6f4c33"},
                   b"<html><head><title>502 Bad Gateway</title></head></html>"),
    "/score-503": (503, "Service Unavailable", {"x-ms-request-id": "9c2e7d1b-0f3a-4b6c-a5d8-7e1f2b3c4d55"},
                   b"Too many requests for service scorer (overloaded)"),
}


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("content-length") or 0))
        status, reason, headers, body = ANSWERS[self.path]
        self.send_response(status, reason)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    """Serve on 127.0.0.1, run curl against each answer, write what curl printed."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        for path, flag in (("/score-424", "-i"), ("/score-502", "-i"), ("/score-503", "-v")):
            cmd = ["curl", "-sS", flag, "-X", "POST", f"http://127.0.0.1:{port}{path}", "-H",
                   "Content-Type: application/json", "-d", '{"data": [[1, 2, 3]]}']
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            out = f"$ curl {flag} -X POST http://127.0.0.1:{port}{path} -H 'Content-Type: application/json' -d '{{\"data\": [[1, 2, 3]]}}'\n"
            (HERE / f"curl{flag}{path.replace('/', '-')}.txt").write_text(out + done.stderr + done.stdout + "\n")
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()

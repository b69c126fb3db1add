"""What ``bin/run`` runs: the whole stack in one terminal, the way the Procfile deploys it.

Starts a private Redis when REDIS_URL is not set, applies migrations, then runs the
Procfile with honcho: daphne, WORKERS (default 2) runworker processes and the delay server.
Ctrl-C stops everything, Redis last.

It is local development, so it runs with DJANGO_DEBUG=1 unless told otherwise (debug pages,
static files served by the workers, the development secret key accepted). Set DJANGO_DEBUG=0
and DJANGO_SECRET_KEY to run it as deployed.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "2")))
    args = parser.parse_args()
    env = dict(os.environ)
    env.setdefault("DJANGO_DEBUG", "1")
    # The Procfile says "daphne" and "python": make them this virtualenv's.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    redis = None
    if not env.get("REDIS_URL"):
        from channels_classic.embedded_redis import EmbeddedRedis

        redis = EmbeddedRedis()
        env["REDIS_URL"] = redis.start()
        print(f"Started an embedded Redis at {env['REDIS_URL']} (set REDIS_URL to use yours)")
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        mode = "development, DJANGO_DEBUG=1" if env["DJANGO_DEBUG"] == "1" else "DEBUG off"
        print(f"Open http://127.0.0.1:{args.port}/ ({mode}; Ctrl-C stops everything)", flush=True)
        honcho = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "honcho",
                "start",
                "--procfile",
                "Procfile",
                "--port",
                str(args.port),
                "--concurrency",
                f"web=1,worker={args.workers}",
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            return honcho.wait()
        except KeyboardInterrupt:
            # The terminal sent SIGINT to honcho too; it stops its processes. Wait for it.
            honcho.send_signal(signal.SIGINT)
            return honcho.wait()
    finally:
        if redis is not None:
            redis.close()


if __name__ == "__main__":
    sys.exit(main())

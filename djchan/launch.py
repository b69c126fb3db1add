"""What ``bin/run`` runs: the whole stack in one terminal, the way the Procfile deploys it.

Starts a private Redis when REDIS_URL is not set (a Redis Cluster of 3 masters with a replica
each with DJCHAN_EMBEDDED=cluster or --embedded cluster), and checks that the one it names
answers when it is; then runs the Procfile's release step (migrations, static files), then its other
processes with honcho: daphne, WORKERS (default 2) runworker processes and the delay server.
"Open ..." is printed once daphne listens. Ctrl-C stops everything, Redis last (exit status
130).

It is local development, so it runs with DJANGO_DEBUG=1 unless told otherwise (debug pages,
static files served by the workers, the development secret key accepted). Set DJANGO_DEBUG=0
and DJANGO_SECRET_KEY to run it as deployed.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis
from django.core.exceptions import ImproperlyConfigured
from honcho.environ import parse_procfile
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException

from channels_classic.embedded_cluster import EmbeddedRedisCluster
from channels_classic.embedded_redis import EmbeddedRedis
from djchan.redis_urls import check_redis_url, cluster_client, is_cluster_url

ROOT = Path(__file__).resolve().parent.parent
#: The Procfile's process type that is run once before the others (as platforms do).
RELEASE = "release"
#: Seconds the Redis of REDIS_URL has to answer a ping.
REDIS_ANSWER_TIMEOUT = 5.0
#: Seconds daphne has to listen once honcho has started it.
LISTEN_TIMEOUT = 60.0
#: The exit status after Ctrl-C, as shells report a command that SIGINT ended.
INTERRUPTED = 130
#: What bin/run may start when REDIS_URL is not set (DJCHAN_EMBEDDED, --embedded), as it
#: says it.
EMBEDDED = {
    "redis": "an embedded Redis",
    "cluster": "an embedded Redis Cluster (3 masters with a replica each)",
}


class LaunchError(Exception):
    """Something bin/run cannot start with; its message says what to do."""


def redis_answers(url: str, timeout: float = REDIS_ANSWER_TIMEOUT) -> None:
    """Returns once the Redis (or Redis Cluster) at ``url`` answers a ping; LaunchError after
    ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            ping(url)
            return
        except (redis.RedisError, RedisClusterException) as error:
            if time.monotonic() > deadline:
                raise LaunchError(
                    f"The Redis at REDIS_URL={url} did not answer within {timeout:.0f} s "
                    f"({error}). Start it, or unset REDIS_URL and bin/run starts one of its "
                    "own."
                ) from None
            time.sleep(0.2)


def ping(url: str) -> None:
    """One ping to the Redis at ``url``; a cluster's client first learns its slots (which
    fails until every slot is served)."""
    options = {"socket_connect_timeout": 1, "socket_timeout": 1}
    if is_cluster_url(url):
        client: redis.Redis | RedisCluster = cluster_client(url, **options)
    else:
        client = redis.Redis.from_url(url, **options)
    try:
        client.ping()
    finally:
        client.close()


def start_embedded(kind: str) -> tuple[EmbeddedRedis | EmbeddedRedisCluster, str]:
    """Starts what ``kind`` of EMBEDDED names; returns it and its URL."""
    server: EmbeddedRedis | EmbeddedRedisCluster
    server = EmbeddedRedisCluster() if kind == "cluster" else EmbeddedRedis()
    return server, server.start()


def embedded_kind(args: argparse.Namespace, env: dict[str, str]) -> str | None:
    """What bin/run is to start (a key of EMBEDDED), None with a REDIS_URL; LaunchError for
    a kind it does not know, or a cluster asked for beside a REDIS_URL."""
    if args.embedded not in EMBEDDED:
        raise LaunchError(
            f"DJCHAN_EMBEDDED={args.embedded!r} is not something bin/run starts: set it to "
            f"{' or '.join(EMBEDDED)}, or unset it."
        )
    if not env.get("REDIS_URL"):
        return str(args.embedded)
    if args.embedded != "redis":
        raise LaunchError(
            f"REDIS_URL names a Redis of yours and {args.embedded!r} asks bin/run to start "
            "one of its own: unset REDIS_URL, or DJCHAN_EMBEDDED (--embedded)."
        )
    check_redis_url("REDIS_URL", env["REDIS_URL"])
    return None


def port_is_taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until_listening(port: int, honcho: subprocess.Popen[bytes]) -> bool:
    """True once something accepts on ``port``; False if honcho exits or time runs out."""
    deadline = time.monotonic() + LISTEN_TIMEOUT
    while honcho.poll() is None and time.monotonic() < deadline:
        if port_is_taken(port):
            return True
        time.sleep(0.1)
    return False


def procfile_processes() -> dict[str, str]:
    """The Procfile's process types and their commands, in order."""
    return dict(parse_procfile((ROOT / "Procfile").read_text()).processes)


def run_release(env: dict[str, str]) -> None:
    """Runs the Procfile's release step in ``env``; CalledProcessError if it fails."""
    subprocess.run(procfile_processes()[RELEASE], shell=True, cwd=ROOT, env=env, check=True)


def run_stack(args: argparse.Namespace, env: dict[str, str]) -> int:
    """Runs the release step, then honcho until it exits; returns its exit status."""
    run_release(env)
    processes = [name for name in procfile_processes() if name != RELEASE]
    honcho = subprocess.Popen(
        [sys.executable, "-m", "honcho", "start", "--procfile", "Procfile"]
        + ["--port", str(args.port), "--concurrency", f"web=1,worker={args.workers}"]
        + processes,
        cwd=ROOT,
        env=env,
    )
    try:
        if wait_until_listening(args.port, honcho):
            mode = "development, DJANGO_DEBUG=1" if env["DJANGO_DEBUG"] == "1" else "DEBUG off"
            print(
                f"Open http://127.0.0.1:{args.port}/ ({mode}; Ctrl-C stops everything)", flush=True
            )
        elif honcho.poll() is None:
            print(f"daphne is not listening on port {args.port} yet: see its log above.")
        return honcho.wait()
    except KeyboardInterrupt:
        # The terminal sent SIGINT to honcho too; it stops its processes. Wait for it.
        honcho.send_signal(signal.SIGINT)
        honcho.wait()
        raise


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "2")))
    parser.add_argument(
        "--embedded",
        default=os.environ.get("DJCHAN_EMBEDDED", "redis"),
        help="what to start when REDIS_URL is not set: redis (the default) or cluster "
        "(default: DJCHAN_EMBEDDED)",
    )
    args = parser.parse_args()
    env = dict(os.environ)
    env.setdefault("DJANGO_DEBUG", "1")
    # The Procfile says "daphne" and "python": make them this virtualenv's.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    embedded: EmbeddedRedis | EmbeddedRedisCluster | None = None
    try:
        if port_is_taken(args.port):
            raise LaunchError(
                f"Port {args.port} is taken by another program: stop it, or choose another "
                f"port with PORT=8001 bin/run."
            )
        kind = embedded_kind(args, env)
        if kind is not None:
            embedded, env["REDIS_URL"] = start_embedded(kind)
            print(f"Started {EMBEDDED[kind]} at {env['REDIS_URL']} (set REDIS_URL to use yours)")
        redis_answers(env["REDIS_URL"])
        return run_stack(args, env)
    except (LaunchError, ImproperlyConfigured) as error:
        print(f"bin/run: {error}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        print(f"bin/run: the release step failed ({error.returncode}): see above.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return INTERRUPTED
    finally:
        if embedded is not None:
            embedded.close()


if __name__ == "__main__":
    sys.exit(main())

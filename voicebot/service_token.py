"""The bearer token that keeps the cluster's internal HTTP services (shared NLU and speech servers)
for the workers: a random token the cluster hands its children in the environment, never on a
command line, where any local user could read it in the process list."""

from __future__ import annotations

import argparse
import hmac
import os
from pathlib import Path
from typing import Any

from aiohttp import web


def bearer(token: str) -> dict[str, str]:
    """The header a client sends."""
    return {"Authorization": f"Bearer {token}"}


def token_middleware(token: str) -> Any:
    """An aiohttp middleware answering 401 to any request without ``token``."""

    @web.middleware
    async def need_token(request: web.Request, handler: Any) -> web.StreamResponse:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise web.HTTPUnauthorized(text="a bearer token is needed")
        response: web.StreamResponse = await handler(request)
        return response

    return need_token


def read_token(env_name: str, token_file: str | None = None) -> str:
    """The token from ``token_file`` (first line) or the environment; empty if neither has one."""
    if token_file:
        return Path(token_file).read_text(encoding="utf-8").strip()
    return os.environ.get(env_name, "").strip()


def service_arguments(prog: str, doc: str, model_help: str, port: int, token_env: str) -> argparse.ArgumentParser:
    """The command line every internal service shares: its model, where it listens, its token's file."""
    ap = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0])
    ap.add_argument("--model", required=True, help=model_help)
    ap.add_argument("--host", default="127.0.0.1", help="Address to listen on (default: loopback).")
    ap.add_argument("--port", type=int, default=port, help=f"HTTP port (default: {port}).")
    ap.add_argument("--token-file", help=f"A file holding the token (default: ${token_env}).")
    return ap

"""The cluster's shared Mandarin recogniser: one Whisper model behind a small HTTP API for the SIP
workers, instead of a copy in each (about 188 MB of private memory per worker).

Whisper hears whole endpointed utterances, so a turn is one request: ``POST /transcribe?lang=zh-CN``
with the turn's 16-bit mono PCM as the body, its rate in the ``rate`` parameter and the step's
words in ``hint``; the answer is the transcript as JSON. ``GET /status`` names the model. Both ask
for the token in an ``Authorization: Bearer`` header (``VOICEBOT_SPEECH_TOKEN``, or
``--token-file``). CTranslate2 decodes as many utterances at once as it has threads; the rest wait.
Run as ``python -m voicebot.speech.whisper_server --model models/whisper/base --port 5007``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np
from aiohttp import web

from voicebot.service_token import read_token, service_arguments, token_middleware
from voicebot.speech.whisper import LANG_TOKENS, WhisperRecognizer

log = logging.getLogger("voicebot.speech")
TOKEN_ENV = "VOICEBOT_SPEECH_TOKEN"
MAX_SECONDS = 60  # a turn ends at [voice] max_turn_s long before this
RATES = (8000, 16000, 48000)


def build_app(model: WhisperRecognizer, name: str, token: str, threads: int = 2) -> web.Application:
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="whisper")

    async def status(request: web.Request) -> web.StreamResponse:
        return web.json_response({"model": name, "languages": sorted(LANG_TOKENS)})

    async def transcribe(request: web.Request) -> web.StreamResponse:
        lang, hint = request.query.get("lang", ""), request.query.get("hint", "")
        try:
            rate = int(request.query.get("rate", ""))
        except ValueError:
            rate = 0
        if lang not in LANG_TOKENS or rate not in RATES or len(hint) > 500:
            raise web.HTTPBadRequest(text=f"give lang (one of {sorted(LANG_TOKENS)}), rate (one of {RATES}) "
                                          "and at most 500 characters of hint")
        body = await request.read()
        if not body or len(body) % 2:
            raise web.HTTPBadRequest(text="the body is 16-bit mono PCM")
        samples = np.frombuffer(body, dtype=np.int16)
        heard = await asyncio.get_running_loop().run_in_executor(pool, model.transcribe, samples, rate, lang, hint)
        return web.json_response(asdict(heard))

    app = web.Application(middlewares=[token_middleware(token)], client_max_size=MAX_SECONDS * max(RATES) * 2)
    app.add_routes([web.get("/status", status), web.post("/transcribe", transcribe)])
    return app


def main(argv: list[str] | None = None) -> int:
    ap = service_arguments("python -m voicebot.speech.whisper_server", __doc__ or "",
                           "The Whisper model folder, models/whisper/base.", 5007, TOKEN_ENV)
    ap.add_argument("--threads", type=int, default=2, help="Utterances decoded at once (default: 2).")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    token = read_token(TOKEN_ENV, args.token_file)
    if not token:
        print(f"no token: set {TOKEN_ENV} or give --token-file, so that only the workers may use it", file=sys.stderr)
        return 2
    from voicebot.speech.models import ModelUnavailable
    from voicebot.speech.whisper_files import is_installed

    path = Path(args.model)
    if not is_installed(path):
        print(f"no Whisper model in {path}: run 'voicebot models fetch --lang zh-CN'", file=sys.stderr)
        return 2
    try:
        model = WhisperRecognizer(path, threads=args.threads)
    except ModelUnavailable as exc:
        print(str(exc), file=sys.stderr)
        return 2
    log.info("speech server (Whisper %s) on %s:%s: starting", path.name, args.host, args.port)
    web.run_app(build_app(model, path.name, token, args.threads), host=args.host, port=args.port,
                print=lambda _: log.info("speech server ready on %s:%s", args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())

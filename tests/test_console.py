"""The web console in a real browser: Debian's headless chromium driven by Selenium, its microphone
fed from a WAV file, against ``voicebot console`` started here on a copy of the demo bank.

Screenshots of each page go to ``var/screenshots/`` (looked at by people, kept by CI).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from tests.calls import DEMO_CARD, DEMO_PIN
from tests.sip import wait_for_http
from voicebot.cluster.processes import free_port
from voicebot.console.operators import DEMO_OPERATOR

PROJECT = Path(__file__).resolve().parent.parent
SHOTS = PROJECT / "var" / "screenshots"
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver "
                                                                  "(scripts/setup.sh installs them)")


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, demo_db_template: Path):
    folder = tmp_path_factory.mktemp("console")
    shutil.copy(demo_db_template, folder / "bank.db")
    port = free_port()
    env = {**os.environ, "VOICEBOT_DB_URL": f"sqlite:///{folder / 'bank.db'}",
           "VOICEBOT_LOG_FILE": str(folder / "voicebot.log")}
    cdr = folder / "cdr.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "voicebot", "console", "--port", str(port), "--cdr", str(cdr),
                             "--no-desk"],
                            cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{url}/login", proc)
    yield {"url": url, "cdr": cdr, "log": folder / "voicebot.log", "folder": folder}
    proc.terminate()
    proc.wait(timeout=20)


def browser(folder: Path, wav: Path | None = None, size: tuple[int, int] = (1280, 800), lang: str = "en-US"):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                 "--autoplay-policy=no-user-gesture-required", f"--window-size={size[0]},{size[1]}",
                 f"--user-data-dir={folder / f'profile-{time.monotonic_ns()}'}"):
        options.add_argument(flag)
    options.add_argument(f"--lang={lang}")
    options.add_experimental_option("prefs", {"intl.accept_languages": f"{lang},{lang.split('-')[0]}"})
    if wav is not None:
        options.add_argument(f"--use-file-for-fake-audio-capture={wav}%noloop")
    if size[0] < 500:  # below Chrome's smallest window: a phone's screen, emulated
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": size[0], "height": size[1],
                                                                               "pixelRatio": 2.0}})
    return webdriver.Chrome(service=Service(DRIVER), options=options)


def sign_in(driver, url: str, page: str = "/phone", name: str = DEMO_OPERATOR[0],
            password: str = DEMO_OPERATOR[2]) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{url}{page}")
    assert "/login" in driver.current_url  # no session: the sign-in form
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()


def shot(driver, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def bot_audio_ms(driver) -> int:
    from selenium.webdriver.common.by import By

    return int(driver.find_element(By.ID, "transcript").get_attribute("data-bot-audio-ms"))


def wait_for_text(driver, element_id: str, text: str, timeout: float = 60) -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(lambda d: text in d.find_element(By.ID, element_id).text)
    return driver.find_element(By.ID, element_id).text


def test_without_a_session_every_page_and_socket_is_refused(console) -> None:
    url = console["url"]
    opener = urllib.request.build_opener(type("NoRedirect", (urllib.request.HTTPRedirectHandler,),
                                              {"redirect_request": lambda *a, **k: None})())
    for path in ("/phone", "/", "/static/phone.js", "/desk", "/inbox", "/wallboard", "/reports"):
        with pytest.raises(urllib.error.HTTPError) as err:
            opener.open(f"{url}{path}")
        assert err.value.code == 302 and "/login" in err.value.headers["Location"]
    for path in ("/api/me", "/ws/phone", "/ws/desk", "/api/inbox", "/api/wallboard/stream", "/api/reports"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(urllib.request.Request(f"{url}{path}", headers={"Upgrade": "websocket"}))
        assert err.value.code == 401
    assert json.loads(urllib.request.urlopen(f"{url}/health").read()) == {"status": "ok"}  # no sign-in needed
    wrong = urllib.request.Request(f"{url}/login", data=b"name=demo&password=wrong-password", method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        opener.open(wrong)
    assert err.value.code == 302 and "failed" in err.value.headers["Location"]


def test_a_spoken_request_then_the_keypad_in_the_browser_phone(console) -> None:
    """Speech from the (fake) microphone reaches the card prompt; keypad clicks enter card and PIN;
    the balance is heard (bot audio arrives) and shown."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from voicebot.speech.tts import Synthesizer
    from voicebot.telephony.softphone import save_wav

    rate = 16000
    speech = Synthesizer(sample_rate=rate).render("what is my account balance", "en-US")
    wav = console["folder"] / "caller.wav"
    save_wav(wav, np.concatenate([np.zeros(rate * 2, np.int16), speech, np.zeros(rate * 40, np.int16)]), rate)
    driver = browser(console["folder"], wav)
    try:
        sign_in(driver, console["url"])
        wait_for_text(driver, "operator", DEMO_OPERATOR[0])
        driver.find_element(By.ID, "call").click()
        said = wait_for_text(driver, "transcript", "card number", timeout=90)
        assert "balance" in said  # the caller's words, as recognised, on screen
        shot(driver, "phone-spoken-request")
        for key in f"{DEMO_CARD}#":
            driver.find_element(By.CSS_SELECTOR, f'#keypad button[data-key="{key}"]').click()
        wait_for_text(driver, "transcript", "PIN")
        for key in DEMO_PIN[:-1]:
            driver.find_element(By.CSS_SELECTOR, f'#keypad button[data-key="{key}"]').click()
        # the PIN shows as dots (the last key ends the entry, and the next prompt clears it)
        WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "entry").text == "•" * (len(DEMO_PIN) - 1))
        driver.find_element(By.CSS_SELECTOR, f'#keypad button[data-key="{DEMO_PIN[-1]}"]').click()
        shown = wait_for_text(driver, "transcript", "12,345.67")
        assert DEMO_PIN not in driver.page_source
        before = bot_audio_ms(driver)
        # the bot's voice comes back as it speaks: the balance sentences add seconds of audio
        WebDriverWait(driver, 30).until(lambda d: bot_audio_ms(d) > before + 3000)
        shot(driver, "phone-balance")
        driver.find_element(By.ID, "hangup").click()
        wait_for_text(driver, "status", "hung up")
    finally:
        driver.quit()
    assert "account.balance: ok" in shown
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not console["cdr"].exists():
        time.sleep(0.2)
    cdr = [json.loads(line) for line in console["cdr"].read_text().splitlines()]
    mine = [c for c in cdr if c.get("channel") == "browser" and "account.balance" in c["services"]]
    assert mine and mine[-1]["caller"] == f"console:{DEMO_OPERATOR[0]}"
    log = console["log"].read_text()
    assert DEMO_PIN not in log and DEMO_CARD not in log


@pytest.mark.parametrize(("size", "name"), [((1280, 800), "desktop"), ((390, 844), "phone-sized")])
def test_pages_are_readable_at_desktop_and_phone_sizes(console, size: tuple[int, int], name: str) -> None:
    from selenium.webdriver.common.by import By

    driver = browser(console["folder"], size=size)
    try:
        driver.get(f"{console['url']}/login")
        shot(driver, f"login-{name}")
        sign_in(driver, console["url"])
        wait_for_text(driver, "operator", DEMO_OPERATOR[0])
        keypad = driver.find_element(By.ID, "keypad")
        assert keypad.is_displayed() and keypad.rect["x"] + keypad.rect["width"] <= size[0]
        assert driver.execute_script("return document.documentElement.scrollWidth") <= size[0]  # nothing off-screen
        shot(driver, f"phone-{name}")
    finally:
        driver.quit()


def test_voicebot_up_starts_the_sip_worker_and_the_console(tmp_path: Path, demo_db_template: Path) -> None:
    """What `make run` runs: the console answers and a SIP worker serves; SIGTERM stops both."""
    shutil.copy(demo_db_template, tmp_path / "bank.db")
    port, sip_port = free_port(), free_port()
    while sip_port == port:  # SIP listens on TCP too: the console must not find its port taken
        sip_port = free_port()
    env = {**os.environ, "VOICEBOT_DB_URL": f"sqlite:///{tmp_path / 'bank.db'}",
           "VOICEBOT_LOG_FILE": str(tmp_path / "voicebot.log")}
    proc = subprocess.Popen([sys.executable, "-m", "voicebot", "up", "--port", str(port), "--sip-port", str(sip_port)],
                            cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, page = time.monotonic() + 90, None
        while time.monotonic() < deadline and page is None:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=1).read().decode()
            except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
                assert proc.poll() is None
                time.sleep(0.5)
        assert page and "Sign in" in page
        workers = subprocess.run(["pgrep", "-f", f"voicebot serve --sip-port {sip_port}"], capture_output=True,
                                 text=True).stdout.split()
        assert workers, "no SIP worker"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert f"http://localhost:{port}/" in out and DEMO_OPERATOR[2] in out  # the URL and the demo sign-in
    time.sleep(1)
    assert not subprocess.run(["pgrep", "-f", f"voicebot serve --sip-port {sip_port}"]).returncode == 0


@pytest.mark.parametrize("when", ["SIP worker started", "loading the zh-CN NLU model"])
def test_voicebot_up_stopped_while_starting_stops_its_worker(tmp_path: Path, demo_db_template: Path, when: str) -> None:
    """SIGTERM before the console is up (a supervisor giving up, Ctrl-C in a script) leaves no worker behind:
    as the worker starts, and while the NLU models load (whose libraries' garbage-collector callbacks
    swallowed the exception a signal handler raised)."""
    shutil.copy(demo_db_template, tmp_path / "bank.db")
    port, sip_port = free_port(), free_port()
    while sip_port == port:
        sip_port = free_port()
    env = {**os.environ, "VOICEBOT_DB_URL": f"sqlite:///{tmp_path / 'bank.db'}",
           "VOICEBOT_LOG_FILE": str(tmp_path / "voicebot.log")}
    proc = subprocess.Popen([sys.executable, "-m", "voicebot", "up", "--port", str(port), "--sip-port", str(sip_port)],
                            cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    find = ["pgrep", "-f", f"voicebot serve --sip-port {sip_port}"]
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith(when):
                break
        time.sleep(1.0 if "NLU" in when else 0.0)  # well inside the model's loading
        assert subprocess.run(find, capture_output=True).returncode == 0, "no SIP worker started"
        proc.terminate()  # the console is still loading its models (or has just begun to serve)
        proc.wait(timeout=40)
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and subprocess.run(find, capture_output=True).returncode == 0:
        time.sleep(0.2)
    left = subprocess.run(find, capture_output=True, text=True).stdout.split()
    for pid in left:
        os.kill(int(pid), 9)
    assert not left, "the SIP worker outlived voicebot up"


@pytest.fixture(scope="module")
def desk_line(tmp_path_factory: pytest.TempPathFactory):
    """A SIP worker and a console whose desk answers the worker's agent pools (context signed)."""
    from tests.sip import env_for, seeded_bank, start_worker, write_config

    folder = tmp_path_factory.mktemp("desk")
    config = write_config(folder, seeded_bank(folder), (free_port(), free_port()), agent_secret="desk-test-secret",
                          ring_s=2.0)
    worker = start_worker(folder, config)
    for name, role, password in (("sam", "supervisor", "supervisor-pass-1"), ("tom", "trainer", "trainer-pass-2")):
        added = subprocess.run([sys.executable, "-m", "voicebot", "users", "add", name, "--role", role,
                                "--password-stdin"], input=f"{password}\n", cwd=PROJECT, env=env_for(config),
                               capture_output=True, text=True, timeout=120)
        assert added.returncode == 0, added.stderr
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "voicebot", "console", "--port", str(port)], cwd=PROJECT,
                            env=env_for(config), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{url}/login", proc)
    yield {"url": url, "worker": worker, "config": config, "folder": folder}
    proc.terminate()
    proc.wait(timeout=20)
    worker.stop()


def test_the_agent_desk_pops_a_handed_over_call_and_accepting_connects_it(desk_line) -> None:
    """A SIP caller identifies, then keys 0 and 2: the available agent's page shows the reason, the
    masked customer and the conversation (never the PIN); accepting connects the caller to the seat."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from tests.sip import finish_call, start_call

    url = desk_line["url"]
    driver = browser(desk_line["folder"])
    try:
        sign_in(driver, url, "/desk")
        wait_for_text(driver, "seats", "ready")
        Select(driver.find_element(By.ID, "pool")).select_by_value("010")
        driver.find_element(By.ID, "available").click()
        wait_for_text(driver, "status", "Available in pool 010")
        shot(driver, "desk-available")
        call = start_call(desk_line["config"], desk_line["worker"].uri,
                          f"wait 4; keys 1; wait 1; keys 1; wait 1; keys 1; wait 1; keys {DEMO_CARD}#; wait 1; "
                          f"keys {DEMO_PIN}#; wait 8; keys 0; wait 2; keys 2; await-hangup", caller="13800000031")
        wait_for_text(driver, "reason", "Incoming: questions about our services", timeout=60)
        facts = driver.find_element(By.ID, "facts").text
        conversation = driver.find_element(By.ID, "transcript").text
        assert "0001" in facts and DEMO_CARD not in facts and "yes, by PIN" in facts and "13800000031" in facts
        assert "balance enquiry" in facts  # what the caller did before asking for a person
        assert "keys 2" in conversation and "complaints" in conversation and "12,345.67" in conversation
        assert "checked" in driver.find_element(By.ID, "trust").text  # the bot's signature held
        assert DEMO_PIN not in driver.page_source and DEMO_CARD not in driver.page_source
        shot(driver, "desk-screen-pop")
        driver.find_element(By.ID, "accept").click()
        wait_for_text(driver, "reason", "Connected", timeout=20)
        shot(driver, "desk-connected")
        time.sleep(4)  # the agent's greeting reaches the caller
        driver.find_element(By.ID, "hangup").click()
        wait_for_text(driver, "idle", "ended", timeout=20)
        stats = driver.find_element(By.ID, "stats").text
    finally:
        driver.quit()
    result = finish_call(call)
    assert result.returncode == 0, result.stderr
    cdr = desk_line["worker"].cdr_of("13800000031")
    assert cdr["outcome"] == "transferred" and cdr["transfer_reason"] == "consult"
    assert cdr["agent_attempts"][0]["pool"] == "010" and cdr["agent_attempts"][0]["result"] == "answered"
    assert cdr["agent_answer_s"] is not None
    assert result.heard_voice_s > 10  # the bot, then the agent
    assert "010 1 1 100%" in stats  # the pool's answer rate


def test_with_nobody_available_the_desk_declines_and_the_bot_overflows(desk_line) -> None:
    """No agent is available: each pool's seat declines at once, and the caller waits in the queue
    (offered a call-back) without waiting out the rings."""
    from tests.sip import place_call

    result = place_call(desk_line["config"], desk_line["worker"].uri, "wait 4; keys 0; wait 2; keys 2; listen; "
                        "listen; wait 2; keys 2; wait 3; hangup", caller="13800000032")
    assert result.returncode == 0, result.stderr
    cdr = desk_line["worker"].cdr_of("13800000032")
    assert [(a["pool"], a["result"], a.get("sip_status")) for a in cdr["agent_attempts"][:2]] == [
        ("010", "failed", 480), ("central", "failed", 480)]
    assert cdr["queue_place"] == 1
    assert all(a["ring_s"] < 2.0 for a in cdr["agent_attempts"])  # declined, not rung out


@pytest.mark.parametrize(("size", "name"), [((1280, 800), "desktop"), ((390, 844), "phone-sized")])
def test_the_desk_is_readable_at_desktop_and_phone_sizes(desk_line, size: tuple[int, int], name: str) -> None:
    from selenium.webdriver.common.by import By

    driver = browser(desk_line["folder"], size=size)
    try:
        sign_in(driver, desk_line["url"], "/desk")
        wait_for_text(driver, "seats", "ready")
        button = driver.find_element(By.ID, "available")
        assert button.is_displayed() and button.rect["x"] + button.rect["width"] <= size[0]
        assert driver.execute_script("return document.documentElement.scrollWidth") <= size[0]
        shot(driver, f"desk-{name}")
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def trainer_console(tmp_path_factory: pytest.TempPathFactory, demo_db_template: Path):
    """A console on a copy of the project's NLU data and models (labels and retraining land there),
    a trainer operator, and one call's unsure turn in the inbox."""
    root = tmp_path_factory.mktemp("trainer")
    for part in ("nlu_data", "config/nlu", "models/nlu"):
        shutil.copytree(PROJECT / part, root / part)
    shutil.copy(demo_db_template, root / "bank.db")
    config = root / "voicebot.toml"
    config.write_text(f'base_dir = "{root}"\n[database]\nurl = "sqlite:///{root / "bank.db"}"\n'
                      f'[logging]\nfile = "{root / "voicebot.log"}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEBOT_")} | {"VOICEBOT_CONFIG": str(config)}
    run = {"cwd": PROJECT, "env": env, "capture_output": True, "text": True, "timeout": 180}
    assert subprocess.run([sys.executable, "-m", "voicebot", "users", "add", "tina", "--role", "trainer",
                           "--password-stdin"], input="trainer-pass-1\n", **run).returncode == 0
    chat = subprocess.run([sys.executable, "-m", "voicebot", "chat", "--lang", "en-US"],
                          input="i would like to sort out something with my money\n", **run)
    assert chat.returncode == 0, chat.stderr
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "voicebot", "console", "--port", str(port), "--no-desk"],
                            cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{url}/login", proc)
    yield {"url": url, "root": root, "folder": root}
    proc.terminate()
    proc.wait(timeout=20)


def test_a_trainer_labels_an_unsure_turn_and_retrains_in_the_browser(trainer_console) -> None:
    """The inbox lists a real call's unsure words; one click labels them into nlu_data/<lang>/inbox.yml;
    retraining shows the figures before and after, and says whether the new model is in use."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    said = "i would like to sort out something with my money"
    driver = browser(trainer_console["folder"])
    try:
        sign_in(driver, trainer_console["url"], "/inbox", "tina", "trainer-pass-1")
        wait_for_text(driver, "turns", said)
        item = driver.find_element(By.CSS_SELECTOR, "#turns li")
        # vague words: not understood, or a clarifying question (which one the model makes of
        # them changes as the NLU data grows); either way an unsure turn the caller hung up on
        assert ("not understood at menu:main" in item.text or "clarified at" in item.text) and "hung up" in item.text
        guess = item.find_element(By.CSS_SELECTOR, "button.guess")
        intent = guess.text.split()[0]
        shot(driver, "inbox")
        guess.click()
        WebDriverWait(driver, 20).until(lambda d: "labelled as" in item.find_element(By.CLASS_NAME, "result").text)
        driver.find_element(By.ID, "train").click()
        output = wait_for_text(driver, "train-output", "candidate:", timeout=240)
        shot(driver, "inbox-retrained")
    finally:
        driver.quit()
    labelled = (trainer_console["root"] / "nlu_data" / "en-US" / "inbox.yml").read_text()
    assert f"- intent: {intent}\n  examples: |\n    - {said}" in labelled
    assert "in use:" in output and ("promoted" in output or "kept the model in use" in output)


def test_the_supervisor_watches_calls_live_and_the_figures_match_the_cdrs(desk_line) -> None:
    """Calls placed over SIP during the test (self-service, abandoned while the agent's page rang,
    put through to an agent) show on the wallboard while they last; once over, today's figures and
    the answer rate match the CDRs, and the report's CSV equals its table."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from tests.sip import finish_call, start_call

    url, worker = desk_line["url"], desk_line["worker"]
    agent, board = browser(desk_line["folder"]), browser(desk_line["folder"])
    try:
        sign_in(agent, url, "/desk")
        wait_for_text(agent, "seats", "ready")
        Select(agent.find_element(By.ID, "pool")).select_by_value("010")
        agent.find_element(By.ID, "available").click()
        wait_for_text(agent, "status", "Available in pool 010")
        sign_in(board, url, "/wallboard", "sam", "supervisor-pass-1")
        wait_for_text(board, "updated", "Updated")
        served = start_call(desk_line["config"], worker.uri, f"wait 4; keys 1; wait 1; keys 1; wait 1; keys 1; "
                            f"wait 1; keys {DEMO_CARD}#; wait 1; keys {DEMO_PIN}#; wait 6; hangup",
                            caller="13800000041")
        live = wait_for_text(board, "live", "menu:1", timeout=30)  # the personal menu, as it happens
        assert "sip" in live and "en-US" in live and "010" in live
        shot(board, "wallboard-live")
        assert finish_call(served).returncode == 0
        left = start_call(desk_line["config"], worker.uri, "wait 4; keys 0; wait 2; keys 2; wait 5; hangup",
                          caller="13800000042")
        wait_for_text(agent, "reason", "Incoming", timeout=30)
        wait_for_text(board, "live", "waiting", timeout=15)  # rung at the desk: waiting for an agent
        finish_call(left)
        wait_for_text(agent, "idle", "withdrawn", timeout=20)
        put_through = start_call(desk_line["config"], worker.uri, "wait 4; keys 0; wait 2; keys 2; await-hangup",
                                 caller="13800000043")
        wait_for_text(agent, "reason", "Incoming", timeout=30)
        agent.find_element(By.ID, "accept").click()
        wait_for_text(agent, "reason", "Connected", timeout=20)
        wait_for_text(board, "live", "with agent", timeout=15)
        time.sleep(2)
        agent.find_element(By.ID, "hangup").click()
        assert finish_call(put_through).returncode == 0
        cdrs = [worker.cdr_of(n) for n in ("13800000041", "13800000042", "13800000043")]
        assert [c["outcome"] for c in cdrs] == ["self_service", "abandoned", "transferred"]
        today = [c for c in worker.cdrs() if c["started_at"][:10] == time.strftime("%Y-%m-%d")]
        offered = [a for c in today for a in c["agent_attempts"] if a["pool"] == "010"
                   and a["result"] != "caller_hung_up"]
        rate = round(100 * sum(a["result"] == "answered" for a in offered) / len(offered))
        wait_for_text(board, "t-calls", str(len(today)), timeout=30)
        WebDriverWait(board, 15).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#live tbody tr"))  # all over
        pools = board.find_element(By.ID, "pools").text
        assert f"010 {len(offered)} {sum(a['result'] == 'answered' for a in offered)} {rate}%" in pools
        assert int(board.find_element(By.ID, "t-abandoned").text) >= 1
        shot(board, "wallboard")
        board.get(f"{url}/reports")
        wait_for_text(board, "summary", f"{len(today)} calls")
        chart = board.find_element(By.ID, "chart-regions")
        board.execute_script("return arguments[0].decode()", chart)
        assert board.execute_script("return arguments[0].naturalWidth", chart) > 100  # the SVG was drawn
        shown = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                 for tr in board.find_elements(By.CSS_SELECTOR, "#regions tbody tr")]
        csv_text = board.execute_async_script(
            "const done = arguments[0]; fetch(document.getElementById('csv-regions').href)"
            ".then(r => r.text()).then(done)")
        rows = [line.split(",") for line in csv_text.splitlines()]
        assert rows[0] == ["region", "service", "calls", "self_service_transactions", "transfers", "agent_minutes"]
        assert rows[1:] == shown and any(r[:2] == ["010", "account.balance"] for r in shown)
        shot(board, "reports")
    finally:
        agent.quit()
        board.quit()


def test_each_role_sees_only_its_own_pages(desk_line) -> None:
    """An agent cannot open the reports, the wallboard or the inbox; a trainer cannot see live calls."""
    import http.cookiejar

    def session(name: str, password: str) -> urllib.request.OpenerDirector:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        opener.open(urllib.request.Request(f"{desk_line['url']}/login", method="POST",
                                           data=f"name={name}&password={password}".encode()))
        return opener

    def status(opener: urllib.request.OpenerDirector, path: str) -> int:
        try:
            return opener.open(f"{desk_line['url']}{path}").status
        except urllib.error.HTTPError as err:
            return err.code

    agent, trainer = session(DEMO_OPERATOR[0], DEMO_OPERATOR[2]), session("tom", "trainer-pass-2")
    assert status(agent, "/desk") == 200
    for path in ("/reports", "/wallboard", "/inbox", "/api/wallboard", "/api/reports", "/api/inbox"):
        assert status(agent, path) == 403, path
    assert status(trainer, "/inbox") == 200
    for path in ("/wallboard", "/api/wallboard", "/api/wallboard/stream", "/reports", "/desk"):
        assert status(trainer, path) == 403, path


# -- the console as an attacker on the bank's network would try it (a console of its own) -------

PUBLIC_NAME = "console.bank.example"  # the name a TLS proxy would serve it under


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory, demo_db_template: Path):
    """A console on loopback with a public name configured (so: not the demo set-up) and two agents."""
    folder = tmp_path_factory.mktemp("guarded")
    shutil.copy(demo_db_template, folder / "bank.db")
    env = {**os.environ, "VOICEBOT_DB_URL": f"sqlite:///{folder / 'bank.db'}", "VOICEBOT_NLU_BACKEND": "keywords",
           "VOICEBOT_LOG_FILE": str(folder / "voicebot.log"), "VOICEBOT_CONSOLE_HOSTS": PUBLIC_NAME}
    for name in ("ada", "ben"):
        added = subprocess.run([sys.executable, "-m", "voicebot", "users", "add", name, "--role", "agent",
                                "--pools", "010", "--password-stdin"], input=f"{name}-password-1\n", cwd=PROJECT,
                               env=env, capture_output=True, text=True, timeout=120)
        assert added.returncode == 0, added.stderr
    port = free_port()
    out = folder / "console.out"
    proc = subprocess.Popen([sys.executable, "-m", "voicebot", "console", "--port", str(port), "--no-desk"],
                            cwd=PROJECT, env=env, stdout=open(out, "w"), stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{url}/login", proc)
    yield {"url": url, "port": port, "out": out, "log": folder / "voicebot.log"}
    proc.terminate()
    proc.wait(timeout=20)


def _post_login(url: str, name: str, password: str, *, source: str = "127.0.0.1", host: str | None = None,
                origin: str | None = None, next_: str = "", cookies: dict[str, str] | None = None,
                n: int = 1) -> list[tuple[int, str, dict[str, str]]]:
    """``n`` sign-ins at once from ``source``: (status, Location, cookies set) of each."""
    import asyncio

    import aiohttp

    async def one(session: aiohttp.ClientSession) -> tuple[int, str, dict[str, str]]:
        headers = {**({"Host": host} if host else {}), **({"Origin": origin} if origin else {})}
        async with session.post(f"{url}/login{next_}", data={"name": name, "password": password},
                                allow_redirects=False, headers=headers) as r:
            return r.status, r.headers.get("Location", ""), {k: v.value for k, v in r.cookies.items()}

    async def burst() -> list[tuple[int, str, dict[str, str]]]:
        connector = aiohttp.TCPConnector(local_addr=(source, 0), force_close=True, limit=0)
        async with aiohttp.ClientSession(connector=connector, cookies=cookies or {}) as session:
            return list(await asyncio.gather(*(one(session) for _ in range(n))))

    return asyncio.run(burst())


def test_a_burst_of_wrong_passwords_checks_at_most_five_and_the_operator_still_gets_in(guarded) -> None:
    """Before: 20 concurrent wrong passwords were all checked (the lock-out counted after each check)."""
    url = guarded["url"]
    [(status, _, cookies)] = _post_login(url, "ada", "ada-password-1", source="127.0.0.21")
    assert status == 302 and "vb_device" in cookies  # ada's own browser, known from now on
    device = {"vb_device": cookies["vb_device"]}
    answers = _post_login(url, "ada", "wrong-password", source="127.0.0.22", n=20)
    checked = [a for a in answers if a[0] == 302]
    assert len(checked) <= 5 and all("failed" in a[1] for a in checked), answers
    assert sum(a[0] == 429 for a in answers) >= 15
    # the name is locked for everyone else, the right password included ...
    assert _post_login(url, "ada", "ada-password-1", source="127.0.0.23")[0][0] == 429
    # ... but not on the browser ada signed in from before
    [(status, location, cookies)] = _post_login(url, "ada", "ada-password-1", source="127.0.0.21", cookies=device)
    assert status == 302 and location == "/phone" and "vb_session" in cookies


def test_one_source_cannot_try_passwords_for_many_names(guarded) -> None:
    url, answers = guarded["url"], []
    for i in range(30):
        answers += _post_login(url, f"nobody-{i}", "wrong-password", source="127.0.0.31")
    assert sum(a[0] == 302 for a in answers) <= 20 and answers[-1][0] == 429
    assert _post_login(url, "ben", "ben-password-1", source="127.0.0.32")[0][0] == 302  # others are not stopped


def test_a_foreign_host_name_gets_no_session_and_no_socket(guarded) -> None:
    """DNS rebinding: before, a sign-in naming the attacker's host got a session and the desk's socket."""
    import http.client

    url = guarded["url"]
    rebound = f"rebind.attacker.example:{guarded['port']}"
    [(status, _, cookies)] = _post_login(url, "ben", "ben-password-1", host=rebound)
    assert status == 421 and not cookies
    for path, headers in (("/login", {}), ("/ws/desk", {"Upgrade": "websocket", "Connection": "Upgrade"}),
                          ("/health", {})):
        conn = http.client.HTTPConnection("127.0.0.1", guarded["port"], timeout=10)
        conn.request("GET", path, headers={"Host": "rebind.attacker.example", **headers})
        assert conn.getresponse().status == 421, path
        conn.close()
    # the configured public name and the loopback ones are served
    for host in (PUBLIC_NAME, f"localhost:{guarded['port']}", f"127.0.0.1:{guarded['port']}"):
        conn = http.client.HTTPConnection("127.0.0.1", guarded["port"], timeout=10)
        conn.request("GET", "/login", headers={"Host": host})
        assert conn.getresponse().status == 200, host
        conn.close()


@pytest.mark.parametrize("target", ["/%09/evil.example", "//evil.example", "/\\evil.example", "https://evil.example",
                                    "/%2F/evil.example", "/%5Cevil.example", "/ /evil.example"])
def test_no_redirect_after_sign_in_leaves_the_origin(guarded, target: str) -> None:
    """Before: next=/%09/evil.example answered Location: //evil.example (the tab stripped after the check)."""
    from urllib.parse import quote

    [(status, location, _)] = _post_login(guarded["url"], "ben", "ben-password-1",
                                          next_=f"?next={quote(target, safe='%/')}")
    assert status == 302 and location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert "evil" not in location
    [(_, location, _)] = _post_login(guarded["url"], "ben", "ben-password-1", next_="?next=/desk")
    assert location == "/desk"  # a path of this site is still honoured


def test_sign_in_from_another_sites_page_is_refused_and_every_answer_forbids_framing(guarded) -> None:
    [(status, _, cookies)] = _post_login(guarded["url"], "ben", "ben-password-1", origin="http://evil.example")
    assert status == 403 and not cookies
    answer = urllib.request.urlopen(f"{guarded['url']}/login")
    assert answer.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in answer.headers[
        "Content-Security-Policy"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_the_demo_operator_cannot_sign_in_outside_the_demo_set_up(guarded) -> None:
    [(status, location, cookies)] = _post_login(guarded["url"], DEMO_OPERATOR[0], DEMO_OPERATOR[2],
                                                source="127.0.0.41")
    assert status == 302 and "failed" in location and "vb_session" not in cookies
    out = guarded["out"].read_text()
    assert DEMO_OPERATOR[2] not in out and "voicebot users remove demo" in out


def test_signing_out_closes_the_sessions_sockets_and_a_third_browser_call_is_refused(guarded) -> None:
    import asyncio

    import aiohttp

    url = guarded["url"]

    async def run() -> tuple[bool, int]:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            async with session.post(f"{url}/login", data={"name": "ben", "password": "ben-password-1"},
                                    allow_redirects=False) as r:
                assert r.status == 302
            phones = [await session.ws_connect(f"{url.replace('http', 'ws')}/ws/phone") for _ in range(2)]
            try:
                await session.ws_connect(f"{url.replace('http', 'ws')}/ws/phone")
                third = 101
            except aiohttp.WSServerHandshakeError as exc:
                third = exc.status
            desk = await session.ws_connect(f"{url.replace('http', 'ws')}/ws/desk")
            await desk.receive(timeout=10)  # its state
            async with session.post(f"{url}/logout", allow_redirects=False) as r:
                assert r.status == 302
            closed = (await desk.receive(timeout=10)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                                                aiohttp.WSMsgType.CLOSING)
            for ws in phones:
                await ws.close()
            return closed, third

    closed, third = asyncio.run(run())
    assert closed and third == 429


def test_sessions_end_on_sign_out_age_removal_and_a_new_password_and_follow_a_new_role(monkeypatch) -> None:
    from voicebot.console import signin
    from voicebot.console.operators import SignedIn

    clock = [1000.0]
    monkeypatch.setattr(signin.time, "monotonic", lambda: clock[0])
    table = {1: (SignedIn(1, "eve", "agent"), "hash-1")}
    sessions = signin.Sessions(lambda operator_id: table.get(operator_id))
    token = sessions.start(*table[1])
    closed: list[str] = []
    sessions.hold(token, lambda: closed.append("desk socket"))
    table[1] = (SignedIn(1, "eve", "supervisor"), "hash-1")  # promoted: picked up at the next check
    clock[0] += signin.RECHECK_S + 1
    assert sessions.get(token).role == "supervisor"
    table[1] = (SignedIn(1, "eve", "supervisor"), "hash-2")  # a new password ends the old sessions
    clock[0] += signin.RECHECK_S + 1
    assert sessions.get(token) is None and closed == ["desk socket"]
    token = sessions.start(*table[1])
    for _ in range(int(signin.MAX_AGE_S // (signin.IDLE_S - 60)) + 1):  # busy all the time, but only one shift
        clock[0] += signin.IDLE_S - 60
        alive = sessions.get(token) is not None
    assert not alive
    token = sessions.start(*table[1])
    del table[1]  # `voicebot users remove eve`
    clock[0] += signin.RECHECK_S + 1
    assert not sessions.alive(token)


def test_a_session_outlives_its_recheck_against_the_operators_table(monkeypatch, tmp_path: Path,
                                                                   demo_db_template: Path) -> None:
    """The re-check reads the real table: an unchanged operator stays signed in past it (before the
    fix every session ended at its first re-check), a new password or a removal ends it."""
    from voicebot.bank.db import make_engine
    from voicebot.console import signin
    from voicebot.console.operators import add_operator, check_password, current, remove_operator, set_password

    shutil.copy(demo_db_template, tmp_path / "bank.db")
    db = make_engine(f"sqlite:///{tmp_path / 'bank.db'}")
    add_operator(db, "fay", "agent", "fay-password-1", ["010"])
    clock = [1000.0]
    monkeypatch.setattr(signin.time, "monotonic", lambda: clock[0])
    sessions = signin.Sessions(lambda operator_id: current(db, operator_id))
    token = sessions.start(*check_password(db, "fay", "fay-password-1"))
    for _ in range(3):
        clock[0] += signin.RECHECK_S + 1
        assert sessions.get(token) is not None and sessions.alive(token)
    set_password(db, "fay", "fay-password-2")
    clock[0] += signin.RECHECK_S + 1
    assert sessions.get(token) is None
    token = sessions.start(*check_password(db, "fay", "fay-password-2"))
    remove_operator(db, "fay")
    clock[0] += signin.RECHECK_S + 1
    assert sessions.get(token) is None
    db.dispose()

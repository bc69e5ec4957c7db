"""Sign-in limits: the owner cannot be locked out, guesses are counted before checking, memory and input are bounded.

The unit tests drive `LoginThrottle` with an injected clock and real threads; the end-to-end test fires
real parallel requests at a real uvicorn server on loopback (on SQLite and PostgreSQL).
"""

from __future__ import annotations

import re
import threading
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

import usageledger.store.accounts as accounts_module
from usageledger.config import Settings
from usageledger.store import create_engine_for, migrate
from usageledger.store.accounts import create_tenant, create_user
from usageledger.web import create_app
from usageledger.web.deps import MAX_FIELD_BYTES, MAX_FORM_FIELDS
from usageledger.web.login_limits import LoginPolicy, LoginThrottle, SignInRefused

PASSWORD = "correct horse battery"
OWNER = "owner@example.com"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class FrozenClock:
    """A clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _fail(throttle: LoginThrottle, address: str, email: str) -> None:
    with throttle.attempt(address, email):
        pass  # a wrong password: the attempt stays counted


def _try(throttle: LoginThrottle, address: str, email: str, *, right: bool) -> SignInRefused | None:
    """One attempt: None when it was admitted (and, if `right`, succeeded), else the refusal."""
    try:
        with throttle.attempt(address, email) as attempt:
            if right:
                attempt.succeeded()
    except SignInRefused as refused:
        return refused
    return None


# --- the policy ------------------------------------------------------------------------------------------


def test_an_attacker_cannot_lock_the_owner_out():
    """Failures from the attacker's address hold back that address, never the owner's right password."""
    throttle = LoginThrottle(clock=FrozenClock())
    for _ in range(5):
        _fail(throttle, "203.0.113.9", OWNER)
    refused = _try(throttle, "203.0.113.9", OWNER, right=True)
    assert refused is not None and refused.status == 429 and refused.retry_after == 15
    assert refused.message == "Too many failed sign-ins for this account. Try again in about 15 seconds."
    assert _try(throttle, "198.51.100.7", OWNER, right=True) is None  # the owner, from their own address
    # the owner's success cleared the account's count; the attacker's address keeps its own 5 failures
    for _ in range(5):
        _fail(throttle, "203.0.113.9", OWNER)
    refused = _try(throttle, "203.0.113.9", "anyone@example.com", right=False)
    assert refused is not None and refused.message.startswith("Too many failed sign-ins from this address.")


def test_an_address_failing_for_many_accounts_is_limited():
    """10 failures within 15 minutes from one address, whatever the emails: that address waits."""
    clock = FrozenClock()
    throttle = LoginThrottle(clock=clock)
    for n in range(10):
        clock.now += 30
        _fail(throttle, "203.0.113.9", f"user{n}@example.com")
    refused = _try(throttle, "203.0.113.9", "user10@example.com", right=True)
    assert refused is not None and refused.status == 429
    assert refused.retry_after == 15 * 60 - 9 * 30  # until the oldest failure is 15 minutes old
    assert refused.message == "Too many failed sign-ins from this address. Try again in about 10 minutes."
    clock.now += refused.retry_after
    assert _try(throttle, "203.0.113.9", "user10@example.com", right=False) is None


def test_the_account_backoff_doubles_up_to_fifteen_minutes():
    """After 5 free failures each attempt waits 15 s after the previous failure, doubling, capped at 15 min."""
    clock = FrozenClock()
    throttle = LoginThrottle(LoginPolicy(address_limit=1_000), clock=clock)
    for _ in range(5):
        _fail(throttle, "203.0.113.9", OWNER)
    waits = []
    for _ in range(9):
        refused = _try(throttle, "203.0.113.9", OWNER, right=False)
        assert refused is not None
        waits.append(refused.retry_after)
        clock.now += refused.retry_after
        _fail(throttle, "203.0.113.9", OWNER)
    assert waits == [15, 30, 60, 120, 240, 480, 900, 900, 900]


def test_an_address_that_keeps_failing_loses_the_owner_grace():
    """An address with 3 failures for the account is held back by the account's backoff like any other."""
    throttle = LoginThrottle(clock=FrozenClock())
    for n in range(5):
        _fail(throttle, f"203.0.113.{n}", OWNER)  # five addresses, one failure each
    assert _try(throttle, "198.51.100.7", OWNER, right=False) is None  # a fresh address: grace
    assert _try(throttle, "198.51.100.7", OWNER, right=False) is None
    assert _try(throttle, "198.51.100.7", OWNER, right=False) is None
    refused = _try(throttle, "198.51.100.7", OWNER, right=True)  # 3 failures now: no more grace
    assert refused is not None and "for this account" in refused.message


def test_parallel_attempts_are_counted_before_checking():
    """60 threads guessing at once: exactly the 5 free attempts are admitted, the others refused."""
    throttle = LoginThrottle(LoginPolicy(slot_wait=60), clock=FrozenClock())
    start = threading.Barrier(60)
    admitted: list[int] = []

    def guess(n: int) -> int:
        start.wait()
        try:
            with throttle.attempt("203.0.113.9", OWNER):
                admitted.append(n)
        except SignInRefused as refused:
            return refused.status
        return 400

    with ThreadPoolExecutor(max_workers=60) as pool:
        statuses = list(pool.map(guess, range(60)))
    assert len(admitted) == 5
    assert sorted(statuses) == [400] * 5 + [429] * 55


def test_password_checks_run_at_most_two_at_once():
    """Two checks hold both slots: a third waits, then is told "busy" (503), and its attempt is not counted."""
    policy = LoginPolicy(check_slots=2, check_queue=1, slot_wait=0.05)
    throttle = LoginThrottle(policy, clock=FrozenClock())
    inside, release = threading.Semaphore(0), threading.Event()

    def hold(n: int) -> None:
        with throttle.attempt(f"203.0.113.{n}", f"holder{n}@example.com"):
            inside.release()
            release.wait(30)

    holders = [threading.Thread(target=hold, args=(n,)) for n in range(2)]
    for thread in holders:
        thread.start()
    for _ in holders:
        assert inside.acquire(timeout=30)
    try:
        busy = _try(throttle, "198.51.100.7", OWNER, right=False)
        assert busy is not None and busy.status == 503 and busy.retry_after >= 1
        assert busy.message == "usageledger is busy checking other sign-ins. Try again in a few seconds."
    finally:
        release.set()
        for thread in holders:
            thread.join(30)
    assert len(throttle) == 6  # the two holders' address, account and pair; the busy attempt left nothing
    assert _try(throttle, "198.51.100.7", OWNER, right=True) is None


def test_busy_when_the_waiting_line_is_full():
    """Beyond the slots and the short waiting line, an attempt is refused at once instead of queueing."""
    throttle = LoginThrottle(LoginPolicy(check_slots=1, check_queue=0, slot_wait=60), clock=FrozenClock())
    with throttle.attempt("203.0.113.1", "first@example.com"):
        busy = _try(throttle, "203.0.113.2", "second@example.com", right=True)
    assert busy is not None and busy.status == 503


# --- memory ---------------------------------------------------------------------------------------------


def test_the_limiter_memory_is_capped_and_expires():
    """Many distinct addresses and emails: at most max_keys of each are tracked, and they expire."""
    clock = FrozenClock()
    throttle = LoginThrottle(LoginPolicy(max_keys=500), clock=clock)
    for n in range(5_000):
        _fail(throttle, f"10.0.{n // 256}.{n % 256}", f"user{n}@example.com")
    assert len(throttle) == 1_500  # 500 each of addresses, accounts and pairs: the most recent ones
    clock.now += 15 * 60
    assert len(throttle) == 1_000  # the addresses' failures are 15 minutes old
    clock.now += 24 * 3600
    assert len(throttle) == 0


def test_a_megabyte_email_is_never_kept():
    """The limiter keeps fixed-size digests: 50 failures with 1 MB emails cost kilobytes, not 50 MB."""
    throttle = LoginThrottle(clock=FrozenClock())
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for n in range(50):
            _fail(throttle, f"10.0.0.{n}", f"{n}" + "x" * 1_000_000 + "@example.com")
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    kept = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert len(throttle) == 150
    assert kept < 100_000, kept


# --- the sign-in form -----------------------------------------------------------------------------------


class CountingHasher(PasswordHasher):
    """argon2's hasher, counting the password checks that actually ran and how many ran at once."""

    def __init__(self) -> None:
        super().__init__()
        self.checks = 0
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self._lock:
            self.checks += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            return super().verify(hash, password)
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(accounts_module, "_hasher", counting)
    return counting


@pytest.fixture
def limits_app(tmp_path: Path, database_url: str, secret_key: str) -> Iterator[FastAPI]:
    """The app on a fresh database (SQLite and PostgreSQL) with one user, and a throttle on a frozen clock."""
    settings = Settings(home=tmp_path, database_url=database_url, secret_key=secret_key)
    engine = create_engine_for(settings)
    migrate(engine)
    with engine.begin() as conn:
        create_user(conn, create_tenant(conn, "Acme"), OWNER, PASSWORD, "admin")
    app = create_app(settings, engine)
    app.state.services.throttle = LoginThrottle(LoginPolicy(slot_wait=60), clock=FrozenClock())
    yield app
    engine.dispose()


@pytest.fixture
def browser(limits_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(limits_app, follow_redirects=False) as client:
        yield client


def _token(client: TestClient | httpx.Client) -> str:
    match = CSRF_RE.search(client.get("/login").text)
    assert match
    return match.group(1)


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"email": "a" * 1_000_000 + "@example.com"}, id="1 MB email"),
        pytest.param({"note": "x" * (MAX_FIELD_BYTES + 1)}, id="a field over the bound"),
        pytest.param({f"f{n}": "x" for n in range(MAX_FORM_FIELDS + 1)}, id="too many fields"),
    ],
)
def test_oversized_forms_are_refused_with_413(browser, hasher, extra):
    """A form beyond the bounds gets a clear 413 page, no password check and no 500."""
    data = {"csrf_token": _token(browser), "email": OWNER, "password": "wrong password", **extra}
    response = browser.post("/login", data=data)
    assert response.status_code == 413 and "<title>Too large" in response.text
    assert "This form is too large" in response.text and "Shorten what you entered" in response.text
    assert hasher.checks == 0
    assert len(browser.app.state.services.throttle) == 0


def test_file_uploads_are_refused_with_413(browser, hasher):
    """No form of ours takes files: a multipart upload is refused before anything is read into memory."""
    response = browser.post(
        "/login",
        data={"csrf_token": _token(browser), "email": OWNER, "password": PASSWORD},
        files={"upload": ("big.bin", b"\0" * 1024)},
    )
    assert response.status_code == 413 and "no file uploads" in response.text
    assert hasher.checks == 0


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("a" * 321 + "@example.com", PASSWORD, "at most 320 characters"),
        ("own\x00er@example.com", PASSWORD, "the email address you sign in with"),
        (OWNER, "p" * 1025, "Passwords have at most 1024 characters"),
    ],
    ids=["long email", "NUL in email", "long password"],
)
def test_login_fields_are_checked_before_hashing(browser, hasher, email, password, message):
    """Over-long or impossible sign-in fields get a 400 that says why; nothing is hashed or counted."""
    response = browser.post(
        "/login", data={"csrf_token": _token(browser), "email": email, "password": password}
    )
    assert response.status_code == 400 and message in response.text
    assert hasher.checks == 0 and len(browser.app.state.services.throttle) == 0
    assert "a" * 321 not in response.text  # the over-long email is not echoed back


def test_a_refused_sign_in_says_when_to_retry(browser, hasher):
    """The 429 page keeps the form, says how long to wait, and carries Retry-After."""
    token = _token(browser)
    for _ in range(5):
        wrong = browser.post(
            "/login", data={"csrf_token": token, "email": OWNER, "password": "wrong password"}
        )
        assert wrong.status_code == 400
    refused = browser.post("/login", data={"csrf_token": token, "email": OWNER, "password": PASSWORD})
    assert refused.status_code == 429 and refused.headers["retry-after"] == "15"
    assert "Too many failed sign-ins for this account. Try again in about 15 seconds." in refused.text
    assert 'name="csrf_token"' in refused.text and f'value="{OWNER}"' in refused.text
    assert hasher.checks == 5


# --- end to end: a real server, real parallel requests --------------------------------------------------


@pytest.fixture
def server(limits_app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread; yields its base URL."""
    config = uvicorn.Config(limits_app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = running.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(10)


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def test_sixty_parallel_guesses_against_a_real_server(server, hasher, capsys):
    """60 parallel wrong guesses: 5 passwords checked (at most 2 at once), 55 refused; the owner still signs in."""
    rss_before = _rss_mib()
    with httpx.Client(base_url=server, follow_redirects=False, timeout=60) as attacker:
        token = _token(attacker)

        def guess(n: int) -> httpx.Response:
            form = {"csrf_token": token, "email": OWNER, "password": f"guess number {n}"}
            return attacker.post("/login", data=form)

        with ThreadPoolExecutor(max_workers=60) as pool:
            responses = list(pool.map(guess, range(60)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [400] * 5 + [429] * 55
    assert hasher.checks == 5 and hasher.most_at_once <= 2
    guesses_checked, rss_after = hasher.checks, _rss_mib()
    assert all(r.headers["retry-after"] == "15" for r in responses if r.status_code == 429)

    # The owner, from another address (127.0.0.2 is loopback too), gets in with the right password.
    owner_transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(
        base_url=server, transport=owner_transport, follow_redirects=False, timeout=60
    ) as owner:
        signed_in = owner.post(
            "/login", data={"csrf_token": _token(owner), "email": OWNER, "password": PASSWORD}
        )
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/overview"
    with capsys.disabled():
        print(f"\n60 parallel guesses: {guesses_checked} passwords checked, at most {hasher.most_at_once} at once, "
              f"{statuses.count(429)} refused; RSS {rss_before:.0f} -> {rss_after:.0f} MiB")  # fmt: skip

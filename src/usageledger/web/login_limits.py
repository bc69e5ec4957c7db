"""Sign-in limits: who may try a password now, and how many passwords are checked at once.

The policy (numbers from `LoginPolicy`'s defaults):

- **Per address.** 10 failed sign-ins from one client address within 15 minutes, and that address waits
  until the oldest of them is 15 minutes old.
- **Per account.** The first 5 consecutive failures for an email are free; after that each attempt waits
  15 seconds after the previous failure, doubling each time up to 15 minutes. A correct password clears
  the count; a day without failures forgets it.
- **The owner still gets in.** An address with fewer than 3 failures for this account (since its last
  correct password, forgotten after a day) is not held back by the account's backoff, so an attacker
  cannot lock the owner out: the owner's own device is not the one failing. Each attacker address is
  still bound by its own limit and, after 3 failures for the account, by the backoff.
- **Counted before checked.** An attempt is counted as a failure under the lock *before* its password is
  verified (a success takes it back), so parallel guesses cannot all pass the check.
- **Bounded work.** At most `check_slots` password checks (argon2: 64 MiB and ~0.15 s each) run at once;
  a few more may wait up to `slot_wait` seconds; beyond that the answer is "busy, try again" (503).
- **Bounded memory.** Keys are 16-byte keyed digests, never the email or address as sent; entries expire;
  each table holds at most `max_keys` entries, the least recently failing evicted first.

The address is the client address as the server sees it; behind a reverse proxy that is what uvicorn's
`--proxy-headers` and `--forwarded-allow-ips` make it.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from usageledger.store.accounts import normalize_email

__all__ = ["LoginAttempt", "LoginPolicy", "LoginThrottle", "SignInRefused"]

_DIGEST_BYTES = 16
_V = TypeVar("_V")


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """The numbers of the sign-in limits (seconds for durations)."""

    address_limit: int = 10
    address_window: float = 15 * 60
    account_free_failures: int = 5
    account_first_wait: float = 15.0
    account_max_wait: float = 15 * 60
    account_memory: float = 24 * 3600
    owner_grace: int = 3  # an address with fewer failures for the account skips the account's backoff
    max_keys: int = 10_000  # per table (addresses, accounts, address-account pairs)
    check_slots: int = 2
    check_queue: int = 8  # attempts that may wait for a slot; more are refused at once
    slot_wait: float = 5.0

    def account_wait(self, failures: int) -> float:
        """How long after its latest failure an account with `failures` consecutive failures waits."""
        beyond = failures - self.account_free_failures
        if beyond < 0:
            return 0.0
        return min(self.account_max_wait, self.account_first_wait * 2.0 ** min(beyond, 32))


class SignInRefused(Exception):
    """The attempt was not checked: too many failures (429) or every check slot busy (503)."""

    def __init__(self, status: int, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = max(1, math.ceil(retry_after))


@dataclass(slots=True)
class _Failures:
    """Consecutive failures of an account, or of one address for one account."""

    count: int
    latest: float


@dataclass(frozen=True, slots=True)
class _Reservation:
    address: bytes
    account: bytes
    pair: bytes
    at: float


class LoginAttempt:
    """One admitted attempt, counted as a failure until `succeeded()` says otherwise."""

    def __init__(self, throttle: LoginThrottle, reservation: _Reservation) -> None:
        self._throttle = throttle
        self._reservation = reservation

    def succeeded(self) -> None:
        self._throttle._take_back(self._reservation, success=True)


class LoginThrottle:
    """Decides whether a sign-in attempt may be checked now, counts it first, and bounds concurrent checks."""

    def __init__(
        self, policy: LoginPolicy | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.policy = policy or LoginPolicy()
        self._clock = clock
        self._lock = threading.Lock()
        # A per-process key: the digests are useless outside this process (no dictionary of emails).
        self._salt = secrets.token_bytes(16)
        # Each table is ordered by its latest failure, oldest first: expiry and eviction pop the front.
        self._addresses: OrderedDict[bytes, deque[float]] = OrderedDict()
        self._accounts: OrderedDict[bytes, _Failures] = OrderedDict()
        self._pairs: OrderedDict[bytes, _Failures] = OrderedDict()
        self._slots = threading.BoundedSemaphore(self.policy.check_slots)
        self._admission = threading.BoundedSemaphore(self.policy.check_slots + self.policy.check_queue)

    def __len__(self) -> int:
        """How many addresses, accounts and address-account pairs are tracked (expired ones dropped first)."""
        with self._lock:
            self._expire(self._clock())
            return len(self._addresses) + len(self._accounts) + len(self._pairs)

    @contextmanager
    def attempt(self, address: str, email: str) -> Iterator[LoginAttempt]:
        """Admit one password check, or raise `SignInRefused`. Call `succeeded()` on the right password."""
        reservation = self._reserve(address, email)
        if not self._admission.acquire(blocking=False):
            self._take_back(reservation, success=False)
            raise _busy(self.policy.slot_wait)
        try:
            if not self._slots.acquire(timeout=self.policy.slot_wait):
                self._take_back(reservation, success=False)
                raise _busy(self.policy.slot_wait)
            try:
                yield LoginAttempt(self, reservation)
            finally:
                self._slots.release()
        finally:
            self._admission.release()

    # --- the bookkeeping, all under the lock ----------------------------------------------------------

    def _digest(self, kind: bytes, value: str) -> bytes:
        return hashlib.blake2b(
            kind + value.encode("utf-8", "surrogatepass"), digest_size=_DIGEST_BYTES, key=self._salt
        ).digest()

    def _reserve(self, address: str, email: str) -> _Reservation:
        now = self._clock()
        address_key = self._digest(b"ip:", address)
        account_key = self._digest(b"email:", normalize_email(email))
        pair_key = self._digest(b"pair:", address_key.hex() + account_key.hex())
        policy = self.policy
        with self._lock:
            self._expire(now)
            times = self._addresses.get(address_key) or deque(maxlen=policy.address_limit)
            while times and times[0] <= now - policy.address_window:
                times.popleft()
            if len(times) >= policy.address_limit:
                wait = times[0] + policy.address_window - now
                raise SignInRefused(
                    429, f"Too many failed sign-ins from this address. Try again in {_about(wait)}.", wait
                )
            account = self._accounts.get(account_key) or _Failures(0, now)
            pair = self._pairs.get(pair_key) or _Failures(0, now)
            wait = account.latest + policy.account_wait(account.count) - now
            if pair.count >= policy.owner_grace and wait > 0:
                raise SignInRefused(
                    429, f"Too many failed sign-ins for this account. Try again in {_about(wait)}.", wait
                )
            times.append(now)
            for failures in (account, pair):
                failures.count += 1
                failures.latest = now
            self._remember(self._addresses, address_key, times)
            self._remember(self._accounts, account_key, account)
            self._remember(self._pairs, pair_key, pair)
        return _Reservation(address_key, account_key, pair_key, now)

    def _take_back(self, reservation: _Reservation, *, success: bool) -> None:
        """Undo a reservation's count: it was no failure. A success also clears the account's and pair's."""
        with self._lock:
            times = self._addresses.get(reservation.address)
            if times is not None:
                try:
                    times.remove(reservation.at)
                except ValueError:  # already expired or pushed out by newer failures
                    pass
                if not times:
                    del self._addresses[reservation.address]
            for table, key in ((self._accounts, reservation.account), (self._pairs, reservation.pair)):
                failures = table.get(key)
                if failures is not None:
                    failures.count -= 1
                    if success or failures.count <= 0:
                        del table[key]

    def _remember(self, table: OrderedDict[bytes, _V], key: bytes, value: _V) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > self.policy.max_keys:
            table.popitem(last=False)

    def _expire(self, now: float) -> None:
        address_horizon = now - self.policy.address_window
        while self._addresses:
            key, times = next(iter(self._addresses.items()))
            if times and times[-1] > address_horizon:
                break
            del self._addresses[key]
        account_horizon = now - self.policy.account_memory
        for table in (self._accounts, self._pairs):
            while table:
                key, failures = next(iter(table.items()))
                if failures.latest > account_horizon:
                    break
                del table[key]


def _busy(retry_after: float) -> SignInRefused:
    return SignInRefused(
        503, "usageledger is busy checking other sign-ins. Try again in a few seconds.", retry_after
    )


def _about(seconds: float) -> str:
    """A human duration: 'about 40 seconds', 'about 3 minutes'."""
    if seconds < 90:
        n = max(1, math.ceil(seconds))
        return f"about {n} second{'s' if n != 1 else ''}"
    n = round(seconds / 60)
    return f"about {n} minutes"

"""Bursts of coordinated activity: pure functions over votes and submissions (no Flask, no database).

``moderation.floods`` reads the recent votes and submissions into ``Act`` rows, asks these functions which of
them form a burst, and records the bursts as flood groups with the ``summary`` of their evidence.
"""
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median


@dataclass(frozen=True)
class Act:
    """One support or submission: who (and how old the account was), when, and from which network."""
    id: int
    user_id: int
    at: datetime
    account_created_at: datetime
    network: str | None = None

    def account_age(self) -> timedelta:
        return self.at - self.account_created_at


@dataclass(frozen=True)
class SupportRules:
    """When supports of one proposal form a burst (each a setting; docs/architecture.md says why)."""
    window: timedelta = timedelta(minutes=60)
    new_account_age: timedelta = timedelta(days=7)
    new_account_share: float = 0.5
    min_supports: int = 20
    rapid_window: timedelta = timedelta(minutes=10)
    rapid_supports: int = 100


def in_bursts(acts: Iterable[Act], window: timedelta, minimum: int, min_accounts: int = 1) -> list[Act]:
    """The acts lying in some stretch of time no longer than ``window`` that holds at least ``minimum`` acts from
    at least ``min_accounts`` distinct accounts, in time order. One pass with two pointers."""
    acts = sorted(acts, key=lambda a: (a.at, a.id))
    marked = [False] * len(acts)
    accounts: Counter = Counter()
    start = marked_upto = 0
    for end, act in enumerate(acts):
        accounts[act.user_id] += 1
        while act.at - acts[start].at > window:
            accounts[acts[start].user_id] -= 1
            if not accounts[acts[start].user_id]:
                del accounts[acts[start].user_id]
            start += 1
        if end - start + 1 >= minimum and len(accounts) >= min_accounts:
            for k in range(max(start, marked_upto), end + 1):
                marked[k] = True
            marked_upto = end + 1
    return [act for act, flagged in zip(acts, marked, strict=True) if flagged]


def stretches(acts: Sequence[Act], window: timedelta) -> list[list[Act]]:
    """Acts in time order cut where more than ``window`` separates two of them: the separate bursts."""
    out: list[list[Act]] = []
    for act in acts:
        if out and act.at - out[-1][-1].at <= window:
            out[-1].append(act)
        else:
            out.append([act])
    return out


def _share_of(part: list[Act], acts: Sequence[Act]) -> float:
    """``part``'s share of all the acts in the time it spans."""
    within = sum(1 for act in acts if part[0].at <= act.at <= part[-1].at)
    return len(part) / within


def support_burst(acts: Sequence[Act], rules: SupportRules) -> tuple[list[Act], list[str]]:
    """The supports of one proposal that belong to a burst, and the rules that found them:

    - "new_accounts": ``min_supports`` from accounts at most ``new_account_age`` old within ``window``, making at
      least ``new_account_share`` of the proposal's supports in that time (a surge of citizens of every age that
      includes some newcomers is not one);
    - "one_network": ``min_supports`` from one network within ``window``;
    - "rapid": ``rapid_supports`` from any accounts within ``rapid_window``.

    Only the supports matching a rule are members: a long-standing account that supported in the same hour from
    another network is not held with the burst."""
    found: dict[int, Act] = {}
    fired = []
    new = [a for a in acts if a.account_age() <= rules.new_account_age]
    by_network: dict[str, list[Act]] = {}
    for act in acts:
        if act.network:
            by_network.setdefault(act.network, []).append(act)
    new_bursts = [part for part in stretches(in_bursts(new, rules.window, rules.min_supports), rules.window)
                  if _share_of(part, acts) >= rules.new_account_share]
    checks = [("new_accounts", new_bursts),
              ("one_network", [in_bursts(group, rules.window, rules.min_supports) for group in by_network.values()]),
              ("rapid", [in_bursts(acts, rules.rapid_window, rules.rapid_supports)])]
    for rule, results in checks:
        members = [act for result in results for act in result]
        if members:
            fired.append(rule)
            found.update((act.id, act) for act in members)
    return sorted(found.values(), key=lambda a: (a.at, a.id)), fired


def summary(acts: Sequence[Act], rules: Iterable[str], new_account_age: timedelta, samples: int = 3) -> dict:
    """The evidence moderators read, as JSON values: how many acts and accounts, how many accounts were new when
    they acted and the median age, the networks (top three by a short label, and how many in all), the rules
    that fired and a few sample ids spread over the burst."""
    acts = sorted(acts, key=lambda a: (a.at, a.id))
    youngest: dict[int, timedelta] = {}
    for act in acts:
        youngest[act.user_id] = min(youngest.get(act.user_id, act.account_age()), act.account_age())
    networks = Counter(act.network for act in acts if act.network)
    picks = sorted({0, len(acts) // 2, len(acts) - 1})[:samples] if acts else []
    return {
        "items": len(acts),
        "accounts": len(youngest),
        "new_accounts": sum(age <= new_account_age for age in youngest.values()),
        "new_account_days": new_account_age.days,
        "median_account_age_hours": round(median(a.total_seconds() for a in youngest.values()) / 3600, 1)
        if youngest else None,
        "networks": [[key[:6].upper(), count] for key, count in networks.most_common(3)],
        "distinct_networks": len(networks),
        "without_network": sum(1 for act in acts if not act.network),
        "rules": sorted(set(rules)),
        "samples": [acts[i].id for i in picks],
    }

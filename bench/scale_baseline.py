"""The baseline of ``bench/scale.py``: Jalon against the bare pylti1p3 tool, interleaved.

Both under gunicorn with the same settings (workers × threads, gthread, access log),
each on its own port of 127.0.0.1, driven by the same locust users without pause.
In each round, in A-B-B-A order across rounds: Jalon's launches, the bare tool's launches,
the bare tool's launch + page, Jalon's launch + landing (``/lti/accueil`` → ``/epreuve``),
and Jalon's landings alone. Tool-side CPU is the gunicorn workers' user + system time
read from /proc before and after each part, divided by what the part did.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from bench.lms import LmsServer
from bench.scale_stack import Figures, Process, cpu_seconds, locust, platform_env

PARTS = (
    ("jalon", "JalonLaunch"),
    ("bare", "BareLaunch"),
    ("bare", "BareLaunchPage"),
    ("jalon", "JalonLaunchLanding"),
    ("jalon", "JalonLanding"),
)


@dataclass
class Part:
    """What one part of one round measured."""

    launches: int
    rate: float
    cpu: float
    landings: int = 0
    figures: dict[str, Figures] = field(default_factory=dict)


def measure(
    tool: Process,
    base: str,
    launch_url: str,
    user: str,
    clients: int,
    seconds: float,
    env: dict[str, str],
    prefix: Path,
) -> Part:
    """Run one part against one tool; return launches, their rate and the workers' CPU."""
    workers = tool.workers()
    before = cpu_seconds(workers)
    figures = locust(
        [user], clients, seconds, base, {**env, "BENCH_LAUNCH_URL": launch_url}, prefix
    )
    cpu = cpu_seconds(workers) - before
    none = Figures(0, 0, 0.0, 0, 0, 0)
    launch = figures.get("= launch", none)
    landing = figures.get("= landing") or figures.get("page") or none
    # Landings alone are counted by landing; every other part by launch.
    rate = landing.rate if user == "JalonLanding" else launch.rate
    return Part(launch.count, rate, cpu, landing.count, figures)


def run(
    jalon: tuple[Process, str],
    bare: tuple[Process, str],
    lms: LmsServer,
    rounds: int,
    clients: int,
    seconds: float,
    env: dict[str, str],
    folder: Path,
) -> dict[str, list[Part]]:
    """Run the interleaved rounds; return each part's measures, by user class."""
    env = {**env, **platform_env(lms.signer, folder)}
    tools = {"jalon": jalon, "bare": bare}
    launch_paths = {"jalon": "/lti/launch", "bare": "/launch"}
    parts: dict[str, list[Part]] = {user: [] for _, user in PARTS}
    for side, user in (("jalon", "JalonLaunchLanding"), ("bare", "BareLaunchPage")):
        process, base = tools[side]  # warm up: every worker's first requests, not counted
        warm_env = {**env, "BENCH_RUN": f"warm-{user}"}
        measure(
            process,
            base,
            base + launch_paths[side],
            user,
            clients,
            4,
            warm_env,
            folder / f"warm-{user}",
        )
    for number in range(rounds):
        order = PARTS if number % 2 == 0 else tuple(reversed(PARTS))
        for side, user in order:
            process, base = tools[side]
            run_env = {**env, "BENCH_RUN": f"base{number}-{user}"}
            prefix = folder / f"base-{number}-{user}"
            launch_url = base + launch_paths[side]
            part = measure(process, base, launch_url, user, clients, seconds, run_env, prefix)
            parts[user].append(part)
    return parts


def _per(cpu: float, count: int) -> float:
    return cpu / count * 1000 if count else float("nan")


def report(parts: dict[str, list[Part]], clients: int, workers: int, threads: int) -> list[str]:
    """Return the lines that print the baseline: rates, CPU per launch and landing, ratios."""
    lines = [
        f"baseline: gunicorn {workers} workers × {threads} threads each, direct on 127.0.0.1, "
        f"{clients} locust users without pause, {len(parts['JalonLaunch'])} interleaved rounds",
        "  part                                  per second   tool CPU ms     p50/p95 ms",
    ]
    labels = {
        "JalonLaunch": "Jalon launch",
        "BareLaunch": "bare pylti1p3 launch",
        "BareLaunchPage": "bare launch + trivial page",
        "JalonLaunchLanding": "Jalon launch + landing pair",
        "JalonLanding": "Jalon landing pairs alone (per pair)",
    }
    for user, label in labels.items():
        rows = parts[user]
        alone = user == "JalonLanding"
        rate = statistics.median(p.rate for p in rows)
        cpu = statistics.median(_per(p.cpu, p.landings if alone else p.launches) for p in rows)
        flows = [p.figures.get("= landing" if alone else "= launch") for p in rows]
        p50 = statistics.median(f.p50 for f in flows if f)
        p95 = statistics.median(f.p95 for f in flows if f)
        lines.append(f"  {label:<37} {rate:9.1f}   {cpu:10.2f}   {p50:6.0f}/{p95:.0f}")
    per_round = []
    for number in range(len(parts["JalonLaunch"])):
        jalon, bare = parts["JalonLaunch"][number], parts["BareLaunch"][number]
        pair, bare_page = parts["JalonLaunchLanding"][number], parts["BareLaunchPage"][number]
        landings = parts["JalonLanding"][number]
        cpu_launch = _per(jalon.cpu, jalon.launches) / 1000
        landing_cpu = (landings.cpu - landings.launches * cpu_launch) / max(landings.landings, 1)
        pair_cpu = (pair.cpu - pair.launches * cpu_launch) / max(pair.landings, 1)
        per_round.append(
            {
                "rate": jalon.rate / bare.rate if bare.rate else float("nan"),
                "cpu": _per(jalon.cpu, jalon.launches) / _per(bare.cpu, bare.launches),
                "page_rate": pair.rate / bare_page.rate if bare_page.rate else float("nan"),
                "landing_cpu": landing_cpu * 1000,
                "pair_cpu": pair_cpu * 1000,
            }
        )

    def spread(key: str) -> str:
        values = [r[key] for r in per_round]
        median = statistics.median(values)
        return f"{median:.2f} (rounds {min(values):.2f}–{max(values):.2f})"

    lines += [
        f"  launches/s Jalon / bare               {spread('rate')}   target ≥ 0.9",
        f"  CPU per launch Jalon / bare           {spread('cpu')}",
        f"  launch + landing / bare launch + page {spread('page_rate')}",
        f"  landing pair, tool CPU ms (alone)     {spread('landing_cpu')}   target ≤ 4 ms",
        f"  landing pair, tool CPU ms (after a launch, launch CPU taken off) {spread('pair_cpu')}",
    ]
    return lines


def dump(parts: dict[str, list[Part]], path: Path) -> None:
    """Write every part's measures as JSON, for a later look."""
    document = {
        user: [
            {"launches": p.launches, "rate": p.rate, "cpu": p.cpu, "landings": p.landings}
            for p in rows
        ]
        for user, rows in parts.items()
    }
    path.write_text(json.dumps(document, indent=1))

"""The effectiveness floors CI holds newsearch to: ``bench/effectiveness_baseline.json``.

    {"floors": {set: {measure: value}},
     "log": [{"date": ..., "why": ..., "set": {set: {measure: value}}, "lowered": [...]}]}

The floors are the log replayed (each entry sets the values it names, later entries win).
An entry that sets a value below the one before it must name it in ``lowered`` as
``"set/measure"`` and say why: :meth:`Baseline.check` (run by every benchmark run, without
the corpora) fails otherwise, so a floor cannot be lowered by editing a number. Change the
file with this module:

    python -m bench.baseline raise "why"                      # up to the last run's figures
    python -m bench.baseline lower "SET" MEASURE VALUE "why"  # one floor down, on record

``raise`` reads ``bench/out/effectiveness.json`` (the last full run; ``--quick`` for the
quick one) and lifts every floor to newsearch's figure there, cut (not rounded) to four
decimals; it never lowers one.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .conftest import OUT

__all__ = ["PATH", "TOLERANCE", "Baseline", "load"]

PATH = Path(__file__).with_name("effectiveness_baseline.json")
# Figures are deterministic (rank-based runs, pytrec_eval in doubles); this only absorbs the
# last digit of a float printed and read back.
TOLERANCE = 1e-4

Floors = dict[str, dict[str, float]]


@dataclass
class Baseline:
    floors: Floors
    log: list[dict[str, Any]]

    def replayed(self) -> Floors:
        out: Floors = {}
        for entry in self.log:
            for name, values in entry["set"].items():
                out.setdefault(name, {}).update(values)
        return out

    def check(self) -> None:
        """Raise AssertionError unless the floors are the log replayed and every lowering is
        declared with a reason."""
        seen: Floors = {}
        for i, entry in enumerate(self.log):
            assert entry.get("why", "").strip(), f"log entry {i} says nothing about why"
            declared = set(entry.get("lowered", ()))
            for name, values in entry["set"].items():
                for m, v in values.items():
                    before = seen.get(name, {}).get(m)
                    if before is not None and v < before:
                        assert f"{name}/{m}" in declared, (
                            f"log entry {i} lowers {name} {m} from {before} to {v} without "
                            f"declaring it (use: python -m bench.baseline lower ...)")
                    seen.setdefault(name, {})[m] = v
        assert seen == self.floors, (
            f"{PATH.name}: the floors differ from their log replayed; change them with "
            f"python -m bench.baseline, not by hand")

    def save(self) -> None:
        self.check()
        # One line per set, so a diff shows which floors moved.
        sets = ",\n".join(f"  {json.dumps(n, ensure_ascii=False)}: {json.dumps(v)}"
                          for n, v in self.floors.items())
        log = ",\n".join(f"  {json.dumps(e, ensure_ascii=False)}" for e in self.log)
        PATH.write_text(f'{{\n "floors": {{\n{sets}\n }},\n "log": [\n{log}\n ]\n}}\n', "utf-8")

    def add(self, values: Floors, why: str, lowered: list[str] | None = None) -> None:
        if not values:
            return
        entry: dict[str, Any] = {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "why": why,
                                 "set": values}
        if lowered:
            entry["lowered"] = lowered
        self.log.append(entry)
        for name, vals in values.items():
            self.floors.setdefault(name, {}).update(vals)


def load() -> Baseline:
    if not PATH.exists():
        return Baseline({}, [])
    data = json.loads(PATH.read_text("utf-8"))
    return Baseline(data["floors"], data["log"])


def _cut(v: float) -> float:
    # 0.69 is 0.68999... in binary: the epsilon keeps it 0.69.
    return math.floor(v * 10_000 + 1e-6) / 10_000


def raise_to(results: dict[str, Any], why: str) -> Floors:
    """Lift floors to newsearch's figures in an effectiveness.json; return what moved."""
    b = load()
    up: Floors = {}
    for name, engines in results["results"].items():
        ours = engines.get("newsearch")
        if not ours:
            continue
        for m in results["measures"]["adhoc" if "MAP" in ours else "known-item"]:
            v = _cut(ours[m])
            if v > b.floors.get(name, {}).get(m, -1.0):
                up.setdefault(name, {})[m] = v
    b.add(up, why)
    b.save()
    return up


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("raise", help="lift floors to the last run's figures")
    r.add_argument("why")
    r.add_argument("--quick", action="store_true", help="read the quick run's figures")
    lo = sub.add_parser("lower", help="set one floor lower, on record")
    lo.add_argument("set")
    lo.add_argument("measure")
    lo.add_argument("value", type=float)
    lo.add_argument("why")
    args = p.parse_args(argv)
    if args.cmd == "raise":
        path = OUT / ("effectiveness-quick.json" if args.quick else "effectiveness.json")
        up = raise_to(json.loads(path.read_text("utf-8")), args.why)
        for name, vals in up.items():
            print(name, ", ".join(f"{m} {v:.4f}" for m, v in vals.items()))
        print(f"{sum(len(v) for v in up.values())} floors raised")
        return 0
    b = load()
    if args.measure not in b.floors.get(args.set, {}):
        print(f"no floor {args.set} / {args.measure}", file=sys.stderr)
        return 2
    b.add({args.set: {args.measure: args.value}}, args.why,
          lowered=[f"{args.set}/{args.measure}"])
    b.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())

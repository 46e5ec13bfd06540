"""What every service shares: a name, counters, and the contract with the engine.

A service is entered by a patient at a step (``arrive``); it later hands the
patient back to the engine with an outcome (``next``, ``on_divert`` or
``on_escalate``). Bed-like services also ``release`` a patient: a patient keeps
their bed until the next place accepts them, which is how delayed discharges
arise without any special case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.metrics import Level
from sim.units import HOURS_PER_DAY, HOURS_PER_YEAR

if TYPE_CHECKING:
    from sim.model import Patient, Simulation
    from sim.network import ServicePlan, StepPlan
    from sim.sampling import StepDraws

Metric = tuple[str, float, str]


class Service:
    """Base class: counts arrivals, admissions, diversions and escalations after the warm-up."""

    #: metrics written to the daily time series, in order
    daily_names: tuple[str, ...] = ()

    def __init__(self, simulation: Simulation, plan: ServicePlan) -> None:
        self.simulation = simulation
        self.env = simulation.env
        self.plan = plan
        self.name = plan.name
        self.warm_up = simulation.warm_up
        self.arrivals = 0
        self.admitted = 0
        self.diverted = 0
        self.escalated = 0
        self.arrivals_today = 0
        self._day_area: dict[str, float] = {}

    # -- the engine's contract ---------------------------------------------
    def arrive(self, patient: Patient, step: StepPlan, draws: StepDraws) -> None:  # pragma: no cover
        raise NotImplementedError

    def release(self, patient: Patient) -> None:  # pragma: no cover - bed kinds only
        raise NotImplementedError

    def start(self) -> None:
        """Called once before the run (rosters schedule their shift changes here)."""

    def mark_warm_up(self, now: float) -> None:
        for value in vars(self).values():
            if isinstance(value, Level):
                value.mark_warm_up(now)

    def daily(self, now: float) -> tuple[float, ...]:
        return ()

    def summary(self, end: float) -> list[Metric]:  # pragma: no cover
        raise NotImplementedError

    # -- helpers --------------------------------------------------------------
    def _day_mean(self, level: Level, now: float, name: str = "") -> float:
        """Mean of a level over the day that ends ``now``."""
        level.sync(now)
        key = name or str(id(level))
        previous = self._day_area.get(key, 0.0)
        self._day_area[key] = level.area
        return (level.area - previous) / HOURS_PER_DAY

    def measured_hours(self, end: float) -> float:
        return max(end - self.warm_up, 0.0)

    def years(self, end: float) -> float:
        return self.measured_hours(end) / HOURS_PER_YEAR

    def days(self, end: float) -> float:
        return self.measured_hours(end) / HOURS_PER_DAY

    def fixed_costs(self, end: float) -> float:
        cost = self.plan.cost
        if cost is None:
            return 0.0
        total = 0.0
        if cost.fixed_per_year:
            total += cost.fixed_per_year * self.years(end)
        if cost.per_patient:
            total += cost.per_patient * self.admitted
        return total

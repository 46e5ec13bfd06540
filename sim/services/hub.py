"""A local care hub: clinicians at one or more sites, open at stated hours.

South Kent Coast's primary care hub at Folkestone's Royal Victoria Hospital is
open 08:00-20:00 seven days for booked and walk-in care. How many hubs, and
where, is one of the questions a board asks, so a hub's ``sites`` are a
factor an experiment can sweep; each patient goes to the **nearest** open site
from their locality (by car, or public transport if the step says so), and the
journey counts towards the time until they are seen. A patient further than
``max_travel`` from every site goes elsewhere (the step's ``on_divert``).

A patient who arrives while the hub is closed waits for it to open or goes
elsewhere (``when_closed``); at closing time the file says what happens to the
patient being seen and to those still waiting (``at_close``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.metrics import Level, Tally
from sim.network import DIVERT, NEXT
from sim.services.base import Metric, Service
from sim.services.staff import Job, StaffPool

if TYPE_CHECKING:
    from sim.model import Patient, Simulation
    from sim.network import ServicePlan, StepPlan
    from sim.sampling import StepDraws


class Hub(Service):
    """One staff pool per site; patients travel to the nearest."""

    daily_names = ("busy", "on_duty", "arrivals", "diverted", "queue")

    def __init__(self, simulation: Simulation, plan: ServicePlan) -> None:
        super().__init__(simulation, plan)
        self.sites = {
            site: StaffPool(
                simulation.env,
                f"{plan.name}@{simulation.network.localities[site]}",
                plan.roster,
                simulation.warm_up,
                simulation.start_hour_of_week,
                simulation.horizon,
                plan.at_close_in_service,
                plan.at_close_queued,
                opening=plan.opening,
            )
            for site in plan.sites
        }
        self.when_closed = plan.when_closed or "wait"
        self.max_travel = plan.max_travel
        self.responses = Tally()
        self.travel_times = Tally()
        self.too_far = 0
        self.closed_on_arrival = 0
        self.diverted_today = 0
        self.seen_by_site = dict.fromkeys(self.sites, 0)
        self._handler = _Appointment(self)
        self._busy = Level(self.warm_up)

    def start(self) -> None:
        for pool in self.sites.values():
            pool.start()

    def mark_warm_up(self, now: float) -> None:
        for pool in self.sites.values():
            pool.mark_warm_up(now)

    def arrive(self, patient: Patient, step: StepPlan, draws: StepDraws) -> None:
        now = self.env.now
        if now >= self.warm_up:
            self.arrivals += 1
        self.arrivals_today += 1
        site = draws.site[patient.row]
        travel = draws.travel[patient.row]
        if site < 0 or travel > self.max_travel:
            if now >= self.warm_up:
                self.too_far += 1
            self._divert(patient)
            return
        if now >= self.warm_up:
            self.travel_times.add(travel)
        patient.site = site
        if travel > 0:
            self.env.timeout(travel, patient).callbacks.append(self._at_site)
        else:
            self._reach_site(patient)

    def _at_site(self, event) -> None:
        self._reach_site(event.value)

    def _reach_site(self, patient: Patient) -> None:
        pool = self.sites[patient.site]
        if not pool.is_open and self.when_closed == "divert":
            if patient.step_arrival >= self.warm_up:
                self.closed_on_arrival += 1
            self._divert(patient)
            return
        draws = patient.batch.steps[patient.step]
        step = self.simulation.network.steps[patient.step]
        job = Job(patient, draws.duration[patient.row], self._handler, step.roles)
        self.simulation.record(patient, "queued", self.name)
        pool.request(job)

    def _divert(self, patient: Patient) -> None:
        if patient.step_arrival >= self.warm_up:
            self.diverted += 1
        self.diverted_today += 1
        self.simulation.record(patient, "diverted", self.name)
        self.simulation.leave(patient, DIVERT)

    # -- results ---------------------------------------------------------------------
    def daily(self, now: float) -> tuple[float, ...]:
        busy = sum(self._day_mean(pool.busy_level, now, f"busy{site}") for site, pool in self.sites.items())
        on_duty = sum(self._day_mean(pool.on_duty, now, f"duty{site}") for site, pool in self.sites.items())
        values = (
            busy,
            on_duty,
            float(self.arrivals_today),
            float(self.diverted_today),
            float(sum(pool.queued for pool in self.sites.values())),
        )
        self.arrivals_today = 0
        self.diverted_today = 0
        return values

    def summary(self, end: float) -> list[Metric]:
        pools = list(self.sites.values())
        on_duty = sum(p.on_duty.area_after_warm_up(end) for p in pools)
        busy = sum(p.busy_level.area_after_warm_up(end) for p in pools)
        overtime = sum(p.overtime.area_after_warm_up(end) for p in pools)
        waits = Tally()
        for pool in pools:
            waits.count += pool.waits.count
            waits.total += pool.waits.total
            waits.zeros += pool.waits.zeros
            waits.counts = [a + b for a, b in zip(waits.counts, pool.waits.counts, strict=True)]
        self._waits = waits
        rows: list[Metric] = [
            ("arrivals", self.arrivals, "patients"),
            ("admitted", self.admitted, "patients"),
            ("diverted", self.diverted, "patients"),
            ("too_far", self.too_far, "patients"),
            ("closed_on_arrival", self.closed_on_arrival, "patients"),
            ("turned_away_at_close", sum(p.turned_away for p in pools), "patients"),
            ("sites", len(pools), "sites"),
            ("capacity", self.plan.capacity * len(pools), "staff"),
            ("travel_mean", self.travel_times.mean, "hours"),
            ("wait_mean", waits.mean, "hours"),
            ("wait_p95", waits.quantile(0.95), "hours"),
            ("response_mean", self.responses.mean, "hours"),
            ("response_p95", self.responses.quantile(0.95), "hours"),
            ("utilisation", (busy - overtime) / on_duty if on_duty > 0 else float("nan"), "share"),
            ("staff_hours", on_duty, "hours"),
            ("overtime_hours", overtime, "hours"),
            ("handed_on", sum(p.handed_on for p in pools), "patients"),
            ("cost", self.cost(end), "GBP"),
        ]
        localities = self.simulation.network.localities
        rows += [(f"seen_at_{localities[site]}", count, "patients") for site, count in self.seen_by_site.items()]
        return rows

    def cost(self, end: float) -> float:
        cost = self.plan.cost
        total = self.fixed_costs(end)
        if cost is None:
            return total
        pools = list(self.sites.values())
        if cost.staff_hour:
            total += cost.staff_hour * sum(p.on_duty.area_after_warm_up(end) for p in pools)
        overtime_rate = cost.overtime_hour or cost.staff_hour
        if overtime_rate:
            total += overtime_rate * sum(p.overtime.area_after_warm_up(end) for p in pools)
        if cost.site_per_year:
            total += cost.site_per_year * len(pools) * self.years(end)
        return total

    def distributions(self) -> list[tuple[str, Tally]]:
        return [("response", self.responses)]


class _Appointment:
    __slots__ = ("hub",)
    divertible = True

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def started(self, job: Job) -> None:
        hub = self.hub
        patient = job.patient
        if job.responded:
            return
        if patient.step_arrival >= hub.warm_up:
            hub.admitted += 1
            hub.seen_by_site[patient.site] += 1
            hub.responses.add(hub.env.now - patient.step_arrival)
        hub.simulation.record(patient, "seen", hub.name)

    def finished(self, job: Job) -> None:
        self.hub.simulation.leave(job.patient, NEXT)

    def reneged(self, job: Job) -> None:  # pragma: no cover - appointments have no deadline
        self.hub._divert(job.patient)

    def turned_away(self, job: Job) -> None:
        self.hub._divert(job.patient)

    def handed_on(self, job: Job, now: float) -> bool:
        job.work = max(job.started + job.work - now, 0.0)
        return True

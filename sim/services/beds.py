"""Beds: step-up beds bought from care homes, step-down and rehabilitation beds, care packages.

Thanet bought twelve GP step-up beds from local care homes so that a frail
patient in crisis could be cared for there instead of being admitted to
hospital. A bed unit has a capacity and a length of stay; when every bed is
taken the pathway file says what happens: the patient is **diverted** (to acute,
usually), or **waits** for a bed, with or without a limit.

A patient keeps their bed until the next place accepts them. When their stay
ends they become ready to leave; if the next service is full they wait in the
bed, which is a **delayed discharge** (in NHS terms, no longer meeting the
criteria to reside). A ``discharge`` block adds assessment by a team and the
choice of discharge pathway (P0 to P3).

Care packages (discharge pathway 1) are the same mechanism with packages in
place of beds: a number that can run at once, a duration, and a queue, whose
wait is the "acceptable response time for domiciliary care" a board asks about.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from sim.metrics import Level, Tally
from sim.network import NEXT
from sim.services.base import Metric, Service
from sim.units import HOURS_PER_DAY

if TYPE_CHECKING:
    from sim.model import Patient, Simulation
    from sim.network import ServicePlan, StepPlan
    from sim.sampling import StepDraws

INFINITY = float("inf")


class Beds(Service):
    """A pool of beds (or care packages) with a length of stay and a rule for when it is full."""

    daily_names = ("occupancy", "delayed", "admissions", "discharges", "queue")
    unit = "beds"

    def __init__(self, simulation: Simulation, plan: ServicePlan) -> None:
        super().__init__(simulation, plan)
        self.capacity = plan.capacity
        self.overflow = plan.when_full == "overflow"
        self.divert_when_full = plan.when_full == "divert"
        self.wait_limit = plan.wait_limit
        self.busy = 0
        self.occupancy = Level(self.warm_up)
        self.delayed = Level(self.warm_up)
        self.queue_level = Level(self.warm_up)
        self.over_capacity = Level(self.warm_up)
        self.queue: deque = deque()
        self.waits = Tally()
        self.ready_to_discharge = Tally()
        self.assessment_waits = Tally()
        self.stay_total = 0.0
        self.reneged = 0
        self.discharged_by_pathway = [0, 0, 0, 0]
        self.admissions_today = 0
        self.discharges_today = 0
        self.recording = simulation.events is not None
        self._discharge_plans = [step.discharge for step in simulation.network.steps]

    # -- arriving ---------------------------------------------------------------
    def arrive(self, patient: Patient, step: StepPlan, draws: StepDraws) -> None:
        now = self.env.now
        counted = now >= self.warm_up
        if counted:
            self.arrivals += 1
        self.arrivals_today += 1
        if self.busy < self.capacity or self.overflow:
            self._admit(patient, draws, now, counted)
        elif self.divert_when_full:
            if counted:
                self.diverted += 1
            if self.recording:
                self.simulation.record(patient, "diverted", self.name)
            self.simulation.enter(patient, draws.routes[1][patient.row])
        else:
            token = (patient, draws, now)
            self.queue.append(token)
            self.queue_level.change(now, 1)
            self.simulation.record(patient, "queued", self.name)
            if self.wait_limit < INFINITY:
                self.env.timeout(self.wait_limit, token).callbacks.append(self._wait_expired)

    def _admit(self, patient: Patient, draws: StepDraws, arrived: float, counted: bool) -> None:
        # the hot path of every bed-based model: kept to plain attribute updates
        now = self.env.now
        busy = self.busy + 1
        self.busy = busy
        self.occupancy.change(now, 1)
        if busy > self.capacity:
            self.over_capacity.change(now, 1)
        stay = draws.duration[patient.row]
        if counted:
            self.admitted += 1
            self.stay_total += stay
            if now > arrived:
                self.waits.add(now - arrived)
            else:
                self.waits.count += 1
                self.waits.zeros += 1
        self.admissions_today += 1
        # free the bed the patient was waiting in (if any) only after taking this one
        held = patient.held
        patient.held = self
        if held is not None:
            held.release(patient)
        patient.ready = -1.0
        if self.recording:
            self.simulation.record(patient, "admitted", self.name)
        self.env.timeout(stay, patient).callbacks.append(self._stay_ends)

    def place(self, patient: Patient, step: StepPlan, draws: StepDraws, pathway: int) -> None:
        """Start the run with this patient already in a bed (a stated census).

        ``pathway >= 0`` means they are already ready for discharge by that pathway
        and waiting; otherwise ``draws.duration`` holds the rest of their stay.
        """
        now = self.env.now
        self.busy += 1
        self.occupancy.change(now, 1)
        if self.busy > self.capacity:
            self.over_capacity.change(now, 1)
        patient.held = self
        if pathway >= 0:
            patient.discharge_pathway = pathway
            self._ready(patient)
            self._depart(patient)
        else:
            self.env.timeout(draws.duration[patient.row], patient).callbacks.append(self._stay_ends)

    def _wait_expired(self, event) -> None:
        token = event.value
        patient, _, arrived = token
        try:
            self.queue.remove(token)
        except ValueError:
            return  # admitted before the limit
        now = self.env.now
        self.queue_level.change(now, -1)
        if arrived >= self.warm_up:
            self.reneged += 1
            self.diverted += 1
        self.simulation.record(patient, "diverted", self.name)
        self.simulation.leave(patient, 1)

    # -- leaving ------------------------------------------------------------------
    def _stay_ends(self, event) -> None:
        patient: Patient = event.value
        plan = self._discharge_plans[patient.step]
        if plan is None:
            patient.ready = self.env.now
            if self.recording:
                self.simulation.record(patient, "ready", self.name)
            self.simulation.enter(patient, patient.batch.steps[patient.step].routes[NEXT][patient.row])
            if patient.held is self and not patient.delayed:
                patient.delayed = True
                self.delayed.change(self.env.now, 1)
            return
        draws = patient.batch.steps[patient.step]
        if plan.assessed_by is not None and plan.assessed_for[draws.pathway[patient.row]]:
            patient.assessment_from = self.env.now
            team = self.simulation.services[plan.assessed_by]
            team.assess(patient, draws.assessment[patient.row], self._assessed)
        else:
            self._discharge_ready(patient)

    def _assessed(self, patient: Patient) -> None:
        if patient.assessment_from >= self.warm_up:
            self.assessment_waits.add(self.env.now - patient.assessment_from)
        self._discharge_ready(patient)

    def _ready(self, patient: Patient) -> None:
        patient.ready = self.env.now
        self.simulation.record(patient, "ready", self.name)

    def _discharge_ready(self, patient: Patient) -> None:
        """Ready for discharge by a pathway; a stated delay or a full next service keeps the bed."""
        self._ready(patient)
        draws = patient.batch.steps[patient.step]
        pathway = draws.pathway[patient.row]
        patient.discharge_pathway = pathway
        if self.env.now >= self.warm_up:
            self.discharged_by_pathway[pathway] += 1
        delay = draws.delay[patient.row]
        if delay > 0:
            patient.delayed = True
            self.delayed.change(self.env.now, 1)
            self.env.timeout(delay, patient).callbacks.append(self._after_delay)
        else:
            self._depart(patient)

    def _after_delay(self, event) -> None:
        self._depart(event.value)

    def _depart(self, patient: Patient) -> None:
        step = self.simulation.network.steps[patient.step]
        destination = step.discharge.to[patient.discharge_pathway]
        self.simulation.enter(patient, destination)
        self._mark_waiting(patient)

    def _mark_waiting(self, patient: Patient) -> None:
        """After routing: a patient still in this bed is waiting for the next place."""
        if patient.held is self and not patient.delayed:
            patient.delayed = True
            self.delayed.change(self.env.now, 1)

    def release(self, patient: Patient) -> None:
        now = self.env.now
        self.busy -= 1
        self.occupancy.change(now, -1)
        if self.busy >= self.capacity:
            self.over_capacity.change(now, -1)
        self.discharges_today += 1
        if self.recording:
            self.simulation.record(patient, "discharged", self.name)
        if patient.delayed:
            patient.delayed = False
            self.delayed.change(now, -1)
        ready = patient.ready
        if ready >= self.warm_up:
            if now > ready:
                self.ready_to_discharge.add(now - ready)
            else:
                self.ready_to_discharge.count += 1
                self.ready_to_discharge.zeros += 1
        patient.ready = -1.0
        queue = self.queue
        if queue and self.busy < self.capacity:
            waiting, draws, arrived = queue.popleft()
            self.queue_level.change(now, -1)
            self._admit(waiting, draws, arrived, arrived >= self.warm_up)

    # -- results ------------------------------------------------------------------
    def daily(self, now: float) -> tuple[float, ...]:
        values = (
            self._day_mean(self.occupancy, now),
            float(self.delayed.level),
            float(self.admissions_today),
            float(self.discharges_today),
            float(self.queue_level.level),
        )
        self.admissions_today = 0
        self.discharges_today = 0
        return values

    def summary(self, end: float) -> list[Metric]:
        occupancy = self.occupancy.mean_after_warm_up(end)
        bed_days = self.occupancy.area_after_warm_up(end) / HOURS_PER_DAY
        delayed_days = self.delayed.area_after_warm_up(end) / HOURS_PER_DAY
        unit = self.unit
        rows: list[Metric] = [
            ("arrivals", self.arrivals, "patients"),
            ("admitted", self.admitted, "patients"),
            ("diverted", self.diverted, "patients"),
            ("capacity", self.capacity, unit),
            ("wait_mean", self.waits.mean, "hours"),
            ("wait_p95", self.waits.quantile(0.95), "hours"),
            ("occupancy_mean", occupancy, unit),
            ("occupancy_max", self.occupancy.maximum, unit),
            ("utilisation", occupancy / self.capacity if self.capacity else float("nan"), "share"),
            ("bed_days" if unit == "beds" else "package_days", bed_days, "days"),
            ("length_of_stay_mean", self.stay_total / self.admitted / HOURS_PER_DAY if self.admitted else float("nan"), "days"),
            ("delayed_mean", self.delayed.mean_after_warm_up(end), "patients"),
            ("delayed_bed_days" if unit == "beds" else "delayed_days", delayed_days, "days"),
            ("ready_to_discharge_mean", self.ready_to_discharge.mean / HOURS_PER_DAY, "days"),
            ("ready_to_discharge_p95", self.ready_to_discharge.quantile(0.95) / HOURS_PER_DAY, "days"),
            ("delayed_share", 1 - self.ready_to_discharge.share_at_most(HOURS_PER_DAY), "share"),
            ("queue_mean", self.queue_level.mean_after_warm_up(end), "patients"),
        ]
        if self.wait_limit < INFINITY:
            rows.append(("wait_limit_reached", self.reneged, "patients"))
        step_has_discharge = any(
            s.discharge is not None and s.service == self.plan.index for s in self.simulation.network.steps
        )
        if step_has_discharge:
            for index, count in enumerate(self.discharged_by_pathway):
                rows.append((f"discharges_P{index}", count, "patients"))
            if self.assessment_waits.count:
                rows.append(("assessment_wait_mean", self.assessment_waits.mean, "hours"))
        rows.append(("cost", self.cost(end), "GBP"))
        return rows

    def cost(self, end: float) -> float:
        cost = self.plan.cost
        total = self.fixed_costs(end)
        if cost is None:
            return total
        occupied_days = self.occupancy.area_after_warm_up(end) / HOURS_PER_DAY
        if cost.bed_day:
            total += cost.bed_day * self.capacity * self.days(end)
        if cost.occupied_bed_day:
            total += cost.occupied_bed_day * occupied_days
        if cost.package_day:
            total += cost.package_day * occupied_days
        return total

    def distributions(self) -> list[tuple[str, Tally]]:
        found = [("wait", self.waits)]
        if self.ready_to_discharge.count:
            found.append(("ready_to_discharge", self.ready_to_discharge))
        return found


class CarePackages(Beds):
    """Packages of care at home (discharge pathway 1): ``packages`` running at once."""

    unit = "packages"


class Acute(Beds):
    """The acute hospital: emergency admissions are never refused.

    Occupancy above the stated ``beds`` is counted (``over_capacity_bed_days``)
    rather than turning patients away, because an acute trust opens escalation
    beds instead; the board sees the pressure in the occupancy chart.
    """

    def summary(self, end: float) -> list[Metric]:
        rows = super().summary(end)
        rows = [row for row in rows if row[0] not in ("diverted", "wait_mean", "wait_p95", "queue_mean")]
        rows.append(("over_capacity_bed_days", self.over_capacity.area_after_warm_up(end) / HOURS_PER_DAY, "days"))
        return rows

    def cost(self, end: float) -> float:
        total = super().cost(end)
        if self.plan.cost is not None and self.plan.cost.admission:
            total += self.plan.cost.admission * self.admitted
        return total

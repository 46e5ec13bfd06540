"""A team that goes to the patient: community rapid response, an integrated discharge team.

Urgent community response services aim to reach a patient in crisis at home
within two hours, so that an ambulance and an admission are not needed. The
team has staff on a roster, travels from its base to the patient's locality
(travel counts towards the response time), and spends a visit with them.

Each patient has a **clinical window**: if no one can reach them within it, they
**escalate** (an ambulance, the emergency department, an admission) by the
step's ``on_escalate`` route. The engine knows the travel time, so a patient is
escalated as soon as no one could be dispatched in time to arrive within the
window, which is when a real dispatcher would call the ambulance.

The same pool does in-hospital work, such as an integrated discharge team's
assessments, with no travel and no window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.metrics import Tally
from sim.network import DIVERT, ESCALATE, NEXT
from sim.services.base import Metric, Service
from sim.services.staff import Job, StaffPool

if TYPE_CHECKING:
    from collections.abc import Callable

    from sim.model import Patient, Simulation
    from sim.network import ServicePlan, StepPlan
    from sim.sampling import StepDraws

INFINITY = float("inf")


class Team(Service):
    """Staff pool + travel + clinical windows."""

    daily_names = ("busy", "on_duty", "referrals", "escalated", "queue")

    def __init__(self, simulation: Simulation, plan: ServicePlan) -> None:
        super().__init__(simulation, plan)
        self.pool = StaffPool(
            simulation.env,
            plan.name,
            plan.roster,
            simulation.warm_up,
            simulation.start_hour_of_week,
            simulation.horizon,
            plan.at_close_in_service,
            plan.at_close_queued,
        )
        self.return_to_base = plan.return_to_base
        self.responses = Tally()
        self.escalation_times = Tally()
        self.within_target = 0
        self.reached = 0
        self.assessments = 0
        self.escalated_today = 0
        self._visit = _Visit(self)

    def start(self) -> None:
        self.pool.start()

    def mark_warm_up(self, now: float) -> None:
        self.pool.mark_warm_up(now)

    # -- visits ----------------------------------------------------------------------
    def arrive(self, patient: Patient, step: StepPlan, draws: StepDraws) -> None:
        now = self.env.now
        row = patient.row
        if now >= self.warm_up:
            self.arrivals += 1
        self.arrivals_today += 1
        travel = draws.travel[row]
        visit = draws.duration[row]
        window = draws.window[row] if draws.window is not None else INFINITY
        pool = self.pool
        if pool.permanently_closed:
            # no one is ever on duty (the baseline "no service"): the patient goes straight on
            if step.routes[DIVERT] is not None:
                self._divert(patient)
            else:
                self._escalate(patient)
            return
        if window < INFINITY and travel > window:
            self._escalate(patient)
            return
        if not pool.accepting():
            self._divert(patient)
            return
        work = travel + visit + (travel if self.return_to_base else 0.0)
        job = Job(patient, work, self._visit, step.roles, now + window - travel if window < INFINITY else INFINITY)
        job.travel = travel
        job.visit = visit
        self.simulation.record(patient, "queued", self.name)
        pool.request(job)

    def place(self, patient: Patient, step: StepPlan, draws: StepDraws, pathway: int) -> None:
        """Start the run with this patient being visited (a stated census)."""
        job = Job(patient, draws.duration[patient.row], self._visit, step.roles)
        job.visit = job.work
        job.responded = True
        self.pool.request(job)

    def _divert(self, patient: Patient) -> None:
        if patient.step_arrival >= self.warm_up:
            self.diverted += 1
        self.simulation.record(patient, "diverted", self.name)
        self.simulation.leave(patient, DIVERT)

    def _escalate(self, patient: Patient) -> None:
        now = self.env.now
        if patient.step_arrival >= self.warm_up:
            self.escalated += 1
            self.escalation_times.add(now - patient.step_arrival)
        self.escalated_today += 1
        self.simulation.record(patient, "escalated", self.name)
        self.simulation.leave(patient, ESCALATE)

    # -- assessments (in hospital, no travel, no window) -------------------------------
    def assess(self, patient: Patient, duration: float, done: Callable[[Patient], None]) -> None:
        job = Job(patient, duration, _Assessment(self, done))
        self.pool.request(job)

    # -- results -------------------------------------------------------------------------
    def daily(self, now: float) -> tuple[float, ...]:
        values = (
            self._day_mean(self.pool.busy_level, now, "busy"),
            self._day_mean(self.pool.on_duty, now, "on_duty"),
            float(self.arrivals_today),
            float(self.escalated_today),
            float(self.pool.queued),
        )
        self.arrivals_today = 0
        self.escalated_today = 0
        return values

    def summary(self, end: float) -> list[Metric]:
        pool = self.pool
        decided = self.reached + self.escalated + self.diverted
        staff_hours = pool.on_duty.area_after_warm_up(end)
        overtime = pool.overtime.area_after_warm_up(end)
        rows: list[Metric] = [
            ("arrivals", self.arrivals, "patients"),
            ("admitted", self.admitted, "patients"),
            ("diverted", self.diverted, "patients"),
            ("escalated", self.escalated, "patients"),
            ("escalated_share", self.escalated / decided if decided else float("nan"), "share"),
            ("escalation_time_mean", self.escalation_times.mean, "hours"),
            ("capacity", self.plan.capacity, "staff"),
            ("wait_mean", pool.waits.mean, "hours"),
            ("wait_p95", pool.waits.quantile(0.95), "hours"),
            ("response_mean", self.responses.mean, "hours"),
            ("response_p95", self.responses.quantile(0.95), "hours"),
            ("within_target", self.within_target / decided if decided else float("nan"), "share"),
            ("utilisation", pool.utilisation(end), "share"),
            ("busy_mean", pool.busy_level.mean_after_warm_up(end), "staff"),
            ("staff_hours", staff_hours, "hours"),
            ("overtime_hours", overtime, "hours"),
            ("handed_on", pool.handed_on, "patients"),
            ("queue_mean", pool.queue_level.mean_after_warm_up(end), "patients"),
        ]
        if self.assessments:
            rows.append(("assessments", self.assessments, "patients"))
        rows.append(("cost", self.cost(end), "GBP"))
        return rows

    def cost(self, end: float) -> float:
        cost = self.plan.cost
        total = self.fixed_costs(end)
        if cost is None:
            return total
        pool = self.pool
        if cost.staff_hour:
            total += cost.staff_hour * pool.on_duty.area_after_warm_up(end)
        overtime_rate = cost.overtime_hour or cost.staff_hour
        if overtime_rate:
            total += overtime_rate * pool.overtime.area_after_warm_up(end)
        if cost.post_per_year:
            total += cost.post_per_year * self.plan.capacity * self.years(end)
        return total

    def distributions(self) -> list[tuple[str, Tally]]:
        return [("response", self.responses), ("wait", self.pool.waits)]


class _Visit:
    """Handler for a home visit: response time, then the patient moves on."""

    __slots__ = ("team",)
    divertible = True

    def __init__(self, team: Team) -> None:
        self.team = team

    def started(self, job: Job) -> None:
        team = self.team
        patient = job.patient
        now = team.env.now
        if not job.responded:
            response = now + job.travel - patient.step_arrival
            if patient.step_arrival >= team.warm_up:
                team.admitted += 1
                team.reached += 1
                team.responses.add(response)
                draws = patient.batch.steps[patient.step]
                step = team.simulation.network.steps[patient.step]
                if step.target is not None:
                    target = step.target
                elif draws.window is not None:
                    target = draws.window[patient.row]
                else:
                    target = INFINITY
                if response <= target:
                    team.within_target += 1
            team.simulation.record(patient, "seen", team.name)
        if team.return_to_base and job.travel > 0:
            # the patient moves on when the visit ends; the staff member is still driving back
            team.env.timeout(job.travel + job.visit, (job, job.token)).callbacks.append(self._visit_ends)

    def _visit_ends(self, event) -> None:
        job, token = event.value
        if job.token != token:
            return
        self.team.simulation.leave(job.patient, NEXT)

    def finished(self, job: Job) -> None:
        if not (self.team.return_to_base and job.travel > 0):
            self.team.simulation.leave(job.patient, NEXT)

    def reneged(self, job: Job) -> None:
        self.team._escalate(job.patient)

    def turned_away(self, job: Job) -> None:
        self.team._divert(job.patient)

    def handed_on(self, job: Job, now: float) -> bool:
        """A shift ended mid-visit: the next shift travels out and finishes the visit.

        Returns False when the patient had already been seen (the staff member was
        on the way back), so there is nothing to hand on.
        """
        arrived = job.started + job.travel
        if now >= arrived + job.visit:
            return False
        job.visit = job.visit if now < arrived else arrived + job.visit - now
        job.work = job.travel + job.visit + (job.travel if self.team.return_to_base else 0.0)
        return True


class _Assessment:
    """Handler for an assessment in hospital: when it ends, the patient is ready for discharge."""

    __slots__ = ("done", "team")
    divertible = False  # an inpatient waits in bed for the next shift

    def __init__(self, team: Team, done: Callable) -> None:
        self.team = team
        self.done = done

    def started(self, job: Job) -> None:
        if not job.responded:
            self.team.assessments += 1

    def finished(self, job: Job) -> None:
        self.done(job.patient)

    def reneged(self, job: Job) -> None:  # pragma: no cover - assessments have no deadline
        self.done(job.patient)

    def turned_away(self, job: Job) -> None:  # pragma: no cover - never divertible
        raise AssertionError("assessments are never turned away")

    def handed_on(self, job: Job, now: float) -> bool:
        job.work = max(job.started + job.work - now, 0.0)
        return True

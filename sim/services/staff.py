"""A pool of staff on a roster, with a first-come-first-served queue of jobs.

Rapid response teams, hub clinicians and integrated discharge teams all work the
same way: people on duty by role, shift by shift; jobs (a visit, an appointment,
an assessment) wait in line until someone who can do them is free. What differs
is what a job is, which the owner of the pool decides through a handler with
methods: ``started``, ``finished``, ``reneged`` (the patient could not wait any
longer), ``turned_away`` (closing time, and the file says so) and ``handed_on``
(a shift ended mid-visit); its ``divertible`` flag says whether closing time may
send the job elsewhere (a home visit) or not (an assessment of an inpatient).

At a shift end or closing time the file states, never implies, what happens:

- to a patient being seen (``in_service``): ``finish`` (the visit is completed
  and the time after the shift is counted as overtime) or ``hand_on`` (the
  rest of the visit goes to the next shift, first in line);
- to patients queued (``queued``): ``wait`` (seen by the next shift, or the next
  morning) or ``divert`` (sent on by the step's ``on_divert`` route).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from sim.metrics import Level, Tally

if TYPE_CHECKING:
    from sim.roster import WeeklyRoster

QUEUED, RUNNING, DONE, GONE = range(4)
INFINITY = float("inf")


class Job:
    """One piece of work for the pool: a visit, an appointment or an assessment."""

    __slots__ = (
        "deadline", "handler", "patient", "queued_at", "responded", "role", "roles", "started",
        "state", "token", "travel", "visit", "work",
    )

    def __init__(self, patient: Any, work: float, handler: Any, roles: tuple[int, ...] | None = None, deadline: float = INFINITY) -> None:
        self.patient = patient
        self.work = work
        self.handler = handler
        self.roles = roles
        self.deadline = deadline
        self.state = QUEUED
        self.role = -1
        self.started = 0.0
        self.queued_at = 0.0
        self.token = 0
        self.responded = False
        self.travel = 0.0
        self.visit = 0.0


class StaffPool:
    """Staff on duty per role, busy per role, and one queue."""

    def __init__(
        self,
        env: Any,
        name: str,
        roster: WeeklyRoster,
        warm_up: float,
        start_hour_of_week: float,
        horizon: float,
        in_service_at_close: str | None,
        queued_at_close: str | None,
        opening: WeeklyRoster | None = None,
    ) -> None:
        self.env = env
        self.name = name
        self.roster = roster
        self.roles = roster.roles
        self.capacity = list(roster.on_duty(start_hour_of_week))
        self.busy = [0] * len(self.roles)
        self.queue: deque[Job] = deque()
        self.queued = 0
        self.in_service_at_close = in_service_at_close or "finish"
        self.queued_at_close = queued_at_close or "wait"
        self.opening = opening
        self.is_open = bool(opening.on_duty(start_hour_of_week)[0]) if opening else sum(self.capacity) > 0
        self.warm_up = warm_up
        self.busy_level = Level(warm_up)
        self.on_duty = Level(warm_up, level=sum(self.capacity))
        self.overtime = Level(warm_up)
        self.queue_level = Level(warm_up)
        self.waits = Tally()
        self.handed_on = 0
        self.turned_away = 0
        self._changes = roster.schedule(start_hour_of_week, horizon)[1:]
        self._opening_changes = opening.schedule(start_hour_of_week, horizon)[1:] if opening else []
        self.permanently_closed = roster.is_constant() and sum(self.capacity) == 0
        self._running: set[Job] = set()

    # -- the roster ------------------------------------------------------------
    def start(self) -> None:
        events = [(time, "staff", level) for time, level in self._changes]
        events += [(time, "opening", level) for time, level in self._opening_changes]
        events.sort(key=lambda item: (item[0], item[1] == "opening"))
        for time, what, level in events:
            callback = self._shift_change if what == "staff" else self._opening_change
            self.env.timeout(time, level).callbacks.append(callback)

    def _excess(self) -> int:
        """Staff busy beyond those on duty (working overtime), summed over roles."""
        return sum(max(0, b - c) for b, c in zip(self.busy, self.capacity, strict=True))

    def _set_busy(self, role: int, delta: int) -> None:
        now = self.env.now
        busy = self.busy
        capacity = self.capacity[role]
        before = busy[role] - capacity
        busy[role] += delta
        self.busy_level.change(now, delta)
        after = busy[role] - capacity
        if before > 0 or after > 0:
            self.overtime.change(now, max(after, 0) - max(before, 0))

    def _shift_change(self, event) -> None:
        now = self.env.now
        new_capacity = list(event.value)
        before = self._excess()
        self.on_duty.change(now, sum(new_capacity) - sum(self.capacity))
        self.capacity = new_capacity
        after = self._excess()
        if after != before:
            self.overtime.change(now, after - before)
        if self.in_service_at_close == "hand_on":
            self._hand_on()
        if self.opening is None:
            was_open, self.is_open = self.is_open, sum(self.capacity) > 0
            if was_open and not self.is_open:
                self._closing()
        self.dispatch()

    def _opening_change(self, event) -> None:
        was_open, self.is_open = self.is_open, bool(event.value[0])
        if was_open and not self.is_open:
            if self.in_service_at_close == "hand_on":
                self._hand_on(everyone=True)
            self._closing()
        self.dispatch()

    def _hand_on(self, everyone: bool = False) -> None:
        """Interrupt visits beyond the staff now on duty; they go first in line for the next shift."""
        now = self.env.now
        running = [job for job in self._running if job.state == RUNNING]
        for role in range(len(self.roles)):
            excess = self.busy[role] - (0 if everyone else self.capacity[role])
            if excess <= 0:
                continue
            # hand on the visits with most left to do
            candidates = sorted(
                (job for job in running if job.role == role),
                key=lambda job: job.started + job.work,
                reverse=True,
            )[:excess]
            for job in candidates:
                job.token += 1
                self._running.discard(job)
                self._set_busy(role, -1)
                if job.handler.handed_on(job, now):
                    job.state = QUEUED
                    self.queue.appendleft(job)
                    self.queued += 1
                    self.queue_level.change(now, 1)
                    self.handed_on += 1
                else:
                    job.state = DONE

    def _closing(self) -> None:
        if self.queued_at_close != "divert":
            return
        waiting = [job for job in self.queue if job.state == QUEUED and job.handler.divertible]
        if not waiting:
            return
        self.queue = deque(job for job in self.queue if job.state == QUEUED and not job.handler.divertible)
        now = self.env.now
        self.queue_level.change(now, -len(waiting))
        self.queued -= len(waiting)
        for job in waiting:
            job.state = GONE
            self.turned_away += 1
            job.handler.turned_away(job)

    # -- jobs ----------------------------------------------------------------------
    def accepting(self) -> bool:
        """Whether a new job would be turned away now (closed, and the file says divert)."""
        return self.is_open or self.queued_at_close != "divert"

    def _free_role(self, roles: tuple[int, ...] | None) -> int:
        capacity, busy = self.capacity, self.busy
        if roles is None:
            for role in range(len(capacity)):
                if busy[role] < capacity[role]:
                    return role
            return -1
        for role in roles:
            if busy[role] < capacity[role]:
                return role
        return -1

    def request(self, job: Job) -> None:
        now = self.env.now
        job.queued_at = now
        role = self._free_role(job.roles) if self.is_open else -1
        if role >= 0:
            self._start(job, role)
            return
        self.queue.append(job)
        self.queued += 1
        self.queue_level.change(now, 1)
        if job.deadline < INFINITY:
            self.env.timeout(max(job.deadline - now, 0.0), (job, job.token)).callbacks.append(self._deadline)

    def _deadline(self, event) -> None:
        job, token = event.value
        if job.state != QUEUED or job.token != token:
            return
        job.state = GONE
        self.queued -= 1
        self.queue_level.change(self.env.now, -1)
        job.handler.reneged(job)

    def _start(self, job: Job, role: int) -> None:
        now = self.env.now
        if job.queued_at >= self.warm_up and not job.responded:
            self.waits.add(now - job.queued_at)
        job.state = RUNNING
        job.role = role
        job.started = now
        self._set_busy(role, 1)
        self._running.add(job)
        job.handler.started(job)
        job.responded = True
        self.env.timeout(job.work, (job, job.token)).callbacks.append(self._finish)

    def _finish(self, event) -> None:
        job, token = event.value
        if job.state != RUNNING or job.token != token:
            return
        job.state = DONE
        self._running.discard(job)
        self._set_busy(job.role, -1)
        job.handler.finished(job)
        self.dispatch()

    def dispatch(self) -> None:
        """Start queued jobs while staff who can do them are free (first come, first served)."""
        if not self.is_open:
            return
        queue = self.queue
        while queue:
            job = queue[0]
            if job.state != QUEUED:
                queue.popleft()
                continue
            role = self._free_role(job.roles)
            if role < 0:
                if len(self.roles) == 1:
                    return
                self._dispatch_other_roles()
                return
            queue.popleft()
            self.queued -= 1
            self.queue_level.change(self.env.now, -1)
            self._start(job, role)

    def _dispatch_other_roles(self) -> None:
        """The head of the line needs a role that is busy: serve the first job someone free can do."""
        for job in list(self.queue):
            if job.state != QUEUED:
                continue
            role = self._free_role(job.roles)
            if role >= 0:
                self.queue.remove(job)
                self.queued -= 1
                self.queue_level.change(self.env.now, -1)
                self._start(job, role)
                if self._free_role(None) < 0:
                    return

    # -- results ----------------------------------------------------------------------
    def utilisation(self, end: float) -> float:
        on_duty = self.on_duty.area_after_warm_up(end)
        if on_duty <= 0:
            return float("nan")
        in_hours = self.busy_level.area_after_warm_up(end) - self.overtime.area_after_warm_up(end)
        return in_hours / on_duty

    def mark_warm_up(self, now: float) -> None:
        for level in (self.busy_level, self.on_duty, self.overtime, self.queue_level):
            level.mark_warm_up(now)

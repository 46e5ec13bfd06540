"""The simulation: patients arrive, move from step to step, and leave by an exit.

The event loop is SimPy's. What carepath does differently from a notebook model
is what it puts on that loop. A typical SimPy model starts a generator process
per patient, and each service costs a ``Request`` and a ``Release`` event per
patient, plus a scalar random draw per decision and a dict append per event.
Here:

- everything random about a patient is drawn beforehand, vectorised, from
  named streams (:mod:`sim.sampling`), so the loop does only queueing logic;
- a patient is a small object moved by callbacks on plain timeouts: where
  nothing waits, a stay in a bed costs one event, not four;
- statistics are running sums (:mod:`sim.metrics`), not lists.

The generic engine runs a beds-only loss model several times faster than the
same model written by hand in plain SimPy (``benchmarks/engine.py``).

Routing is the engine's only job: :meth:`Simulation.enter` puts a patient into a
step (or an exit), the step's service takes over, and :meth:`Simulation.leave`
follows the pre-drawn route for the outcome the service reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import simpy

from sim.network import NEXT, Network
from sim.sampling import CHUNK_HOURS, Batch, batch_from_arrivals, draw_batch, draw_census
from sim.services import SERVICE_CLASSES, Service
from sim.units import HOURS_PER_DAY

#: Bump when a change to the engine changes what a run produces: cached runs
#: in a results store are keyed by it, so they are re-run rather than mixed.
ENGINE_VERSION = "1"


class Patient:
    """A patient moving through the pathway; their draws live in their batch."""

    __slots__ = (
        "arrival", "assessment_from", "batch", "delayed", "discharge_pathway", "held", "pid", "ready",
        "row", "site", "step", "step_arrival",
    )

    def __init__(self, pid: int, batch: Batch, row: int, arrival: float) -> None:
        self.pid = pid
        self.batch = batch
        self.row = row
        self.arrival = arrival
        self.step = -1
        self.step_arrival = arrival
        self.held: Service | None = None
        self.ready = -1.0
        self.delayed = False
        self.discharge_pathway = -1
        self.assessment_from = 0.0
        self.site = -1


@dataclass
class RunResult:
    """One replication's tidy results."""

    summary: pd.DataFrame  # replication, service, metric, value, unit
    timeseries: pd.DataFrame  # replication, service, day, metric, value
    distributions: pd.DataFrame  # replication, service, metric, lower, upper, count
    events: pd.DataFrame | None  # replication, patient, time, event, step, where
    patients: int
    people: pd.DataFrame | None = None  # with the event log: who each patient is (attributes)


class Simulation:
    """One replication of a compiled pathway.

    Parameters
    ----------
    network:
        The compiled pathway (:func:`sim.network.compile_network`).
    replication:
        Replication number; with the seed it picks every random stream.
    seed:
        Root seed; defaults to the pathway's.
    horizon, warm_up:
        In hours; default to the pathway's. Results cover ``warm_up`` to ``horizon``.
    record_events:
        Keep a patient event log (memory grows with patients; off for sweeps).
    arrivals:
        Optional table of stated arrivals (see :func:`sim.sampling.batch_from_arrivals`)
        used instead of the demand model.
    """

    def __init__(
        self,
        network: Network,
        replication: int = 0,
        *,
        seed: int | None = None,
        horizon: float | None = None,
        warm_up: float | None = None,
        record_events: bool = False,
        arrivals=None,
    ) -> None:
        self.network = network
        self.replication = replication
        self.seed = network.seed if seed is None else seed
        self.horizon = network.horizon if horizon is None else horizon
        self.warm_up = network.warm_up if warm_up is None else warm_up
        if self.warm_up >= self.horizon:
            raise ValueError("the warm-up must end before the horizon")
        self.env = simpy.Environment()
        self.start_hour_of_week = network.start.weekday() * 24.0
        self.events: list[tuple] | None = [] if record_events else None
        self.services: list[Service] = [SERVICE_CLASSES[plan.kind](self, plan) for plan in network.services]
        self.steps = network.steps
        self.n_steps = len(network.steps)
        self._step_services = [self.services[s.service] if s.service >= 0 else None for s in network.steps]
        self._entry = [plan.entry for plan in network.demand]
        self.exits = [0] * len(network.exits)
        self.patients = 0
        self.patients_after_warm_up = 0
        self._pid = 0
        self._batch: Batch | None = None
        self._entries: list[int] = []
        self._daily: list[list[tuple[float, ...]]] = [[] for _ in self.services]
        self._stated_arrivals = arrivals
        self._attribute_names = ["stream", "locality", "age_band", *(a.name for a in network.attributes)]
        self._people: list[tuple] = []

    # -- routing ------------------------------------------------------------------------
    def enter(self, patient: Patient, destination: int) -> None:
        """Put a patient into a step, or out through an exit."""
        n_steps = self.n_steps
        if destination >= n_steps:
            held = patient.held
            if held is not None:
                patient.held = None
                held.release(patient)
            if patient.arrival >= self.warm_up:
                self.exits[destination - n_steps] += 1
            if self.events is not None:
                self.record(patient, "exit", self.network.exits[destination - n_steps])
            return
        patient.step = destination
        patient.step_arrival = self.env.now
        if self.events is not None:
            self.record(patient, "enter", self.steps[destination].name)
        service = self._step_services[destination]
        draws = patient.batch.steps[destination]
        if service is None:
            delay = draws.duration[patient.row] if draws.duration is not None else 0.0
            if delay > 0:
                self.env.timeout(delay, patient).callbacks.append(self._after_delay)
            else:
                self.enter(patient, draws.routes[NEXT][patient.row])
        else:
            service.arrive(patient, self.steps[destination], draws)

    def leave(self, patient: Patient, outcome: int) -> None:
        """Send a patient on from their step by the route for ``outcome``."""
        route = patient.batch.steps[patient.step].routes[outcome]
        self.enter(patient, route[patient.row])

    def _after_delay(self, event) -> None:
        self.leave(event.value, NEXT)

    def record(self, patient: Patient, event: str, where: str) -> None:
        """Add a line to the event log, when one is kept."""
        if self.events is not None:
            step = self.steps[patient.step].name if patient.step >= 0 else ""
            self.events.append((patient.pid, self.env.now, event, step, where))

    # -- arrivals ---------------------------------------------------------------------------
    def _load(self, chunk: int) -> None:
        if self._stated_arrivals is not None:
            batch = batch_from_arrivals(self.network, self.seed, self.replication, self._stated_arrivals)
            chunk = 2**62  # no further chunks
        else:
            batch = draw_batch(self.network, self.seed, self.replication, chunk)
        self._batch = batch
        self._chunk = chunk
        streams = batch.codes["stream"]
        entry = self._entry
        self._entries = [entry[s] for s in streams.tolist()]
        self._row = 0
        self._schedule_next()

    def _schedule_next(self) -> None:
        batch = self._batch
        row = self._row
        now = self.env.now
        if row < batch.size:
            time = batch.arrival[row]
            if time < self.horizon:
                self.env.timeout(time - now, row).callbacks.append(self._arrive)
            return
        next_start = (self._chunk + 1) * CHUNK_HOURS
        if next_start < self.horizon:
            self.env.timeout(next_start - now, self._chunk + 1).callbacks.append(self._next_chunk)

    def _next_chunk(self, event) -> None:
        self._load(event.value)

    def _arrive(self, event) -> None:
        row = event.value
        batch = self._batch
        now = self.env.now
        following = row + 1
        self._row = following
        if following < len(batch.arrival) and batch.arrival[following] < self.horizon:
            self.env.timeout(batch.arrival[following] - now, following).callbacks.append(self._arrive)
        else:
            self._schedule_next()
        self._pid += 1
        patient = Patient(self._pid, batch, row, now)
        self.patients += 1
        if now >= self.warm_up:
            self.patients_after_warm_up += 1
        if self.events is not None:
            self.record(patient, "arrival", self.network.demand[batch.codes["stream"][row]].name)
            self._people.append((patient.pid, now, *(int(batch.codes[name][row]) for name in self._attribute_names)))
        self.enter(patient, self._entries[row])

    # -- the census at the start ----------------------------------------------------------
    def _place_census(self) -> None:
        network = self.network
        in_service = network.initial_in_service
        delayed = network.initial_delayed
        total = sum(in_service.values()) + sum(sum(v) for v in delayed.values())
        if total == 0:
            return
        batch, uniforms = draw_census(network, self.seed, self.replication, total)
        row = 0
        placements: list[tuple[int, int, int]] = []  # (step, row, pathway or -1)
        for step_index, count in in_service.items():
            placements += [(step_index, row + i, -1) for i in range(count)]
            row += count
        for step_index, by_pathway in delayed.items():
            for pathway, count in enumerate(by_pathway):
                placements += [(step_index, row + i, pathway) for i in range(count)]
                row += count
        # patients in service first, so that delayed patients find downstream places taken
        for step_index, row, pathway in placements:
            step = network.steps[step_index]
            service = self.services[step.service]
            draws = batch.steps[step_index]
            self._pid += 1
            if pathway < 0 and step.duration is not None:
                codes = {key: value[row : row + 1] for key, value in batch.codes.items()}
                elapsed, remaining = step.duration.residual(codes, uniforms[0, row : row + 1], uniforms[1, row : row + 1])
                elapsed, remaining = float(elapsed[0]), float(remaining[0])
            else:
                elapsed, remaining = 0.0, 0.0
            patient = Patient(self._pid, batch, row, -elapsed)
            patient.step = step_index
            patient.step_arrival = -elapsed
            if pathway >= 0:
                draws.pathway[row] = pathway
                draws.delay[row] = 0.0
            draws.duration[row] = remaining
            service.place(patient, step, draws, pathway)

    # -- the clock ------------------------------------------------------------------------------
    def _day_end(self, event) -> None:
        now = self.env.now
        for index, service in enumerate(self.services):
            self._daily[index].append(service.daily(now))
        if now + HOURS_PER_DAY <= self.horizon + 1e-9:
            self.env.timeout(HOURS_PER_DAY).callbacks.append(self._day_end)

    def _warm_up_ends(self, event) -> None:
        now = self.env.now
        for service in self.services:
            service.mark_warm_up(now)

    def run(self) -> RunResult:
        """Run to the horizon and return tidy results."""
        for service in self.services:
            service.start()
        self._place_census()
        self._load(0)
        if self.warm_up > 0:
            self.env.timeout(self.warm_up).callbacks.append(self._warm_up_ends)
        self.env.timeout(HOURS_PER_DAY).callbacks.append(self._day_end)
        self.env.run(until=self.horizon)
        return self._results()

    # -- results ----------------------------------------------------------------------------------
    def _results(self) -> RunResult:
        end = self.horizon
        replication = self.replication
        rows: list[tuple] = []
        acute_admissions = 0
        acute_bed_days = 0.0
        delayed_bed_days = 0.0
        cost_acute = 0.0
        cost_community = 0.0
        for service in self.services:
            metrics = service.summary(end)
            for metric, value, unit in metrics:
                rows.append((replication, service.name, metric, float(value), unit))
            values = {metric: value for metric, value, _ in metrics}
            if service.plan.kind == "acute":
                acute_admissions += service.admitted
                acute_bed_days += values["bed_days"]
                cost_acute += values["cost"]
            else:
                cost_community += values["cost"]
            delayed_bed_days += values.get("delayed_bed_days", 0.0)
        measured_days = (end - self.warm_up) / HOURS_PER_DAY
        system = [
            ("patients", self.patients_after_warm_up, "patients"),
            ("acute_admissions", acute_admissions, "patients"),
            ("acute_bed_days", acute_bed_days, "days"),
            ("delayed_bed_days", delayed_bed_days, "days"),
            ("cost_community", cost_community, "GBP"),
            ("cost_acute", cost_acute, "GBP"),
            ("cost_total", cost_community + cost_acute, "GBP"),
            ("measured_days", measured_days, "days"),
        ]
        system += [(f"exit_{name}", count, "patients") for name, count in zip(self.network.exits, self.exits, strict=True)]
        rows += [(replication, "system", metric, float(value), unit) for metric, value, unit in system]
        summary = pd.DataFrame(rows, columns=["replication", "service", "metric", "value", "unit"])
        return RunResult(
            summary=summary,
            timeseries=self._timeseries(),
            distributions=self._distributions(),
            events=self._events_frame(),
            patients=self.patients,
            people=self._people_frame(),
        )

    def _timeseries(self) -> pd.DataFrame:
        frames = []
        for service, days in zip(self.services, self._daily, strict=True):
            if not days or not service.daily_names:
                continue
            values = np.asarray(days, dtype=float)
            n_days = values.shape[0]
            for column, metric in enumerate(service.daily_names):
                frames.append(
                    pd.DataFrame(
                        {
                            "replication": self.replication,
                            "service": service.name,
                            "day": np.arange(1, n_days + 1),
                            "metric": metric,
                            "value": values[:, column],
                        }
                    )
                )
        if not frames:
            return pd.DataFrame(columns=["replication", "service", "day", "metric", "value"])
        return pd.concat(frames, ignore_index=True)

    def _distributions(self) -> pd.DataFrame:
        rows = []
        for service in self.services:
            for metric, tally in service.distributions():
                for lower, upper, count in tally.nonzero_bins():
                    rows.append((self.replication, service.name, metric, lower, upper, count))
        return pd.DataFrame(rows, columns=["replication", "service", "metric", "lower", "upper", "count"])

    def _people_frame(self) -> pd.DataFrame | None:
        """Who each patient in the event log is: attribute levels by name."""
        if self.events is None:
            return None
        frame = pd.DataFrame(self._people, columns=["patient", "arrival", *self._attribute_names])
        levels = self.network.levels
        for name in self._attribute_names:
            frame[name] = pd.Categorical.from_codes(frame[name].astype(int), categories=levels[name]) if len(frame) else frame[name]
        frame.insert(0, "replication", self.replication)
        return frame

    def _events_frame(self) -> pd.DataFrame | None:
        if self.events is None:
            return None
        frame = pd.DataFrame(self.events, columns=["patient", "time", "event", "step", "where"])
        frame.insert(0, "replication", self.replication)
        return frame


def run_replication(network: Network, replication: int = 0, **options) -> RunResult:
    """Run one replication (see :class:`Simulation` for the options)."""
    return Simulation(network, replication, **options).run()


__all__ = ["Patient", "RunResult", "Simulation", "run_replication"]

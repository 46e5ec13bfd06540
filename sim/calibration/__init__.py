"""Calibration: carepath's inputs fitted from discharge data, its unknowns from observed series.

Two questions, two halves, data flowing one way:

- **Inputs** (:mod:`~sim.calibration.spells` -> :mod:`~sim.calibration.arrivals`,
  :mod:`~sim.calibration.los`, :mod:`~sim.calibration.inputs` ->
  :mod:`~sim.calibration.fragment`): a spell extract (admission and discharge
  times, age, method, destination) gives the emergency admission profile, lengths
  of stay by age band, destination shares and discharge delays directly, each with
  its uncertainty; published aggregates give lengths of stay where that is all
  there is (:mod:`~sim.calibration.aggregates`).
- **Outputs** (:mod:`~sim.calibration.series`, :mod:`~sim.calibration.study`,
  :mod:`~sim.calibration.abc`, :mod:`~sim.calibration.forecast`): what the data
  cannot show directly (the share of emergency admissions that become
  overnight discharges, delays after patients are ready to leave, beds the model
  does not represent) is estimated by approximate Bayesian computation, matching
  simulated to observed situation-report series, checked on months held out, and
  carried forward as a forecast with prediction intervals.

Patient-level rows never leave the input: everything written (fragments,
reports, forecasts) holds aggregates, and :mod:`~sim.calibration.disclosure`
applies the HES small-number rule to exported counts.

pyabc is an optional extra (``pip install carepath[calibrate]``), imported only
when an ABC calibration runs.
"""

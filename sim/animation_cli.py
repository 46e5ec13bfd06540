"""``carepath animate``: a GIF of patients moving through the services.

Kept out of :mod:`sim.cli` so the core command line starts without importing
salabim; the heavy imports happen when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``animate`` command to the carepath command line."""
    from sim.cli import stdout, user_errors

    @app.command()
    @user_errors
    def animate(
        pathway_file: Annotated[Path, typer.Argument(help="The pathway file (YAML).", show_default=False)],
        scenario: Annotated[str | None, typer.Option(help="A scenario of --experiment (its name, or a unique part of it; 'baseline' for the baseline).")] = None,
        experiment: Annotated[Path | None, typer.Option(help="The experiment file that defines --scenario (and the seed and warm-up the sweep used).")] = None,
        days: Annotated[float, typer.Option(help="Days to show, after the warm-up.", min=0.05, max=7)] = 1.0,
        replication: Annotated[int, typer.Option(help="Which replication's patients (1 is the first).", min=1)] = 1,
        out: Annotated[Path | None, typer.Option(help="The GIF to write (default: results/animate-<pathway>.gif).")] = None,
        frames: Annotated[int, typer.Option(help="At most this many frames (8 a second).", min=10, max=600)] = 200,
    ) -> None:
        """Render, headless, a GIF of a day of the pathway: queues, beds filling, diversions to hospital."""
        from sim.animation import frame_count, render_gif
        from sim.errors import InputError
        from sim.pathway import load_pathway
        from sim.scenario import scenario_pathway

        pathway, document = load_pathway(pathway_file)
        seed, warm_up, title = pathway.seed, pathway.warm_up, pathway.name
        if scenario is not None and experiment is None:
            raise InputError("--scenario needs --experiment (the experiment file that defines the scenario)")
        if experiment is not None:
            from sim.experiment import load_experiment

            loaded = load_experiment(experiment)
            seed, warm_up = loaded.seed, loaded.warm_up
            chosen = _find_scenario(loaded.scenarios, scenario or "baseline", str(experiment))
            pathway = scenario_pathway(document, chosen.values, chosen.name)
            title = f"{pathway.name}: {chosen.name}"
        target = out or Path("results") / f"animate-{pathway_file.stem}.gif"
        if target.suffix.lower() != ".gif":
            raise InputError(f"--out: the animation is written as a GIF (plays inline in browsers); got {target.name}")
        render_gif(pathway, target, seed=seed, replication=replication - 1, warm_up=warm_up, days=days, title=title, frames=frames)
        size = target.stat().st_size / 1e6
        stdout.print(f"{frame_count(target)} frames, {size:.1f} MB: {target}")


def _find_scenario(scenarios, wanted: str, file: str):
    """A scenario by exact name, else by a unique case-insensitive part of its name."""
    from sim.errors import InputError

    for scenario in scenarios:
        if scenario.name == wanted or (wanted == "baseline" and scenario.is_baseline):
            return scenario
    matches = [s for s in scenarios if wanted.lower() in s.name.lower()]
    if len(matches) == 1:
        return matches[0]
    names = "; ".join(s.name for s in scenarios[:6]) + ("; ..." if len(scenarios) > 6 else "")
    what = "matches several scenarios" if matches else "is not a scenario"
    raise InputError(f"--scenario {wanted!r} {what} of {file} (scenarios: {names})")

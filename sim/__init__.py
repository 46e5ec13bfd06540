"""carepath: discrete-event simulation of integrated local care pathways.

Data flows one way: a pathway file (:mod:`sim.pathway`) is validated into
immutable models, compiled for the engine (:mod:`sim.network`), simulated
(:mod:`sim.model`) into tidy tables, analysed (:mod:`sim.analysis`) and drawn
(:mod:`sim.report`).

>>> from sim import load_pathway, compile_network, run_replication
>>> pathway, _ = load_pathway("pathways/tutorial.yaml")      # doctest: +SKIP
>>> result = run_replication(compile_network(pathway), 0)    # doctest: +SKIP
>>> result.summary.head()                                     # doctest: +SKIP
"""

__version__ = "0.1.0"

from sim.errors import InputError
from sim.model import RunResult, Simulation, run_replication
from sim.network import Network, compile_network
from sim.pathway import Pathway, load_pathway

__all__ = [
    "InputError",
    "Network",
    "Pathway",
    "RunResult",
    "Simulation",
    "__version__",
    "compile_network",
    "load_pathway",
    "run_replication",
]

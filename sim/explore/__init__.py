"""Deterministic schedule exploration (:mod:`sim.explore.explorer`) and the race
scenarios of the v17 review (:mod:`sim.explore.scenarios`).  ``python -m sim.explore``
explores every scenario and prints the number of schedules."""

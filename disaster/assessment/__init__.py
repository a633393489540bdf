"""Risk and damage assessment: a community risk index before an event, modelled impact beside
the field reports after it, exact roll-ups and the plan indicators.

The package takes plain data (arrays, dicts); the coping-capacity inputs that live in other
packages (free shelter places, relief stock) are passed in by the caller in ``web``.
"""

"""Checks shared by brian2_models.py and nest_models.py: the sizes and
durations both accept, with the same messages."""


def check(parser, a):
    """Rejects, through `parser.error`, what neither script can build."""
    if a.duration <= 0:
        parser.error("--duration must be positive")
    if a.threads < 0:
        parser.error("--threads must be >= 0")
    if a.model == "brunel" and a.neurons is not None:
        ne = int(round(0.8 * a.neurons))
        if ne <= 1000 or a.neurons - ne <= 250:
            parser.error("brunel needs more than 1000 E and 250 I neurons (in-degrees are fixed): --neurons >= 1300")
    if a.model in ("cuba", "plastic") and a.neurons is not None and a.neurons < 100:
        parser.error("--neurons must be at least 100 (p = 80/N)")
    return a

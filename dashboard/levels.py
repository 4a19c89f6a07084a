"""The contract's four alert levels as the pages show them: colour and a text label, so a level
is never told by colour alone (the API's `alert.color` values, inference.scoring.LEVELS)."""
from inference.scoring import LEVELS as SCORING_LEVELS

# worst first: [{"level", "color", "label", "min_score"}]
LEVELS = [{"level": level, "color": color, "label": label, "min_score": lowest}
          for lowest, level, color, _emoji, label in SCORING_LEVELS]
COLOURS = {entry["level"]: entry["color"] for entry in LEVELS}

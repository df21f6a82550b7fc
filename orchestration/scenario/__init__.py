"""What-if scenarios: the pyramid recomputed by dbt under weight and target overrides, in the `scenario` schema."""

from orchestration.scenario.overrides import Override, OverrideError, parse_override, validate_overrides
from orchestration.scenario.whatif import ScenarioError, drop_scenario, list_scenarios, run_whatif

__all__ = [
    "Override",
    "OverrideError",
    "ScenarioError",
    "drop_scenario",
    "list_scenarios",
    "parse_override",
    "run_whatif",
    "validate_overrides",
]

"""promtool unit-test generation: a PromQL replay of the rules (promsim) and the scenarios it proves (scenarios)."""

"""The real promtool / amtool run over the generated output (`monspec test`, `monspec check`)."""

"""The compiled model: what a spec set means, built once per run and read by lint and every renderer."""

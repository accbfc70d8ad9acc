"""newsradar benchmarks: each stage module exposes ``run(quick: bool) -> list[dict]``."""

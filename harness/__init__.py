"""What the template's tests and benchmarks share: baking, serving, sinks and fault servers."""

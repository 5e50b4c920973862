"""Differential fuzzing of the verifier: generated programs (``generator``), the soundness, agreement and
tiers judgements (``oracles``), delta debugging (``minimize``), regression cases (``regressions``) and the
campaign behind ``pybpf fuzz`` (``campaign``).  See docs/robustness.md."""

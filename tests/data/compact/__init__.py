"""Specs rewritten in the compact forms, the long forms they were, and the proof that each pair is one model."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
COMPACT = Path(__file__).parent
LONG = COMPACT / "long"
PAIRS = [  # (compact, long): each spec rewritten in the compact forms, and the long form it was
    *[(ROOT / "specs" / path.name, path) for path in sorted(LONG.glob("*.yaml"))],
    *[(ROOT / "specs" / "zoo" / path.name, path) for path in sorted((LONG / "zoo").glob("*.yaml"))],
    (COMPACT / "unet_standalone.yaml", ROOT / "specs" / "mnist_denoise_unet.yaml"),
]

"""Synthetic nights of carrier documents (declarations, certificates, scans, hostile files) with ground truth."""

from policy_ray.sample.night import generate_night, load_ground_truth
from policy_ray.sample.truth import CoverageTruth, GroundTruth, RecordTruth

__all__ = ["CoverageTruth", "GroundTruth", "RecordTruth", "generate_night", "load_ground_truth"]

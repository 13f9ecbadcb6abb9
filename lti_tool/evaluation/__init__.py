"""Evaluation against the référentiel: submissions, grids, progress, grades for the LMS."""

"""Page layouts: one module per carrier's declarations, plus the policy wording pages."""

"""The forms of the improvement pages, one module per area."""

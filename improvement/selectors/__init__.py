"""Every read of continual improvement that is more than a get, one module per area."""

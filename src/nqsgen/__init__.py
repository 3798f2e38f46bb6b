"""nqsgen."""

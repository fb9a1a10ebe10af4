"""fslm eval's tests (a package, so that its module names do not clash with the trainer's tests)."""

"""init/: booting the model kernel."""

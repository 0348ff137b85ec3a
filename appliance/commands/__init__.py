"""Subcommands of the appliance command line, one module each."""

"""The operator's command line (`python -m chalicelib.cli`): see `chalicelib.cli.commands`."""

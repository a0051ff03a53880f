from gateway.cli.main import entry

entry()

"""A local DynamoDB + DynamoDB Streams emulator: exact, fast and free."""

__version__ = "0.1.0"

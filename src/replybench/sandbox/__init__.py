"""The sandbox: simulated companies on loopback, the embedded default for the demo and the tests."""

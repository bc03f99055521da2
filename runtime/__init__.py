"""The thin runtime the generated stubs stand on: ``xmlbind``, ``soap``, ``mtom``,
``transport`` (client), ``server``, ``eventing``, ``discovery``, beside ``contract``,
``errors`` and ``defaults`` (docs/architecture.md)."""

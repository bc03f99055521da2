"""The generator's one error type: a message a person can act on."""


class CodegenError(Exception):
    """The schema cannot be turned into bindings; the message says where and why."""

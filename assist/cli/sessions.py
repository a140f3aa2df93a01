"""Sub-commands: placeholder until its issue lands."""


def register(sub):
    pass

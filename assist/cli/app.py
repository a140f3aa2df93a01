"""Sub-commands: placeholder until its issue lands."""


def register(sub):
    pass


def open_panel(args):
    raise SystemExit("the side panel is not built yet")

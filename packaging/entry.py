"""The bundle's entry point: the same ``assist`` command as the installed package."""
import multiprocessing
import sys

from assist.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # Windows: a frozen app must say so before anything else
    sys.exit(main())

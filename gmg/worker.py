"""The training child process that gmg.jobs starts: `python -m gmg.worker`.

Protocol (both ends are this package, so pickle is safe here; it never touches user files):
- stdin: one pickled (runner, experiment, record), where runner is "module:function"; after that
  any byte, or end of file (the parent went away), asks the run to stop.
- stdout: length-prefixed pickled messages ("progress", row) ..., then ("result", RunResult) or
  ("error", "Type: message").
"""

from __future__ import annotations

import importlib
import os
import pickle
import struct
import sys
import threading

_LENGTH = struct.Struct("<Q")


def write_message(stream, kind: str, payload) -> None:
    data = pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def read_message(stream):
    """The next (kind, payload), or None at the end of the stream."""
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(header)
    return pickle.loads(stream.read(length))


def resolve(runner: str):
    module, _, name = runner.partition(":")
    return getattr(importlib.import_module(module), name)


def main() -> None:
    # messages own the real stdout; anything else printed goes to stderr instead of corrupting them
    messages = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    commands = sys.stdin.buffer
    runner, experiment, record = pickle.load(commands)
    stop = threading.Event()

    def wait_for_stop() -> None:
        commands.read(1)  # a byte, or end of file
        stop.set()

    threading.Thread(target=wait_for_stop, daemon=True).start()
    try:
        result = resolve(runner)(
            experiment, on_progress=lambda row: write_message(messages, "progress", row), stop=stop, record=record
        )
        outcome = ("result", result)
    except Exception as exc:  # reported to the user by the UI
        outcome = ("error", f"{type(exc).__name__}: {exc}")
    try:
        write_message(messages, *outcome)
    except BrokenPipeError:  # the parent went away (a closed page, an ended test): nobody to tell
        pass
    # exit at once: a normal shutdown would wait on the stop thread, blocked reading stdin
    os._exit(0)


if __name__ == "__main__":
    main()

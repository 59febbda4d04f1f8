"""The child process that gmg.jobs starts for one run: `python -m gmg.worker PARENT_PID`.

Protocol (both ends are this package, so pickle is safe here; it never touches user files):
- stdin: one pickled (runner, run, record), where runner is "module:function"; after that a byte
  asks the run to stop (it finishes what it has, e.g. evaluates a partly trained agent, within
  STOP_GRACE_SECONDS or is cut short); end of file means nobody waits for the result: exit at once.
- stdout: length-prefixed pickled messages ("progress", row) ..., then ("result", result) or
  ("error", "Type: message").
The child also exits when its parent process (PARENT_PID, given by the parent: it may die before
the child could ask) is gone, so a killed server leaves no run behind even if something else
still held its pipe.
"""

from __future__ import annotations

import importlib
import os
import pickle
import struct
import sys
import threading
import time

_LENGTH = struct.Struct("<Q")
STOP_GRACE_SECONDS = 10.0
PARENT_POLL_SECONDS = 0.5


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


def _watch_commands(commands, stop: threading.Event) -> None:
    if not commands.read(1):  # end of file: the parent went away or abandoned the run
        os._exit(0)
    stop.set()
    time.sleep(STOP_GRACE_SECONDS)  # a run that ignores the request is cut short
    os._exit(0)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(0)


NICENESS = 10  # training yields the cores to the web server and the browsers it serves


def main() -> None:
    parent = int(sys.argv[1])
    # below the server's priority: with as many runs as cores, a page's first rerun (and the browser
    # drawing it) otherwise waits behind the trainers (measured: ten visitors' pages all stalled
    # until the last run finished)
    os.nice(NICENESS)
    # messages own the real stdout; anything else printed goes to stderr instead of corrupting them
    messages = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    # watch the parent before unpickling the run: that imports the library, which takes seconds on a
    # loaded machine, and a server killed meanwhile must not leave this child behind
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    commands = sys.stdin.buffer
    runner, run, record = pickle.load(commands)
    stop = threading.Event()
    threading.Thread(target=_watch_commands, args=(commands, stop), daemon=True).start()
    try:
        result = resolve(runner)(run, on_progress=lambda row: write_message(messages, "progress", row), stop=stop,
                                 record=record)
        outcome = ("result", result)
    except Exception as exc:  # reported to the user by the UI
        outcome = ("error", f"{type(exc).__name__}: {exc}")
    try:
        write_message(messages, *outcome)
    except BrokenPipeError:  # the parent went away (a closed page, an ended test): nobody to tell
        pass
    # exit at once: a normal shutdown would wait on the watcher threads
    os._exit(0)


if __name__ == "__main__":
    main()

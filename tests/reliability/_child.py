"""Child processes the reliability tests SIGKILL: a run into ``output_dir`` killed mid-job or mid-swap.

``python -m tests.reliability._child job TARGET``: writes one file of the set, prints
``ready`` and waits to be killed. ``swap TARGET``: writes a full set, and SIGKILLs itself
right after the first file has been moved into the target (inside the commit).
"""

import os
import signal
import sys
import time

from astra import _io

if __name__ == "__main__":
    mode, target = sys.argv[1], sys.argv[2]
    if mode == "job":
        with _io.output_dir(target, job="report") as stage:
            (stage / "report.html").write_text("killed run")
            print("ready", flush=True)
            time.sleep(120)
    else:
        real_replace = os.replace
        moved: list[str] = []

        def replace_then_die(source, destination):
            real_replace(source, destination)
            if os.path.basename(os.fspath(destination)) in ("a.csv", "b.csv", "report.html"):
                moved.append(os.fspath(destination))
                if len(moved) == 1 and os.fspath(destination).startswith(os.path.abspath(target)):
                    os.kill(os.getpid(), signal.SIGKILL)

        _io.os.replace = replace_then_die
        with _io.output_dir(target, job="report") as stage:
            for name in ("a.csv", "b.csv", "report.html"):
                (stage / name).write_text(f"{name} of the killed run")

"""Executes a notebook with nbclient for `kbook run`.

Progress goes to stderr (one line per code cell, with elapsed time); the outcome goes to stdout
as one JSON object, {"saved": PATH, "failures": [{"cell", "ename", "evalue"}]} or {"fatal": TEXT},
so the kbook CLI can report a failing cell without a Python stack.
"""
import argparse
import json
import math
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def elapsed(since):
    return f"{time.monotonic() - since:.1f} s"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("notebook")
    parser.add_argument("--output", required=True)
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("--kernel", default="kbook")
    parser.add_argument("--allow-errors", action="store_true")
    args = parser.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    total = len(code_cells)
    run_started = time.monotonic()
    current = {"cell": None}

    class ProgressClient(NotebookClient):
        warmed = False

        async def warm_up(self):
            # The kernel answers at once and loads TypeScript in the background; a silent cell
            # waits for that here, so a --timeout measures the notebook's cells, not the start.
            started = time.monotonic()
            msg_id = self.kc.execute("void 0", silent=True, store_history=False)
            while True:
                reply = await self.kc.get_shell_msg(timeout=180)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            print(f"[kbook run] kernel ready in {elapsed(started)}", file=sys.stderr, flush=True)

        async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
            if cell.cell_type != "code":
                return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
            if not self.warmed:
                self.warmed = True
                await self.warm_up()
            number = code_cells.index(cell_index) + 1
            current["cell"] = number
            first_line = (cell.source.strip().splitlines() or [""])[0][:60]
            print(f"[kbook run] cell {number}/{total}  {first_line}", file=sys.stderr, flush=True)
            started = time.monotonic()
            try:
                return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
            finally:
                print(f"[kbook run] cell {number}/{total} done in {elapsed(started)} (total {elapsed(run_started)})", file=sys.stderr, flush=True)

    client = ProgressClient(
        nb,
        kernel_name=args.kernel,
        # nbclient wants whole seconds; None means no limit.
        timeout=None if args.timeout is None else max(1, math.ceil(args.timeout)),
        allow_errors=args.allow_errors,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(args.notebook))}},
    )
    failures = []
    fatal = None
    try:
        client.execute()
    except CellTimeoutError:
        failures.append({"cell": current["cell"], "ename": "Timeout", "evalue": f"the cell did not finish within {args.timeout:g} s"})
    except CellExecutionError as error:
        failures.append({"cell": current["cell"], "ename": error.ename, "evalue": error.evalue})
    except DeadKernelError as error:
        fatal = f"the kernel died while running cell {current['cell']}: {error}"
    except Exception as error:  # noqa: BLE001 - reported to the CLI as text, never as a stack
        fatal = f"{type(error).__name__}: {error}"
    if args.allow_errors:
        for number, index in enumerate(code_cells, start=1):
            for output in nb.cells[index].get("outputs", []):
                if output.get("output_type") == "error":
                    failures.append({"cell": number, "ename": output.get("ename", ""), "evalue": output.get("evalue", "")})
    nbformat.write(nb, args.output)
    print(f"[kbook run] {total} code cells in {elapsed(run_started)}", file=sys.stderr, flush=True)
    json.dump({"fatal": fatal} if fatal else {"saved": args.output, "failures": failures}, sys.stdout)
    sys.stdout.write("\n")
    return 1 if fatal or failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # noqa: BLE001 - the CLI shows one line, never a Python stack
        json.dump({"fatal": f"{type(error).__name__}: {error}"}, sys.stdout)
        sys.stdout.write("\n")
        sys.exit(1)

"""The Jupyter project's kernel conformance suite (jupyter_kernel_test) against the kbook kernel.

Every test the suite has is enabled by giving it a sample. Run with Debian's Python and the
project's kernelspec on JUPYTER_PATH (test/kernel/conformance.test.ts does this):

    JUPYTER_PATH=.kbook/jupyter /usr/bin/python3 -m unittest -v test/kernel/test_kbook_kernel.py
"""
import unittest

import jupyter_kernel_test


class KbookKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "kbook"
    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("oops, on stderr")'

    completion_samples = [
        {"text": "Math.ab", "matches": {"abs"}},
        {"text": "const someLongName = 1;\nsomeLong", "matches": {"someLongName"}},
    ]

    # A cell magic ends with an empty line, as in IPython (its body is not TypeScript: a shell's
    # brace is no block); an open brace in a bpftrace program wants more.
    complete_code_samples = ["1 + 1", "const x = 1;", "function f() { return 1; }", "%%host\necho {\n"]
    incomplete_code_samples = ["function f() {", "const a = [1, 2,", "if (true) {\n  console.log(1);", "const s = `abc", "%%host", "%%bpftrace\nkprobe:vfs_read {\n"]
    invalid_code_samples = ["1 +* 2", "const = 5", "let x = );"]

    code_page_something = "Math.max?"

    code_generate_error = 'throw new Error("boom")'

    code_execute_result = [
        {"code": "1 + 2", "result": "3"},
        {"code": '"a" + "b"', "result": "'ab'"},
        {"code": "[1, 2, 3].map((n) => n * 2)", "result": "[ 2, 4, 6 ]"},
        {"code": '({ [Symbol.for("Jupyter.display")]: () => ({ "text/html": "<b>rich</b>" }) })', "mime": "text/html", "result": "<b>rich</b>"},
    ]

    code_display_data = [
        {"code": 'display.html("<b>bold</b>")', "mime": "text/html"},
        {"code": 'display({ "image/svg+xml": "<svg xmlns=\'http://www.w3.org/2000/svg\'/>", "text/plain": "an svg" }, { raw: true })', "mime": "image/svg+xml"},
        {"code": 'display("plain text")', "mime": "text/plain"},
    ]

    code_history_pattern = "1 + 2*"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "Math.max"

    code_clear_output = 'console.log("before"); clearOutput()'


if __name__ == "__main__":
    unittest.main()

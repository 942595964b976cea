#!/usr/bin/env python3
"""Unit tests of scripts/check-structure.py's console part (run by scripts/test.sh next to
the structure step): it finds an import cycle among ES modules, static or dynamic, prints
it, and holds the line cap. Python 3.11 standard library only; a few small temp files."""

from __future__ import annotations

import importlib.util
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("check_structure", HERE / "check-structure.py")
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)


class ConsoleModules(unittest.TestCase):
    def modules(self, files: dict[str, str]) -> Path:
        tmp = tempfile.TemporaryDirectory(prefix="console-structure-")
        self.addCleanup(tmp.cleanup)
        d = Path(tmp.name)
        for name, text in files.items():
            (d / name).write_text(text)
        return d

    def test_a_cycle_through_a_dynamic_import_is_found_and_printed(self):
        d = self.modules({
            "layout.js": 'import { h } from "./dom.js";\nexport async function f() {\n  const { g } = await import("./pages.js");\n}\n',
            "pages.js": 'import {\n  h,\n  clear,\n} from "./dom.js";\nimport { session } from "./layout.js";\n',
            "dom.js": "export const h = 1;\n",
        })
        problems = check.console_problems(d)
        self.assertEqual(problems, ["import cycle among the console's modules: layout.js -> pages.js -> layout.js"])

    def test_static_imports_reexports_and_bare_imports_make_edges(self):
        d = self.modules({
            "a.js": 'export { x } from "./b.js";\n',
            "b.js": 'import "./c.js";\n',
            "c.js": "import * as a from '/assets/a.js';\n",
        })
        self.assertEqual(check.console_problems(d), ["import cycle among the console's modules: a.js -> b.js -> c.js -> a.js"])

    def test_one_way_modules_pass_and_comments_are_no_edges(self):
        d = self.modules({
            "app.js": 'import { h } from "./dom.js";\n// import { app } from "./dom.js" would be fine, and so is this:\n// import("./app.js")\n',
            "dom.js": '/* import { x } from "./app.js"; */\nexport const h = 1;\n',
        })
        self.assertEqual(check.console_problems(d), [])

    def test_a_module_importing_itself_is_a_cycle(self):
        d = self.modules({"a.js": 'import { a } from "./a.js";\n'})
        self.assertEqual(check.console_problems(d), ["import cycle among the console's modules: a.js -> a.js"])

    def test_a_computed_dynamic_import_cannot_be_followed_and_fails(self):
        d = self.modules({"a.js": "const name = 'b';\nawait import(`./${name}.js`);\n"})
        self.assertEqual(check.console_problems(d), ["a.js:2: import() of a computed path (name the module: import(\"./x.js\"))"])

    def test_a_module_over_the_cap_fails(self):
        d = self.modules({"big.js": "x;\n" * (check.MAX_JS_LINES + 1), "ok.js": "x;\n" * check.MAX_JS_LINES})
        self.assertEqual(check.console_problems(d), [f"big.js: {check.MAX_JS_LINES + 1} lines (at most {check.MAX_JS_LINES}; split it into modules)"])

    def test_the_console_itself_passes(self):
        self.assertEqual(check.console_problems(check.CONSOLE), [])


if __name__ == "__main__":
    unittest.main()

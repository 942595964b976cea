"""Prints the [workspace.metadata.lambda.watch.router] section from shared/src/routes.rs.

The route table is declared once in Rust; this keeps Cargo.toml's local router in step
(tests/tests/routes.rs fails when they differ). Usage: python3 scripts/gen-router.py --write
"""
import collections
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
routes = re.findall(r'route\("(\w+)", "([^"]+)", "([\w-]+)"\)', (root / "shared/src/routes.rs").read_text())
by_path = collections.OrderedDict()
for method, path, function in routes:
    by_path.setdefault(path, []).append((method, function))
lines = ["[workspace.metadata.lambda.watch.router]"]
for path, entries in by_path.items():
    inner = ", ".join(f'{{ method = "{m}", function = "{f}" }}' for m, f in entries)
    lines.append(f'"{path}" = [{inner}]')
section = "\n".join(lines) + "\n"
if "--write" in sys.argv:
    manifest = root / "Cargo.toml"
    text = manifest.read_text()
    start = text.index("[workspace.metadata.lambda.watch.router]")
    manifest.write_text(text[:start] + section)
else:
    print(section, end="")

// Peer baseline for the codebase index (BENCHMARKS.md, "Codebase index"): what a
// straightforward Node.js indexer does with web-tree-sitter, on the same Python files as
// `index_bench` (its --list-out file). Per file: parse, walk the tree for function and class
// definitions (qualified by module and enclosing classes, with line range, parameters and
// parent), base classes, imports, and the calls made inside each definition (callee = the
// called name, or the attribute for `a.b()`, once per definition and name). Then link every
// call to every definition of that bare name (AgnusAI's approach) and encode the graph
// (JSON, deflated). Measurement only: not part of the product.
//
// node index.mjs --files LIST [--walk cursor|children|none] [--passes 2] [--label L]
//
// --walk cursor walks with a TreeCursor; children recurses over namedChildren as AgnusAI's
// PythonParser does; none only parses (the parse-only reference). Prints one JSON line per pass ("kind":"index_peer"); CPU time
// is process.cpuUsage() (user + system, every thread of the process) over the parse, walk,
// link and encode, file reads excluded.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { deflateSync } from 'node:zlib';
import { Parser, Language } from 'web-tree-sitter';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const listFile = arg('--files');
if (!listFile) {
  console.error('usage: node index.mjs --files LIST [--walk cursor|children|none] [--passes N] [--label L]');
  process.exit(2);
}
const walk = arg('--walk', 'cursor');
const passes = Number(arg('--passes', '2'));
const label = arg('--label', 'index');

const require = createRequire(import.meta.url);
const wasm = join(dirname(require.resolve('tree-sitter-python/package.json')), 'tree-sitter-python.wasm');
await Parser.init();
const parser = new Parser();
parser.setLanguage(await Language.load(wasm));

const files = readFileSync(listFile, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => {
    const [disk, path] = l.split('\t');
    return { disk, path };
  });

function moduleOf(path) {
  const noExt = path.replace(/\.pyi?$/, '');
  return noExt.replace(/\/__init__$/, '').split('/').join('.');
}

function calleeName(call) {
  const fn = call.childForFieldName('function');
  if (!fn) return null;
  if (fn.type === 'attribute') return fn.childForFieldName('attribute')?.text ?? null;
  return fn.text;
}

// One definition: pushes the symbol and its bases; returns its index.
function define(node, out, scope) {
  const nameNode = node.childForFieldName('name');
  if (!nameNode) return -1;
  const parent = scope.length ? scope[scope.length - 1] : null;
  const isClass = node.type === 'class_definition';
  const enclosing = parent === null ? out.module : out.symbols[parent.symbol].qualified;
  const symbol = {
    name: nameNode.text,
    qualified: `${enclosing}.${nameNode.text}`,
    kind: isClass ? 'class' : parent !== null && parent.isClass ? 'method' : 'function',
    start: node.startPosition.row + 1,
    end: node.endPosition.row + 1,
    params: isClass ? '' : (node.childForFieldName('parameters')?.text ?? '()'),
    parent: parent === null ? -1 : parent.symbol,
  };
  const index = out.symbols.push(symbol) - 1;
  if (isClass) {
    const bases = node.childForFieldName('superclasses');
    for (const base of bases ? bases.namedChildren : []) {
      out.inherits.push([index, base.text.split('.').pop()]);
    }
  }
  return index;
}

function call(node, out, scope) {
  if (!scope.length) return;
  const name = calleeName(node);
  if (!name) return;
  const from = scope[scope.length - 1].symbol;
  const key = `${from}\u0000${name}`;
  if (!out.seen.has(key)) {
    out.seen.add(key);
    out.calls.push([from, name]);
  }
}

function importOf(node, out) {
  const module = node.childForFieldName('module_name');
  if (module) out.imports.push(module.text);
  else for (const c of node.namedChildren) if (c.type === 'dotted_name') out.imports.push(c.text);
}

// TreeCursor walk: one pass, Node objects only for the nodes of interest.
function walkCursor(tree, out) {
  const cursor = tree.walk();
  const scope = [];
  for (;;) {
    const start = cursor.startIndex;
    while (scope.length && start >= scope[scope.length - 1].end) scope.pop();
    const type = cursor.nodeType;
    if (type === 'function_definition' || type === 'class_definition') {
      const node = cursor.currentNode;
      const symbol = define(node, out, scope);
      if (symbol >= 0) scope.push({ symbol, end: cursor.endIndex, isClass: type === 'class_definition' });
    } else if (type === 'call') {
      call(cursor.currentNode, out, scope);
    } else if (type === 'import_statement' || type === 'import_from_statement') {
      importOf(cursor.currentNode, out);
    }
    if (cursor.gotoFirstChild()) continue;
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) {
        cursor.delete();
        return;
      }
    }
  }
}

// Recursion over namedChildren, as AgnusAI's PythonParser walks.
function walkChildren(node, out, scope) {
  const type = node.type;
  let pushed = false;
  if (type === 'function_definition' || type === 'class_definition') {
    const symbol = define(node, out, scope);
    if (symbol >= 0) {
      scope.push({ symbol, end: node.endIndex, isClass: type === 'class_definition' });
      pushed = true;
    }
  } else if (type === 'call') {
    call(node, out, scope);
  } else if (type === 'import_statement' || type === 'import_from_statement') {
    importOf(node, out);
  }
  for (const child of node.namedChildren) walkChildren(child, out, scope);
  if (pushed) scope.pop();
}

function indexFile(path, text) {
  const tree = parser.parse(text);
  const out = { path, module: moduleOf(path), symbols: [], calls: [], inherits: [], imports: [], seen: new Set() };
  if (walk === 'children') walkChildren(tree.rootNode, out, []);
  else if (walk === 'cursor') walkCursor(tree, out);
  tree.delete();
  delete out.seen;
  return out;
}

// Every call and base to every symbol of that short name (classes for bases).
function link(indexed) {
  const byName = new Map();
  indexed.forEach((file, f) =>
    file.symbols.forEach((s, i) => {
      let list = byName.get(s.name);
      if (!list) byName.set(s.name, (list = []));
      list.push([f, i, s.kind]);
    }),
  );
  const edges = [];
  indexed.forEach((file, f) => {
    for (const [from, name] of file.calls) {
      for (const [tf, ti] of byName.get(name) ?? []) edges.push([f, from, tf, ti, 'calls']);
    }
    for (const [from, name] of file.inherits) {
      for (const [tf, ti, kind] of byName.get(name) ?? []) {
        if (kind === 'class') edges.push([f, from, tf, ti, 'inherits']);
      }
    }
  });
  return edges;
}

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

for (let pass = 1; pass <= passes; pass++) {
  let cpu = 0;
  let wall = 0;
  let lines = 0;
  let bytes = 0;
  const indexed = [];
  for (const { disk, path } of files) {
    const text = readFileSync(disk, 'utf8');
    bytes += Buffer.byteLength(text);
    let n = 1;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
    if (text.endsWith('\n')) n--;
    lines += text.length ? n : 0;
    const c0 = cpuSeconds();
    const w0 = performance.now();
    indexed.push(indexFile(path, text));
    cpu += cpuSeconds() - c0;
    wall += performance.now() - w0;
  }
  const c0 = cpuSeconds();
  const w0 = performance.now();
  const edges = link(indexed);
  const encoded = deflateSync(JSON.stringify({ files: indexed, edges }));
  cpu += cpuSeconds() - c0;
  wall += performance.now() - w0;
  const symbols = indexed.reduce((n, f) => n + f.symbols.length, 0);
  console.log(
    JSON.stringify({
      kind: 'index_peer',
      label,
      walk,
      pass,
      files: files.length,
      lines,
      source_bytes: bytes,
      symbols,
      bare_name_edges: edges.length,
      cpu_s: cpu,
      wall_s: wall / 1000,
      lines_per_cpu_s: lines / cpu,
      files_per_cpu_s: files.length / cpu,
      encoded_bytes: encoded.length,
      peak_rss_kib: process.resourceUsage().maxRSS,
    }),
  );
}

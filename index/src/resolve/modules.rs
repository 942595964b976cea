//! Mapping an import's module to the repository's files: Python dotted modules (absolute by
//! path suffix, relative from the importing package), JS/TS relative paths with extension and
//! `index` resolution, Go import paths to directories, and for Java / C# / Rust the files that
//! declare a package, namespace or module path.

use std::collections::HashMap;

use crate::lang::Lang;
use crate::model::FileIndex;

/// JS/TS extensions tried, in order, for an import without one.
const JS_EXTENSIONS: &[&str] = &[".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts"];

pub(crate) struct Modules<'g> {
    /// Python: every dotted suffix of a file's module (`src.pkg.mod`, `pkg.mod`, `mod`).
    py_suffix: HashMap<String, Vec<u32>>,
    /// Python: the full module of each file.
    py_exact: HashMap<&'g str, Vec<u32>>,
    paths: HashMap<&'g str, u32>,
    /// Go: every `/`-suffix of a directory holding `.go` files → those files.
    go_dirs: HashMap<String, Vec<u32>>,
}

pub(crate) fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

impl<'g> Modules<'g> {
    pub fn new(files: &'g [FileIndex]) -> Self {
        let mut modules =
            Modules { py_suffix: HashMap::new(), py_exact: HashMap::new(), paths: HashMap::new(), go_dirs: HashMap::new() };
        for (i, file) in files.iter().enumerate() {
            let i = i as u32;
            modules.paths.insert(file.path.as_str(), i);
            match file.lang {
                Lang::Python => {
                    modules.py_exact.entry(file.module.as_str()).or_default().push(i);
                    let mut rest = file.module.as_str();
                    loop {
                        modules.py_suffix.entry(rest.to_owned()).or_default().push(i);
                        match rest.split_once('.') {
                            Some((_, tail)) => rest = tail,
                            None => break,
                        }
                    }
                }
                Lang::Go => {
                    let mut rest = dir_of(&file.path);
                    loop {
                        modules.go_dirs.entry(rest.to_owned()).or_default().push(i);
                        match rest.split_once('/') {
                            Some((_, tail)) => rest = tail,
                            None => break,
                        }
                    }
                }
                _ => {}
            }
        }
        modules
    }

    /// The files a module of `file`'s import resolves to (empty when external or unknown).
    pub fn resolve(&self, file: &FileIndex, module: &str) -> Vec<u32> {
        match file.lang {
            Lang::Python => self.python(file, module),
            Lang::TypeScript | Lang::Tsx | Lang::JavaScript => self.js(&file.path, module).into_iter().collect(),
            Lang::Go => self.go(module),
            Lang::Java | Lang::CSharp | Lang::Rust => Vec::new(),
        }
    }

    /// Absolute `a.b` → the files whose module is `a.b` or ends with `.a.b` (the shortest
    /// paths win); relative `..a` → from the importing file's package, exactly.
    pub fn python(&self, file: &FileIndex, module: &str) -> Vec<u32> {
        let dots = module.len() - module.trim_start_matches('.').len();
        if dots == 0 {
            if let Some(exact) = self.py_exact.get(module) {
                return exact.clone();
            }
            return self.py_suffix.get(module).cloned().unwrap_or_default();
        }
        let mut package: Vec<&str> = file.module.split('.').filter(|s| !s.is_empty()).collect();
        if !file.path.ends_with("__init__.py") && !file.path.ends_with("__init__.pyi") {
            package.pop();
        }
        for _ in 1..dots {
            if package.pop().is_none() {
                return Vec::new();
            }
        }
        let rest = &module[dots..];
        if !rest.is_empty() {
            package.extend(rest.split('.'));
        }
        self.py_exact.get(package.join(".").as_str()).cloned().unwrap_or_default()
    }

    /// `./x` / `../x` against the importing file's directory; `@/x` and `~/x` as `src/x`;
    /// otherwise the specifier as a repository path. Tries the exact path, then each extension,
    /// then `index` + extension.
    pub fn js(&self, from: &str, spec: &str) -> Option<u32> {
        let joined = if spec.starts_with("./") || spec.starts_with("../") || spec == "." || spec == ".." {
            normalize(&format!("{}/{spec}", dir_of(from)))?
        } else if let Some(rest) = spec.strip_prefix("@/").or_else(|| spec.strip_prefix("~/")) {
            format!("src/{rest}")
        } else {
            spec.to_owned()
        };
        if let Some(&i) = self.paths.get(joined.as_str()) {
            return Some(i);
        }
        let stem = joined.strip_suffix(".js").or_else(|| joined.strip_suffix(".jsx")).unwrap_or(&joined);
        for ext in JS_EXTENSIONS {
            if let Some(&i) = self.paths.get(format!("{stem}{ext}").as_str()) {
                return Some(i);
            }
        }
        for ext in JS_EXTENSIONS {
            let index = if joined.is_empty() { format!("index{ext}") } else { format!("{joined}/index{ext}") };
            if let Some(&i) = self.paths.get(index.as_str()) {
                return Some(i);
            }
        }
        None
    }

    /// An import path → the `.go` files of the directory matching its longest suffix. Paths
    /// without a dot in the first segment (the standard library's) must match a directory
    /// exactly.
    pub fn go(&self, import: &str) -> Vec<u32> {
        let segments: Vec<&str> = import.split('/').filter(|s| !s.is_empty()).collect();
        let stdlib_like = !segments.first().is_some_and(|s| s.contains('.'));
        for start in 0..segments.len() {
            if stdlib_like && start > 0 {
                break;
            }
            if let Some(files) = self.go_dirs.get(segments[start..].join("/").as_str()) {
                return files.clone();
            }
        }
        Vec::new()
    }
}

/// Resolves `.` and `..` segments; `None` when `..` climbs above the root.
fn normalize(path: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            s => out.push(s),
        }
    }
    Some(out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limits, parse_file};

    fn files(paths: &[&str]) -> Vec<FileIndex> {
        paths.iter().map(|p| parse_file(p, b"", &Limits::default()).expect("supported")).collect()
    }

    #[test]
    fn python_modules_absolute_suffix_and_relative() {
        let fs = files(&["src/pkg/__init__.py", "src/pkg/util.py", "src/pkg/sub/deep.py", "other/util.py"]);
        let m = Modules::new(&fs);
        assert_eq!(m.python(&fs[2], "pkg.util"), vec![1]);
        assert_eq!(m.python(&fs[2], "pkg"), vec![0]);
        assert_eq!(m.python(&fs[2], "..util"), vec![1]);
        assert_eq!(m.python(&fs[1], ".sub.deep"), vec![2]);
        assert_eq!(m.python(&fs[0], ".util"), vec![1]);
        assert_eq!(m.python(&fs[1], "....x"), Vec::<u32>::new());
        assert_eq!(m.python(&fs[1], "util"), vec![1, 3]);
    }

    #[test]
    fn js_paths_extensions_and_index() {
        let fs = files(&["src/a.ts", "src/lib/index.js", "src/c.tsx", "src/app/main.ts"]);
        let m = Modules::new(&fs);
        assert_eq!(m.js("src/app/main.ts", "../a"), Some(0));
        assert_eq!(m.js("src/app/main.ts", "../lib"), Some(1));
        assert_eq!(m.js("src/app/main.ts", "../c.js"), Some(2));
        assert_eq!(m.js("src/app/main.ts", "@/a"), Some(0));
        assert_eq!(m.js("src/app/main.ts", "react"), None);
        assert_eq!(m.js("src/a.ts", "../../../x"), None);
    }

    #[test]
    fn go_import_paths_map_to_directories() {
        let fs = files(&["internal/auth/auth.go", "internal/auth/token.go", "cmd/main.go", "errors/e.go"]);
        let m = Modules::new(&fs);
        assert_eq!(m.go("github.com/acme/proj/internal/auth"), vec![0, 1]);
        assert_eq!(m.go("errors"), vec![3]);
        assert_eq!(m.go("net/http"), Vec::<u32>::new());
        assert_eq!(m.go("golang.org/x/pkg/errors"), vec![3]);
    }
}

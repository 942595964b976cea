//! A file's imports as bindings: each local name (or wildcard) and what it stands for — the
//! files of a module (Python, JS/TS, Go) or a qualified path (Java, C#, Rust).

use std::collections::HashMap;

use super::{Tables, normalize, scope_of};
use crate::lang::Lang;
use crate::model::FileIndex;

#[derive(Clone, Debug)]
pub(crate) enum Target {
    /// The files of a module; `member` is the imported name (`None`: the module itself).
    /// `module` and `importer` let Python try `module.member` as a submodule.
    Files { files: Vec<u32>, member: Option<String>, module: String, importer: u32 },
    /// A qualified path, `.`-separated, in a scope ([`super::scope_of`]).
    Path { scope: String, path: String },
}

#[derive(Default, Debug)]
pub(crate) struct Bindings {
    pub named: HashMap<String, Vec<Target>>,
    pub wildcards: Vec<Target>,
}

/// Rust crate names (directory above `src/`, `-` read as `_`) → their scope.
pub(crate) fn rust_crates(files: &[FileIndex]) -> HashMap<String, String> {
    let mut crates = HashMap::new();
    for file in files.iter().filter(|f| f.lang == Lang::Rust) {
        let scope = scope_of(file);
        let name = scope.rsplit('/').next().unwrap_or(scope).replace('-', "_");
        if !name.is_empty() {
            crates.entry(name).or_insert_with(|| scope.to_owned());
        }
    }
    crates
}

/// A Rust path as written → candidate `(scope, qualified)` pairs: `crate::`, `self::`,
/// `super::` against the file's module; another crate of the repository by name; else
/// relative to the file's module.
pub(crate) fn rust_paths(file: &FileIndex, crates: &HashMap<String, String>, path: &str) -> Vec<(String, String)> {
    let scope = scope_of(file).to_owned();
    let path = normalize(path);
    let mut segments: Vec<&str> = path.split('.').collect();
    let module = normalize(&file.module);
    let mut base: Vec<&str> = module.split('.').collect();
    match segments.first().copied() {
        Some("crate") => return vec![(scope, path.clone())],
        Some("self") => {
            segments.remove(0);
        }
        Some("super") => {
            while segments.first() == Some(&"super") {
                segments.remove(0);
                if base.len() > 1 {
                    base.pop();
                }
            }
        }
        Some(first) => {
            let mut out = Vec::new();
            if let Some(other) = crates.get(first) {
                let rest: Vec<&str> = segments[1..].to_vec();
                let qualified = if rest.is_empty() { "crate".to_owned() } else { format!("crate.{}", rest.join(".")) };
                out.push((other.clone(), qualified));
            }
            out.push((scope, format!("{}.{path}", base.join("."))));
            return out;
        }
        None => return Vec::new(),
    }
    base.extend(segments);
    vec![(scope, base.join("."))]
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() { b.to_owned() } else { format!("{a}.{b}") }
}

/// The member a JS default import stands for: a top-level symbol named like the local
/// binding, else the file's only top-level symbol.
fn default_member(file: &FileIndex, local: &str) -> Option<String> {
    let top: Vec<&str> = file.symbols.iter().filter(|s| s.parent.is_none()).map(|s| s.name.as_str()).collect();
    if top.contains(&local) {
        return Some(local.to_owned());
    }
    (top.len() == 1).then(|| top[0].to_owned())
}

pub(crate) fn build(tables: &Tables, crates: &HashMap<String, String>, f: u32) -> Bindings {
    let file = &tables.files[f as usize];
    let mut bindings = Bindings::default();
    for import in &file.imports {
        match file.lang {
            Lang::Python | Lang::TypeScript | Lang::Tsx | Lang::JavaScript | Lang::Go => {
                let files = tables.modules.resolve(file, &import.module);
                let target = |member: Option<String>| Target::Files {
                    files: files.clone(),
                    member,
                    module: import.module.clone(),
                    importer: f,
                };
                if file.lang == Lang::Go
                    && let Some(&first) = files.first()
                {
                    let declared = &tables.files[first as usize].module;
                    if !declared.is_empty() && import.names.iter().all(|(_, local)| local == &crate::extract::go_default(&import.module)) {
                        bindings.named.entry(declared.clone()).or_default().push(target(None));
                    }
                }
                for (imported, local) in &import.names {
                    match imported.as_str() {
                        "" => bindings.named.entry(local.clone()).or_default().push(target(None)),
                        "*" => bindings.wildcards.push(target(None)),
                        "default" if file.lang != Lang::Python => {
                            let member = files.first().and_then(|&t| default_member(&tables.files[t as usize], local));
                            if let Some(member) = member {
                                bindings.named.entry(local.clone()).or_default().push(target(Some(member)));
                            }
                        }
                        name => {
                            bindings.named.entry(local.clone()).or_default().push(target(Some(name.to_owned())));
                            // Python `from pkg import mod`: the name may be a submodule.
                            if file.lang == Lang::Python {
                                let sep = if import.module.ends_with('.') { "" } else { "." };
                                let module = format!("{}{sep}{name}", import.module);
                                let files = tables.modules.python(file, &module);
                                if !files.is_empty() {
                                    let sub = Target::Files { files, member: None, module, importer: f };
                                    bindings.named.entry(local.clone()).or_default().push(sub);
                                }
                            }
                        }
                    }
                }
            }
            Lang::Java | Lang::CSharp | Lang::Rust => {
                let bases = if file.lang == Lang::Rust {
                    rust_paths(file, crates, &import.module)
                } else {
                    vec![(String::new(), normalize(&import.module))]
                };
                for (scope, base) in bases {
                    for (imported, local) in &import.names {
                        let path = match imported.as_str() {
                            "" => base.clone(),
                            "*" => {
                                bindings.wildcards.push(Target::Path { scope: scope.clone(), path: base.clone() });
                                continue;
                            }
                            name => join(&base, name),
                        };
                        bindings.named.entry(local.clone()).or_default().push(Target::Path { scope: scope.clone(), path });
                    }
                }
            }
        }
    }
    bindings
}

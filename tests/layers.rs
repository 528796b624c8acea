//! The architecture as a test: which layer may use which (the map in
//! `src/lib.rs`), no module below the commands sees the command line, and
//! no import cycle between modules. Reads the source tree; builds nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (e.g. `verify::chain`) -> the non-test source of its file.
fn modules() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        "",
        &mut out,
    );
    out
}

fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if path.is_dir() {
            walk(&path, &format!("{prefix}{name}::"), out);
            continue;
        }
        let Some(stem) = name.strip_suffix(".rs") else {
            continue;
        };
        let module = match stem {
            "mod" => prefix.trim_end_matches("::").to_string(),
            "lib" | "main" if prefix.is_empty() => continue,
            _ => format!("{prefix}{stem}"),
        };
        let text = std::fs::read_to_string(&path).unwrap();
        // A file's test module (at its end) is not its code; an item
        // marked test-only elsewhere in the file is held to the map too.
        let code = text.split("#[cfg(test)]\nmod ").next().unwrap_or("");
        let code: String = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        out.insert(module, code);
    }
}

/// The modules a module's code names (`crate::a::b`, `super::c`), each
/// resolved to the longest module path that exists.
fn uses(module: &str, code: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let parent: Vec<&str> = {
        let mut p: Vec<&str> = module.split("::").collect();
        p.pop();
        p
    };
    for (marker, base) in [("crate::", Vec::new()), ("super::", parent)] {
        for (i, _) in code.match_indices(marker) {
            let before = code[..i].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest = &code[i + marker.len()..];
            let mut path: Vec<String> = base.iter().map(|s| s.to_string()).collect();
            for part in rest.split("::") {
                let ident: String = part
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if ident.is_empty() || !ident.starts_with(|c: char| c.is_ascii_lowercase()) {
                    break;
                }
                path.push(ident.clone());
                if ident.len() != part.len() {
                    break;
                }
            }
            while !path.is_empty() && !known.contains(&path.join("::")) {
                path.pop();
            }
            let target = path.join("::");
            if !target.is_empty() && target != module {
                found.insert(target);
            }
        }
    }
    found
}

/// The layers, top first (the map in `src/lib.rs`): each may use only the
/// layers after it, so every arrow points down.
const LAYERS: [&str; 9] = [
    "commands", "cli", "simulate", "report", "run", "plan", "request", "sources", "verify",
];

fn rank(module: &str) -> usize {
    let layer = module.split("::").next().unwrap_or(module);
    LAYERS
        .iter()
        .position(|l| *l == layer)
        .unwrap_or_else(|| panic!("layer {layer} is not in tests/layers.rs and src/lib.rs"))
}

#[test]
fn layers_use_only_what_the_map_allows() {
    let mods = modules();
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    let mut wrong = Vec::new();
    for (m, code) in &mods {
        for target in uses(m, code, &known) {
            if rank(&target) < rank(m) {
                wrong.push(format!("{m} uses {target}, a layer above it"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "arrows the layer map does not allow:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn nothing_below_the_commands_sees_the_command_line() {
    let mods = modules();
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    for (m, code) in &mods {
        if m == "cli" || m.starts_with("cli::") || m == "commands" || m.starts_with("commands::") {
            continue;
        }
        let u = uses(m, code, &known);
        assert!(
            !u.iter().any(|t| t == "cli" || t.starts_with("cli::")),
            "{m} imports the command line"
        );
        assert!(!code.contains("clap::"), "{m} uses clap");
    }
}

#[test]
fn no_import_cycles() {
    let mods = modules();
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    let graph: BTreeMap<&String, BTreeSet<String>> =
        mods.iter().map(|(m, c)| (m, uses(m, c, &known))).collect();
    // Depth-first search with colours: a grey node reached again is a cycle.
    fn visit(
        m: &str,
        graph: &BTreeMap<&String, BTreeSet<String>>,
        colour: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) {
        match colour.get(m) {
            Some(2) => return,
            Some(1) => {
                let from = stack.iter().position(|s| s == m).unwrap_or(0);
                panic!("import cycle: {} -> {m}", stack[from..].join(" -> "));
            }
            _ => {}
        }
        colour.insert(m.to_string(), 1);
        stack.push(m.to_string());
        for next in graph.get(&m.to_string()).into_iter().flatten() {
            visit(next, graph, colour, stack);
        }
        stack.pop();
        colour.insert(m.to_string(), 2);
    }
    let mut colour = BTreeMap::new();
    for m in mods.keys() {
        visit(m, &graph, &mut colour, &mut Vec::new());
    }
}

//! Sources: where bytes come from. The paths named on the command line are expanded here into the
//! files to read (directories walked recursively, hidden files included, symlink loops reported,
//! entries in name order so every run reads them in the same order); [`bundle`] opens each file
//! and whatever archives it holds; [`stdin`] reads standard input on its own thread so a live pipe
//! can be interrupted and can report when it goes quiet.

pub mod bundle;
pub mod mmap;
pub mod stdin;
pub mod utf16;

use std::path::PathBuf;

/// An input named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input.
    Stdin,
    /// A file, a directory or an archive.
    Path(PathBuf),
}

/// One thing to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// Standard input.
    Stdin,
    /// A file (maybe an archive).
    File {
        /// Where it is.
        path: PathBuf,
        /// How findings name it.
        name: String,
    },
}

/// Expands inputs into items. Problems (a missing path, an unreadable directory, a symlink loop)
/// go to `problem` with the path's name; the other inputs are still expanded.
pub fn expand(inputs: &[Input], problem: &mut dyn FnMut(&str, &str)) -> Vec<Item> {
    let mut items = Vec::new();
    for input in inputs {
        let path = match input {
            Input::Stdin => {
                items.push(Item::Stdin);
                continue;
            }
            Input::Path(p) => p,
        };
        let name = path.display().to_string();
        match std::fs::metadata(path) {
            Err(e) => problem(&name, &e.to_string()),
            Ok(meta) if !meta.is_dir() => items.push(Item::File {
                path: path.clone(),
                name,
            }),
            Ok(_) => {
                let walk = walkdir::WalkDir::new(path)
                    .follow_links(true)
                    .sort_by_file_name();
                for entry in walk {
                    match entry {
                        Ok(e) if e.file_type().is_dir() => {}
                        Ok(e) => items.push(Item::File {
                            name: e.path().display().to_string(),
                            path: e.into_path(),
                        }),
                        Err(e) => {
                            let at = e
                                .path()
                                .map_or_else(|| name.clone(), |p| p.display().to_string());
                            let message = match e.loop_ancestor() {
                                Some(a) => {
                                    format!("symlink loop back to {}; not followed", a.display())
                                }
                                None => e
                                    .io_error()
                                    .map_or_else(|| e.to_string(), |io| io.to_string()),
                            };
                            problem(&at, &message);
                        }
                    }
                }
            }
        }
    }
    items
}

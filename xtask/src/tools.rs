//! The commands xtask runs: cargo (the one running xtask) and git, and
//! the subdirectories of the workspace's target directory the tools build in.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `cargo`: the one that runs xtask (`$CARGO`), else the one on `PATH`.
pub(crate) fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// `git`, in `root`.
pub(crate) fn git(root: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(root);
    cmd
}

/// `subdir` below the workspace's target directory (`$CARGO_TARGET_DIR`,
/// else `target`, relative to `root`).
pub(crate) fn target_subdir(root: &Path, subdir: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    root.join(target).join(subdir)
}

//! The `linkt` command.

fn main() {}

//! Rebuilds this crate whenever the shipped data set changes, so that the copy embedded by
//! `include_dir!` is never stale.
fn main() {
    println!("cargo:rerun-if-changed=../../examples/kyiv-compact");
}

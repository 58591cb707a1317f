//! The `cartkin` command-line program: a thin layer over the library (see `cartkin::cli`).

fn main() {
    std::process::exit(cartkin::cli::main());
}

//! The `cartkin` command-line program: a thin layer over the library, one file per
//! subcommand in `src/cli/`. Built with the default feature `cli` (clap, indicatif);
//! the library itself does not depend on them.

mod cli;

fn main() {
    std::process::exit(cli::main());
}

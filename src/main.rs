//! The `lbimport` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    lbimport::cli::main()
}

//! The `faultline` binary: runs the command line and exits with its code.

fn main() {
    std::process::exit(faultline::run(std::env::args_os()));
}

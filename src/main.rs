fn main() {
    std::process::exit(faultline::run(std::env::args_os()));
}

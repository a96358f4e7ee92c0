fn main() -> std::process::ExitCode {
    cabot::main().into()
}

//! What the figures were measured on: cores, CPU model, memory, kernel, compiler, date and the
//! load the machine already carried.

use std::process::Command;

/// The machine and toolchain of a run.
#[derive(Debug, Clone)]
pub struct Machine {
    /// Logical CPUs this process may use.
    pub cores: usize,
    /// `model name` from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// The architecture (`x86_64`, `aarch64`).
    pub architecture: &'static str,
    /// Total memory, from `/proc/meminfo`.
    pub memory: String,
    /// `uname -r`.
    pub kernel: String,
    /// `rustc -V`.
    pub rustc: String,
    /// When the run started, UTC.
    pub date: String,
    /// `/proc/loadavg` when the run started (other work on a shared machine).
    pub load_at_start: String,
}

/// The machine this process runs on.
pub fn this_machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    Machine {
        cores: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        cpu_model: field(&cpuinfo, "model name").unwrap_or_else(|| "unknown".to_owned()),
        architecture: std::env::consts::ARCH,
        memory: field(&meminfo, "MemTotal").unwrap_or_else(|| "unknown".to_owned()),
        kernel: output("uname", &["-r"]),
        rustc: output(
            &std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned()),
            &["-V"],
        ),
        date: output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        load_at_start: std::fs::read_to_string("/proc/loadavg")
            .map(|load| {
                load.split_whitespace()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default(),
    }
}

/// The value of the first `name: value` line of `text`.
fn field(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == name).then(|| value.trim().to_owned())
    })
}

/// What `program args` prints, trimmed, or `unknown`.
fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

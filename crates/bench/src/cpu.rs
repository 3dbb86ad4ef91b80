//! Process CPU time from `/proc/self/stat`, and the facts about the machine.

use std::error::Error;
use std::path::Path;
use std::time::Instant;

/// Clock ticks per second for `/proc` times: `getconf CLK_TCK`, else Linux's 100.
pub fn ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// (utime, stime) of this process (all its threads), in clock ticks: fields 14 and 15
/// of `/proc/self/stat`.
pub fn process_ticks() -> Result<(u64, u64), Box<dyn Error>> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Field 2 (the command) is in parentheses and may hold spaces; field 3 follows the
    // last ')'.
    let (_, rest) = stat
        .rsplit_once(')')
        .ok_or("/proc/self/stat has no command field")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| -> Result<u64, Box<dyn Error>> {
        let text = fields
            .get(n - 3)
            .ok_or_else(|| format!("/proc/self/stat has no field {n}"))?;
        Ok(text.parse()?)
    };
    Ok((field(14)?, field(15)?))
}

/// Wall time and process CPU time of a stretch of work.
#[derive(Debug)]
pub struct Stopwatch {
    wall: Instant,
    ticks: (u64, u64),
    per_second: u64,
}

/// Seconds of wall time and of process CPU time (user + system).
#[derive(Debug, Clone, Copy)]
pub struct Elapsed {
    pub wall: f64,
    pub cpu: f64,
    pub user: f64,
    pub system: f64,
    /// The resolution of the CPU times, in seconds.
    pub cpu_tick: f64,
}

impl Stopwatch {
    pub fn start(per_second: u64) -> Result<Self, Box<dyn Error>> {
        let ticks = process_ticks()?;
        Ok(Self {
            wall: Instant::now(),
            ticks,
            per_second,
        })
    }

    pub fn stop(self) -> Result<Elapsed, Box<dyn Error>> {
        let wall = self.wall.elapsed().as_secs_f64();
        let (user, system) = process_ticks()?;
        let per_second = self.per_second as f64;
        let user = user.saturating_sub(self.ticks.0) as f64 / per_second;
        let system = system.saturating_sub(self.ticks.1) as f64 / per_second;
        Ok(Elapsed {
            wall,
            cpu: user + system,
            user,
            system,
            cpu_tick: 1.0 / per_second,
        })
    }
}

fn cpu_model() -> Option<(String, Vec<&'static str>)> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let model = info
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_owned())?;
    let flags: Vec<&str> = info
        .lines()
        .find(|l| l.starts_with("flags"))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    let wanted = ["sha_ni", "aes", "pclmulqdq", "avx2"]
        .into_iter()
        .filter(|w| flags.contains(w))
        .collect();
    Some((model, wanted))
}

/// The mount that holds `path`: (mount point, file system type, device).
fn filesystem_of(path: &Path) -> Option<(String, String, String)> {
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    let path = path.canonicalize().ok()?;
    mounts
        .lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let device = parts.next()?;
            let point = parts.next()?;
            let kind = parts.next()?;
            path.starts_with(point)
                .then(|| (point.to_owned(), kind.to_owned(), device.to_owned()))
        })
        .max_by_key(|(point, _, _)| point.len())
}

pub fn print_machine_facts(scratch: &Path) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("  {:<40} {cores}", "cores (available_parallelism)");
    if let Some((model, flags)) = cpu_model() {
        println!("  {:<40} {model}", "cpu");
        println!("  {:<40} {}", "cpu crypto/simd flags", flags.join(" "));
    }
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let load: Vec<&str> = load.split_whitespace().take(3).collect();
        println!(
            "  {:<40} {} (1, 5, 15 min; the cores are shared)",
            "load average at start",
            load.join(" ")
        );
    }
    println!(
        "  {:<40} release (debug assertions off), fortrolig-bench {}",
        "build",
        env!("CARGO_PKG_VERSION")
    );
    println!("  {:<40} {}", "clock ticks per second", ticks_per_second());
    match filesystem_of(scratch) {
        Some((point, kind, device)) => println!(
            "  {:<40} {} ({kind} on {device}, mounted at {point})",
            "scratch directory",
            scratch.display()
        ),
        None => println!("  {:<40} {}", "scratch directory", scratch.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_ticks_are_readable_and_grow() -> Result<(), Box<dyn Error>> {
        let (user, system) = process_ticks()?;
        let mut x = 0u64;
        let start = Instant::now();
        while start.elapsed().as_millis() < 50 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(1));
        }
        let (user_after, system_after) = process_ticks()?;
        assert!(user_after >= user && system_after >= system);
        assert!(ticks_per_second() > 0);
        Ok(())
    }
}

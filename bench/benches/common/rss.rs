//! The process's memory figures from /proc/self/status (Linux), in KiB: `VmHWM:` is the
//! peak resident set, `VmRSS:` the current one (0 where unreadable).

pub fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

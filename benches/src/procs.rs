//! What the benches that start real gateway processes share: a child that is
//! stopped when dropped, a free port, a percentile of sorted timings.

use std::net::TcpListener;
use std::process::Child;
use std::time::Duration;

/// A started process, killed and reaped when dropped (a bench that fails
/// half-way leaves no gateway behind).
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port nothing listens on now (another process may still take it first).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The `p` percentile (0.0 to 1.0) of sorted timings; zero for none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

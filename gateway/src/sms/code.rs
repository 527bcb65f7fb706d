//! The 6-digit codes sent by SMS.

use rand::RngCore;

/// 10^6 fits 4294 times into 2^32; draws at or above this bound are thrown
/// away so that every code is exactly as likely (a plain `% 1_000_000` would
/// favour the low codes).
const BOUND: u32 = 4_294_000_000;

/// A random 6-digit code, uniformly distributed (no modulo bias), from the
/// thread's cryptographic generator.
pub fn new_code() -> String {
    let mut rng = rand::rng();
    loop {
        let n = rng.next_u32();
        if n < BOUND {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

//! The bare Pingora proxy (`benches::bare`) with the system allocator (glibc malloc).

fn main() {
    benches::bare::run("bare_proxy_glibc")
}

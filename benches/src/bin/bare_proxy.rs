//! The bare Pingora proxy (`benches::bare`) with the gateway's allocator.

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    benches::bare::run("bare_proxy")
}

//! A bare Pingora pass-through proxy: the floor for any Pingora gateway.
//!
//! Forwards every request unchanged to one fixed origin over pooled plain-HTTP
//! connections, with the gateway's own `ServerConf` (`gateway::serve::server_conf`)
//! and the same release profile (fat LTO, one codegen unit, abort on panic). Nothing else: no header work, no logging. Two binaries run it:
//! `bare_proxy` with the gateway's allocator (jemalloc) and `bare_proxy_glibc`
//! with the system's, so the harness shows what the allocator alone is worth.

use std::net::SocketAddr;

use async_trait::async_trait;
use pingora::prelude::*;

struct Bare {
    origin: SocketAddr,
}

#[async_trait]
impl ProxyHttp for Bare {
    type CTX = ();

    fn new_ctx(&self) -> Self::CTX {}

    async fn upstream_peer(&self, _session: &mut Session, _ctx: &mut ()) -> Result<Box<HttpPeer>> {
        Ok(Box::new(HttpPeer::new(self.origin, false, String::new())))
    }
}

fn usage(name: &str) -> ! {
    eprintln!("usage: {name} --listen ADDR --origin ADDR [--threads N] [--l4-read-buffer BYTES]");
    std::process::exit(2)
}

/// `NAME --listen 127.0.0.1:18081 --origin 127.0.0.1:18080 [--threads 1]`; never returns.
pub fn run(name: &str) -> ! {
    let mut listen: Option<SocketAddr> = None;
    let mut origin: Option<SocketAddr> = None;
    let mut threads = 1usize;
    // Pingora's read buffer per downstream connection (64 KiB by default): what
    // an idle connection costs depends on it (benches/load/scale-conn.sh).
    let mut l4_read: Option<usize> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_else(|| usage(name));
        match a.as_str() {
            "--listen" => listen = Some(v.parse().unwrap_or_else(|_| usage(name))),
            "--origin" => origin = Some(v.parse().unwrap_or_else(|_| usage(name))),
            "--threads" => threads = v.parse().unwrap_or_else(|_| usage(name)),
            "--l4-read-buffer" => l4_read = Some(v.parse().unwrap_or_else(|_| usage(name))),
            _ => usage(name),
        }
    }
    let (Some(listen), Some(origin)) = (listen, origin) else { usage(name) };
    let mut server = Server::new_with_opt_and_conf(None, gateway::serve::server_conf(threads));
    server.bootstrap();
    let mut proxy = pingora::proxy::http_proxy_service_with_name(&server.configuration, Bare { origin }, "bare");
    match l4_read {
        None => proxy.add_tcp(&listen.to_string()),
        Some(read) => proxy.add_listener(
            pingora::listeners::ListenerConfig::tcp(listen.to_string())
                .l4_buffer(pingora::listeners::L4BufferSettings::default().read(read)),
        ),
    }
    server.add_service(proxy);
    server.run_forever()
}

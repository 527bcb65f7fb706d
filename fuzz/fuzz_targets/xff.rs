//! The `X-Forwarded-For` reader (`gateway::proxy::client::client_ip`).
//! Byte 0 picks the peer, byte 1 the trusted proxies; then lines: the first is
//! extra text a client could put on the left, the others are header values.
#![no_main]

use std::net::IpAddr;

use gateway::proxy::client::client_ip;
use gateway_fuzz::lines;
use libfuzzer_sys::fuzz_target;
use policy::NetworkSet;

const PEERS: [&str; 6] = ["10.0.0.1", "203.0.113.5", "::ffff:10.0.0.2", "2001:db8:ffff::1", "2001:db8::7", "0.0.0.0"];
const PROXIES: [&[&str]; 4] =
    [&["10.0.0.0/8", "2001:db8:ffff::/48"], &[], &["10.0.0.1/32", "192.0.2.0/24"], &["0.0.0.0/0", "::/0"]];

fuzz_target!(|data: &[u8]| {
    let [p, t, rest @ ..] = data else { return };
    let peer: Option<IpAddr> = PEERS.get(*p as usize % 7).map(|s| s.parse().unwrap());
    let proxies: NetworkSet = PROXIES[*t as usize % PROXIES.len()].iter().map(|s| s.parse().unwrap()).collect();
    let all = lines(rest);
    let (junk, headers) = (all[0], &all[1..]);
    let read = |hs: &[&[u8]]| client_ip(peer, hs.iter().copied(), &proxies);
    let trusted = |ip: IpAddr| proxies.contains(ip);

    let got = read(headers);
    let Some(peer) = peer else {
        assert_eq!(got, None);
        return;
    };
    if !trusted(peer) {
        assert_eq!(got, Some(peer), "an untrusted peer's X-Forwarded-For was believed");
        return;
    }

    // What the client writes on the left never changes an answer that stopped
    // before it: neither a found client address nor "unknown".
    let mut with_junk = vec![junk];
    with_junk.extend_from_slice(headers);
    let mut junk_prefixed: Vec<Vec<u8>> = headers.iter().map(|h| h.to_vec()).collect();
    if let Some(first) = junk_prefixed.first_mut() {
        first.splice(0..0, junk.iter().copied().chain(*b","));
    }
    let junk_prefixed: Vec<&[u8]> = junk_prefixed.iter().map(Vec::as_slice).collect();
    if got.is_none_or(|ip| !trusted(ip)) {
        assert_eq!(read(&with_junk), got, "a header on the left changed {got:?}");
        assert_eq!(read(&junk_prefixed), got, "an entry on the left changed {got:?}");
    }

    // Several headers read as one comma-separated list.
    let joined = headers.join(&b","[..]);
    if !headers.is_empty() {
        assert_eq!(read(&[&joined]), got, "one header and several disagree");
    }

    // A trusted proxy is the answer only when every hop is a trusted proxy.
    if let Some(ip) = got
        && trusted(ip)
    {
        for entry in headers.iter().flat_map(|h| h.split(|b| *b == b',')) {
            let one = read(&[entry]);
            assert!(one.is_some_and(trusted), "{ip} returned past the hop {:?}", String::from_utf8_lossy(entry));
        }
    }
});

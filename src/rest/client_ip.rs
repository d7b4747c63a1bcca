//! The client's address: the socket peer, or — only when that peer is a configured trusted
//! proxy — the nearest untrusted hop named in `X-Forwarded-For` / `Forwarded`.

use ipnet::IpNet;
use poem::Request;
use poem::http::HeaderMap;
use std::net::IpAddr;

pub fn client_ip(req: &Request, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.remote_addr().as_socket_addr().map(|a| a.ip())?;
    Some(resolve(peer, req.headers(), trusted))
}

fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    // Walk from the nearest hop outwards; the first address not ours is the client.
    forwarded_hops(headers)
        .into_iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .unwrap_or(peer)
}

/// Hops in order (client first), from `Forwarded` when present, else `X-Forwarded-For`.
fn forwarded_hops(headers: &HeaderMap) -> Vec<IpAddr> {
    if let Some(value) = headers.get("forwarded").and_then(|v| v.to_str().ok()) {
        return value
            .split(',')
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (key, value) = pair.trim().split_once('=')?;
                    key.eq_ignore_ascii_case("for").then(|| parse_node(value))?
                })
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect()
}

/// `for=` node forms: `192.0.2.1`, `"[2001:db8::1]:4711"`, `192.0.2.1:80`.
fn parse_node(raw: &str) -> Option<IpAddr> {
    let node = raw.trim().trim_matches('"');
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    node.parse()
        .ok()
        .or_else(|| node.rsplit_once(':')?.0.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(peer: &str, headers: &[(&'static str, &str)], trusted: &[IpNet]) -> IpAddr {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(*k, v.parse().expect("header value"));
        }
        resolve(peer.parse().expect("peer"), &map, trusted)
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().expect("cidr")).collect()
    }

    #[test]
    fn untrusted_peers_cannot_claim_another_address() {
        let ip = client(
            "198.51.100.7",
            &[("x-forwarded-for", "1.2.3.4")],
            &nets(&["10.0.0.0/8"]),
        );
        assert_eq!(ip.to_string(), "198.51.100.7");
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let ip = client(
            "10.0.0.5",
            &[("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.0.0.4")],
            &nets(&["10.0.0.0/8"]),
        );
        assert_eq!(ip.to_string(), "203.0.113.9");
    }

    #[test]
    fn the_forwarded_header_is_understood() {
        let forwarded = "for=\"[2001:db8::1]:4711\";proto=https, for=10.0.0.9";
        let ip = client(
            "10.0.0.5",
            &[("forwarded", forwarded)],
            &nets(&["10.0.0.0/8"]),
        );
        assert_eq!(ip.to_string(), "2001:db8::1");
    }
}

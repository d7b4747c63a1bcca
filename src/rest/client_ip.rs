//! The client's address: the socket peer, or — only when that peer is a configured trusted
//! proxy — the right-most untrusted hop of the one configured forwarded header
//! (`server.forwarded_header`). Addresses are canonical: on a dual-stack listener an IPv4
//! client arrives as `::ffff:a.b.c.d`, and must match IPv4 proxies and be keyed as IPv4.

use crate::config::{ForwardedHeader, ServerConfig};
use ipnet::IpNet;
use poem::Request;
use poem::http::HeaderMap;
use std::net::IpAddr;

pub fn client_ip(req: &Request, server: &ServerConfig) -> Option<IpAddr> {
    let peer = req.remote_addr().as_socket_addr().map(|a| a.ip())?;
    Some(resolve(
        peer,
        req.headers(),
        &server.trusted_proxies,
        server.forwarded_header,
    ))
}

/// The key a client is counted under (rate limits, failed logins). IPv6 clients are keyed
/// by their /64: one host usually holds the whole prefix. An IPv4-mapped address is an IPv4
/// client, keyed alone rather than in `::ffff:0:0/96`'s /64.
pub fn client_key(ip: Option<IpAddr>) -> String {
    match ip.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(v4) => v4.to_string(),
        None => "unknown".into(),
    }
}

/// Walks the hops from the nearest outwards, each trusted proxy vouching for the next. The
/// first untrusted address is the client. A hop that is not an address (`unknown`, an
/// obfuscated `_id`, garbage) ends the walk: what lies left of it was never vouched for, so
/// the last trusted address is the client.
fn resolve(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted: &[IpNet],
    header: ForwardedHeader,
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer.to_canonical();
    if !is_trusted(&client) {
        return client;
    }
    for hop in forwarded_hops(headers, header).into_iter().rev() {
        let Some(ip) = hop.map(|ip| ip.to_canonical()) else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// Hops in order (client first) from the configured header; `None` for one that does not
/// parse. Empty list elements are ignored, as RFC 9110 asks.
fn forwarded_hops(headers: &HeaderMap, header: ForwardedHeader) -> Vec<Option<IpAddr>> {
    let name = match header {
        ForwardedHeader::XForwardedFor => "x-forwarded-for",
        ForwardedHeader::Forwarded => "forwarded",
    };
    let elements = headers
        .get_all(name)
        .iter()
        // A header that is not visible ASCII names no hop we could trust beyond.
        .flat_map(|v| v.to_str().unwrap_or("?").split(','))
        .map(str::trim)
        .filter(|element| !element.is_empty());
    match header {
        ForwardedHeader::XForwardedFor => elements.map(parse_node).collect(),
        ForwardedHeader::Forwarded => elements.map(forwarded_for).collect(),
    }
}

/// The `for=` node of one `Forwarded` element (`for=192.0.2.1;proto=https`).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("for")
            .then(|| parse_node(value))?
    })
}

/// Node forms: `192.0.2.1`, `2001:db8::1`, `"[2001:db8::1]:4711"`, `192.0.2.1:80`.
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
    use ForwardedHeader::{Forwarded, XForwardedFor};

    /// The client of a request from `peer` through proxies in 10.0.0.0/8.
    fn client(peer: &str, header: ForwardedHeader, headers: &[(&'static str, &str)]) -> String {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(*k, v.parse().expect("header value"));
        }
        let trusted = ["10.0.0.0/8".parse().expect("cidr")];
        resolve(peer.parse().expect("peer"), &map, &trusted, header).to_string()
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        assert_eq!(client_key(Some(a)), client_key(Some(b)));
        assert_eq!(client_key(Some(a)), "2001:db8:1:2::/64");
        assert_eq!(client_key("192.0.2.7".parse().ok()), "192.0.2.7");
        assert_eq!(client_key("::ffff:192.0.2.7".parse().ok()), "192.0.2.7");
    }

    #[test]
    fn untrusted_peers_cannot_claim_another_address() {
        let xff = [("x-forwarded-for", "1.2.3.4")];
        assert_eq!(client("198.51.100.7", XForwardedFor, &xff), "198.51.100.7");
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let xff = [("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.0.0.4")];
        assert_eq!(client("10.0.0.5", XForwardedFor, &xff), "203.0.113.9");
    }

    #[test]
    fn the_forwarded_header_is_understood() {
        let forwarded = "for=\"[2001:db8::1]:4711\";proto=https, for=10.0.0.9";
        let headers = [("forwarded", forwarded)];
        assert_eq!(client("10.0.0.5", Forwarded, &headers), "2001:db8::1");
    }

    #[test]
    fn ipv4_mapped_addresses_are_canonical() {
        let xff = [("x-forwarded-for", "::ffff:203.0.113.9")];
        assert_eq!(
            client("::ffff:10.0.0.5", XForwardedFor, &xff),
            "203.0.113.9"
        );
        assert_eq!(
            client("::ffff:198.51.100.7", XForwardedFor, &[]),
            "198.51.100.7"
        );
    }

    #[test]
    fn only_the_configured_header_is_read() {
        let both = [
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=6.6.6.6"),
        ];
        assert_eq!(client("10.0.0.5", XForwardedFor, &both), "203.0.113.9");
        assert_eq!(client("10.0.0.5", Forwarded, &both), "6.6.6.6");
        let xff_only = [("x-forwarded-for", "203.0.113.9")];
        assert_eq!(client("10.0.0.5", Forwarded, &xff_only), "10.0.0.5");
    }

    #[test]
    fn an_unparseable_hop_ends_the_walk_at_the_last_trusted_address() {
        let xff = |hops| [("x-forwarded-for", hops)];
        assert_eq!(
            client("10.0.0.5", XForwardedFor, &xff("6.6.6.6, unknown")),
            "10.0.0.5"
        );
        let deeper = xff("6.6.6.6, _hidden, 10.0.0.4");
        assert_eq!(client("10.0.0.5", XForwardedFor, &deeper), "10.0.0.4");
        let no_for = [("forwarded", "for=6.6.6.6, proto=https")];
        assert_eq!(client("10.0.0.5", Forwarded, &no_for), "10.0.0.5");
    }

    #[test]
    fn hops_all_trusted_name_the_farthest_proxy() {
        let xff = [("x-forwarded-for", "10.0.0.3, , 10.0.0.4")];
        assert_eq!(client("10.0.0.5", XForwardedFor, &xff), "10.0.0.3");
    }
}

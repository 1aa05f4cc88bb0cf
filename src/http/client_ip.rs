//! The client's address: the connection's peer, and behind trusted proxies
//! the address they forwarded, in the one header they are configured to
//! append ([`ProxyHeader`]). A forwarding header is read only when the peer
//! is a configured trusted proxy; anyone else could write anything there.

use std::net::{IpAddr, SocketAddr};

use http::{Extensions, HeaderMap};
use ipnet::IpNet;

/// The forwarding header the trusted proxies append to, and so the only one
/// read (see [`AuditLayer::proxy_header`](super::AuditLayer::proxy_header)).
///
/// Only one is read: a proxy that appends to `X-Forwarded-For` passes a
/// client's own `Forwarded` header on untouched (and the other way round),
/// so reading the other header would let the client choose its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ProxyHeader {
    /// `X-Forwarded-For` (nginx, HAProxy, AWS and most ingresses): the
    /// default.
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded` (its `for=` parameters).
    Forwarded,
}

/// The connection's peer: an axum `ConnectInfo<SocketAddr>` (feature
/// `axum`), tonic's `TcpConnectInfo` (feature `tonic`), or a plain
/// `SocketAddr` extension (as hyper-based servers can insert).
pub(crate) fn peer(ext: &Extensions) -> Option<IpAddr> {
    #[cfg(feature = "axum")]
    if let Some(info) = ext.get::<axum::extract::ConnectInfo<SocketAddr>>() {
        return Some(info.0.ip());
    }
    #[cfg(feature = "tonic")]
    if let Some(addr) = ext
        .get::<tonic::transport::server::TcpConnectInfo>()
        .and_then(tonic::transport::server::TcpConnectInfo::remote_addr)
    {
        return Some(addr.ip());
    }
    ext.get::<SocketAddr>().map(SocketAddr::ip)
}

/// The client's address: the peer, or when the peer is trusted, the first
/// untrusted hop of the forwarding chain walked from the right (the nearest
/// hop first). When every hop is trusted, the farthest one. IPv4-mapped
/// IPv6 addresses come back as IPv4.
pub(crate) fn client(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpNet],
    header: ProxyHeader,
) -> Option<IpAddr> {
    // An IPv4 client of a dual-stack listener is written as IPv4, as a
    // forwarded hop is: one client, one address in the records.
    let peer = canonical(peer?);
    if !is_trusted(peer, trusted) {
        return Some(peer);
    }
    let hops = forwarded_hops(headers, header);
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) => {
                client = *ip;
                if !is_trusted(*ip, trusted) {
                    break;
                }
            }
            // An entry that is not an address ("unknown", garbage): the
            // chain cannot be followed past it.
            None => break,
        }
    }
    Some(client)
}

/// Whether `ip` is in a trusted net, an IPv4 address and its IPv4-mapped
/// IPv6 form being one address: `10.0.0.0/8` covers `::ffff:10.0.0.1`,
/// and `::ffff:10.0.0.0/104` covers `10.0.0.1`.
fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    let ip = canonical(ip);
    let mapped = match ip {
        IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_mapped()),
        v6 => v6,
    };
    trusted
        .iter()
        .any(|net| net.contains(&ip) || net.contains(&mapped))
}

/// IPv4-mapped IPv6 addresses as IPv4, so `10.0.0.0/8` covers `::ffff:10.0.0.1`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The hops of the configured header (`Forwarded`'s `for=`, or
/// `X-Forwarded-For`), in header order, every header line of it.
fn forwarded_hops(headers: &HeaderMap, header: ProxyHeader) -> Vec<Option<IpAddr>> {
    let mut hops = Vec::new();
    if header == ProxyHeader::Forwarded {
        for value in headers.get_all(http::header::FORWARDED) {
            let Ok(text) = value.to_str() else {
                hops.push(None);
                continue;
            };
            for element in text.split(',') {
                let hop = element.split(';').find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    k.trim()
                        .eq_ignore_ascii_case("for")
                        .then(|| parse_node(v.trim()))
                });
                // An element without `for=` says nothing of the client.
                if let Some(hop) = hop {
                    hops.push(hop);
                }
            }
        }
        return hops;
    }
    for value in headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else {
            hops.push(None);
            continue;
        };
        for part in text.split(',') {
            hops.push(parse_node(part.trim()));
        }
    }
    hops
}

/// An address with or without port, IPv6 in brackets or bare, quoted or
/// not: `203.0.113.9`, `203.0.113.9:443`, `"[2001:db8::1]:80"`, `2001:db8::1`.
fn parse_node(s: &str) -> Option<IpAddr> {
    let s = s.trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sock) = s.parse::<SocketAddr>() {
        return Some(canonical(sock.ip()));
    }
    let inner = s.strip_prefix('[')?.split(']').next()?;
    inner.parse::<IpAddr>().ok().map(canonical)
}

/// Parses CIDRs (`10.0.0.0/8`) or single addresses (`127.0.0.1`).
pub(crate) fn parse_cidr(s: &str) -> Result<IpNet, String> {
    let t = s.trim();
    if let Ok(net) = t.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    if let Ok(ip) = t.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    Err(format!(
        "`{}` is not a CIDR (like 10.0.0.0/8 or fd00::/8) nor an IP address",
        s.escape_debug()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    const XFF: ProxyHeader = ProxyHeader::XForwardedFor;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_peers() {
        let trusted = vec![parse_cidr("10.0.0.0/8").unwrap()];
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.0.0.2")]);
        assert_eq!(
            client(Some(ip("198.51.100.7")), &h, &trusted, XFF),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            client(Some(ip("10.0.0.1")), &h, &trusted, XFF),
            Some(ip("203.0.113.9"))
        );
        let all_trusted = headers(&[("x-forwarded-for", "10.1.1.1, 10.0.0.2")]);
        assert_eq!(
            client(Some(ip("10.0.0.1")), &all_trusted, &trusted, XFF),
            Some(ip("10.1.1.1"))
        );
        let garbage = headers(&[("x-forwarded-for", "203.0.113.9, nonsense")]);
        assert_eq!(
            client(Some(ip("10.0.0.1")), &garbage, &trusted, XFF),
            Some(ip("10.0.0.1"))
        );
        let fwd = headers(&[
            (
                "forwarded",
                "for=192.0.2.60;proto=http, for=\"[2001:db8::1]:80\"",
            ),
            ("x-forwarded-for", "1.1.1.1"),
        ]);
        // Read only when configured: a proxy appending to one header
        // passes the other on as the client wrote it.
        assert_eq!(
            client(Some(ip("10.0.0.1")), &fwd, &trusted, ProxyHeader::Forwarded),
            Some(ip("2001:db8::1"))
        );
        assert_eq!(
            client(Some(ip("10.0.0.1")), &fwd, &trusted, XFF),
            Some(ip("1.1.1.1"))
        );
        let spoofed = headers(&[("forwarded", "for=10.0.0.5"), ("forwarded", "proto=http")]);
        assert_eq!(
            client(Some(ip("10.0.0.1")), &spoofed, &trusted, XFF),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(client(None, &h, &trusted, XFF), None);
        let mapped = ip("::ffff:10.0.0.1");
        assert_eq!(
            client(Some(mapped), &h, &trusted, XFF),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn cidrs_are_checked() {
        assert!(parse_cidr("10.0.0.0/8").is_ok());
        assert!(parse_cidr("127.0.0.1").is_ok());
        assert!(parse_cidr("fd00::/8").is_ok());
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("ten").is_err());
    }
}

//! The client address of a request. Forwarding headers are believed only when the socket peer
//! is a configured trusted proxy; then the right-most address that is not itself a trusted
//! proxy is the client (the left part of `X-Forwarded-For` is whatever the client claimed).

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// Trusted reverse proxies (addresses or CIDR ranges).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    /// Parses `127.0.0.1,10.0.0.0/8,::1`.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let net = part
                .parse::<IpNet>()
                .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!("trusted proxy {part:?} is not an IP address or CIDR range")
                })?;
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(&ip))
    }
}

/// Resolves the client IP from the peer address and headers.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    if !trusted.contains(peer) {
        return peer;
    }
    let mut chain: Vec<IpAddr> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        if let Ok(s) = value.to_str() {
            chain.extend(s.split(',').filter_map(|p| parse_addr(p.trim())));
        }
    }
    if chain.is_empty() {
        if let Some(ip) = headers
            .get("x-real-ip")
            .and_then(|v| v.to_str().ok())
            .and_then(|s| parse_addr(s.trim()))
        {
            return ip;
        }
        for value in headers.get_all("forwarded") {
            if let Ok(s) = value.to_str() {
                for part in s.split([';', ',']) {
                    let part = part.trim();
                    if let Some(v) = part
                        .strip_prefix("for=")
                        .or_else(|| part.strip_prefix("For="))
                    {
                        chain.extend(parse_addr(v.trim_matches('"')));
                    }
                }
            }
        }
    }
    chain
        .iter()
        .rev()
        .find(|ip| !trusted.contains(**ip))
        .copied()
        .or_else(|| chain.first().copied())
        .unwrap_or(peer)
}

/// Accepts `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]:443` and `2001:db8::1`.
fn parse_addr(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = s.parse::<std::net::SocketAddr>() {
        return Some(sa.ip());
    }
    s.strip_prefix('[')
        .and_then(|r| r.split(']').next())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn forwarding_headers_only_from_trusted_peers() {
        let t = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").unwrap();
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let stranger: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(client_ip(stranger, &headers("203.0.113.7"), &t), stranger);
        assert_eq!(
            client_ip(peer, &headers("203.0.113.7"), &t),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        // A spoofed left-most entry is ignored: the right-most untrusted hop is the client.
        assert_eq!(
            client_ip(peer, &headers("1.1.1.1, 203.0.113.7, 10.0.0.2"), &t),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(peer, &HeaderMap::new(), &t), peer);
        assert!(TrustedProxies::parse("not-an-ip").is_err());
    }
}

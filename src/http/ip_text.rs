//! A client address as the record writes it: an IPv4 address in dotted
//! decimal, its octets written by `itoa` (std's `Display` runs each octet
//! through the formatting machinery, about a thousand instructions an
//! address); IPv6 through std's `Display`, as before.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// An address ready for the record: an IPv4 address written out once
/// (at most 15 bytes), an IPv6 address kept to be shown by std's
/// `Display` (writing it to a buffer first only added a copy).
#[derive(Clone, Copy)]
pub(crate) enum IpText {
    V4 { buf: [u8; 15], len: u8 },
    V6(Ipv6Addr),
}

impl IpText {
    pub(crate) fn new(ip: IpAddr) -> IpText {
        match ip {
            IpAddr::V4(v4) => {
                let mut buf = [0u8; 15];
                let mut at = 0;
                for (i, octet) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        buf[at] = b'.';
                        at += 1;
                    }
                    let mut digits = itoa::Buffer::new();
                    let digits = digits.format(octet).as_bytes();
                    buf[at..at + digits.len()].copy_from_slice(digits);
                    at += digits.len();
                }
                IpText::V4 {
                    buf,
                    // At most 15.
                    len: at as u8,
                }
            }
            IpAddr::V6(v6) => IpText::V6(v6),
        }
    }
}

impl fmt::Display for IpText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpText::V4 { buf, len } => {
                // ASCII digits and dots only.
                f.write_str(std::str::from_utf8(&buf[..usize::from(*len)]).unwrap_or(""))
            }
            IpText::V6(v6) => fmt::Display::fmt(v6, f),
        }
    }
}

impl fmt::Debug for IpText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_as_std_writes_them() {
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "10.20.30.40",
            "255.255.255.255",
            "1.2.3.4",
            "::",
            "::1",
            "2001:db8::8a2e:370:7334",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "::ffff:255.255.255.255",
            "fe80::1:2:3:4",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(IpText::new(ip).to_string(), ip.to_string());
        }
        // Every octet value, in every position.
        for o in 0..=255u8 {
            let ip = IpAddr::from([o, 255 - o, o / 2, 9]);
            assert_eq!(IpText::new(ip).to_string(), ip.to_string());
        }
    }
}

//! HTTP behaviour shared by every route, seen from a raw socket against the real server:
//! responses are gzip-compressed for clients that ask, and left alone for those that do not.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::Server;

/// One HTTP/1.1 GET with `Connection: close`; returns the head (lower-cased) and the body bytes.
fn get(server: &Server, path: &str, accept_gzip: bool) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    let enc = if accept_gzip {
        "Accept-Encoding: gzip\r\n"
    } else {
        ""
    };
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{enc}Connection: close\r\n\r\n"
    )
    .expect("send");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8_lossy(&raw[..split]).to_lowercase();
    (head, raw[split + 4..].to_vec())
}

/// The hashed URL of the dashboard's script, as the shell names it.
fn app_script(server: &Server) -> String {
    let (_, body) = get(server, "/sites/shop.example", false);
    let html = String::from_utf8(body).expect("utf-8 shell");
    html.split(['"', '\'', ' ', '>', '<'])
        .find(|t| t.starts_with("/assets/app.") && t.ends_with(".js"))
        .unwrap_or_else(|| panic!("the shell names no app.*.js: {html}"))
        .to_string()
}

#[test]
fn responses_are_gzipped_only_for_clients_that_ask() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), &["shop.example"], &[]);
    let path = app_script(&server);

    let (plain_head, plain) = get(&server, &path, false);
    assert!(plain_head.starts_with("http/1.1 200"), "{plain_head}");
    assert!(!plain_head.contains("content-encoding"), "{plain_head}");

    let (head, body) = get(&server, &path, true);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-encoding: gzip"), "{head}");
    // A compressed body has no known length up front, so it usually comes chunked.
    let gz = if head.contains("transfer-encoding: chunked") {
        dechunk(&body)
    } else {
        body
    };
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut out)
        .expect("a valid gzip stream");
    assert_eq!(out, plain, "the decompressed script equals the plain one");
    assert!(
        gz.len() * 2 < plain.len(),
        "gzip should at least halve the script: {} → {}",
        plain.len(),
        gz.len()
    );
}

/// Decodes an HTTP/1.1 chunked body.
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = b.windows(2).position(|w| w == b"\r\n").expect("chunk size");
        let size =
            usize::from_str_radix(std::str::from_utf8(&b[..line_end]).expect("hex").trim(), 16)
                .expect("hex size");
        b = &b[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

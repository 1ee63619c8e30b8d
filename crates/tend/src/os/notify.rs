//! Sending one datagram to a service manager's notification socket (`sd_notify`).

use std::io;
use std::os::unix::net::UnixDatagram;

/// Sends `message` to the `AF_UNIX` datagram socket named like `NOTIFY_SOCKET`: a path, or on
/// Linux an abstract name written with a leading `@`.
pub(crate) fn send_notification(socket: &str, message: &str) -> io::Result<()> {
    let sender = UnixDatagram::unbound()?;
    if let Some(name) = socket.strip_prefix('@') {
        send_abstract(&sender, name, message)
    } else {
        sender.send_to(message.as_bytes(), socket).map(drop)
    }
}

#[cfg(target_os = "linux")]
fn send_abstract(sender: &UnixDatagram, name: &str, message: &str) -> io::Result<()> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
    sender.send_to_addr(message.as_bytes(), &addr).map(drop)
}

#[cfg(not(target_os = "linux"))]
fn send_abstract(_sender: &UnixDatagram, _name: &str, _message: &str) -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "abstract sockets need Linux"))
}

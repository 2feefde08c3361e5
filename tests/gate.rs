//! A TCP relay the test controls, between a server and its database: it
//! passes bytes both ways until `cut`, which closes every connection and
//! stops listening, so new connections are refused, as with a stopped
//! PostgreSQL (its backends end and nothing answers on the port), until
//! `restore`. Other tests share the machine's database, so the fault is
//! made here rather than by stopping it.

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Gate {
    pub port: u16,
    down: watch::Sender<bool>,
}

impl Gate {
    /// A relay on a free loopback port to `target` (`host:port`).
    pub async fn start(target: &str) -> Gate {
        let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = first.local_addr().unwrap().port();
        let (down, mut state) = watch::channel(false);
        let target = target.to_owned();
        tokio::spawn(async move {
            let mut listener = Some(first);
            loop {
                let l = match listener.take() {
                    Some(l) => l,
                    None => loop {
                        match TcpListener::bind(("127.0.0.1", port)).await {
                            Ok(l) => break l,
                            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
                        }
                    },
                };
                loop {
                    tokio::select! {
                        accepted = l.accept() => {
                            let Ok((mut client, _)) = accepted else { continue };
                            let (target, mut cut) = (target.clone(), state.clone());
                            tokio::spawn(async move {
                                let Ok(mut server) = TcpStream::connect(&target).await else { return };
                                tokio::select! {
                                    _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                                    _ = cut.wait_for(|down| *down) => {}
                                }
                            });
                        }
                        changed = state.changed() => {
                            if changed.is_err() { return; }
                            if *state.borrow_and_update() { break; }
                        }
                    }
                }
                // Down: nothing listens on the port.
                drop(l);
                if state.wait_for(|down| !*down).await.is_err() {
                    return;
                }
            }
        });
        Gate { port, down }
    }

    /// The database is gone: open connections close, new ones are refused.
    pub fn cut(&self) {
        let _ = self.down.send(true);
    }

    /// The database is back.
    pub fn restore(&self) {
        let _ = self.down.send(false);
    }
}

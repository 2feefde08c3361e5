//! A TCP relay the test controls, between a server and its database: it
//! passes bytes both ways until `cut`, which closes every connection and
//! closes each new one as soon as it is accepted (as a database that is
//! going away does: its backends end and no new session starts), until
//! `restore`. Other tests share the machine's database, so the fault is
//! made here rather than by stopping it. The relay keeps its port while
//! cut, so no other test can take it meanwhile.

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Gate {
    pub port: u16,
    down: watch::Sender<bool>,
}

impl Gate {
    /// A relay on a free loopback port to `target` (`host:port`).
    pub async fn start(target: &str) -> Gate {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (down, state) = watch::channel(false);
        let target = target.to_owned();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if *state.borrow() {
                    drop(client);
                    continue;
                }
                let (target, mut cut) = (target.clone(), state.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.wait_for(|down| *down) => {}
                    }
                });
            }
        });
        Gate { port, down }
    }

    /// The database is gone: open connections close, new ones are dropped.
    pub fn cut(&self) {
        let _ = self.down.send(true);
    }

    /// The database is back.
    pub fn restore(&self) {
        let _ = self.down.send(false);
    }
}

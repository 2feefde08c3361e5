//! Connections for reads of one statement, kept beside the pool.
//!
//! sqlx's pool tests every connection it gets back with a ping, a round
//! trip to PostgreSQL (or to SQLite's connection thread), because a query
//! cut off half-way, its request cancelled, can leave a connection that the
//! next user must not get. For a read of one row that ping costs as much as
//! the read. A spare connection goes back on the shelf only when its
//! statement ran to the end; one dropped before that (a cancelled request,
//! an error) is closed instead, which is exactly the case the ping guards
//! against. When every spare is out, the read takes a pooled connection.

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::pool::PoolConnection;
use sqlx::{ConnectOptions, Connection, Database, Pool};

/// The spare connections of one database.
pub(super) struct Spares<DB: Database> {
    idle: Mutex<Vec<DB::Connection>>,
    /// Spares open, idle or lent.
    open: AtomicUsize,
    max: usize,
}

impl<DB: Database> Spares<DB> {
    pub fn new(max: usize) -> Self {
        Spares { idle: Mutex::new(Vec::new()), open: AtomicUsize::new(0), max }
    }

    /// A connection for one statement: an idle spare, a new one while fewer
    /// than `max` are open, or else one from `pool`.
    pub async fn lend(&self, pool: &Pool<DB>) -> sqlx::Result<Lent<'_, DB>> {
        if let Some(conn) = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(Lent::Spare { conn: Some(conn), spares: self });
        }
        if self.open.fetch_add(1, Ordering::AcqRel) < self.max {
            // Counted before connecting, so that many readers arriving at
            // once do not open more than `max`.
            let opened = Opened(&self.open);
            let conn = pool.connect_options().connect().await?;
            std::mem::forget(opened);
            return Ok(Lent::Spare { conn: Some(conn), spares: self });
        }
        self.open.fetch_sub(1, Ordering::AcqRel);
        Ok(Lent::Pooled(pool.acquire().await?))
    }

    /// How many spares are open, and how many of them idle.
    pub fn stats(&self) -> (u32, u32) {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).len();
        (self.open.load(Ordering::Acquire).min(self.max) as u32, idle as u32)
    }

    /// Closes the idle spares (the lent ones close when they come back).
    pub async fn close(&self) {
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|e| e.into_inner()));
        for conn in idle {
            self.open.fetch_sub(1, Ordering::AcqRel);
            let _ = conn.close().await;
        }
    }
}

/// Uncounts a spare whose connecting failed or was cancelled.
struct Opened<'a>(&'a AtomicUsize);

impl Drop for Opened<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A connection lent for one statement.
pub(super) enum Lent<'a, DB: Database> {
    Spare {
        conn: Option<DB::Connection>,
        spares: &'a Spares<DB>,
    },
    /// Every spare was out: the pool's, tested as it goes back.
    Pooled(PoolConnection<DB>),
}

impl<DB: Database> Lent<'_, DB> {
    /// The statement ran to the end: the spare goes back on the shelf.
    pub fn done(mut self) {
        if let Lent::Spare { conn, spares } = &mut self
            && let Some(conn) = conn.take()
        {
            spares.idle.lock().unwrap_or_else(|e| e.into_inner()).push(conn);
        }
    }
}

impl<DB: Database> Drop for Lent<'_, DB> {
    fn drop(&mut self) {
        // Not given back by `done`: it may be half-way through a statement,
        // so it is closed (dropping it closes the socket or the thread).
        if let Lent::Spare { conn: Some(_), spares } = self {
            spares.open.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl<DB: Database> Deref for Lent<'_, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        match self {
            Lent::Spare { conn, .. } => conn.as_ref().expect("a lent spare holds its connection until done"),
            Lent::Pooled(conn) => conn,
        }
    }
}

impl<DB: Database> DerefMut for Lent<'_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        match self {
            Lent::Spare { conn, .. } => conn.as_mut().expect("a lent spare holds its connection until done"),
            Lent::Pooled(conn) => conn,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each connection its own empty database in memory: the statements
    /// below need no tables.
    async fn pool() -> Pool<sqlx::Sqlite> {
        sqlx::sqlite::SqlitePoolOptions::new().max_connections(2).connect("sqlite::memory:").await.unwrap()
    }

    fn counts(s: &Spares<sqlx::Sqlite>) -> (usize, usize) {
        (s.idle.lock().unwrap().len(), s.open.load(Ordering::Acquire))
    }

    async fn one(lent: &mut Lent<'_, sqlx::Sqlite>) -> i64 {
        sqlx::query_scalar("select 41 + 1").fetch_one(&mut **lent).await.unwrap()
    }

    #[tokio::test]
    async fn a_spare_goes_back_only_when_its_statement_ran_to_the_end() {
        let pool = pool().await;
        let spares = Spares::new(2);

        let mut a = spares.lend(&pool).await.unwrap();
        assert_eq!(one(&mut a).await, 42);
        a.done();
        assert_eq!(counts(&spares), (1, 1), "back on the shelf");
        let mut again = spares.lend(&pool).await.unwrap();
        assert_eq!(counts(&spares), (0, 1), "the same one lent again, none opened");
        assert_eq!(one(&mut again).await, 42);

        // Two out at once: the third read takes the pool's.
        let b = spares.lend(&pool).await.unwrap();
        assert_eq!(counts(&spares), (0, 2));
        let mut c = spares.lend(&pool).await.unwrap();
        assert!(matches!(c, Lent::Pooled(_)));
        assert_eq!(one(&mut c).await, 42);
        c.done();
        assert_eq!(counts(&spares), (0, 2), "a pooled connection goes back to the pool");

        // Dropped without `done` (an error, a cancelled request): closed.
        drop(b);
        assert_eq!(counts(&spares), (0, 1));
        again.done();
        assert_eq!(counts(&spares), (1, 1));

        // Cancelled half-way through a long statement: closed, and the next
        // read gets a fresh connection that answers.
        let mut slow = spares.lend(&pool).await.unwrap();
        let cut = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            sqlx::query_scalar::<_, i64>(
                "with recursive n(i) as (select 1 union all select i + 1 from n where i < 100000000) select count(*) from n",
            )
            .fetch_one(&mut *slow),
        )
        .await;
        assert!(cut.is_err(), "the statement was cut off");
        drop(slow);
        assert_eq!(counts(&spares), (0, 0));
        let mut fresh = spares.lend(&pool).await.unwrap();
        assert_eq!(one(&mut fresh).await, 42);
        fresh.done();
        assert_eq!(counts(&spares), (1, 1));

        spares.close().await;
        assert_eq!(counts(&spares), (0, 0));
        pool.close().await;
    }
}

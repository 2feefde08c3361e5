//! `just bench`, several instances: a public read load through HAProxy
//! (every ad in turn, one request in ten a list with rotating filters,
//! mostly cache misses) on 10,000 ads in PostgreSQL, measured with three
//! `platsen serve` processes behind the proxy and then with one (the other
//! two stopped, so the proxy and the load generator are the same in both).
//! Printed: throughput, p50 and p99, and three instances as a ratio of one.
//!
//! Everything shares this machine's cores: the load generator, HAProxy,
//! PostgreSQL and the instances. On two cores three instances cannot add
//! CPU, so the ratio shows what the extra processes cost or save (more
//! connection pools and caches), not how the design scales on hardware with
//! a core per instance. Not a test: it asserts nothing.

use std::sync::Arc;

use platsen_tests::bench::{CONNECTIONS, Figures, load_requests, seed_ads};
use platsen_tests::cluster::Cluster;

const ADS: usize = 10_000;

fn row(label: &str, f: &Figures) {
    eprintln!(
        "| {label} | {:.0} req/s | {:.2} ms | {:.2} ms |",
        f.rps,
        f.p50.as_secs_f64() * 1e3,
        f.p99.as_secs_f64() * 1e3
    );
}

async fn mixed(base: &str, ids: &Arc<Vec<i64>>) -> Figures {
    let (base, ids) = (base.to_owned(), ids.clone());
    let n = ids.len();
    load_requests(n, move |c, i| {
        if i % 10 == 9 {
            let role = platsen_taxonomy::Role::ALL[i % platsen_taxonomy::Role::ALL.len()].code();
            c.get(format!("{base}/api/v1/jobs?role={role}&page={}&per_page=20", i % 5 + 1))
        } else {
            // Scattered ids: neighbouring requests read distant rows.
            c.get(format!("{base}/api/v1/jobs/{}", ids[(i * 7919) % n]))
        }
    })
    .await
}

#[tokio::main]
async fn main() {
    let Some(mut cluster) = Cluster::start(3, &[("PLATSEN_LOG", "error")]).await else {
        eprintln!("cluster bench skipped: PostgreSQL, HAProxy or target/release/platsen missing");
        return;
    };
    eprintln!("seeding {ADS} ads");
    let store = platsen::open_store(&cluster.db_url).await.unwrap();
    let ids = Arc::new(seed_ads(&store, ADS).await);
    store.close().await;

    let _ = mixed(&cluster.base, &ids).await; // warm-up
    let three = mixed(&cluster.base, &ids).await;
    for n in 1..3 {
        cluster.instances[n].stop().await;
    }
    // HAProxy's check (every 100 ms) has taken them out.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let _ = mixed(&cluster.base, &ids).await;
    let one = mixed(&cluster.base, &ids).await;

    eprintln!(
        "\nThrough HAProxy, {CONNECTIONS} connections, {ADS} ads on PostgreSQL, 9 in 10 requests an ad by id \
         (every id in turn), 1 in 10 a list:\n"
    );
    eprintln!("| instances | throughput | p50 | p99 |\n|---|---|---|---|");
    row("three", &three);
    row("one", &one);
    eprintln!(
        "\nthree instances / one: {:.2} × the throughput, p99 {:.2} ×; cores on this machine: {}",
        three.rps / one.rps,
        three.p99.as_secs_f64() / one.p99.as_secs_f64(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    cluster.stop().await;
}

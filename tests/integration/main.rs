//! One integration-test binary, a module per feature. Each contract test runs
//! on SQLite and on PostgreSQL (see `platsen_tests::contract!`).

mod ad_stats;
mod admin;
mod alerts;
mod authz;
mod billing;
mod browser;
mod cli;
mod cluster;
mod contract;
mod embed;
mod faults;
mod feeds;
mod garbage;
mod invoices;
mod konto;
mod lifecycle;
mod orders;
mod places;
mod platsannonsera;

mod products;
mod profiles;
mod public;
mod relevance;
mod salary;
mod search;
mod search_meili;
mod stream;
mod web;
mod webhooks;

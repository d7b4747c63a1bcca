//! Integration tests: the real application on a random port, spoken to over HTTP.

mod helpers;

mod api_keys;
mod auth;
mod cache;
mod cache_redis;
mod cli;
mod client_ip;
mod contract;
mod errors;
mod fixtures;
mod fleet_tokens;
mod hardening_auth;
mod hardening_limits;
mod http;
mod job_processes;
mod jobs_admin;
mod jobs_cron;
mod jobs_queue;
mod jobs_workers;
mod lifecycle;
mod mail;
mod migrations;
mod observability;
mod pgbouncer;
mod posts;
mod products;
mod rate_limit;
mod replicas;
mod replicas_failover;
mod smtp_sink;
mod system;
mod tcp_proxy;
mod tls;
mod user_cli;
mod users;

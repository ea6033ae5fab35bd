//! Differential conformance: one set of cases runs against the embedded server and against
//! a real Aerospike 8.1.2.0 node (the `aerospike/aerospike-server:8.1.2.0-src` image), and
//! what the client observes is compared field by field: result codes, bins and their
//! types, generations, TTLs (within a second), batch rows in order, the info values the
//! client parses, and the error cases.
//!
//! A field that differs fails the test unless [`ACCEPTED`] lists it, with what the
//! embedded server must answer instead (a refusal, never a silent success) and why the
//! difference does not change what the client costs; README's table "Where the embedded
//! server differs from Aerospike 8.1.2.0" is the same list.

#[path = "../common/mod.rs"]
mod common;

mod accepted;
mod cases;
mod observe;
mod routing;

use crate::accepted::{ACCEPTED, assert_no_failures, differences};
use crate::cases::observe;
use crate::observe::{Seen, lookup, observe_real};
use crate::routing::observe_cluster;

#[tokio::test]
async fn embedded_server_answers_like_aerospike_8_1_2() {
    let Some(real) = observe_real(1, observe).await else {
        return;
    };
    let (_target, client) = common::cluster(1).await;
    let ours = observe(client).await;
    let mut failures = differences(&real, &ours);
    for (field, answer) in ACCEPTED.iter().flat_map(|a| a.ours) {
        let mine = lookup(&ours, field);
        if mine != Seen::Exact(answer.to_string()) {
            failures.push(format!(
                "{field}: an accepted difference, but ours is {mine:?}, not {answer}"
            ));
        }
    }
    let readme = include_str!("../../README.md");
    for a in ACCEPTED.iter().filter(|a| !readme.contains(a.why)) {
        failures.push(format!("README's difference table lacks: {}", a.why));
    }
    assert_no_failures(&failures);
}

#[tokio::test]
async fn three_embedded_nodes_announce_routing_like_aerospike_8_1_2() {
    let Some(real) = observe_real(3, observe_cluster).await else {
        return;
    };
    let (_target, client) = common::cluster(3).await;
    let ours = observe_cluster(client).await;
    assert_no_failures(&differences(&real, &ours));
}

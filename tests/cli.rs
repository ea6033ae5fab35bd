//! `aerobench run` as a user runs it: short runs against the embedded 1- and 3-node
//! clusters print a clean ticker whose lines add up to the JSON result, and bad input ends
//! with one line naming the problem.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn aerobench(args: &[&str], nodes: usize, dir: &Path) -> Output {
    aerobench_with(args, nodes, dir, &[])
}

/// `aerobench args` against `nodes` embedded nodes, with `env` set too.
fn aerobench_with(args: &[&str], nodes: usize, dir: &Path, env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aerobench"))
        .args(args)
        .env("AEROBENCH_NODES", nodes.to_string())
        .envs(env.iter().copied())
        .env_remove("AEROSPIKE_HOSTS")
        .env_remove("AEROBENCH_TARGET")
        .current_dir(dir)
        .output()
        .expect("aerobench runs")
}

/// The stdout of a run that must have succeeded, and the JSON result it wrote to `json`.
fn succeeded(out: &Output, json: &Path) -> (String, Value) {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
    (stdout, result)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aerobench-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The ticker lines' counts, summed by name.
fn ticker_sums(stdout: &str) -> (usize, [u64; 5]) {
    let lines: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| {
            let second = w.first().and_then(|w| w.strip_suffix('s'));
            second.is_some_and(|n| n.parse::<u32>().is_ok()) && w.get(1) == Some(&"TPS")
        })
        .collect();
    let mut sums = [0; 5];
    for words in &lines {
        for (i, name) in ["reads", "writes", "misses", "errors", "timeouts"]
            .iter()
            .enumerate()
        {
            let at = words.iter().position(|w| w == name).unwrap();
            sums[i] += words[at + 1].parse::<u64>().unwrap();
        }
    }
    (lines.len(), sums)
}

/// Runs `args` (a 2 s run after 1 s warm-up) and checks the output and the JSON result.
fn clean_run(args: &[&str], nodes: usize, dir: &Path) -> Value {
    let json = dir.join("result.json");
    let mut all = vec![
        "run",
        "-d",
        "2",
        "--warmup",
        "1",
        "-k",
        "5000",
        "--json",
        json.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let (stdout, result) = succeeded(&aerobench(&all, nodes, dir), &json);
    let first = stdout.lines().next().unwrap();
    assert!(
        first.starts_with("aerobench: measuring against target=embedded"),
        "{first}"
    );
    assert!(first.contains(&format!("nodes={nodes} ")), "{first}");

    let outcome = &result["outcome"];
    for field in [
        "tps",
        "ops",
        "misses",
        "errors",
        "timeouts",
        "mismatches",
        "cpu_ns_per_op",
    ] {
        assert!(outcome[field].is_number(), "outcome.{field} in {outcome}");
    }
    for p in ["p50", "p90", "p99", "p999", "max"] {
        assert!(
            outcome["latency_ns"][p].as_u64().unwrap() > 0,
            "latency {p}"
        );
    }
    for field in ["target", "nodes", "client", "commit", "machine"] {
        assert!(
            !result["fingerprint"][field].is_null(),
            "fingerprint.{field}"
        );
    }
    for knob in [
        "mode",
        "keys",
        "workload",
        "object",
        "batch_size",
        "duration_s",
        "warmup_s",
        "timeout_ms",
        "max_conns_per_node",
        "min_conns_per_node",
        "conn_pools_per_node",
        "workers",
        "seeded",
        "self_overhead",
    ] {
        assert!(!result["knobs"][knob].is_null(), "knobs.{knob}");
    }
    assert_eq!(result["fingerprint"]["nodes"], nodes);
    let count = |f: &str| outcome[f].as_u64().unwrap();
    assert_eq!(
        (count("errors"), count("timeouts"), count("mismatches")),
        (0, 0, 0),
        "{outcome}"
    );

    let (lines, [reads, writes, misses, errors, timeouts]) = ticker_sums(&stdout);
    assert_eq!(lines, 2, "one ticker line per measured second:\n{stdout}");
    assert_eq!(reads + writes, count("ops"));
    assert_eq!((misses, errors, timeouts), (count("misses"), 0, 0));
    assert_eq!(result["seconds"].as_array().unwrap().len(), 2);
    let latency = match result["knobs"]["rate"].is_null() {
        true => "latency",
        false => "response",
    };
    for name in [
        "summary",
        "TPS",
        "mismatches",
        latency,
        "read ",
        "write ",
        "result",
    ] {
        assert!(stdout.contains(name), "summary shows {name}:\n{stdout}");
    }
    result
}

#[test]
fn seeded_runs_on_one_and_three_nodes_are_clean() {
    for nodes in [1, 3] {
        let dir = scratch(&format!("n{nodes}"));
        let result = clean_run(&["-z", "16", "-w", "RU,50", "--seed"], nodes, &dir);
        assert_eq!(
            result["outcome"]["misses"], 0,
            "seeded: every read finds its key"
        );
        assert_eq!(result["knobs"]["tasks"], 16);
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn sync_batches_and_timeout_off_are_clean() {
    let dir = scratch("sync");
    let result = clean_run(
        &[
            "--threads",
            "4",
            "--batch-size",
            "8",
            "-o",
            "S32",
            "-w",
            "RR,70",
            "--timeout-ms",
            "0",
            "--seed",
        ],
        1,
        &dir,
    );
    let knobs = &result["knobs"];
    assert_eq!(
        (knobs["mode"].as_str(), knobs["threads"].as_u64()),
        (Some("sync"), Some(4))
    );
    assert_eq!(
        (knobs["batch_size"].as_u64(), knobs["timeout_ms"].as_u64()),
        (Some(8), Some(0))
    );
    assert_eq!(knobs["object"], "S32");
    std::fs::remove_dir_all(dir).unwrap();
}

/// An open-loop run, by sync threads with batches: the JSON says how it kept its schedule,
/// gives response and service times, and per-kind figures that sum to the totals.
#[test]
fn an_open_loop_run_reports_its_schedule_and_kinds() {
    let dir = scratch("rate");
    let result = clean_run(
        &[
            "--rate",
            "500",
            "--threads",
            "4",
            "--batch-size",
            "2",
            "--seed",
        ],
        1,
        &dir,
    );
    assert_eq!(result["knobs"]["rate"], 500);
    let outcome = &result["outcome"];
    let schedule = &outcome["open_loop"];
    assert_eq!(schedule["rate"], 500);
    assert!(schedule["achieved"].as_f64().unwrap() > 0.0, "{schedule}");
    for field in ["late", "unsent", "kept_up"] {
        assert!(
            !schedule[field].is_null(),
            "open_loop.{field} in {schedule}"
        );
    }
    assert!(outcome["service_ns"]["p99"].as_u64().unwrap() > 0);
    let kinds = &outcome["kinds"];
    for field in ["calls", "ops", "misses", "errors", "timeouts"] {
        let sum = kinds["read"][field].as_u64().unwrap() + kinds["write"][field].as_u64().unwrap();
        assert_eq!(sum, outcome[field].as_u64().unwrap(), "{field}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn self_overhead_writes_its_result_under_reports_runs() {
    let dir = scratch("overhead");
    let out = aerobench(
        &[
            "run",
            "-d",
            "1",
            "--warmup",
            "0",
            "-z",
            "4",
            "--self-overhead",
        ],
        1,
        &dir,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("the harness alone"), "{stdout}");
    let runs: Vec<_> = std::fs::read_dir(dir.join("reports/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let name = runs[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.ends_with("-async-self-overhead.json"), "{name}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bare_runs_count_every_call_and_write_their_result() {
    let dir = scratch("bare");
    for (load, name) in [(["-z", "4"], "async"), (["--threads", "4"], "sync")] {
        let mut args = vec![
            "run", "-d", "1", "--warmup", "1", "-k", "1000", "--seed", "--bare",
        ];
        args.extend(load);
        let out = aerobench(&args, 1, &dir);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert!(stdout.contains("summary (bare client loop)"), "{stdout}");
        assert!(
            !stdout.contains("latency"),
            "a bare run records no latency:\n{stdout}"
        );
        let path = dir.join(
            stdout
                .lines()
                .last()
                .unwrap()
                .trim_start_matches("result")
                .trim(),
        );
        assert!(
            path.to_string_lossy()
                .ends_with(&format!("-{name}-bare.json")),
            "{path:?}"
        );
        let result: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(result["knobs"]["bare"], true);
        let bare = &result["bare"];
        assert!(bare["ops"].as_u64().unwrap() > 0, "{bare}");
        assert_eq!(bare["errors"], 0, "{bare}");
        for figure in ["tps", "elapsed_s", "cpu_ns_per_op"] {
            assert!(bare[figure].as_f64().unwrap() > 0.0, "{figure} in {bare}");
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// A bare run at a rate waits for the same schedule as a run, so the two compare at the
/// same load: about one second's worth of calls in the one-second measured span (within a
/// factor of two: the span is slept, not counted), where an unpaced bare loop makes tens
/// of thousands.
#[test]
fn a_bare_run_at_a_rate_keeps_the_schedule() {
    let dir = scratch("bare-rate");
    for load in [["-z", "4"], ["--threads", "4"]] {
        let mut args = vec!["run", "-d", "1", "--warmup", "1", "--bare", "--rate", "400"];
        args.extend(load);
        let out = aerobench(&args, 1, &dir);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert!(stdout.contains("open loop at 400 calls/s"), "{stdout}");
        let ops: u64 = stdout
            .lines()
            .find_map(|line| line.strip_prefix("ops"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no ops row:\n{stdout}"));
        assert!(
            (200..=800).contains(&ops),
            "{ops} calls at 400/s for 1 s:\n{stdout}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// asbench's workload vocabulary in one run: a set of its own, three bins, zipf keys, and a
/// seeding phase with figures of its own; then a namespace the cluster lacks, which ends
/// the run with one line.
#[test]
fn a_seeded_zipf_run_over_three_bins_in_its_own_set_is_clean() {
    let dir = scratch("vocabulary");
    let json = dir.join("result.json");
    let out = aerobench(
        &[
            "run",
            "--seed",
            "-n",
            "test",
            "-s",
            "other",
            "-o",
            "I,S:100,B:1024",
            "--keys-dist",
            "zipf",
            "-k",
            "1000",
            "-d",
            "1",
            "--warmup",
            "0",
            "-z",
            "4",
            "--json",
            json.to_str().unwrap(),
        ],
        1,
        &dir,
    );
    let (stdout, result) = succeeded(&out, &json);
    let (knobs, outcome, seed) = (&result["knobs"], &result["outcome"], &result["seed"]);
    assert_eq!(knobs["object"], "I8,S100,B1024");
    assert_eq!(knobs["keys_dist"], "zipf,0.99");
    assert_eq!(
        (&knobs["namespace"], &knobs["set"]),
        (&"test".into(), &"other".into())
    );
    assert!(outcome["reads"].as_u64().unwrap() > 0, "{outcome}");
    for field in ["misses", "errors", "timeouts", "mismatches"] {
        assert_eq!(outcome[field], 0, "{field} in {outcome}");
    }
    assert_eq!(seed["keys"], 1000, "{seed}");
    assert_eq!((&seed["errors"], &seed["timeouts"]), (&0.into(), &0.into()));
    assert!(seed["tps"].as_f64().unwrap() > 0.0, "{seed}");
    assert!(seed["latency_ns"]["p99"].as_u64().unwrap() > 0, "{seed}");
    for shown in ["in test.other, zipf,0.99 keys", "seeding     1000 keys in"] {
        assert!(stdout.contains(shown), "{shown}:\n{stdout}");
    }

    let out = aerobench(&["run", "-n", "nope", "-d", "1", "--warmup", "0"], 1, &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("namespace \"nope\" not found") && stderr.contains("-n"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_input_is_one_line_naming_the_problem() {
    let dir = scratch("bad");
    let (namespace_32, set_64) = ("n".repeat(32), "s".repeat(64));
    for (args, needle) in [
        (&["run", "--bogus"][..], "--bogus"),
        (&["run", "-z", "0"], "--tasks"),
        (&["run", "-w", "XX"], "RU,<read%>"),
        (&["run", "-o", "Q1"], "I8, S<bytes> or B<bytes>"),
        (&["run", "-o", "I,S:0"], "\"S:0\""),
        (&["run", "-n", &namespace_32], "--namespace"),
        (&["run", "-s", &set_64], "--set"),
        (&["run", "--keys-dist", "zipf,1"], "--keys-dist"),
        (
            &["run", "-w", "I", "--keys-dist", "hot,10,90"],
            "-w I writes them in order",
        ),
        (&["run", "--batch-size", "500"], "--batch-size"),
        (&["run", "--min-conns", "300"], "--min-conns 300"),
        (&["run", "--threads", "2", "--workers", "2"], "--workers"),
        (&["run", "-z", "4", "--threads", "2"], "--threads"),
        (&["run", "-d", "0"], "--duration"),
        (&["run", "--bare", "-w", "I"], "--bare"),
        (&["run", "--bare", "--batch-size", "4"], "--bare"),
        (&["run", "--bare", "--self-overhead"], "--self-overhead"),
        (&["run", "--fault", "5s:1"], "e.g. 5s:1:hang:3s"),
        (
            &["run", "--fault", "1s:0:kill"],
            "the only node cannot be killed",
        ),
        (&["run", "--fault", "1s:2:hang"], "use 0 to 0"),
        (
            &["run", "--fault", "1s:0:partition"],
            "AEROBENCH_CONTAINER_NETWORK=published for partition",
        ),
        (&["run", "-d", "2", "--scenario", "hung-node"], "use 0 to 0"),
        (
            &["knee", "--sla-p99", "1ms", "--fault", "1s:0:hang"],
            "drop --fault",
        ),
        (&["run", "--verify", "-k", "4", "-z", "8"], "raise -k"),
        (&["run", "--verify", "--bare"], "--bare"),
        (&["knee", "--sla-p99", "1ms", "--verify"], "drop --verify"),
        (&["walk"], "walk"),
    ] {
        let out = aerobench(args, 1, &dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("aerobench: ") && stderr.contains(needle),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// A knee against a server that adds 1 ms to every reply: the curve is ordered by rate,
/// every step's verdict agrees with its own measured figures, the answer is a step that
/// held and the rate above it one that missed. Whether a step holds depends on the
/// machine's noise, so the test checks the verdicts against the data, not a rate.
#[test]
fn a_knee_holds_its_sla_on_its_own_data() {
    const SLA_NS: u64 = 20_000_000;
    let dir = scratch("knee");
    let json = dir.join("knee.json");
    let args = [
        "knee",
        "--sla-p99",
        "20ms",
        "-z",
        "4",
        "-d",
        "1",
        "--warmup",
        "0",
    ];
    let args = [&args[..], &["-k", "1000", "--bisections", "2", "--json"]].concat();
    let out = aerobench_with(
        &[&args[..], &[json.to_str().unwrap()]].concat(),
        1,
        &dir,
        &[("AEROBENCH_SERVER_ARGS", "--delay-us 1000")],
    );
    let (stdout, result) = succeeded(&out, &json);
    let knee = &result["knee"];
    let curve = knee["curve"].as_array().unwrap();
    let rate = |p: &Value| p["rate"].as_u64().unwrap();
    assert!(!curve.is_empty());
    assert!(
        curve.windows(2).all(|w| rate(&w[0]) < rate(&w[1])),
        "{curve:?}"
    );
    for point in curve {
        let within = point["latency_ns"]["p99"].as_u64().unwrap() <= SLA_NS
            && point["errors"].as_u64() == Some(0)
            && point["timeouts"].as_u64() == Some(0)
            && point["unsent"].as_u64() == Some(0);
        assert_eq!(point["missed"].is_null(), within, "{point}");
    }
    let step = |key: &str| {
        knee[key]
            .as_u64()
            .map(|r| curve.iter().find(|p| rate(p) == r).unwrap())
    };
    let (held, missed) = (step("held"), step("missed"));
    assert!(held.is_some() || missed.is_some(), "{knee}");
    if let Some(point) = held {
        assert!(point["missed"].is_null(), "{point}");
        assert!(
            curve
                .iter()
                .filter(|p| rate(p) < rate(point))
                .all(|p| p["missed"].is_null())
        );
    }
    if let Some(point) = missed {
        assert!(point["missed"].is_string(), "{point}");
        assert!(held.is_none_or(|h| rate(h) < rate(point)));
    }
    assert!(stdout.contains("knee "), "{stdout}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// `aerobench run --fault` on 3 embedded nodes: a hang and an error storm on two nodes.
/// The run ends on time (a hung node holds no call past its timeout), prints each order
/// as it goes out, classifies every failure, and reports each fault's effect.
#[test]
fn a_run_with_faults_reports_each_and_ends_on_time() {
    let faults = ["1s:1:hang:1s", "2500ms:2:errors=18/50%:1s"];
    let (stdout, result) = run_with_faults("faults", "4", &faults, &[]);
    for order in [
        "1.0s hang 1",
        "2.0s heal 1",
        "2.5s errors 2 18 50",
        "3.5s heal 2",
    ] {
        assert!(stdout.contains(order), "{order} marked: {stdout}");
    }
    assert_eq!(result["knobs"]["faults"], serde_json::json!(faults));
    let outcome = &result["outcome"];
    let failures = outcome["failures"].as_object().unwrap();
    let named: u64 = failures.values().map(|n| n.as_u64().unwrap()).sum();
    let failed = outcome["errors"].as_u64().unwrap() + outcome["timeouts"].as_u64().unwrap();
    assert_eq!(named, failed, "every failure is named");
    let effects = outcome["faults"].as_array().unwrap();
    assert_eq!(effects.len(), 2);
    let (hang, storm) = (&effects[0], &effects[1]);
    assert!(hang["detected_after_s"].is_f64(), "the hang showed: {hang}");
    assert!(hang["failures"]["timeout"].as_u64().unwrap() > 0, "{hang}");
    let storm_failures = storm["failures"].as_object().unwrap();
    assert!(
        storm_failures
            .keys()
            .any(|k| k == "server_DeviceOverload" || k == "max_error_rate"),
        "the storm's errors carry their code, or the client's breaker: {storm}"
    );
    assert!(
        stdout.contains("fault       1s:1:hang:1s: seen within"),
        "{stdout}"
    );
}

/// Every node hung for the rest of the run (a mistake a user can make): the run still ends
/// within its duration plus the linger bound, every call that found a hung node timed out,
/// and no fault is reported recovered.
#[test]
fn a_run_with_every_node_hung_still_ends_on_time() {
    let all_hung = ["1s:0:hang", "1s:1:hang", "1s:2:hang"];
    let (_, result) = run_with_faults("all-hung", "3", &all_hung, &[]);
    let outcome = &result["outcome"];
    assert!(outcome["timeouts"].as_u64().unwrap() > 0, "{outcome}");
    let last = result["seconds"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last["ops"], 0,
        "nothing succeeds once every node hangs: {last}"
    );
    for effect in outcome["faults"].as_array().unwrap() {
        assert!(effect["recovered_after_s"].is_null(), "{effect}");
    }
}

/// A node killed and back on another port at once (a mistake users hit): the run ends on
/// time, marks both orders, names every failure and says whether the run came back (with
/// aerospike-core 3.0.0 it does not: README "Faults").
#[test]
fn a_run_with_a_node_back_on_another_port_ends_on_time() {
    let (stdout, result) = run_with_faults("moved", "3", &["1s:1:move:1ms"], &[]);
    for order in ["1.0s kill 1", "1.0s move 1"] {
        assert!(stdout.contains(order), "{order} marked: {stdout}");
    }
    let outcome = &result["outcome"];
    let named: u64 = outcome["failures"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    let failed = outcome["errors"].as_u64().unwrap() + outcome["timeouts"].as_u64().unwrap();
    assert_eq!(named, failed, "every failure is named: {outcome}");
    let effect = &outcome["faults"][0];
    let said = match effect["recovered_after_s"].as_f64() {
        Some(s) => format!("recovered after {s:.1} s"),
        None => "not recovered by the end".into(),
    };
    assert!(
        stdout.contains("fault       1s:1:move:1ms: seen within") && stdout.contains(&said),
        "{stdout}"
    );
}

/// `aerobench run` on 3 embedded nodes for `duration` seconds with `faults` and `more`
/// arguments (a 200 ms timeout, 8 tasks, 1,000 seeded keys): its stdout and JSON result,
/// once it has ended within a bound against hangs (not a performance figure: the run,
/// seeding, start-up, a read-back).
fn run_with_faults(name: &str, duration: &str, faults: &[&str], more: &[&str]) -> (String, Value) {
    let dir = scratch(name);
    let json = dir.join("run.json");
    let mut args = vec![
        "run", "-d", duration, "--warmup", "1", "-k", "1000", "-z", "8",
    ];
    args.extend([
        "--seed",
        "--timeout-ms",
        "200",
        "--json",
        json.to_str().unwrap(),
    ]);
    args.extend(faults.iter().flat_map(|f| ["--fault", f]));
    args.extend(more);
    let started = std::time::Instant::now();
    let ran = succeeded(&aerobench(&args, 3, &dir), &json);
    assert!(started.elapsed().as_secs() < 60, "the run ended on time");
    std::fs::remove_dir_all(dir).unwrap();
    ran
}

/// `--verify` on 3 embedded nodes under each named scenario: no acknowledged write lost,
/// no stale read, no version never written, and every key read back.
#[test]
fn no_acknowledged_write_is_lost_in_any_scenario() {
    for scenario in [
        "node-loss",
        "hung-node",
        "slow-node",
        "restart",
        "error-storm",
    ] {
        let name = format!("verify-{scenario}");
        let more = ["--verify", "--scenario", scenario];
        let (stdout, result) = run_with_faults(&name, "3", &[], &more);
        let verify = &result["verify"];
        let count = |field: &str| verify[field].as_u64().expect(field);
        assert_eq!(count("keys_checked"), 1000, "{scenario}: {verify}");
        let wrong = ["lost_writes", "stale_reads", "unexpected", "unverified"].map(count);
        assert_eq!(wrong, [0; 4], "{scenario}: {verify}");
        assert_eq!(result["knobs"]["verify"], true, "{scenario}");
        assert!(
            stdout.contains("verify      1000 keys read back: lost_writes 0, stale_reads 0"),
            "{scenario}: {stdout}"
        );
    }
}

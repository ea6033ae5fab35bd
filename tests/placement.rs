//! CPU placement: the embedded server child and the client land on the CPUs named by
//! `AEROBENCH_SERVER_CPUS` and `AEROBENCH_CLIENT_CPUS`, and every number says so.

use std::process::Command;

use aerobench::cluster::placement::{CpuSet, Placement};
use aerobench::cluster::{Kind, Settings, Target};

/// The first and the last CPU this process may use (the same one on a 1-CPU machine).
fn two_cpus() -> (String, String) {
    let allowed = CpuSet::allowed().unwrap().to_string();
    let first = allowed.split([',', '-']).next().unwrap().to_string();
    let last = allowed.rsplit([',', '-']).next().unwrap().to_string();
    (first, last)
}

/// `Cpus_allowed_list` of process `pid`, as the kernel reports it.
fn allowed_list(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("Cpus_allowed_list:"));
    line.unwrap().split_once(':').unwrap().1.trim().to_string()
}

#[test]
fn the_server_and_the_client_run_where_they_are_put() {
    let (server, client) = two_cpus();
    let whole = CpuSet::allowed().unwrap();
    let handle = std::thread::spawn(move || {
        let target = Target::start(Settings {
            kind: Kind::Embedded,
            placement: Placement {
                server: CpuSet::parse(&server),
                client: CpuSet::parse(&client),
            },
            ..Settings::parse(|_| None).unwrap()
        })
        .unwrap();
        let pid = target.embedded().unwrap().pid();
        (allowed_list(pid), CpuSet::allowed().unwrap().to_string())
    });
    let (server_seen, client_seen) = handle.join().unwrap();
    let (server, client) = two_cpus();
    assert_eq!(server_seen, server);
    assert_eq!(client_seen, client);
    assert_eq!(
        CpuSet::allowed().unwrap(),
        whole,
        "other threads keep every core"
    );
}

#[test]
fn a_run_records_its_placement_and_refuses_a_bad_one() {
    let (server, client) = two_cpus();
    let run = |vars: &[(&str, &str)]| {
        Command::new(env!("CARGO_BIN_EXE_aerobench"))
            .args(["run", "-d", "1", "--warmup", "0", "-z", "2", "--json"])
            .arg(
                std::env::temp_dir()
                    .join(format!("aerobench-placement-{}.json", std::process::id())),
            )
            .env_remove("AEROBENCH_TARGET")
            .env_remove("AEROSPIKE_HOSTS")
            .envs(vars.iter().copied())
            .output()
            .unwrap()
    };
    let out = run(&[
        ("AEROBENCH_SERVER_CPUS", &server),
        ("AEROBENCH_CLIENT_CPUS", &client),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let first = stdout.lines().next().unwrap();
    assert!(
        first.ends_with(&format!(" cpus=server:{server},client:{client}")),
        "{first}"
    );
    let shared = run(&[]);
    let first = String::from_utf8_lossy(&shared.stdout)
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(first.ends_with(" cpus=shared"), "{first}");

    let refused = run(&[("AEROBENCH_CLIENT_CPUS", "4096")]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("invalid AEROBENCH_CLIENT_CPUS=\"4096\""),
        "{stderr}"
    );
    let _ = std::fs::remove_file(
        std::env::temp_dir().join(format!("aerobench-placement-{}.json", std::process::id())),
    );
}

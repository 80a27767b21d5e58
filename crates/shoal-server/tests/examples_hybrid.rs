//! `examples/hybrid_patterns.py` (tutorial 05: lists, sets, sorted sets and hashes combined
//! with Pub/Sub) against a fresh shoal, once per part of the script so a failure names
//! what is missing: the data-structure half, or the Pub/Sub half.
//!
//! Needs `python3` with the `redis` module (`pip install redis`); if either is missing the
//! test fails and says so: a skipped example is not a passing one.

mod common;
use std::path::PathBuf;
use std::process::Command;

use common::Shoal;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/hybrid_patterns.py")
}

fn require_python_redis() {
    let out = Command::new("python3")
        .args(["-c", "import redis; print(redis.__version__)"])
        .output();
    match out {
        Err(e) => panic!("python3 is required to run the examples (apt-get install python3): {e}"),
        Ok(o) if !o.status.success() => panic!(
            "python3's redis module is required to run the examples (pip install redis): {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Ok(_) => {}
    }
}

fn run(part: &str) {
    require_python_redis();
    let shoal = Shoal::start();
    let out = Command::new("python3")
        .arg(script())
        .args(["127.0.0.1", &shoal.port.to_string(), "--part", part])
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "hybrid_patterns.py --part {part} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("checks passed"),
        "hybrid_patterns.py printed no summary:\n{stdout}"
    );
}

#[test]
fn hybrid_patterns_data_structures_part() {
    run("data");
}

/// PUBLISH/SUBSCRIBE with keyspace data: a missing command fails the script's checks
/// ("PUBLISH is supported by the server" / "SUBSCRIBE is supported").
#[test]
fn hybrid_patterns_pubsub_part() {
    run("pubsub");
}

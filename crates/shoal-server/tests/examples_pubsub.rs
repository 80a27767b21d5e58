//! Runs examples/pubsub_quickref.py (the users' guide Pub/Sub quick reference, with
//! redis-py) against a fresh shoal.

mod common;
use std::path::PathBuf;
use std::process::Command;

use common::Shoal;

#[test]
fn pubsub_quick_reference_runs_against_shoal() {
    let python = Command::new("python3")
        .arg("-c")
        .arg("import redis")
        .output();
    match python {
        Err(e) => panic!("python3 is required to run examples/pubsub_quickref.py: {e}"),
        Ok(o) if !o.status.success() => panic!(
            "redis-py is required to run examples/pubsub_quickref.py (pip install redis, or run scripts/test.sh): {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Ok(_) => {}
    }
    let shoal = Shoal::start();
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/pubsub_quickref.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg("127.0.0.1")
        .arg(shoal.port.to_string())
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK: Pub/Sub quick reference"));
}
